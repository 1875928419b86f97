"""A real-speech set's ``manifest.csv``: which recordings say a wake word and which are other speech.

Columns ``path,kind,keyword,transcript,speaker,seconds,source,licence``; ``path`` is relative to the
manifest's folder; ``kind`` is ``wake_word`` (``keyword`` names the wake word said) or ``speech``
(``transcript`` is what is said).
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

MANIFEST_NAME = "manifest.csv"
COLUMNS = ("path", "kind", "keyword", "transcript", "speaker", "seconds", "source", "licence")
WAKE_WORD, SPEECH = "wake_word", "speech"


@dataclass(frozen=True)
class Recording:
    """One row of the manifest.

    Attributes:
        path: The sound file (resolved against the manifest's folder).
        kind: ``wake_word`` or ``speech``.
        keyword: The wake word said (``wake_word`` rows), else empty.
        transcript: What is said.
        speaker: Who says it.
        seconds: Its duration as the manifest states it.
    """

    path: Path
    kind: str
    keyword: str
    transcript: str
    speaker: str
    seconds: float


def read_manifest(folder: str | os.PathLike) -> list[Recording]:
    """Every row of ``<folder>/manifest.csv``, validated.

    Raises:
        FileNotFoundError: No manifest in ``folder``.
        ValueError: A missing column, or a row with a missing field, an unknown kind, a wake word without
            its keyword, a bad duration or a sound file that does not exist (naming the file and row).
    """
    manifest = Path(folder) / MANIFEST_NAME
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest}: no such file (a real-speech set is a folder with {MANIFEST_NAME})")
    with manifest.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{manifest}: missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}")
        recordings = []
        for row in reader:
            try:
                recordings.append(parse_row(row, manifest.parent))
            except ValueError as err:
                raise ValueError(f"{manifest}: row {reader.line_num}: {err}") from None
    return recordings


def parse_row(row: dict[str | None, str | None], folder: Path) -> Recording:
    """One validated :class:`Recording` from a CSV row.

    Raises:
        ValueError: What is wrong with the row.
    """
    if None in row or any(row[column] is None for column in COLUMNS):
        raise ValueError(f"expected {len(COLUMNS)} fields ({','.join(COLUMNS)})")
    kind, keyword = row["kind"].strip(), row["keyword"].strip()
    if kind not in (WAKE_WORD, SPEECH):
        raise ValueError(f"kind {kind!r} is neither {WAKE_WORD!r} nor {SPEECH!r}")
    if kind == WAKE_WORD and not keyword:
        raise ValueError(f"a {WAKE_WORD} row needs its keyword")
    try:
        seconds = float(row["seconds"])
    except ValueError:
        raise ValueError(f"seconds {row['seconds']!r} is not a number") from None
    if not seconds > 0:
        raise ValueError(f"seconds must be > 0, got {seconds}")
    path = folder / row["path"].strip()
    if not row["path"].strip() or not path.is_file():
        raise ValueError(f"{path}: no such sound file")
    return Recording(path, kind, keyword, row["transcript"].strip(), row["speaker"].strip(), seconds)


def mentions(transcript: str, keyword: str) -> bool:
    """Whether ``transcript`` says ``keyword`` as whole words (case-insensitive; a phrase may span any spaces)."""
    phrase = r"\s+".join(re.escape(word) for word in keyword.split())
    return re.search(rf"\b{phrase}\b", transcript, flags=re.IGNORECASE) is not None

"""``manifest.csv``: one row per clip, the authority on a synthesized corpus's labels and splits."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from asr_cnn.files import atomic_write

MANIFEST_FILE = "manifest.csv"
MANIFEST_COLUMNS = ("path", "label", "text", "engine", "voice", "speed", "pitch", "split")
SPLIT_LISTS = {"validation": "validation_list.txt", "test": "testing_list.txt"}
"""Split -> its file list, as in Speech Commands (paths relative to the root, one a line)."""

UNKNOWN_SOURCE = "unknown"
"""Engine and voice of clips whose origin is not known (a real Speech Commands folder)."""


@dataclass(frozen=True)
class Record:
    """One clip of a corpus.

    Attributes:
        path: The audio file.
        label: Its class as stored: a keyword, ``_unknown_``, ``_silence_``, or (real Speech Commands)
            the spoken word.
        engine: Synthesis engine, ``noise`` for silence clips, ``unknown`` for recorded speech.
        voice: Voice name within the engine.
        split: ``train``, ``validation``, ``test`` or ``test_engine``.
        text: What was said ("" for silence).
        speed: Speaking-rate factor (1 = the voice's default).
        pitch: Pitch factor (1 = the voice's default).
        start: First sample to read (a silence clip cut from a long noise file).
        gain: Factor applied after reading.
    """

    path: Path
    label: str
    engine: str
    voice: str
    split: str
    text: str = ""
    speed: float = 1.0
    pitch: float = 1.0
    start: int = 0
    gain: float = 1.0


def write_manifest(root: Path, records: Iterable[Record]) -> Path:
    """Write ``root/manifest.csv`` atomically, paths relative to ``root``, rows sorted by path."""
    rows = sorted(([str(r.path.relative_to(root)), r.label, r.text, r.engine, r.voice, f"{r.speed:g}",
                    f"{r.pitch:g}", r.split] for r in records), key=lambda row: row[0])
    with atomic_write(root / MANIFEST_FILE) as tmp, open(tmp, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(MANIFEST_COLUMNS)
        writer.writerows(rows)
    return root / MANIFEST_FILE


def read_manifest(root: Path) -> list[Record]:
    """The records of ``root/manifest.csv``.

    Raises:
        ValueError: The file's header is not exactly :data:`MANIFEST_COLUMNS`, or a row is malformed.
    """
    path = root / MANIFEST_FILE
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        header = tuple(next(reader, ()))
        if header != MANIFEST_COLUMNS:
            raise ValueError(f"{path}: columns must be {','.join(MANIFEST_COLUMNS)}, got {','.join(header)}")
        records = []
        for line, row in enumerate(reader, start=2):
            try:
                rel, label, text, engine, voice, speed, pitch, split = row
                records.append(Record(path=root / rel, label=label, engine=engine, voice=voice, split=split,
                                      text=text, speed=float(speed), pitch=float(pitch)))
            except ValueError as err:
                raise ValueError(f"{path}:{line}: malformed row {row}: {err}") from err
    return records

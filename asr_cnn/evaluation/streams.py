"""Labelled long streams: ``<id>.wav`` with ``<id>.json``, the keywords spoken in it and when."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asr_cnn.audio import AudioError


@dataclass(frozen=True)
class LabelledStream:
    """One long test stream.

    Attributes:
        audio: The sound file.
        labels: Its spoken keywords, ``{"keyword", "start_s", "end_s"}`` each, sorted by start.
    """

    audio: Path
    labels: list[dict[str, Any]]


def load_streams(folder: str | os.PathLike, keywords: list[str]) -> list[LabelledStream]:
    """Every ``<id>.wav`` in ``folder`` with its ``<id>.json`` labels, sorted by name.

    Raises:
        AudioError: No stream, a missing or malformed label file, or a label for an unknown keyword.
    """
    folder = Path(folder)
    wavs = sorted(folder.glob("*.wav"))
    if not wavs:
        raise AudioError(f"{folder}: no <id>.wav stream found")
    streams = []
    for wav in wavs:
        labels_path = wav.with_suffix(".json")
        try:
            labels = json.loads(labels_path.read_text())
            labels = sorted(({"keyword": str(lab["keyword"]), "start_s": float(lab["start_s"]),
                              "end_s": float(lab["end_s"])} for lab in labels), key=lambda lab: lab["start_s"])
        except (OSError, ValueError, TypeError, KeyError) as err:
            raise AudioError(f"{labels_path}: expected a JSON list of {{keyword, start_s, end_s}} ({err!r})") from err
        unknown = sorted({lab["keyword"] for lab in labels} - set(keywords))
        if unknown:
            raise AudioError(f"{labels_path}: keyword(s) {unknown} are not among the spotter's {keywords}")
        streams.append(LabelledStream(wav, labels))
    return streams

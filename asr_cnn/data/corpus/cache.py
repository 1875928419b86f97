"""Content addressing: stable hashes of plain data, per-item seeds, and the corpus stamp file.

A corpus folder holds a stamp with the hash of everything that decides its content (config, engine
versions, the clip format). A build that finds a matching stamp and every manifest file does nothing;
otherwise clip files whose hashed names already exist are reused and only the rest are made.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from asr_cnn.files import write_text_atomic

STAMP_FILE = ".asr_cnn_corpus.json"

_SEED_BYTES = 8


def digest(*parts: Any) -> str:
    """Hex SHA-256 of JSON-serialisable parts (key order does not matter)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def seed_of(*parts: Any) -> int:
    """A 63-bit seed determined by ``parts`` alone (not by order of work or process)."""
    return int(digest(*parts)[:2 * _SEED_BYTES], 16) >> 1


def read_stamp(root: Path) -> dict[str, Any]:
    """The stamp of a corpus folder; empty when there is none or it is unreadable."""
    try:
        return json.loads((root / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_stamp(root: Path, stamp: dict[str, Any]) -> None:
    """Write the stamp atomically, last, so an interrupted build never looks finished."""
    write_text_atomic(root / STAMP_FILE, json.dumps(stamp, indent=1, sort_keys=True))

"""Class labels of a keyword spotter: silence, unknown, then the keywords in the order given."""

from __future__ import annotations

import re
from collections.abc import Iterable

SILENCE = "_silence_"
"""Label of clips with no speech (noise only)."""

UNKNOWN = "_unknown_"
"""Label of clips with speech that is none of the keywords."""

_UNSAFE_FOLDER_CHARS = re.compile(r"[^\w'-]+")


def make_labels(keywords: Iterable[str]) -> list[str]:
    """Labels of a classifier over ``keywords``: ``["_silence_", "_unknown_", *keywords]``.

    Args:
        keywords: Words or phrases, kept as given (``"hey jarvis"`` stays one label).

    Returns:
        The label list; a label's index is the class index K.

    Raises:
        ValueError: No keyword, an empty or blank keyword, a non-string, a duplicate, or a reserved label.
    """
    if isinstance(keywords, str):
        raise ValueError(f"keywords must be a list of strings, got the single string {keywords!r}")
    keywords = list(keywords)
    if not keywords:
        raise ValueError("keywords is empty: give at least one keyword")
    for word in keywords:
        if not isinstance(word, str) or not word.strip():
            raise ValueError(f"every keyword must be a non-empty string, got {word!r} in {keywords}")
        if word in (SILENCE, UNKNOWN):
            raise ValueError(f"keyword {word!r} is a reserved label")
    duplicates = sorted({w for w in keywords if keywords.count(w) > 1})
    if duplicates:
        raise ValueError(f"duplicate keyword(s) {duplicates} in {keywords}")
    folders = [label_folder(w) for w in keywords]
    clashes = sorted({w for w, f in zip(keywords, folders) if folders.count(f) > 1})
    if clashes:
        raise ValueError(f"keywords {clashes} map to the same folder name; rename one of them")
    return [SILENCE, UNKNOWN, *keywords]


def label_folder(label: str) -> str:
    """Folder name of a label in the Speech Commands layout: ``"hey jarvis"`` -> ``"hey_jarvis"``."""
    if label in (SILENCE, UNKNOWN):
        return label
    return _UNSAFE_FOLDER_CHARS.sub("_", label.strip().lower()).strip("_") or "_"

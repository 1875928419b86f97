"""Matching detections against spoken keywords: hits, misses and false alarms.

An event is a *hit* when its keyword matches a not yet matched label and its window overlaps that label's
span; every other event is a *false alarm*; a label no event hits is a *miss*. A label is
``{"keyword", "start_s", "end_s"}``.
"""

from __future__ import annotations

from typing import Any

from asr_cnn.detect.events import Event


def overlaps(event: Event, label: dict[str, Any]) -> bool:
    """Whether an event names a label's keyword and its window overlaps the label's time."""
    return label["keyword"] == event.keyword and event.start_s < label["end_s"] and label["start_s"] < event.end_s


def hit_flags(events: list[Event], labels: list[dict[str, Any]]) -> list[bool]:
    """Per event, in order: a hit (it matches a label not matched before) or a false alarm."""
    by_keyword: dict[str, list[int]] = {}  # label indices in order: an event only ever matches its own keyword
    for i, label in enumerate(labels):
        by_keyword.setdefault(label["keyword"], []).append(i)
    matched = [False] * len(labels)
    flags = []
    for event in events:
        found = next((i for i in by_keyword.get(event.keyword, ()) if not matched[i] and overlaps(event, labels[i])),
                     None)
        if found is not None:
            matched[found] = True
        flags.append(found is not None)
    return flags


def match(events: list[Event], labels: list[dict[str, Any]]) -> tuple[int, int, int]:
    """Hits, misses and false alarms of one stream's events against its labels."""
    hits = sum(hit_flags(events, labels))
    return hits, len(labels) - hits, len(events) - hits

"""Operating points: hits, misses and false alarms at one threshold, per keyword and overall."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from asr_cnn.detect.events import Event
from asr_cnn.evaluation.matching import hit_flags

REFERENCE_THRESHOLD = 0.5
"""Operating point reported as "at threshold 0.5"."""

REFERENCE_FA_PER_HOUR = 1.0
"""Operating point reported as "at 1 false alarm per hour"."""


@dataclass(frozen=True)
class OperatingPoint:
    """Counts and rates at one threshold.

    Attributes:
        threshold: The threshold swept (``None`` for per-keyword thresholds such as the shipped ones).
        hits: Spoken keywords detected.
        misses: Spoken keywords not detected.
        false_alarms: Events that match no spoken keyword.
        frr: False-reject rate, misses / (hits + misses); 0 when nothing was spoken.
        fa_per_hour: False alarms per hour of the audio they were counted on; ``None`` without such audio.
        per_keyword: The same counts for each keyword on its own (empty inside a per-keyword point).
    """

    threshold: float | None
    hits: int
    misses: int
    false_alarms: int
    frr: float
    fa_per_hour: float | None
    per_keyword: dict[str, OperatingPoint] = field(default_factory=dict)

    @property
    def recall(self) -> float | None:
        """Hits / spoken keywords; ``None`` when nothing was spoken."""
        return self.hits / (self.hits + self.misses) if self.hits + self.misses else None


@dataclass
class Tally:
    """Hits, misses and false alarms per keyword."""

    hits: Counter = field(default_factory=Counter)
    misses: Counter = field(default_factory=Counter)
    false_alarms: Counter = field(default_factory=Counter)


def tally(events: list[list[Event]], labels: list[list[dict[str, Any]]]) -> Tally:
    """Match every stream's events against its labels and count per keyword."""
    counts = Tally()
    for stream_events, stream_labels in zip(events, labels, strict=True):
        flags = hit_flags(stream_events, stream_labels)
        for event, hit in zip(stream_events, flags):
            (counts.hits if hit else counts.false_alarms)[event.keyword] += 1
        for label in stream_labels:
            counts.misses[label["keyword"]] += 1
    counts.misses.subtract(counts.hits)  # every label counted, less the ones an event hit
    return counts


def point(threshold: float | None, hits: int, misses: int, false_alarms: int, hours: float) -> OperatingPoint:
    """One :class:`OperatingPoint` from counts; false alarms per hour need ``hours`` > 0."""
    frr = misses / (hits + misses) if hits + misses else 0.0
    return OperatingPoint(threshold, hits, misses, false_alarms, frr, false_alarms / hours if hours else None)


def operating_point(threshold: float | None, recall: Tally, alarms: Tally, hours: float,
                    keywords: list[str]) -> OperatingPoint:
    """Overall and per-keyword point: hits and misses from ``recall``, false alarms from ``alarms`` over ``hours``."""
    per_keyword = {keyword: point(threshold, recall.hits[keyword], recall.misses[keyword],
                                  alarms.false_alarms[keyword], hours) for keyword in keywords}
    total = point(threshold, *(sum(getattr(p, name) for p in per_keyword.values())
                               for name in ("hits", "misses", "false_alarms")), hours)
    return replace(total, per_keyword=per_keyword)


def threshold_for(points: list[OperatingPoint], target_fa_per_hour: float) -> OperatingPoint | None:
    """The lowest swept threshold from which on every higher one meets the false-alarm target.

    Points must be sorted by threshold. ``None`` when even the highest threshold has too many, or when
    false alarms were not measured.
    """
    best = None
    for candidate in reversed(points):
        if candidate.fa_per_hour is None or candidate.fa_per_hour > target_fa_per_hour:
            break
        best = candidate
    return best

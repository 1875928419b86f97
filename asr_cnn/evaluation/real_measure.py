"""The operating points of a real-speech evaluation: as shipped, at 0.5, and the oracle swept on the set;
per clip as shipped: each keyword's recall when the right keyword fires first, and how often other words fire."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import torch

from asr_cnn.evaluation.matching import hit_flags
from asr_cnn.evaluation.operating import REFERENCE_THRESHOLD, OperatingPoint, threshold_for
from asr_cnn.evaluation.scoring import Scored
from asr_cnn.evaluation.sweep import events_at, keyword_sweeps, point_at, sweep

ORACLE_NOTE = ("swept on this set (oracle): the lowest threshold that keeps false alarms at or below the target "
               "on these very recordings; it shows what the scores allow, it is not a shipped figure")


@dataclass(frozen=True)
class RealMeasure:
    """Operating points of one model on one set.

    Attributes:
        shipped: The detector's own thresholds (the checkpoint's).
        half: Every keyword at threshold 0.5.
        oracle: One threshold for all keywords, swept on the set for ``target`` false alarms per hour.
        det: The sweep behind ``oracle``.
        keyword_oracles: Each keyword alone (the others silent), swept for ``target`` of its own false alarms;
            empty without speech to count false alarms on.
        keyword_det: The sweeps behind ``keyword_oracles``.
        target: False alarms per hour the oracles aim at.
    """

    shipped: OperatingPoint
    half: OperatingPoint
    oracle: OperatingPoint | None
    det: list[OperatingPoint]
    keyword_oracles: dict[str, OperatingPoint | None]
    keyword_det: dict[str, list[OperatingPoint]]
    target: float


def measure(recall: Scored, alarms: Scored, target_fa_per_hour: float) -> RealMeasure:
    """Score-once, sweep-many: every operating point from the stored scores of both sets.

    Without speech (``alarms`` empty) no keyword alone can meet a false-alarm target, so the per-keyword
    sweeps, most of the sweeping, are left out (e.g. 40 s of 4,000 command-word clips).
    """
    det = sweep(recall, alarms)
    keyword_det = keyword_sweeps(recall, alarms) if alarms.hours else {}
    return RealMeasure(
        shipped=point_at(recall, alarms),
        half=sweep(recall, alarms, torch.tensor([REFERENCE_THRESHOLD], dtype=torch.float64))[0],
        oracle=threshold_for(det, target_fa_per_hour),
        det=det,
        keyword_oracles={k: threshold_for(points, target_fa_per_hour) for k, points in keyword_det.items()},
        keyword_det=keyword_det,
        target=target_fa_per_hour,
    )


def point_json(point: OperatingPoint | None) -> dict[str, Any] | None:
    """Threshold, recall, hits, clips, false alarms and their rate; per keyword when the point has them."""
    if point is None:
        return None
    result = {"threshold": point.threshold, "recall": point.recall, "hits": point.hits,
              "clips": point.hits + point.misses, "false_alarms": point.false_alarms, "fa_per_hour": point.fa_per_hour}
    if point.per_keyword:
        result["per_keyword"] = {keyword: point_json(p) for keyword, p in point.per_keyword.items()}
    return result


def measure_json(measured: RealMeasure) -> dict[str, Any]:
    """The ``operating_points`` and ``det`` sections of ``real_eval.json``."""
    keyword_oracles = {k: point_json(p.per_keyword[k] if p else None) for k, p in measured.keyword_oracles.items()}
    return {
        "operating_points": {
            "as_shipped": point_json(measured.shipped),
            "threshold_0.5": point_json(measured.half),
            "oracle": {"note": ORACLE_NOTE, "target_fa_per_hour": measured.target,
                       "point": point_json(measured.oracle)},
            "oracle_per_keyword": {"note": f"each keyword alone; {ORACLE_NOTE}", "target_fa_per_hour": measured.target,
                                   "points": keyword_oracles},
        },
        "det": {"all keywords": [point_json(p) for p in measured.det],
                **{k: [point_json(p.per_keyword[k]) for p in points] for k, points in measured.keyword_det.items()}},
    }


def share(count: int, total: int) -> dict[str, Any]:
    """``{"share", "count", "clips"}``; the share is ``None`` for no clips."""
    return {"share": count / total if total else None, "count": count, "clips": total}


def first_fire_recall(recall: Scored) -> list[dict[str, Any]]:
    """Each keyword's recall at the detector's own thresholds, a clip counting when its first event is a hit.

    Stricter than the operating points' recall, where a clip counts when its keyword fires at all: here a
    clip on which another keyword fires first is a miss, as it is for a user.

    Args:
        recall: Clips scored each as a stream of its own, with one label each (the keyword said).

    Returns:
        ``{"keyword", "recall", "hits", "clips", "other_keyword_first"}`` per keyword with clips, the
        lowest recall first (ties by name).
    """
    counts: dict[str, Counter] = {}
    for events, labels in zip(events_at(recall), recall.labels, strict=True):
        keyword = labels[0]["keyword"]
        tally = counts.setdefault(keyword, Counter())
        tally["clips"] += 1
        tally["hits"] += bool(events) and hit_flags(events[:1], labels)[0]
        tally["other_keyword_first"] += bool(events) and events[0].keyword != keyword
    rows = [{"keyword": keyword, "recall": c["hits"] / c["clips"], "hits": c["hits"], "clips": c["clips"],
             "other_keyword_first": c["other_keyword_first"]} for keyword, c in counts.items()]
    return sorted(rows, key=lambda row: (row["recall"], row["keyword"]))


def other_word_firing(scored: Scored, words: list[str]) -> dict[str, Any]:
    """How often any keyword fires on clips of words that are not keywords, at the detector's own thresholds.

    Args:
        scored: Clips scored each as a stream of its own (their labels are not used: every event counts).
        words: The word said in each clip.

    Returns:
        ``share``, ``count`` (clips on which some keyword fired) and ``clips``; ``first_keywords`` (how
        often each keyword fired first); ``per_word``: the same share per word, the most firing first.
    """
    streams = events_at(scored)
    fired = [bool(events) for events in streams]
    first = Counter(events[0].keyword for events in streams if events)
    by_word: dict[str, list[bool]] = {}
    for word, flag in zip(words, fired, strict=True):
        by_word.setdefault(word, []).append(flag)
    per_word = {word: share(sum(flags), len(flags)) for word, flags in by_word.items()}
    ranked = sorted(per_word, key=lambda word: (-per_word[word]["share"], word))
    return {**share(sum(fired), len(fired)), "first_keywords": dict(first.most_common()),
            "per_word": {word: per_word[word] for word in ranked}}

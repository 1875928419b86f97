"""Thresholds chosen on real speech: each keyword's share of the false-alarm target spent on real people.

Synthetic validation streams raise far more high scores than real speech does, so thresholds set on them
leave the false-alarm budget unspent on real speech (and recall with it). Here the false alarms are
counted on real keyword-free speech that may be calibrated on (the shipped real speech's validation
speakers, :mod:`asr_cnn.data.corpus.realnegatives`), while recall, and with it the moving-average span, still
comes from the synthetic validation streams, the only material with labelled keywords.

The real utterances are scored once, one after another with a pause, in a few streams side by side. A keyword may not
fire where its window or moving average reaches an utterance that may say it (:func:`keyword_alarms`),
and its hours are the rows left. Each keyword's false alarms are swept from the top of the calibration
grid down until they pass its share of the target and the tail fit's start
(:func:`~asr_cnn.evaluation.calibration.tail_counts`), giving its operating curve; its threshold is the
curve's for its share (:meth:`~asr_cnn.detect.curves.OperatingCurve.index_for`), the rule a detector
built with ``fa_per_hour`` applies too. The chosen span's curves reach further down, to
:data:`CURVE_FA_PER_HOUR`, and carry the validation recall of each threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import torch

from asr_cnn.detect.curves import OperatingCurve
from asr_cnn.detect.detector import Detector
from asr_cnn.evaluation.calibration import (CALIBRATION_GRID, TAIL_CHUNK, Calibration, merit, per_class, swept_down,
                                            tail_counts)
from asr_cnn.evaluation.scoring import Scored, Span, score_concatenation, smoothed
from asr_cnn.evaluation.sweep import point_at, sweep

PAUSE_S = 0.5
"""Silence after each real utterance in the scored stream (as ``recipes/evaluate_real.py`` plays speech)."""

STREAMS = 16
"""Streams the real utterances are spread over: a batch keeps the backbone's convolutions large."""

CURVE_FA_PER_HOUR = 10.0
"""Each keyword's shipped curve reaches down to thresholds that raise this many false alarms per hour."""


@dataclass(frozen=True)
class RealSpeech:
    """Real utterances scored as a few streams side by side, and which of them each keyword may not count
    false alarms on.

    Attributes:
        scored: Unsmoothed scores of the streams (no labels); NaN past a stream's end.
        spans: Each utterance's stream and its first and past-last sample there.
        excluded: Per keyword, the indices of the utterances that may say it.
        hop_samples: Samples between score rows.
        window_samples: Samples one score sees.
    """

    scored: Scored
    spans: list[Span]
    excluded: dict[str, list[int]]
    hop_samples: int
    window_samples: int


def score_real(detector: Detector, waves: Sequence[torch.Tensor], excluded: Mapping[str, Sequence[int]],
               pause_s: float = PAUSE_S) -> RealSpeech:
    """Score ``waves`` one after another, each followed by ``pause_s`` of silence, in ``detector.batch_size``
    streams side by side (:func:`~asr_cnn.evaluation.scoring.score_concatenation`).

    Args:
        detector: Scores the streams; build it with ``smoothing_s=0`` so that spans can be tried afterwards,
            and a batch of streams (e.g. :data:`STREAMS`) for speed.
        waves: The utterances, at the spotter's rate.
        excluded: Per keyword of the detector, the indices of ``waves`` that may say it.
        pause_s: Silence after each utterance.

    Raises:
        ValueError: No audio, or ``excluded`` does not name exactly the detector's keywords.

    Shape:
        waves: each (S_i,).
    """
    if not waves:
        raise ValueError("calibration on real speech needs real utterances; none was given")
    if set(excluded) != set(detector.thresholds):
        raise ValueError(f"exclusions must name the keywords {sorted(detector.thresholds)}, got {sorted(excluded)}")
    scored, spans = score_concatenation(detector, waves, pause_s)
    return RealSpeech(scored, spans,
                      {keyword: sorted(indices) for keyword, indices in excluded.items()},
                      detector.spotter.hop_samples, detector.spotter.window_samples)


def utterance_rows(real: RealSpeech, index: int, smoothing_rows: int) -> tuple[int, int, int]:
    """The stream of utterance ``index`` and its first and past-last score row whose moving average of
    ``smoothing_rows`` rows reaches a window that overlaps the utterance."""
    stream, start, end = real.spans[index]
    # row n averages windows n - r + 1 .. n, covering samples [(n - r + 1) * hop, n * hop + window)
    first = max((start - real.window_samples) // real.hop_samples + 1, 0)
    return stream, first, -(-end // real.hop_samples) + smoothing_rows - 1


def keyword_alarms(real: RealSpeech, scores: Scored, keyword: str) -> Scored:
    """``real``'s streams smoothed as ``scores``, where ``keyword`` cannot fire on rows whose moving average
    reaches a window that overlaps an utterance that may say it; its hours are those of the rows left.

    Shape:
        scores.scores: (B, N, K).
    """
    batch, rows = scores.scores.shape[:2]
    blocked = torch.zeros(batch, rows, dtype=torch.bool)  # (B, N)
    for index in real.excluded[keyword]:
        stream, first, past = utterance_rows(real, index, scores.smoothing_rows)
        blocked[stream, first:past] = True
    column = scores.classes.index(keyword)
    masked = scores.scores.clone()
    masked[..., column] = masked[..., column].masked_fill(blocked, float("nan"))  # NaN never fires
    counted = (~blocked & ~scores.scores[..., column].isnan()).sum(1)  # (B,) rows left, within each stream
    return replace(scores, scores=masked, seconds=(counted * scores.hop_s).tolist())


def keyword_curve(alarms: Scored, keyword: str, share: float, tail_events: int, floor_per_hour: float = 0.0,
                  grid: torch.Tensor = CALIBRATION_GRID) -> OperatingCurve:
    """``keyword``'s false alarms per hour at the top of ``grid``, swept down until they pass ``share`` per
    hour, ``tail_events`` and ``floor_per_hour``; no recall (``None``).

    Args:
        alarms: :func:`keyword_alarms` of the keyword.
        share: The keyword's false alarms per hour allowed.
        tail_events: False alarms the tail fit starts from; 0 counts only.
        floor_per_hour: Sweep down at least to this rate.
        grid: Thresholds, ascending, within (0, 1).
    """
    hours = alarms.hours
    if hours <= 0:
        raise ValueError(f"no real speech is left to count {keyword!r}'s false alarms on")
    needed = max(share, floor_per_hour) * hours
    low, counts = swept_down(alarms, keyword, grid, len(grid) - TAIL_CHUNK,
                             lambda count: count > needed and count >= tail_events)
    fa_per_hour = tail_counts(grid[low:], counts, tail_events) / hours  # (T - low,)
    return OperatingCurve(grid[low:].tolist(), fa_per_hour.tolist(), [None] * len(counts), hours)


def with_recall(curve: OperatingCurve, recall: Scored, keyword: str) -> OperatingCurve:
    """``curve`` with the validation recall of each of its thresholds, ``keyword`` alone firing."""
    points = sweep(recall, grid=torch.tensor(curve.thresholds, dtype=torch.float64), keywords=[keyword])
    return replace(curve, recall=[p.per_keyword[keyword].recall for p in points])


def calibrate_at(real: RealSpeech, validation: Scored, target_fa_per_hour: float, tail_events: int, rows: int,
                 floor_per_hour: float = 0.0) -> Calibration:
    """Thresholds for ``target_fa_per_hour`` on real speech with a ``rows``-row moving average.

    Args:
        real: :func:`score_real`'s stream, unsmoothed.
        validation: The synthetic validation streams, unsmoothed: recall (and false alarms there) at the
            chosen thresholds.
        target_fa_per_hour: False alarms per hour of real speech for all keywords, shared equally.
        tail_events: As for :func:`~asr_cnn.evaluation.calibration.calibrate`.
        rows: Moving-average span in score rows.
        floor_per_hour: How far down the curves reach (:func:`keyword_curve`).
    """
    if target_fa_per_hour < 0:
        raise ValueError(f"target_fa_per_hour must be >= 0, got {target_fa_per_hour}")
    alarms, recall = smoothed(real.scored, rows), smoothed(validation, rows)
    keywords = recall.keywords
    share = target_fa_per_hour / len(keywords)
    curves, thresholds, met, per_keyword = {}, {}, {}, {}
    for keyword in keywords:
        curve = keyword_curve(keyword_alarms(real, alarms, keyword), keyword, share, tail_events, floor_per_hour)
        index = curve.index_for(share)
        curves[keyword], thresholds[keyword] = curve, float(curve.thresholds[index])
        met[keyword] = curve.fa_per_hour[index] <= share
        per_keyword[keyword] = {"hours": curve.hours, "fa_per_hour": curve.fa_per_hour[index]}
    return Calibration(thresholds, target_fa_per_hour, met, alarms.hours,
                       point_at(recall, thresholds=per_class(recall, thresholds)),
                       rows * recall.hop_s, recall.refractory_rows * recall.hop_s, curves, per_keyword)


def calibrate_real(real: RealSpeech, validation: Scored, target_fa_per_hour: float, tail_events: int,
                   spans: Sequence[int]) -> Calibration:
    """The calibration on real speech, among those at each moving-average span, that detects the most
    validation keywords (ties: the shorter span, then fewer false alarms), with its full operating curves.

    Args:
        real, validation, target_fa_per_hour, tail_events: As for :func:`calibrate_at`.
        spans: Moving-average spans to try, in score rows, each >= 1.

    Raises:
        ValueError: No span, a negative target, or no real speech left for a keyword.
    """
    if not spans:
        raise ValueError("calibrate_real needs at least one smoothing span")
    options = {rows: calibrate_at(real, validation, target_fa_per_hour, tail_events, rows)
               for rows in sorted(set(spans))}
    rows = max(options, key=lambda r: merit(options[r]))  # the first of equals: the shortest span
    chosen = calibrate_at(real, validation, target_fa_per_hour, tail_events, rows, CURVE_FA_PER_HOUR)
    recall = smoothed(validation, rows)
    return replace(chosen, curves={k: with_recall(c, recall, k) for k, c in chosen.curves.items()})


def real_false_alarms(real: RealSpeech, thresholds: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """Each keyword's false alarms on ``real`` at its threshold, itself alone firing, on the rows it may count.

    Args:
        real: Scored by the detector whose thresholds these are (smoothed as it smooths).
        thresholds: Per keyword.

    Returns:
        Per keyword, ``{"hours", "false_alarms", "fa_per_hour"}``.
    """
    counted = {}
    for keyword, threshold in thresholds.items():
        alarms = keyword_alarms(real, real.scored, keyword)
        found = sweep(alarms, grid=torch.tensor([threshold], dtype=torch.float64), keywords=[keyword])[0]
        counted[keyword] = {"hours": alarms.hours, "false_alarms": found.false_alarms,
                            "fa_per_hour": found.false_alarms / alarms.hours if alarms.hours else 0.0}
    return counted

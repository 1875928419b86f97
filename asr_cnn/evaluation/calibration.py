"""Calibration: per-keyword thresholds chosen on validation streams for a target false-alarm rate.

The target is the whole model's false alarms per hour; each keyword gets an equal share of it and the
lowest threshold of the grid that keeps that keyword's false alarms within its share (each keyword on
its own, through the detector's own picking, :func:`~asr_cnn.evaluation.sweep.sweep`). False alarms fall
as the threshold rises, so a binary search over the grid finds it in a few replays instead of one per
grid point. A share below one false alarm in the hours measured means none at all there.
A keyword no threshold of the grid brings within its share gets the grid's highest threshold and is
reported as missing the target.

Counting alone cannot certify a rate below one per validation span: a threshold just above the loudest
false alarm of one hour lets through about one per hour of the same material (each new hour's loudest beats
it half the time), whatever the target. So each keyword's count curve is also extrapolated
(:func:`tail_threshold`): above the highest threshold ``u`` that still raises ``tail_events`` false alarms,
the curve is fitted with an exponential in logit space, ``N(t) = N(u) exp(-(logit t - logit u) / scale)``
(peaks over a threshold, a generalised Pareto tail of shape 0), and the keyword gets the higher of the
counted threshold and the one where the fit falls to its share.

Thresholds hold for the posterior smoothing they were chosen with, and the smoothing matters: a longer
moving average flattens the one- or two-row spikes that most false alarms are, while a spoken keyword
keeps its posterior up for as long as windows hold all of it. :func:`calibrate_smoothing` therefore
calibrates on the unsmoothed posteriors smoothed at each of several spans, and keeps the span whose
thresholds detect the most validation keywords (the shortest on ties: it fires soonest).

Calibrate on validation material only (``validation_streams/`` and the shipped real negatives' validation
speakers), never on test streams or evaluation sets: a threshold tuned on the set that measures it makes
that measurement meaningless. The result goes into the checkpoint (``extra["thresholds"]`` and
``extra["calibration"]``), where :class:`~asr_cnn.detect.Detector` reads it by default.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from asr_cnn.detect.curves import OperatingCurve
from asr_cnn.detect.detector import Detector
from asr_cnn.evaluation.operating import OperatingPoint
from asr_cnn.evaluation.scoring import Scored, smoothed, stored, stream_scores
from asr_cnn.evaluation.streams import load_streams
from asr_cnn.evaluation.sweep import point_at, sweep

CALIBRATION_GRID = torch.cat([torch.linspace(0.05, 0.99, 95, dtype=torch.float64),
                              1.0 - torch.logspace(-2.25, -6.0, 16, dtype=torch.float64)])
"""Thresholds tried: steps of 0.01, then finer towards 1, where a well-trained model's false alarms score."""

TAIL_CHUNK = 16
"""Thresholds of the grid below those swept so far that each sweep of a keyword's tail adds."""

BLOCK_SECONDS = 30.0
"""Seconds of audio per detector call while scoring (the events do not depend on it)."""


@dataclass(frozen=True)
class Calibration:
    """Thresholds for a false-alarm target and what they do on the validation material.

    Attributes:
        thresholds: Per keyword.
        target_fa_per_hour: The whole model's target.
        met: Per keyword, whether some threshold kept it within its share.
        hours: Validation audio the false alarms were counted on.
        point: Recall and false alarms with all the thresholds at once, per keyword and overall.
        smoothing_s: The detector's moving-average span the thresholds hold for.
        refractory_s: The detector's quiet time after an event they hold for.
        curves: Per keyword, its operating curve on real speech (empty when calibrated on streams alone).
        real: When the false alarms were counted on real speech (``hours`` is then its hours): per keyword,
            its hours and false alarms per hour at its threshold (``{"hours", "fa_per_hour"}``).
    """

    thresholds: dict[str, float]
    target_fa_per_hour: float
    met: dict[str, bool]
    hours: float
    point: OperatingPoint
    smoothing_s: float
    refractory_s: float
    curves: dict[str, OperatingCurve] = field(default_factory=dict)
    real: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def recall(self) -> float:
        """Share of the validation keywords detected (0 when none was spoken)."""
        return self.point.recall or 0.0

    def summary(self) -> dict[str, Any]:
        """Plain data for the checkpoint's ``extra["calibration"]`` and for reports."""
        return {"target_fa_per_hour": self.target_fa_per_hour, "hours": self.hours, "met": self.met,
                "recall": self.point.recall, "fa_per_hour": self.point.fa_per_hour,
                "per_keyword": {k: {"recall": p.recall, "fa_per_hour": p.fa_per_hour}
                                for k, p in self.point.per_keyword.items()},
                "smoothing_s": self.smoothing_s, "refractory_s": self.refractory_s, "real": self.real}


def calibrate(scored: Scored, target_fa_per_hour: float, tail_events: int,
              grid: torch.Tensor = CALIBRATION_GRID) -> Calibration:
    """Per-keyword thresholds that keep the model within ``target_fa_per_hour`` on ``scored``.

    Args:
        scored: Validation streams (labelled ones for recall; false alarms counted on all of them).
        target_fa_per_hour: False alarms per hour allowed for all keywords together, shared equally.
        tail_events: False alarms the tail fit starts from (:func:`tail_threshold`); 0 counts only.
        grid: Thresholds to choose from, ascending, within (0, 1).

    Raises:
        ValueError: A negative target or ``tail_events``, or no audio scored.

    Shape:
        grid: (T,).
    """
    if target_fa_per_hour < 0:
        raise ValueError(f"target_fa_per_hour must be >= 0, got {target_fa_per_hour}")
    if tail_events < 0:
        raise ValueError(f"tail_events must be >= 0, got {tail_events}")
    if scored.hours <= 0:
        raise ValueError("calibration needs validation audio; none was scored")
    keywords = scored.keywords
    allowed = target_fa_per_hour / len(keywords) * scored.hours  # false alarms each keyword may raise here
    thresholds, met = {}, {}
    for keyword in keywords:
        index, met[keyword] = keyword_threshold(scored, keyword, allowed, tail_events, grid)
        thresholds[keyword] = float(grid[index])
    return Calibration(thresholds, target_fa_per_hour, met, scored.hours,
                       point_at(scored, thresholds=per_class(scored, thresholds)),
                       scored.smoothing_rows * scored.hop_s, scored.refractory_rows * scored.hop_s)


def per_class(scored: Scored, thresholds: dict[str, float]) -> torch.Tensor:
    """The scored detector's thresholds with those of ``thresholds`` put in for their classes.

    Shape:
        Output: (K,).
    """
    merged = scored.thresholds.clone()
    for index, name in enumerate(scored.classes):
        if name in thresholds:
            merged[index] = thresholds[name]
    return merged


def keyword_threshold(scored: Scored, keyword: str, allowed: float, tail_events: int, grid: torch.Tensor
                      ) -> tuple[int, bool]:
    """The index in ``grid`` of ``keyword``'s threshold, and whether it keeps within ``allowed`` false alarms.

    False alarms fall as the threshold rises, so a binary search finds the lowest threshold within
    ``allowed`` in a few replays, and the tail is swept down from it in chunks of ``TAIL_CHUNK`` thresholds
    until it raises ``tail_events``: each replay of a low threshold costs more than many high ones, where
    false alarms are few. The grid's highest threshold when none is within ``allowed``.

    Shape:
        grid: (T,).
    """
    @functools.cache
    def count(index: int) -> int:
        return sweep(scored, grid=grid[index:index + 1], keywords=[keyword])[0].false_alarms

    counted = lowest(len(grid), lambda i: count(i) <= allowed)
    index, met = min(counted, len(grid) - 1), counted < len(grid)
    if not tail_events:
        return index, met
    low, counts = swept_down(scored, keyword, grid, max(index - TAIL_CHUNK, 0), lambda count: count >= tail_events)
    fitted = tail_threshold(grid[low:], counts, allowed, tail_events)
    if fitted is None:  # too few false alarms to fit
        return index, met
    return max(index, min(int((grid < fitted).sum()), len(grid) - 1)), met  # the lowest grid threshold >= the fit


def swept_down(scored: Scored, keyword: str, grid: torch.Tensor, low: int, enough: Callable[[float], bool]
               ) -> tuple[int, torch.Tensor]:
    """``keyword``'s false alarms at the top of ``grid``, swept down from ``low`` in chunks of ``TAIL_CHUNK``
    thresholds, each once, until the lowest swept raises ``enough`` (or the grid ends).

    Returns:
        The lowest index swept and the false alarms at ``grid[index:]``.

    Shape:
        grid: (T,). Output counts: (T - index,), non-increasing.
    """
    high, counts = len(grid), torch.zeros(0, dtype=torch.float64)
    while True:
        chunk = [p.false_alarms for p in sweep(scored, grid=grid[low:high], keywords=[keyword])]
        counts = torch.cat([torch.tensor(chunk, dtype=torch.float64), counts])  # (T - low,)
        if enough(float(counts[0])) or low == 0:
            return low, counts
        low, high = max(low - TAIL_CHUNK, 0), low


def lowest(size: int, holds: Callable[[int], bool]) -> int:
    """The lowest index in ``range(size)`` where ``holds``, which once true stays true; ``size`` if nowhere."""
    low, high = 0, size  # the answer lies in [low, high]
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if holds(middle) else (middle + 1, high)
    return low


def tail_threshold(grid: torch.Tensor, counts: torch.Tensor, allowed: float, tail_events: int) -> float | None:
    """The threshold at which an exponential fit of the false alarms' tail falls to ``allowed``.

    ``u`` is the highest threshold of ``grid`` with at least ``tail_events`` false alarms. The fit's scale
    is their mean excess over ``u`` in logits, read off the counts themselves: the integral of
    ``N(t) / N(u)`` over ``logit t`` from ``u`` up (trapezoids between grid points). The maximum-likelihood
    scale of an exponential is that mean.

    Args:
        grid: Thresholds, ascending, within (0, 1).
        counts: False alarms at each, non-increasing.
        allowed: False alarms the fit may leave, >= 0.
        tail_events: Where the fit starts, >= 1.

    Returns:
        The threshold, possibly between grid points or 1.0 when ``allowed`` is 0; ``None`` when even the
        grid's lowest threshold raises fewer than ``tail_events`` false alarms (too few to fit).

    Shape:
        grid, counts: (T,).
    """
    fit = tail_fit(grid, counts, tail_events)
    if fit is None:
        return None
    if allowed <= 0:
        return 1.0
    start, scale = fit
    return float(torch.sigmoid(torch.logit(grid[start].double())
                               + scale * math.log(max(float(counts[start]) / allowed, 1.0))))


def tail_fit(grid: torch.Tensor, counts: torch.Tensor, tail_events: int) -> tuple[int, float] | None:
    """Where the tail fit starts (the index of ``u``) and its scale in logits; ``None`` with too few false
    alarms (see :func:`tail_threshold`).

    Shape:
        grid, counts: (T,).
    """
    enough = (counts >= max(tail_events, 1)).nonzero()
    if len(enough) == 0:
        return None
    start = int(enough[-1])
    logits, tail = torch.logit(grid[start:].double()), counts[start:].double()  # (T - start,)
    return start, float(((tail[1:] + tail[:-1]) / 2 * logits.diff()).sum() / tail[0])


def tail_counts(grid: torch.Tensor, counts: torch.Tensor, tail_events: int) -> torch.Tensor:
    """False alarms as the tail fit expects them: the counts, raised above ``u`` to the fitted exponential.

    The lowest threshold whose expected count is within ``allowed`` is :func:`keyword_threshold`'s: the
    higher of the counted threshold and the lowest grid threshold at or above :func:`tail_threshold`.

    Shape:
        grid, counts: (T,). Output: (T,), non-increasing where ``counts`` is.
    """
    fit = tail_fit(grid, counts, tail_events) if tail_events else None
    if fit is None or fit[1] <= 0:
        return counts.double()
    start, scale = fit
    logits = torch.logit(grid[start:].double())  # (T - start,)
    fitted = counts[start].double() * torch.exp(-(logits - logits[0]) / scale)
    return torch.cat([counts[:start].double(), torch.maximum(counts[start:].double(), fitted)])


def calibrate_smoothing(raw: Scored, target_fa_per_hour: float, tail_events: int, spans: Sequence[int]
                        ) -> Calibration:
    """The calibration, among those at each moving-average span, that detects the most validation keywords.

    Ties go to the shorter span, then fewer false alarms decide.

    Args:
        raw: Validation streams scored without smoothing (``smoothing_rows`` 1).
        target_fa_per_hour, tail_events: As for :func:`calibrate`.
        spans: Moving-average spans to try, in score rows, each >= 1.

    Raises:
        ValueError: No span, or as for :func:`calibrate` and :func:`~asr_cnn.evaluation.scoring.smoothed`.
    """
    if not spans:
        raise ValueError("calibrate_smoothing needs at least one smoothing span")
    calibrations = [calibrate(smoothed(raw, rows), target_fa_per_hour, tail_events) for rows in sorted(set(spans))]
    return max(calibrations, key=merit)  # the first of equals: the shortest span


def merit(calibration: Calibration) -> tuple[float, float]:
    """What makes a calibration better: more validation keywords detected, then fewer false alarms."""
    return calibration.recall, -(calibration.point.fa_per_hour or 0.0)


def score_validation(detector: Detector, stream_folders: Sequence[str | Path],
                     negatives: Sequence[torch.Tensor] = ()) -> Scored:
    """Scores of every labelled stream in ``stream_folders`` and of each keyword-free waveform in ``negatives``.

    Shape:
        negatives: each (S_i,), at the spotter's rate.
    """
    keywords = list(detector.thresholds)
    rows, seconds, labels = [], [], []
    for folder in stream_folders:
        for stream in load_streams(folder, keywords):
            scores, duration = stream_scores(detector, stream.audio, BLOCK_SECONDS)
            rows.append(scores)
            seconds.append(duration)
            labels.append(stream.labels)
    rate = detector.spotter.sample_rate
    for wave in negatives:
        detector.reset()
        rows.append(detector.step(wave)[0][0].cpu())  # (N, K) of the single stream
        seconds.append(wave.shape[-1] / rate)
        labels.append([])
    return stored(detector, rows, seconds, labels)


def write_calibration(spotter_extra: dict[str, Any], calibration: Calibration) -> None:
    """Store the thresholds and how they were chosen in a spotter's ``extra`` (saved with the checkpoint).

    ``extra["calibration"]`` carries the smoothing and refractory spans the thresholds hold for, which a
    :class:`~asr_cnn.detect.Detector` built from the checkpoint then uses; ``extra["curves"]`` the operating
    curves it picks other thresholds from (empty when calibrated on streams alone).
    """
    spotter_extra["thresholds"] = dict(calibration.thresholds)
    spotter_extra["calibration"] = calibration.summary()
    spotter_extra["curves"] = {keyword: curve.to_dict() for keyword, curve in calibration.curves.items()}

"""Calibration: per-keyword thresholds chosen on validation streams for a target false-alarm rate.

The target is the whole model's false alarms per hour; each keyword gets an equal share of it and the
lowest threshold of the grid that keeps that keyword's false alarms within its share (each keyword on
its own, through the detector's own picking, :func:`~asr_cnn.evaluation.sweep.sweep`). False alarms fall
as the threshold rises, so a binary search over the grid finds it in a few replays instead of one per
grid point. A share below one false alarm in the hours measured means none at all there. A keyword no
threshold of the grid brings within its share gets the grid's highest threshold and is reported as
missing the target.

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

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from asr_cnn.detect.detector import Detector
from asr_cnn.evaluation.operating import OperatingPoint
from asr_cnn.evaluation.scoring import Scored, smoothed, stored, stream_scores
from asr_cnn.evaluation.streams import load_streams
from asr_cnn.evaluation.sweep import point_at, sweep

CALIBRATION_GRID = torch.cat([torch.linspace(0.05, 0.99, 95, dtype=torch.float64),
                              1.0 - torch.logspace(-2.25, -6.0, 16, dtype=torch.float64)])
"""Thresholds tried: steps of 0.01, then finer towards 1, where a well-trained model's false alarms score."""

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
    """

    thresholds: dict[str, float]
    target_fa_per_hour: float
    met: dict[str, bool]
    hours: float
    point: OperatingPoint
    smoothing_s: float
    refractory_s: float

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
                "smoothing_s": self.smoothing_s, "refractory_s": self.refractory_s}


def calibrate(scored: Scored, target_fa_per_hour: float, grid: torch.Tensor = CALIBRATION_GRID) -> Calibration:
    """Per-keyword thresholds that keep the model within ``target_fa_per_hour`` on ``scored``.

    Args:
        scored: Validation streams (labelled ones for recall; false alarms counted on all of them).
        target_fa_per_hour: False alarms per hour allowed for all keywords together, shared equally.
        grid: Thresholds to choose from, ascending.

    Raises:
        ValueError: A negative target, or no audio scored.

    Shape:
        grid: (T,).
    """
    if target_fa_per_hour < 0:
        raise ValueError(f"target_fa_per_hour must be >= 0, got {target_fa_per_hour}")
    if scored.hours <= 0:
        raise ValueError("calibration needs validation audio; none was scored")
    keywords = scored.keywords
    share = target_fa_per_hour / len(keywords)
    thresholds, met = {}, {}
    for keyword in keywords:
        def within(index: int) -> bool:
            return sweep(scored, grid=grid[index:index + 1], keywords=[keyword])[0].fa_per_hour <= share

        low, high = 0, len(grid) - 1  # the answer lies in [low, high], if anywhere
        while low < high:
            middle = (low + high) // 2
            low, high = (low, middle) if within(middle) else (middle + 1, high)
        met[keyword] = within(high)
        thresholds[keyword] = float(grid[high])
    per_class = scored.thresholds.clone()
    for index, name in enumerate(scored.classes):
        if name in thresholds:
            per_class[index] = thresholds[name]
    return Calibration(thresholds, target_fa_per_hour, met, scored.hours, point_at(scored, thresholds=per_class),
                       scored.smoothing_rows * scored.hop_s, scored.refractory_rows * scored.hop_s)


def calibrate_smoothing(raw: Scored, target_fa_per_hour: float, spans: Sequence[int]) -> Calibration:
    """The calibration, among those at each moving-average span, that detects the most validation keywords.

    Ties go to the shorter span, then fewer false alarms decide.

    Args:
        raw: Validation streams scored without smoothing (``smoothing_rows`` 1).
        target_fa_per_hour: As for :func:`calibrate`.
        spans: Moving-average spans to try, in score rows, each >= 1.

    Raises:
        ValueError: No span, or as for :func:`calibrate` and :func:`~asr_cnn.evaluation.scoring.smoothed`.
    """
    if not spans:
        raise ValueError("calibrate_smoothing needs at least one smoothing span")
    calibrations = [calibrate(smoothed(raw, rows), target_fa_per_hour) for rows in sorted(set(spans))]
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
    :class:`~asr_cnn.detect.Detector` built from the checkpoint then uses.
    """
    spotter_extra["thresholds"] = dict(calibration.thresholds)
    spotter_extra["calibration"] = calibration.summary()

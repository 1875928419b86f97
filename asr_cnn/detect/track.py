"""One spotter's detection: its thresholds, smoothing and event picking, from its score rows to events."""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

from asr_cnn.data.corpus.labels import SILENCE, UNKNOWN
from asr_cnn.detect.curves import curve_thresholds
from asr_cnn.detect.events import Event
from asr_cnn.detect.picking import EventPicker
from asr_cnn.detect.smoothing import MovingAverage
from asr_cnn.models.spotter import KeywordSpotter

DEFAULT_THRESHOLD = 0.5
"""Smoothed posterior a keyword must reach when neither the caller nor the checkpoint gives one."""

DEFAULT_SMOOTHING_S = 0.25
"""Moving-average span in seconds, for a model calibrated without one. Training labels a window positive
from the keyword's end to up to 0.25 s later (``trainer.live.tail_s``), so a keyword holds its score for
about that long while a false alarm is mostly a one- or two-window spike: averaging over the span the
model was trained to respond on lowers spikes more than keywords."""

DEFAULT_REFRACTORY_S = 1.0
"""Quiet time after a detection: about one spoken keyword, so a word fires once."""

ROWS_DECIMALS = 6
"""Seconds-to-rows conversions round away float noise at this many decimals before taking the ceiling."""

NON_KEYWORDS = (SILENCE, UNKNOWN)
"""Classes that are never reported as events."""


def rows_for(seconds: float, spotter: KeywordSpotter) -> int:
    """Score rows covering at least ``seconds`` of audio, at least 1."""
    if seconds < 0:
        raise ValueError(f"a duration must be >= 0 seconds, got {seconds}")
    rows = round(seconds * spotter.sample_rate / spotter.hop_samples, ROWS_DECIMALS)  # 3.0000000004 is 3
    return max(1, math.ceil(rows))


def resolve_thresholds(spotter: KeywordSpotter, thresholds: Mapping[str, float] | None = None,
                       threshold: float = DEFAULT_THRESHOLD, fa_per_hour: float | None = None) -> dict[str, float]:
    """Threshold of every keyword: ``thresholds`` first, then the checkpoint's, then ``threshold``.

    The checkpoint's are ``spotter.extra["thresholds"]`` (chosen for its calibration target), or, with
    ``fa_per_hour``, those its operating curves give for that many false alarms per hour of real speech
    (:func:`~asr_cnn.detect.curves.curve_thresholds`).

    Raises:
        ValueError: A threshold names an unknown label or a non-keyword class, or lies outside [0, 1];
            ``fa_per_hour`` is negative or the checkpoint carries no operating curves.
    """
    keywords = [label for label in spotter.labels if label not in NON_KEYWORDS]
    merged = {keyword: float(threshold) for keyword in keywords}
    calibrated = spotter.extra.get("thresholds") or {}
    if fa_per_hour is not None:
        if not spotter.extra.get("curves"):
            raise ValueError(f"fa_per_hour={fa_per_hour}: this checkpoint carries no operating curves (it was "
                             "calibrated before curves were stored); set thresholds instead")
        calibrated = curve_thresholds(spotter.extra["curves"], float(fa_per_hour))
    for source, given in (("checkpoint extra", calibrated), ("thresholds", thresholds or {})):
        for keyword, value in given.items():
            if keyword not in keywords:
                raise ValueError(f"{source} sets a threshold for {keyword!r}, which is not a keyword of this "
                                 f"spotter (keywords: {keywords})")
            merged[keyword] = float(value)
    bad = {keyword: value for keyword, value in merged.items() if not 0.0 <= value <= 1.0}
    if bad:
        raise ValueError(f"thresholds must lie in [0, 1] (they compare with posteriors), got {bad}")
    return merged


def resolve_timing(spotter: KeywordSpotter, smoothing_s: float | None, refractory_s: float | None
                   ) -> tuple[float, float]:
    """Smoothing and refractory spans: the arguments, else those the checkpoint was calibrated with, else defaults.

    Calibrated thresholds hold for the smoothing they were chosen with, so a checkpoint carries it in
    ``extra["calibration"]`` and a detector uses it unless told otherwise.
    """
    calibrated = spotter.extra.get("calibration") or {}
    smoothing = smoothing_s if smoothing_s is not None else calibrated.get("smoothing_s", DEFAULT_SMOOTHING_S)
    refractory = refractory_s if refractory_s is not None else calibrated.get("refractory_s", DEFAULT_REFRACTORY_S)
    return float(smoothing), float(refractory)


class Track:
    """One spotter's rows -> :class:`~asr_cnn.detect.smoothing.MovingAverage` over ``smoothing_s`` ->
    per-keyword thresholds and a refractory period (:class:`~asr_cnn.detect.picking.EventPicker`) -> events.

    Args:
        spotter: The model whose rows it reads.
        name: Put on its events (``None`` for a detector of one model).
        thresholds, threshold, fa_per_hour: As :func:`resolve_thresholds`.
        smoothing_s, refractory_s: As :func:`resolve_timing`.
        batch_size: Streams B.
        device: Where the smoothing history lives.
        dtype: Its dtype.
    """

    def __init__(self, spotter: KeywordSpotter, name: str | None, thresholds: Mapping[str, float] | None,
                 threshold: float, fa_per_hour: float | None, smoothing_s: float | None, refractory_s: float | None,
                 batch_size: int, device: torch.device, dtype: torch.dtype) -> None:
        self.spotter, self.name, self.labels = spotter, name, spotter.labels
        self.thresholds = resolve_thresholds(spotter, thresholds, threshold, fa_per_hour)
        self.fa_per_hour, self.overridden = fa_per_hour, sorted(thresholds or {})
        per_class = [self.thresholds.get(label, float("inf")) for label in self.labels]  # inf: never fires
        smoothing_s, refractory_s = resolve_timing(spotter, smoothing_s, refractory_s)
        self.smoother = MovingAverage(rows_for(smoothing_s, spotter), batch_size, len(self.labels), device, dtype)
        self.picker = EventPicker(torch.tensor(per_class, device=device), rows_for(refractory_s, spotter), batch_size)
        self.hop_s = spotter.hop_samples / spotter.sample_rate
        self.window_s = spotter.window_samples / spotter.sample_rate
        self.rows = 0  # score rows emitted since the last full reset

    def reset(self, streams: torch.Tensor | None) -> None:
        """Forget the history and refractory period of some streams (mask (B,)), or of all and the row clock."""
        self.smoother.reset(streams)
        self.picker.reset(streams)
        if streams is None:
            self.rows = 0

    def push(self, posteriors: torch.Tensor, first_row: torch.Tensor) -> tuple[torch.Tensor, list[tuple[int, Event]]]:
        """Smooth the next rows and pick their events.

        Args:
            posteriors: The spotter's next rows.
            first_row: Each stream's first row since its reset (its clock's zero).

        Returns:
            The smoothed rows, and ``(stream, event)`` for every event, the event's times in its stream's time.

        Shape:
            posteriors: (B, n_new, K). first_row: (B,). Output: (B, n_new, K).
        """
        smoothed = self.smoother.push(posteriors)
        events = []
        for pick in self.picker.push(smoothed, self.rows):
            start_s = (pick.row - int(first_row[pick.stream])) * self.hop_s
            events.append((pick.stream, Event(self.labels[pick.label], start_s, start_s + self.window_s, pick.score,
                                              self.name)))
        self.rows += smoothed.shape[1]
        return smoothed, events

    def operating_point(self) -> str:
        """What this track runs at: the false-alarm rate its thresholds were chosen for, on what material,
        the thresholds and the smoothing."""
        calibration = self.spotter.extra.get("calibration") or {}
        if self.fa_per_hour is not None:
            point = f"{self.fa_per_hour:g} false alarms per hour of real speech (chosen on the operating curves)"
        elif "target_fa_per_hour" in calibration:
            on = "real speech" if calibration.get("real") else "synthetic validation streams"
            point = f"{calibration['target_fa_per_hour']:g} false alarms per hour of {on} (as calibrated)"
        else:
            point = "uncalibrated thresholds"
        hand = f", set by hand: {', '.join(self.overridden)}" if self.overridden else ""
        shown = ", ".join(f"{keyword} {value:.4g}" for keyword, value in self.thresholds.items())
        smoothing_s, refractory_s = self.smoother.span * self.hop_s, self.picker.refractory_rows * self.hop_s
        return (f"operating point: {point}; thresholds {shown}{hand}; smoothing {smoothing_s:.2f} s, "
                f"refractory {refractory_s:.2f} s")

"""Detector: keyword events from endless audio, for one stream or a batch of independent streams."""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

from asr_cnn.data.corpus.labels import SILENCE, UNKNOWN
from asr_cnn.detect.curves import curve_thresholds
from asr_cnn.detect.events import Event
from asr_cnn.detect.picking import EventPicker, Pick
from asr_cnn.detect.smoothing import MovingAverage
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.streaming import StreamingScanner

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


def as_mask(streams: list[int] | torch.Tensor, batch_size: int) -> torch.Tensor:
    """Boolean mask (B,) from stream indices or a mask (already validated by the scanner)."""
    streams = torch.as_tensor(streams)
    if streams.dtype == torch.bool:
        return streams
    mask = torch.zeros(batch_size, dtype=torch.bool)
    mask[streams.long()] = True
    return mask


class Detector:
    """Keyword events from audio pushed in chunks of any size.

    Pipeline per stream: :class:`~asr_cnn.streaming.StreamingScanner` posteriors, one row per scan hop
    -> :class:`~asr_cnn.detect.smoothing.MovingAverage` over ``smoothing_s`` -> per-keyword thresholds and
    a refractory period (:class:`~asr_cnn.detect.picking.EventPicker`) -> :class:`Event` s whose times are
    the detecting window's start and end in that stream's time. ``_silence_`` and ``_unknown_`` never
    fire. Every stage is exact under re-chunking, so any chunking of the same audio gives the same events.

    Bad input: NaN or Inf samples are replaced by 0 and samples outside [-1, 1] are clipped before the
    front end (counted per stream in :attr:`bad_samples`). Only the windows that contain such samples
    score differently from clean audio, and the smoothed scores equal the clean ones again once the
    moving average has moved past those windows: every state is a finite buffer of recent frames, so
    nothing poisons the rest of the stream. (An event fired in the affected stretch does start a
    refractory period, as any event would; events agree again one refractory period later.)

    Args:
        spotter: The trained model; thresholds default to ``spotter.extra["thresholds"]`` when present.
        thresholds: Per-keyword thresholds that override the checkpoint's.
        threshold: Threshold of keywords that neither ``thresholds`` nor the checkpoint names.
        fa_per_hour: An operating point: the whole model's false alarms per hour of real speech, each
            keyword's threshold read off the checkpoint's operating curve for its share (``thresholds``
            still override); ``None``: the thresholds the checkpoint ships, chosen for its calibration target.
        smoothing_s: Moving-average span in seconds (rounded up to whole hops, at least one); ``None``: the
            span the checkpoint's thresholds were calibrated with, else :data:`DEFAULT_SMOOTHING_S`.
        refractory_s: Seconds after a detection during which the stream stays quiet (at least one hop);
            ``None``: the checkpoint's calibration, else :data:`DEFAULT_REFRACTORY_S`.
        batch_size: Independent streams B.
        device: Where the model and state live.
        dtype: Compute dtype of the streaming state.

    Raises:
        ValueError: A bad threshold (see :func:`resolve_thresholds`) or a negative duration.
    """

    def __init__(self, spotter: KeywordSpotter, thresholds: Mapping[str, float] | None = None,
                 threshold: float = DEFAULT_THRESHOLD, smoothing_s: float | None = None,
                 refractory_s: float | None = None, batch_size: int = 1,
                 device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32,
                 fa_per_hour: float | None = None) -> None:
        self.scanner = StreamingScanner(spotter, batch_size=batch_size, device=device, dtype=dtype)
        self.spotter, self.labels = self.scanner.spotter, spotter.labels
        self.thresholds = resolve_thresholds(spotter, thresholds, threshold, fa_per_hour)
        self.fa_per_hour, self.overridden = fa_per_hour, sorted(thresholds or {})
        per_class = [self.thresholds.get(label, float("inf")) for label in self.labels]  # inf: never fires
        smoothing_s, refractory_s = resolve_timing(spotter, smoothing_s, refractory_s)
        self.smoother = MovingAverage(rows_for(smoothing_s, spotter), batch_size, len(self.labels),
                                      self.scanner.device, dtype)
        self.picker = EventPicker(torch.tensor(per_class, device=self.scanner.device),
                                  rows_for(refractory_s, spotter), batch_size)
        self.hop_s = spotter.hop_samples / spotter.sample_rate
        self.window_s = spotter.window_samples / spotter.sample_rate
        self.rows = 0  # global score rows emitted since the last full reset

    @property
    def batch_size(self) -> int:
        return self.scanner.batch_size

    def operating_point(self) -> str:
        """One line saying what this detector runs at: the false-alarm rate its thresholds were chosen for,
        on what material, the thresholds and the smoothing."""
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

    @property
    def bad_samples(self) -> torch.Tensor:
        """NaN, Inf or out-of-range samples seen per stream since its last reset, (B,)."""
        return self.scanner.bad_samples

    @torch.inference_mode()  # the state was made in inference mode; only inference mode may update it
    def reset(self, streams: list[int] | torch.Tensor | None = None) -> None:
        """Start some streams (indices or a boolean mask (B,)) afresh, or all of them when ``None``.

        A restarted stream's clock starts again at 0 s; the other streams carry on undisturbed.
        """
        self.scanner.reset(streams)  # validates ``streams``
        mask = None if streams is None else as_mask(streams, self.batch_size)
        self.smoother.reset(mask)
        self.picker.reset(mask)
        if streams is None:
            self.rows = 0

    @torch.inference_mode()
    def step(self, chunk: torch.Tensor) -> tuple[torch.Tensor, list[list[Event]]]:
        """Feed the next samples of every stream; return the smoothed scores and the events.

        Args:
            chunk: The same number of new samples for every stream, at ``spotter.sample_rate``.

        Returns:
            Smoothed posteriors of the windows this chunk completed (NaN where a restarted stream has not
            yet filled a window), and one list of events per stream.

        Shape:
            chunk: (B, S_chunk), or (S_chunk,) when B == 1. Output scores: (B, n_new, K).
        """
        smoothed = self.smoother.push(self.scanner.push(chunk))  # (B, n_new, K)
        events: list[list[Event]] = [[] for _ in range(self.batch_size)]
        for pick in self.picker.push(smoothed, self.rows):
            events[pick.stream].append(self.to_event(pick))
        self.rows += smoothed.shape[1]
        return smoothed, events

    def to_event(self, pick: Pick) -> Event:
        """The event of a pick: its window in the stream's own time (since the stream's last reset)."""
        start_s = (pick.row - int(self.scanner.first_row[pick.stream])) * self.hop_s
        return Event(self.labels[pick.label], start_s, start_s + self.window_s, pick.score)

    def push_batch(self, chunk: torch.Tensor) -> list[list[Event]]:
        """Events of every stream completed by the next chunk.

        Shape:
            chunk: (B, S_chunk). Output: B lists of events.
        """
        return self.step(chunk)[1]

    def push(self, chunk: torch.Tensor) -> list[Event]:
        """Events completed by the next samples of a single stream.

        Shape:
            chunk: (S_chunk,) or (1, S_chunk).

        Raises:
            ValueError: The detector runs more than one stream (use :meth:`push_batch`).
        """
        if self.batch_size != 1:
            raise ValueError(f"push is for one stream; this detector runs {self.batch_size}: use push_batch")
        return self.step(chunk)[1][0]

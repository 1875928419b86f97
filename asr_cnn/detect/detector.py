"""Detector: keyword events from endless audio, for one stream or a batch of independent streams."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from asr_cnn.detect.events import Event
from asr_cnn.detect.picking import EventPicker
from asr_cnn.detect.smoothing import MovingAverage
from asr_cnn.detect.track import (DEFAULT_REFRACTORY_S, DEFAULT_SMOOTHING_S, DEFAULT_THRESHOLD, NON_KEYWORDS, Track,
                                  resolve_thresholds, resolve_timing, rows_for)
from asr_cnn.models.group import SpotterGroup
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.streaming import StreamingScanner

__all__ = ["DEFAULT_REFRACTORY_S", "DEFAULT_SMOOTHING_S", "DEFAULT_THRESHOLD", "NON_KEYWORDS", "Detector",
           "resolve_thresholds", "resolve_timing", "rows_for"]

Spotters = KeywordSpotter | Sequence[KeywordSpotter] | Mapping[str, KeywordSpotter]


def named_spotters(spotters: Spotters) -> list[tuple[str | None, KeywordSpotter]]:
    """``(name, spotter)`` pairs: one unnamed spotter, a mapping's names, or ``model0``, ``model1``, ... for a list."""
    if isinstance(spotters, KeywordSpotter):
        return [(None, spotters)]
    named = list(spotters.items()) if isinstance(spotters, Mapping) else [
        (f"model{i}", spotter) for i, spotter in enumerate(spotters)]
    if not named:
        raise ValueError("a detector needs at least one spotter")
    return [(None, named[0][1])] if len(named) == 1 else named


def split_thresholds(named: list[tuple[str | None, KeywordSpotter]], thresholds: Mapping[str, float] | None
                     ) -> list[dict[str, float] | None]:
    """Each model's share of ``thresholds``: a keyword's threshold applies to every model that has it.

    Raises:
        ValueError: A keyword no model has (a single model's own check names the details).
    """
    if len(named) == 1 or not thresholds:
        return [dict(thresholds) if thresholds else None] * len(named)
    keywords = [set(spotter.labels) - set(NON_KEYWORDS) for _, spotter in named]
    unknown = sorted(set(thresholds) - set().union(*keywords))
    if unknown:
        raise ValueError(f"thresholds name {unknown}, which no model has as a keyword (keywords: "
                         f"{ {name: sorted(k) for (name, _), k in zip(named, keywords)} })")
    return [{k: v for k, v in thresholds.items() if k in mine} for mine in keywords]


def as_mask(streams: list[int] | torch.Tensor, batch_size: int) -> torch.Tensor:
    """Boolean mask (B,) from stream indices or a mask (already validated by the scanner)."""
    streams = torch.as_tensor(streams)
    if streams.dtype == torch.bool:
        return streams
    mask = torch.zeros(batch_size, dtype=torch.bool)
    mask[streams.long()] = True
    return mask


class Detector:
    """Keyword events from audio pushed in chunks of any size, from one model or several over one backbone.

    Pipeline per stream: :class:`~asr_cnn.streaming.StreamingScanner` posteriors, one row per scan hop
    -> :class:`~asr_cnn.detect.smoothing.MovingAverage` over ``smoothing_s`` -> per-keyword thresholds and
    a refractory period (:class:`~asr_cnn.detect.picking.EventPicker`) -> :class:`Event` s whose times are
    the detecting window's start and end in that stream's time. ``_silence_`` and ``_unknown_`` never
    fire. Every stage is exact under re-chunking, so any chunking of the same audio gives the same events.

    Several models (two checkpoints trained apart on one frozen backbone, say a wake word and commands):
    the front end and backbone run once per hop (:class:`~asr_cnn.models.group.SpotterGroup`), each model
    keeps its own thresholds, smoothing and refractory period (:attr:`tracks`), and events carry their
    model's name. Models whose backbones differ are refused.

    Bad input: NaN or Inf samples are replaced by 0 and samples outside [-1, 1] are clipped before the
    front end (counted per stream in :attr:`bad_samples`). Only the windows that contain such samples
    score differently from clean audio, and the smoothed scores equal the clean ones again once the
    moving average has moved past those windows: every state is a finite buffer of recent frames, so
    nothing poisons the rest of the stream. (An event fired in the affected stretch does start a
    refractory period, as any event would; events agree again one refractory period later.)

    Args:
        spotter: The trained model; or several, as a list or as ``{name: spotter}`` (events name them).
            Thresholds default to each checkpoint's ``extra["thresholds"]`` when present.
        thresholds: Per-keyword thresholds that override the checkpoints' (for every model with that keyword).
        threshold: Threshold of keywords that neither ``thresholds`` nor the checkpoint names.
        fa_per_hour: An operating point: each model's false alarms per hour of real speech, each keyword's
            threshold read off the checkpoint's operating curve for its share (``thresholds`` still
            override); ``None``: the thresholds the checkpoint ships, chosen for its calibration target.
        smoothing_s: Moving-average span in seconds (rounded up to whole hops, at least one); ``None``: the
            span the checkpoint's thresholds were calibrated with, else :data:`DEFAULT_SMOOTHING_S`.
        refractory_s: Seconds after a detection during which the stream stays quiet (at least one hop);
            ``None``: the checkpoint's calibration, else :data:`DEFAULT_REFRACTORY_S`.
        batch_size: Independent streams B.
        device: Where the model and state live.
        dtype: Compute dtype of the streaming state.
        runtime: ``"auto"`` (the fast runtime on CPU), ``"fast"`` or ``"eager"``: see
            :data:`~asr_cnn.streaming.engines.RUNTIMES`; the same events either way.

    Raises:
        ValueError: A bad threshold (see :func:`resolve_thresholds`), a negative duration, models that do not
            share a backbone or a hop (:class:`~asr_cnn.models.group.SpotterGroup`), or a bad runtime.
    """

    def __init__(self, spotter: Spotters, thresholds: Mapping[str, float] | None = None,
                 threshold: float = DEFAULT_THRESHOLD, smoothing_s: float | None = None,
                 refractory_s: float | None = None, batch_size: int = 1,
                 device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32,
                 fa_per_hour: float | None = None, runtime: str = "auto") -> None:
        named = named_spotters(spotter)
        model = named[0][1] if len(named) == 1 else SpotterGroup([s for _, s in named], [n for n, _ in named])
        self.scanner = StreamingScanner(model, batch_size=batch_size, device=device, dtype=dtype, runtime=runtime)
        self.tracks = [Track(spotter, name, shares, threshold, fa_per_hour, smoothing_s, refractory_s, batch_size,
                             self.scanner.device, dtype)
                       for (name, spotter), shares in zip(named, split_thresholds(named, thresholds))]
        self.spotter = self.tracks[0].spotter
        self.hop_s = self.tracks[0].hop_s

    @property
    def batch_size(self) -> int:
        return self.scanner.batch_size

    @property
    def runtime(self) -> str:
        """``"fast"`` or ``"eager"``: what the scanner runs."""
        return self.scanner.runtime

    @property
    def sample_rate(self) -> int:
        return self.spotter.sample_rate

    def single(self) -> Track:
        """The one model's track.

        Raises:
            ValueError: The detector runs several models (their settings are in :attr:`tracks`).
        """
        if len(self.tracks) != 1:
            raise ValueError(f"this detector runs {len(self.tracks)} models; each one's settings are in .tracks")
        return self.tracks[0]

    @property
    def labels(self) -> list[str]:
        return self.single().labels

    @property
    def thresholds(self) -> dict[str, float]:
        return self.single().thresholds

    @property
    def smoother(self) -> MovingAverage:
        return self.single().smoother

    @property
    def picker(self) -> EventPicker:
        return self.single().picker

    @property
    def window_s(self) -> float:
        return self.single().window_s

    @property
    def rows(self) -> int:
        """Score rows emitted since the last full reset (of the first model, with several)."""
        return self.tracks[0].rows

    def operating_point(self) -> str:
        """What this detector runs at, one line per model: the false-alarm rate its thresholds were chosen
        for, on what material, the thresholds and the smoothing; and the runtime."""
        if len(self.tracks) == 1:
            return f"{self.tracks[0].operating_point()}; {self.runtime} runtime"
        lines = [f"{track.name}: {track.operating_point()}" for track in self.tracks]
        return "\n".join([*lines, f"{len(self.tracks)} models on one backbone, {self.runtime} runtime"])

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
        for track in self.tracks:
            track.reset(mask)

    @torch.inference_mode()
    def step(self, chunk: torch.Tensor) -> tuple[torch.Tensor | list[torch.Tensor], list[list[Event]]]:
        """Feed the next samples of every stream; return the smoothed scores and the events.

        Args:
            chunk: The same number of new samples for every stream, at ``spotter.sample_rate``.

        Returns:
            Smoothed posteriors of the windows this chunk completed (NaN where a restarted stream has not
            yet filled a window; with several models, a list of them), and one list of events per stream,
            in the order their windows ended.

        Shape:
            chunk: (B, S_chunk), or (S_chunk,) when B == 1. Output scores: (B, n_new, K) (one per model).
        """
        events: list[list[Event]] = [[] for _ in range(self.batch_size)]
        scores = []
        for track, posteriors in zip(self.tracks, self.scanner.push_all(chunk)):
            smoothed, found = track.push(posteriors, self.scanner.first_row)
            scores.append(smoothed)
            for stream, event in found:
                events[stream].append(event)
        if len(self.tracks) > 1:
            events = [sorted(found, key=lambda event: event.end_s) for found in events]
        return (scores[0] if len(scores) == 1 else scores), events

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

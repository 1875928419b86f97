"""Scores stored once: a detector's smoothed posteriors over a set of streams, to replay at any threshold.

Scoring is the expensive part of an evaluation; sweeping thresholds over stored scores is cheap
(:mod:`asr_cnn.evaluation.sweep`). Three ways to make streams: sound files scanned one by one, clips that
are each a stream of their own (scored in batches), and utterances played one after another with pauses,
spread over a batch of streams.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch.nn.utils.rnn import pad_sequence

from asr_cnn.detect.detector import Detector
from asr_cnn.detect.files import DEFAULT_BLOCK_SECONDS, read_blocks
from asr_cnn.detect.smoothing import MovingAverage
from asr_cnn.streaming.scan import num_windows

SECONDS_PER_HOUR = 3600.0

Span = tuple[int, int, int]
"""Where an utterance sits in scored streams: the stream, its first sample and its past-last sample."""

BATCH_BLOCK_SECONDS = 10.0
"""Seconds of every stream of a batch pushed per detector call: long enough to amortise a call, short
enough that a batch of long streams fits in memory."""


@dataclass(frozen=True)
class Scored:
    """Smoothed scores of a set of streams, and what replaying the detector's event picking on them needs.

    Attributes:
        scores: Smoothed posteriors, one row per scan hop from each stream's start; NaN after a stream's
            end (streams of unequal length share the tensor), and NaN never fires.
        seconds: Duration of each stream.
        labels: The keywords spoken in each stream, ``{"keyword", "start_s", "end_s"}`` each.
        classes: Class names, in score order.
        hop_s: Seconds between score rows: the event of row ``n`` covers ``[n * hop_s, n * hop_s + window_s)``.
        window_s: Seconds of audio per window.
        refractory_rows: The detector's quiet rows after an event.
        thresholds: The detector's own threshold per class, ``inf`` for classes that never fire.
        smoothing_rows: Rows the detector's moving average spanned (1: the posteriors themselves).

    Shape:
        scores: (B, N, K). thresholds: (K,).
    """

    scores: torch.Tensor
    seconds: list[float]
    labels: list[list[dict[str, Any]]]
    classes: list[str]
    hop_s: float
    window_s: float
    refractory_rows: int
    thresholds: torch.Tensor
    smoothing_rows: int

    @property
    def hours(self) -> float:
        return sum(self.seconds) / SECONDS_PER_HOUR

    @property
    def keywords(self) -> list[str]:
        """The classes that may fire, in score order."""
        return [name for name, threshold in zip(self.classes, self.thresholds.tolist()) if threshold != float("inf")]


def stored(detector: Detector, rows: list[torch.Tensor], seconds: list[float],
           labels: list[list[dict[str, Any]]]) -> Scored:
    """A :class:`Scored` set from each stream's rows (N_b, K), with ``detector``'s timing and picking."""
    scores = (pad_sequence(rows, batch_first=True, padding_value=float("nan")) if rows  # (B, N, K)
              else torch.zeros(0, 0, len(detector.labels)))
    return Scored(scores, seconds, labels, list(detector.labels), detector.hop_s, detector.window_s,
                  detector.picker.refractory_rows, detector.picker.thresholds.cpu(), detector.smoother.span)


def smoothed(scored: Scored, rows: int) -> Scored:
    """Posteriors stored without smoothing, smoothed as a detector with a ``rows``-row moving average would.

    Lets calibration try several spans on one scoring pass. Rows without a score (after a stream's end)
    stay without one.

    Raises:
        ValueError: ``scored`` was smoothed already.
    """
    if scored.smoothing_rows != 1:
        raise ValueError(f"only unsmoothed scores can be smoothed again; these were over {scored.smoothing_rows} rows")
    batch, _, classes = scored.scores.shape
    average = MovingAverage(rows, batch, classes, dtype=scored.scores.dtype).push(scored.scores)  # (B, N, K)
    return replace(scored, scores=average.masked_fill(scored.scores.isnan(), float("nan")), smoothing_rows=rows)


def stream_scores(detector: Detector, path: str | os.PathLike, block_seconds: float = DEFAULT_BLOCK_SECONDS
                  ) -> tuple[torch.Tensor, float]:
    """Smoothed posteriors of every window of one file, streamed in bounded memory.

    Returns:
        The scores and the file's duration in seconds.

    Shape:
        Output scores: (N, K).
    """
    detector.reset()
    rows, samples = [], 0
    for block in read_blocks(path, detector.spotter.sample_rate, block_seconds):
        rows.append(detector.step(block)[0][0].cpu())  # (n_new, K) of the single stream
        samples += block.shape[-1]
    return torch.cat(rows), samples / detector.spotter.sample_rate


def score_clips(detector: Detector, clips: Iterable[tuple[torch.Tensor, list[dict[str, Any]]]]) -> Scored:
    """Each clip a stream of its own, from a fresh detector state, ``detector.batch_size`` clips per call.

    A batch is padded with silence to its longest clip; a clip keeps only the rows whose window ends
    inside it, which every layer computes from that clip's samples alone (valid in time, causal), so
    the rows equal those of the clip scanned on its own. Clips of similar lengths waste less padding.

    Args:
        detector: Scores the clips; reset for every batch.
        clips: ``(waveform, labels)`` pairs: samples at the spotter's rate and the keywords spoken in
            them, in clip time. Read lazily: one batch is in memory at a time.

    Shape:
        clips: waveforms (S_b,).
    """
    rows, seconds, labels, batch = [], [], [], []
    for clip, clip_labels in clips:
        batch.append(clip)
        seconds.append(clip.shape[-1] / detector.spotter.sample_rate)
        labels.append(clip_labels)
        if len(batch) == detector.batch_size:
            rows += score_batch(detector, batch)
            batch = []
    if batch:
        rows += score_batch(detector, batch)
    return stored(detector, rows, seconds, labels)


def score_batch(detector: Detector, clips: list[torch.Tensor], block_seconds: float = BATCH_BLOCK_SECONDS
                ) -> list[torch.Tensor]:
    """Rows (N_b, K) of up to ``detector.batch_size`` clips scanned side by side from a fresh state.

    The batch is pushed ``block_seconds`` at a time (the rows do not depend on it), so long clips take
    bounded memory.
    """
    batch = torch.zeros(detector.batch_size, max(clip.shape[-1] for clip in clips))  # (B, S) idle streams silent
    for i, clip in enumerate(clips):
        batch[i, :clip.shape[-1]] = clip
    detector.reset()
    block = max(1, round(block_seconds * detector.spotter.sample_rate))
    smoothed = torch.cat([detector.step(part)[0].cpu() for part in batch.split(block, dim=1)], dim=1)  # (B, N, K)
    return [smoothed[i, :num_windows(clip.shape[-1], detector.spotter)] for i, clip in enumerate(clips)]


def spread(waves: Sequence[torch.Tensor], streams: int, pause: int) -> tuple[list[torch.Tensor], list[Span]]:
    """Utterances one after another, each followed by ``pause`` samples of silence, spread over at most
    ``streams`` streams so that they end together (the longest utterance first into the shortest stream).

    Returns:
        The streams, and each utterance's span: its stream and its first and past-last sample there.

    Shape:
        waves: each (S_i,). Output streams: each (S_b,).
    """
    parts: list[list[torch.Tensor]] = [[] for _ in range(streams)]
    ends = [0] * streams
    spans: list[Span] = [(0, 0, 0)] * len(waves)
    silence = torch.zeros(pause)
    for index in sorted(range(len(waves)), key=lambda i: -waves[i].shape[-1]):
        stream = min(range(streams), key=ends.__getitem__)
        spans[index] = (stream, ends[stream], ends[stream] + waves[index].shape[-1])
        parts[stream] += [waves[index], silence]
        ends[stream] += waves[index].shape[-1] + pause
    return [torch.cat(part) for part in parts if part], spans


def score_concatenation(detector: Detector, waves: Sequence[torch.Tensor], pause_s: float
                        ) -> tuple[Scored, list[Span]]:
    """Utterances played one after another, each followed by ``pause_s`` of silence, as unlabelled streams:
    :func:`spread` over ``detector.batch_size`` streams scored side by side (a batch of streams keeps the
    convolutions large; one stream plays them all in order, as a live detector would hear them).

    Returns:
        The scores, and each utterance's span (see :func:`spread`).

    Shape:
        waves: each (S_i,).
    """
    if not waves:
        return stored(detector, [], [], []), []
    streams, spans = spread(waves, detector.batch_size, round(pause_s * detector.spotter.sample_rate))
    return score_clips(detector, [(stream, []) for stream in streams]), spans

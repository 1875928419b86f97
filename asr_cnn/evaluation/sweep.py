"""Threshold sweeps: the detector's own event picking replayed on stored scores at many thresholds.

Streams are scored once (:mod:`asr_cnn.evaluation.scoring`); every operating point then replays
:class:`~asr_cnn.detect.picking.EventPicker`, the picker the :class:`~asr_cnn.detect.Detector` runs, so
a swept point is what a detector with that threshold would report. A sweep replays all thresholds in
one batch: a row fires at threshold ``t`` when ``score - t >= 0``, which is ``score >= t`` exactly
(float64 differences of float32 values), and subtracting the same ``t`` from every class that may
fire leaves the picker's choice of the highest score unchanged.
"""

from __future__ import annotations

import torch

from asr_cnn.detect.events import Event
from asr_cnn.detect.picking import EventPicker, Pick
from asr_cnn.evaluation.operating import OperatingPoint, operating_point, tally
from asr_cnn.evaluation.scoring import Scored

SWEEP_THRESHOLDS = torch.cat([torch.linspace(0.0, 0.99, 100, dtype=torch.float64),
                              1.0 - torch.logspace(-2.25, -4.0, 8, dtype=torch.float64)])
"""DET sweep: steps of 0.01, then finer towards 1 where trained models put their false alarms."""

PICK_BLOCK_ROWS = 1024
"""Rows picked per call: keeps each pass of the picker short on hour-long streams."""

SWEEP_BLOCK_ROWS = 128
"""Rows per sweep call: a pass of the picker costs the whole block, and a block needs one pass per event of
its busiest stream, so short blocks cost least at the low thresholds where events crowd."""

SWEEP_BLOCK_ELEMENTS = 2**22
"""Scores (thresholds x streams x rows x classes) replayed per picker call: bounds a sweep's memory."""


def to_events(scored: Scored, picks: list[Pick], streams: list[int]) -> list[Event]:
    """The events of picks, in their streams' time, with the stored (unshifted) scores.

    Args:
        scored: The scores the picks were made on.
        picks: Picks, each of stream ``streams[i]`` of ``scored``.
        streams: The stream of each pick (picks of a sweep number streams per threshold).
    """
    if not picks:
        return []
    rows = [pick.row for pick in picks]
    labels = [pick.label for pick in picks]
    scores = scored.scores[streams, rows, labels].tolist()  # one gather instead of one indexing per event
    return [Event(scored.classes[label], row * scored.hop_s, row * scored.hop_s + scored.window_s, score)
            for row, label, score in zip(rows, labels, scores)]


def events_at(scored: Scored, thresholds: torch.Tensor | None = None) -> list[list[Event]]:
    """The events a detector with per-class ``thresholds`` (default: the scored detector's own) fires per stream.

    Shape:
        thresholds: (K,), ``inf`` for classes that never fire.
    """
    thresholds = scored.thresholds if thresholds is None else thresholds
    batch, rows = scored.scores.shape[:2]
    picker = EventPicker(thresholds.to(scored.scores), scored.refractory_rows, batch_size=batch)
    events: list[list[Event]] = [[] for _ in range(batch)]
    for start in range(0, rows, PICK_BLOCK_ROWS):
        picks = picker.push(scored.scores[:, start:start + PICK_BLOCK_ROWS], start)
        for pick, event in zip(picks, to_events(scored, picks, [pick.stream for pick in picks])):
            events[pick.stream].append(event)
    return events


def sweep_events(scored: Scored, grid: torch.Tensor, keywords: list[str]) -> list[list[list[Event]]]:
    """Events per threshold and stream when ``keywords`` share each threshold of ``grid`` and no other class fires.

    Returns:
        ``events[t][b]``: the events of stream ``b`` at ``grid[t]``.

    Shape:
        grid: (T,).
    """
    batch, rows, classes = scored.scores.shape
    enabled = torch.tensor([name in keywords for name in scored.classes])  # (K,)
    scores = scored.scores.double().masked_fill(~enabled, float("nan"))  # (B, N, K) NaN never fires
    shifts = grid.float().double()  # the detector compares with float32 thresholds
    block = min(max(rows, 1), SWEEP_BLOCK_ROWS)
    pairs = max(1, SWEEP_BLOCK_ELEMENTS // (block * classes))  # (threshold, stream) pairs per call
    per_call = min(len(grid), pairs)
    streams_per_call = max(1, pairs // per_call)
    events: list[list[list[Event]]] = [[[] for _ in range(batch)] for _ in grid]
    for t0 in range(0, len(grid), per_call):
        t = shifts[t0:t0 + per_call]
        for b0 in range(0, batch, streams_per_call):
            part = scores[b0:b0 + streams_per_call]  # (b, N, K)
            picker = EventPicker(torch.zeros(classes, dtype=torch.float64), scored.refractory_rows,
                                 batch_size=len(t) * part.shape[0])
            for r0 in busy_blocks(part, float(t.min()), block):  # a block that cannot fire leaves the picker as it is
                shifted = part[None, :, r0:r0 + block] - t[:, None, None, None]  # (T_call, b, n, K)
                picks = picker.push(shifted.flatten(0, 1), r0)  # (T_call * b, n, K) threshold-major
                where = [divmod(pick.stream, part.shape[0]) for pick in picks]  # (threshold, stream) of each
                for (ti, bi), event in zip(where, to_events(scored, picks, [b0 + bi for _, bi in where])):
                    events[t0 + ti][b0 + bi].append(event)
    return events


def busy_blocks(scores: torch.Tensor, lowest: float, block: int) -> list[int]:
    """First rows of the ``block``-row blocks where some score reaches ``lowest``: the only ones that may fire.

    Shape:
        scores: (B, N, K), NaN where nothing may fire.
    """
    busy = (scores >= lowest).any(-1).any(0)  # (N,) rows where some stream may fire
    blocks = torch.nn.functional.pad(busy, (0, -busy.shape[0] % block)).view(-1, block).any(-1)  # (ceil(N / block),)
    return (blocks.nonzero().flatten() * block).tolist()


def point_at(recall: Scored, alarms: Scored | None = None, thresholds: torch.Tensor | None = None,
             threshold: float | None = None) -> OperatingPoint:
    """Operating point with per-class ``thresholds`` (default: the detector's own; reported as ``threshold``).

    Hits and misses are counted on ``recall``'s labelled streams, false alarms on ``alarms`` (default:
    the same streams, where events that hit no label are the false alarms).

    Shape:
        thresholds: (K,).
    """
    recall_counts = tally(events_at(recall, thresholds), recall.labels)
    alarms_counts = recall_counts if alarms is None else tally(events_at(alarms, thresholds), alarms.labels)
    hours = (recall if alarms is None else alarms).hours
    return operating_point(threshold, recall_counts, alarms_counts, hours, recall.keywords)


def sweep(recall: Scored, alarms: Scored | None = None, grid: torch.Tensor = SWEEP_THRESHOLDS,
          keywords: list[str] | None = None) -> list[OperatingPoint]:
    """Operating points, one per threshold of ``grid``, shared by ``keywords`` (default: all that may fire).

    Other classes do not fire. Counting as in :func:`point_at`; each point lists ``keywords`` per keyword.
    """
    keywords = recall.keywords if keywords is None else keywords
    recall_events = sweep_events(recall, grid, keywords)
    alarm_events = recall_events if alarms is None else sweep_events(alarms, grid, keywords)
    alarm_set = recall if alarms is None else alarms
    points = []
    for threshold, hits_from, alarms_from in zip(grid.tolist(), recall_events, alarm_events):
        recall_counts = tally(hits_from, recall.labels)
        alarm_counts = recall_counts if alarms is None else tally(alarms_from, alarm_set.labels)
        points.append(operating_point(threshold, recall_counts, alarm_counts, alarm_set.hours, keywords))
    return points


def keyword_sweeps(recall: Scored, alarms: Scored | None = None, grid: torch.Tensor = SWEEP_THRESHOLDS
                   ) -> dict[str, list[OperatingPoint]]:
    """Each keyword's own sweep, the other keywords silent: the operating points a per-keyword threshold can reach."""
    return {keyword: sweep(recall, alarms, grid, [keyword]) for keyword in recall.keywords}

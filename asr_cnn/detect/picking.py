"""Event picking: thresholds and a refractory period turn smoothed score rows into detections."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Pick:
    """One detection, in score rows.

    Attributes:
        stream: Index of the stream in the batch.
        row: Global score row (window index) at which it fired.
        label: Class index that fired.
        score: Its smoothed posterior there.
    """

    stream: int
    row: int
    label: int
    score: float


class EventPicker:
    """Fires a class when its smoothed score reaches its threshold, then stays quiet for a while.

    A stream fires at row ``r`` when some class has ``score >= threshold`` there and ``r`` is at least
    ``refractory_rows`` after the stream's previous detection (of any class: one spoken keyword gives one
    event, even if a second class also crosses its threshold). When several classes cross at once the one
    with the highest score fires. NaN scores never fire; a class whose threshold is ``inf`` never fires.
    Each row is judged from rows up to it only, so any chunking of the rows gives the same picks.

    Args:
        thresholds: Per-class thresholds (K,).
        refractory_rows: Rows after a detection before the stream may fire again, >= 1.
        batch_size: Independent streams B.
    """

    def __init__(self, thresholds: torch.Tensor, refractory_rows: int, batch_size: int) -> None:
        if refractory_rows < 1:
            raise ValueError(f"refractory_rows must be >= 1, got {refractory_rows}")
        self.thresholds, self.refractory_rows = thresholds, refractory_rows
        self.next_row = torch.zeros(batch_size, dtype=torch.long, device=thresholds.device)

    def reset(self, streams: torch.Tensor | None = None) -> None:
        """Lift the refractory period of some streams (boolean mask (B,)), or of all when ``None``."""
        if streams is None:
            self.next_row = torch.zeros_like(self.next_row)
        else:
            self.next_row = self.next_row.masked_fill(streams.to(self.next_row.device), 0)

    def push(self, scores: torch.Tensor, first_row: int) -> list[Pick]:
        """Pick the detections among the next rows of every stream.

        Args:
            scores: Smoothed posteriors of consecutive rows.
            first_row: Global index of ``scores``' first row.

        Returns:
            Picks ordered by row, then stream.

        Shape:
            scores: (B, n, K).
        """
        above = scores >= self.thresholds  # (B, n, K); NaN compares False
        if not bool(above.any()):  # the usual case: one cheap test per chunk
            return []
        candidate = above.any(-1)  # (B, n)
        masked = torch.where(above, scores, torch.full((), -float("inf"), dtype=scores.dtype, device=scores.device))
        best_score, best_label = masked.max(-1)  # (B, n) the class each row would fire
        rows = first_row + torch.arange(scores.shape[1], device=scores.device)  # (n,)
        picks: list[Pick] = []
        while True:  # one detection per stream per pass; passes = most detections of one stream
            ready = candidate & (rows[None, :] >= self.next_row[:, None])  # (B, n)
            streams = ready.any(-1).nonzero().flatten()
            if streams.numel() == 0:
                break
            offsets = ready[streams].int().argmax(-1)  # (n_fire,) first ready row of each firing stream
            self.next_row = self.next_row.index_put((streams,), rows[offsets] + self.refractory_rows)
            for stream, offset in zip(streams.tolist(), offsets.tolist()):
                picks.append(Pick(stream, first_row + offset, int(best_label[stream, offset]),
                                  float(best_score[stream, offset])))
        return sorted(picks, key=lambda pick: (pick.row, pick.stream))

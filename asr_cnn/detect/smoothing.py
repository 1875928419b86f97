"""Posterior smoothing: a moving average over the last few score rows, streamed exactly."""

from __future__ import annotations

import torch


class MovingAverage:
    """Mean of each class's posterior over the last ``span`` rows, per stream, for chunks of any size.

    Row ``n`` of the output averages input rows ``[n - span + 1, n]`` that are finite: rows before the
    stream's start (or its last reset) do not exist, and NaN rows (windows that began before a reset, see
    :class:`~asr_cnn.streaming.StreamingScanner`) are skipped, so the first rows average fewer values and
    a row with no finite value left stays NaN. Because the history is carried between calls, any
    chunking of the rows gives the same output.

    Args:
        span: Rows averaged, >= 1 (1 means no smoothing).
        batch_size: Independent streams B.
        n_classes: K.
        device: Where the history lives.
        dtype: Dtype of the history.
    """

    def __init__(self, span: int, batch_size: int, n_classes: int, device: torch.device | str = "cpu",
                 dtype: torch.dtype = torch.float32) -> None:
        if span < 1:
            raise ValueError(f"smoothing span must be >= 1 row, got {span}")
        self.span = span
        # NaN marks "no row here"; the last span - 1 rows are all a future row can still average.
        self.history = torch.full((batch_size, span - 1, n_classes), float("nan"), device=device, dtype=dtype)

    def reset(self, streams: torch.Tensor | None = None) -> None:
        """Forget the history of some streams (boolean mask (B,)), or of all when ``None``."""
        # Out of place: the history may be an inference tensor, which only inference mode may modify.
        if streams is None:
            self.history = torch.full_like(self.history, float("nan"))
        else:
            mask = streams.to(self.history.device)[:, None, None]  # (B, 1, 1)
            self.history = self.history.masked_fill(mask, float("nan"))

    def push(self, rows: torch.Tensor) -> torch.Tensor:
        """Smooth the next score rows of every stream.

        Shape:
            rows: (B, n, K). Output: (B, n, K).
        """
        if rows.shape[1] == 0:
            return rows.to(self.history.dtype)
        joined = torch.cat([self.history, rows.to(self.history.dtype)], dim=1)  # (B, span - 1 + n, K)
        windows = joined.unfold(1, self.span, 1)  # (B, n, K, span) the rows each output averages
        self.history = joined[:, joined.shape[1] - (self.span - 1):]  # (B, span - 1, K)
        return windows.nanmean(-1)  # the finite rows' mean; NaN where no row is present yet

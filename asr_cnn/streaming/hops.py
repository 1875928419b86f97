"""Audio in chunks of any size, stepped whole scan hops at a time through a fixed-shape step."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from asr_cnn.streaming.steady import lag_rows

Step = Callable[[torch.Tensor, bool], list[torch.Tensor]]
"""``step(hops_chunk, commit) -> rows``: n whole hops of samples (B, n * hop) in, one (B, n, K_m) per model
out, rows that later steps do not overwrite. With ``commit=False`` (one hop) the step must leave its state as it
was: it only looks ahead."""


class HopStepper:
    """Buffers samples to whole hops and returns exactly the rows a :class:`~asr_cnn.streaming.StreamingScanner`
    returns for the same pushes.

    The step starts from the zero state, so each model's first ``lag`` rows (windows that began before the
    stream) are dropped. A window that ends inside a hop (window not a multiple of the hop) is scored as
    soon as its samples are in, by a look-ahead step with zeros standing in for the rest of the hop, which
    its row does not read; the state moves on with whole hops only, and that hop's row is not returned twice.

    Args:
        step: The fixed-shape step (see :data:`Step`).
        hop: Samples per step.
        windows: Window samples of each model the step scores.
        classes: Classes K_m of each model (the width of its empty outputs).
        batch_size: Streams B.
        device: Where the pending samples live (the step's device).
        dtype: Their dtype.
    """

    def __init__(self, step: Step, hop: int, windows: Sequence[int], classes: Sequence[int], batch_size: int,
                 device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> None:
        self.step, self.hop, self.classes = step, hop, list(classes)
        self.lags = [lag_rows(window, hop) for window in windows]
        self.ready = [window % hop or hop for window in windows]  # samples into a hop that complete a window
        self.batch_size, self.device, self.dtype = batch_size, torch.device(device), dtype
        self.reset()

    def reset(self, streams: torch.Tensor | None = None) -> None:
        """Start every stream afresh (``None``), or forget the pending samples of some streams (mask (B,)).

        A partial reset keeps the shared clock: its rows keep coming for every stream.
        """
        if streams is None:
            self.empty = torch.zeros(self.batch_size, 0, device=self.device, dtype=self.dtype)  # (B, 0)
            self.pending = self.empty
            self.to_drop = list(self.lags)
            self.early = [False] * len(self.lags)  # the next hop's row was returned before the hop was whole
        else:
            self.pending = self.pending.masked_fill(streams.to(self.device)[:, None], 0.0)

    def push(self, chunk: torch.Tensor) -> list[torch.Tensor]:
        """Rows of the windows completed by the next samples, per model.

        Shape:
            chunk: (B, S_chunk). Output: one (B, n_new_m, K_m) per model.
        """
        pending = chunk if self.pending.shape[1] == 0 else torch.cat([self.pending, chunk], dim=1)  # (B, S_pending)
        rows: list[list[torch.Tensor]] = [[] for _ in self.lags]
        whole = pending.shape[1] // self.hop * self.hop
        exact = whole == pending.shape[1]  # the usual push of whole hops: no views to make (each costs a call)
        if whole:
            for m, found in enumerate(self.step(pending if exact else pending[:, :whole], True)):  # (B, n, K_m)
                skip = min(self.to_drop[m], found.shape[1])
                self.to_drop[m] -= skip
                if self.early[m] and found.shape[1] > skip:  # its first row went out before its hop was whole
                    skip, self.early[m] = skip + 1, False
                rows[m].append(found[:, skip:] if skip else found)
        self.pending = self.empty if exact else pending[:, whole:]
        ahead = [m for m in range(len(self.lags)) if not self.to_drop[m] and not self.early[m]
                 and self.pending.shape[1] >= self.ready[m]]
        if ahead:
            out = self.step(F.pad(self.pending, (0, self.hop - self.pending.shape[1])), False)  # (B, hop)
            for m in ahead:
                rows[m].append(out[m])  # (B, 1, K_m)
                self.early[m] = True
        return [found[0] if len(found) == 1 else torch.cat(found, dim=1) if found else
                torch.zeros(self.batch_size, 0, k, device=self.device, dtype=self.dtype)
                for found, k in zip(rows, self.classes)]  # (B, n_new, K): one part (the usual case) without a copy

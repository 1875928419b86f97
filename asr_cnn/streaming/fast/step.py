"""FastStep: a model's streaming over whole scan hops as preallocated, time-major kernels, several hops per run."""

from __future__ import annotations

import torch

from asr_cnn.layers.streaming import StreamingLayer
from asr_cnn.streaming.fast.build import build
from asr_cnn.streaming.fast.kernel import Kernel
from asr_cnn.streaming.fast.plan import Called, Program, runner
from asr_cnn.streaming.steady import steady_state

MOST_ROWS = 16
"""Hops times streams that one run of the kernels takes at most; longer chunks run in blocks of this size.
One run over 16 hops of one stream costs about a third as much per hop as 16 one-hop runs (the per-call
overhead is paid once); larger blocks outgrow the caches and cost more per hop again (2 cores, 1 thread)."""


class FastStepError(RuntimeError):
    """The model cannot be stepped in fixed shapes; the message says why."""


class FastStep:
    """A model's streaming step over any whole number of hops, from the steady zero state.

    Each layer becomes a kernel with its buffers allocated once (see :mod:`asr_cnn.streaming.fast`) for a
    block of hops, so a block is one product per layer, run as one list of bound ops where every kernel can be
    planned (:mod:`asr_cnn.streaming.fast.plan`). Blocks of up to :attr:`block` hops are cut from the
    chunk; the kernels of each block size are built on first use. Only the kernels that ran last hold the
    stream's carried frames: the kernels of another block size take those over before they run. Equal to the
    model's streaming to float tolerance (a matrix product sums in another order than a convolution).

    Args:
        model: A spotter, or several over one backbone (a layer whose streaming returns a list of logits).
        batch_size: Streams B.
        device: Where buffers and weights live (the model's device).
        dtype: Compute dtype.

    Attributes:
        block: Most hops per run of the kernels (``MOST_ROWS`` rows over the streams, at least one).
        eager: Names of the layers without a fast kernel, which run their own streaming inside the step.

    Raises:
        FastStepError: The model's state never settles to fixed shapes, or a hop does not yield one row.
    """

    def __init__(self, model: StreamingLayer, batch_size: int = 1, device: torch.device | str = "cpu",
                 dtype: torch.dtype = torch.float32) -> None:
        self.model, self.hop, self.block = model, model.hop_samples, max(1, MOST_ROWS // batch_size)
        try:
            self.template = steady_state(model, batch_size)
        except RuntimeError as err:
            raise FastStepError(str(err)) from err
        self.example = torch.zeros(batch_size, 0, device=device, dtype=dtype)  # (B, 0): the step's streams and dtype
        self.kernels: dict[int, Kernel] = {}
        self.runners: dict[int, Program | Called] = {}
        self.kernel(1)
        self.current = 1  # the block size whose kernels hold the stream's carried frames

    def kernel(self, hops: int) -> Kernel:
        """The kernels for blocks of ``hops`` hops, built on first use (its carried frames: zeros)."""
        if hops not in self.kernels:
            with torch.inference_mode():
                example = self.example.new_zeros(self.example.shape[0], hops * self.hop)  # (B, hops * hop)
                kernel, out, eager = build(self.model, self.template, example)
                self.runners[hops] = runner(kernel, example)
            rows = {o.shape[0] for o in (out if isinstance(out, list) else [out])}
            if rows != {hops}:
                raise FastStepError(f"{hops} hop(s) of {self.hop} samples give {sorted(rows)} rows, not "
                                    f"{hops} per model")
            self.kernels[hops], self.eager = kernel, eager
        return self.kernels[hops]

    def __call__(self, chunk: torch.Tensor, commit: bool = True) -> list[torch.Tensor]:
        """Logits of the windows each model completes with these hops; the state moves on only when ``commit``.

        Args:
            chunk: Whole hops of samples; at most :attr:`block` hops when not ``commit`` (a look-ahead).

        Shape:
            chunk: (B, n * hop). Output: one (B, n, K_m) per model.

        Raises:
            ValueError: A chunk of no whole number of hops, or a look-ahead longer than one block.
        """
        hops, rest = divmod(chunk.shape[1], self.hop)
        if rest or not hops or (not commit and hops > self.block):
            raise ValueError(f"a step takes whole hops of {self.hop} samples (at most {self.block} to look ahead), "
                             f"got {chunk.shape[1]} samples")
        if hops <= self.block:  # one block (a microphone's hop): the chunk as it is
            return self.run(hops, chunk, commit)
        parts = [self.run(min(self.block, hops - start), chunk[:, start * self.hop:(start + self.block) * self.hop],
                          commit) for start in range(0, hops, self.block)]
        return [torch.cat(found, dim=1) for found in zip(*parts)]

    def run(self, hops: int, block: torch.Tensor, commit: bool) -> list[torch.Tensor]:
        """One block through the kernels of its size, which take over the carried frames first when others hold them.

        Shape:
            block: (B, hops * hop). Output: one (B, hops, K_m) per model.
        """
        if hops != self.current:
            self.kernel(hops).load(self.kernels[self.current])
            self.current = hops
        return self.runners[hops](block, commit)

    def reset(self, streams: torch.Tensor | None = None) -> None:
        """Zero the state of some streams (boolean mask (B,)), or of all when ``None``."""
        self.kernels[self.current].reset(streams)

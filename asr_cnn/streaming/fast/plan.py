"""Running a step's kernels: as one fixed list of bound ops (planned), or called layer by layer where a kernel
cannot be planned."""

from __future__ import annotations

import torch

from asr_cnn.streaming.fast.kernel import Kernel, Unplanned


class Called:
    """A step that calls its kernels (a layer without a plan inside: its output is a new tensor every step).

    Args:
        kernel: The step's kernels.
    """

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def __call__(self, chunk: torch.Tensor, commit: bool) -> list[torch.Tensor]:
        """One row per hop and model; the state moves on only when ``commit``.

        Shape:
            chunk: (B, n * hop). Output: one (B, n, K_m) per model.
        """
        out = self.kernel(chunk, commit)  # (n, B, K) per model
        return [rows.transpose(0, 1).clone() for rows in (out if isinstance(out, list) else [out])]  # buffers reused


class Program:
    """A step's kernels as one fixed list of bound ops: no Python call per layer.

    Every op reads and writes preallocated tensors, so a step is the chunk copied into the first kernel's inbox,
    the ops in order, its rows copied out, and, when committed, the ops that move the carried frames on.

    Args:
        kernel: The step's kernels.
        example: One step's samples, (B, n * hop).

    Raises:
        Unplanned: A kernel inside cannot be planned.
    """

    def __init__(self, kernel: Kernel, example: torch.Tensor) -> None:
        inlet = kernel.inlet()
        self.input = torch.empty_like(example) if inlet is None else inlet  # (B, n * hop)
        self.ops, out = kernel.plan(self.input, None)
        self.outputs = [rows.transpose(0, 1) for rows in (out if isinstance(out, list) else [out])]  # (B, n, K)
        self.moves = kernel.moves()

    def __call__(self, chunk: torch.Tensor, commit: bool) -> list[torch.Tensor]:
        """One row per hop and model; the state moves on only when ``commit``.

        Shape:
            chunk: (B, n * hop). Output: one (B, n, K_m) per model.
        """
        self.input.copy_(chunk)
        for op in self.ops:
            op()
        rows = [out.clone() for out in self.outputs]  # the buffers are reused
        if commit:
            for op in self.moves:
                op()
        return rows


def runner(kernel: Kernel, example: torch.Tensor) -> Program | Called:
    """The kernel's :class:`Program`, or where a kernel inside cannot be planned, the kernel :class:`Called`."""
    try:
        return Program(kernel, example)
    except Unplanned:
        return Called(kernel)

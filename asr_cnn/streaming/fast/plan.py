"""Running a step's kernels: as fixed lists of bound ops (planned), or called layer by layer where a kernel cannot
be planned."""

from __future__ import annotations

import torch

from asr_cnn.streaming.fast.kernel import Kernel, Unplanned


class Called:
    """A step that calls its kernels (a layer without a plan inside: its output is a new tensor every step).

    Args:
        kernel: The step's kernels, from the steady zero state.
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

    def settle(self) -> None:
        """Nothing to move: called kernels keep their carried frames at the front."""


class Program:
    """A step's kernels as fixed lists of bound ops, one per phase of their ring buffers: no Python call per layer.

    A step at phase ``p`` reads the ``p``-th window of every ring buffer (see
    :class:`~asr_cnn.streaming.fast.kernel.Carry`); each committed step moves on a phase, and after the last one
    the carried frames move to the front. Every op writes a preallocated tensor, so a step is the chunk copied
    into the first kernel's inbox, the ops in order, and its rows copied out.

    Args:
        kernel: The step's kernels, from the steady zero state, built with ``phases`` ring buffer steps.
        example: One step's samples, (B, n * hop).
        phases: Steps in the ring buffers.

    Raises:
        Unplanned: A kernel inside cannot be planned.
    """

    def __init__(self, kernel: Kernel, example: torch.Tensor, phases: int) -> None:
        self.kernel, self.phase, self.inputs, self.steps, self.outputs = kernel, 0, [], [], []
        entry = torch.empty_like(example)  # (B, n * hop): where the samples go when the first kernel has no inbox
        for phase in range(phases):
            x = kernel.inlet(phase)
            ops, out = kernel.plan(entry if x is None else x, phase, None)
            self.inputs.append(entry if x is None else x)
            self.steps.append(ops)
            self.outputs.append([rows.transpose(0, 1) for rows in (out if isinstance(out, list) else [out])])
        self.settles = [kernel.settle(phase) for phase in range(phases + 1)]

    def __call__(self, chunk: torch.Tensor, commit: bool) -> list[torch.Tensor]:
        """One row per hop and model; the state moves on only when ``commit``.

        Shape:
            chunk: (B, n * hop). Output: one (B, n, K_m) per model.
        """
        phase = self.phase
        self.inputs[phase].copy_(chunk)
        for op in self.steps[phase]:
            op()
        rows = [out.clone() for out in self.outputs[phase]]  # (B, n, K): the buffers are reused
        if commit:
            self.phase += 1
            if self.phase == len(self.steps):
                self.settle()
        return rows

    def settle(self) -> None:
        """Move the carried frames the next step reads to the front of the ring buffers (phase 0), as called
        kernels keep them: after the last phase, and before the kernels of another block size take them over."""
        for op in self.settles[self.phase]:
            op()
        self.phase = 0


def runner(kernel: Kernel, example: torch.Tensor, phases: int) -> Program | Called:
    """The kernel's :class:`Program`, or where a kernel inside cannot be planned, the kernel :class:`Called`."""
    try:
        return Program(kernel, example, phases)
    except Unplanned:
        return Called(kernel)

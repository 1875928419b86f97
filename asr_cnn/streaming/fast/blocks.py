"""Kernels that compose others (chains, branches, residual blocks) and the fallback to a layer's own streaming."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import torch
from torch import nn

from asr_cnn.layers.streaming import State, StreamingLayer, reset_streams
from asr_cnn.streaming.fast.kernel import Carry, Kernel, Op, Planned, to_native, to_time_major


class Chain(Kernel):
    """Kernels applied in order (a :class:`~asr_cnn.layers.StreamingSequential`, flattened).

    Args:
        kernels: In order.
    """

    def __init__(self, kernels: Sequence[Kernel]) -> None:
        self.kernels = list(kernels)

    def __call__(self, x: torch.Tensor, commit: bool) -> torch.Tensor:
        """Every kernel in turn.

        Shape:
            x: the first kernel's input. Output: the last kernel's output.
        """
        for kernel in self.kernels:
            x = kernel(x, commit)
        return x

    def plan(self, x: torch.Tensor, into: torch.Tensor | None) -> Planned:
        ops: list[Op] = []
        for k, kernel in enumerate(self.kernels):
            found, x = kernel.plan(x, self.kernels[k + 1].inlet() if k + 1 < len(self.kernels) else into)
            ops += found
        return ops, x

    def inlet(self) -> torch.Tensor | None:
        return self.kernels[0].inlet()

    def moves(self) -> list[Op]:
        return [op for kernel in self.kernels for op in kernel.moves()]

    def reset(self, streams: torch.Tensor | None) -> None:
        for kernel in self.kernels:
            kernel.reset(streams)

    def load(self, other: Chain) -> None:
        for kernel, source in zip(self.kernels, other.kernels):
            kernel.load(source)


class Fork(Kernel):
    """Several kernels reading the same input; their outputs as a list, or combined.

    Args:
        members: One kernel per branch (none may change its input in place).
        combine: Maps the list of outputs to one output; ``None`` returns the list.
    """

    def __init__(self, members: Sequence[Kernel],
                 combine: Callable[[list[torch.Tensor]], torch.Tensor] | None = None) -> None:
        self.members, self.combine = list(members), combine

    def __call__(self, x: torch.Tensor, commit: bool) -> torch.Tensor | list[torch.Tensor]:
        """Every member on ``x``.

        Shape:
            x: (T_in, B, ..., C). Output: one (T_out_m, B, ..., C_m) per member, or their combination.
        """
        outputs = [member(x, commit) for member in self.members]
        return outputs if self.combine is None else self.combine(outputs)

    def plan(self, x: torch.Tensor, into: torch.Tensor | None) -> Planned:
        ops: list[Op] = []
        outputs = []
        for member in self.members:
            found, y = member.plan(x, None)
            ops += found
            outputs.append(y)
        if self.combine is None:
            return ops, outputs
        out = self.combine(outputs)  # (T, B, K): its buffer
        return [*ops, lambda: out.copy_(self.combine(outputs))], out

    def moves(self) -> list[Op]:
        return [op for member in self.members for op in member.moves()]

    def reset(self, streams: torch.Tensor | None) -> None:
        for member in self.members:
            member.reset(streams)

    def load(self, other: Fork) -> None:
        for member, source in zip(self.members, other.members):
            member.load(source)


class ResidualBlock(Kernel):
    """:class:`~asr_cnn.layers.Residual`: the body's kernels plus the identity frames, right-aligned.

    Args:
        body: The body's kernel.
        shortcut: The shortcut's kernel, ``None`` for the identity.
        context: The body's context (input frames before the one each output adds).
        stride: The body's time stride.
        carry: Frames of the delay line kept between hops.
        example: One step's input, (T_in, B, ..., C).
        frames: Output frames per step.
    """

    def __init__(self, body: Kernel, shortcut: Kernel | None, context: int, stride: int, carry: int,
                 example: torch.Tensor, frames: int) -> None:
        self.body, self.shortcut = body, shortcut
        self.delay = Carry(carry, example)
        self.index = slice(context, context + (frames - 1) * stride + 1, stride)

    def identity(self, x: torch.Tensor) -> torch.Tensor:
        """The input frame each output adds: the last one its body read.

        Shape:
            x: (T_in, B, ..., C). Output: (T_out, B, ..., C), a view of the delay line.
        """
        return self.delay.write(x)[self.index]

    def __call__(self, x: torch.Tensor, commit: bool) -> torch.Tensor:
        """The body's output plus the (shortcut's) identity frames.

        Shape:
            x: (T_in, B, ..., C). Output: (T_out, B, ..., C').
        """
        identity = self.identity(x)
        y = self.body(x, commit)
        if self.shortcut is not None:
            identity = self.shortcut(identity, commit)
        y = y + identity  # before the delay line moves: ``identity`` may be a view of it
        if commit:
            self.delay.advance()
        return y

    def plan(self, x: torch.Tensor, into: torch.Tensor | None) -> Planned:
        ops, frames = self.delay.receive(x)
        identity = frames[self.index]  # (T_out, B, ..., C)
        found, y = self.body.plan(x, None)
        ops += found
        if self.shortcut is not None:
            found, identity = self.shortcut.plan(identity, None)
            ops += found
        out = into if into is not None and into.shape == y.shape else torch.empty_like(y)
        return [*ops, partial(torch.add, y, identity, out=out)], out

    def moves(self) -> list[Op]:
        shortcut = [] if self.shortcut is None else self.shortcut.moves()
        return [*self.body.moves(), *self.delay.moves(), *shortcut]

    def reset(self, streams: torch.Tensor | None) -> None:
        self.body.reset(streams)
        self.delay.reset(streams)
        if self.shortcut is not None:
            self.shortcut.reset(streams)

    def load(self, other: ResidualBlock) -> None:
        self.body.load(other.body)
        self.delay.load(other.delay)
        if self.shortcut is not None:
            self.shortcut.load(other.shortcut)


class Function(Kernel):
    """A frame-wise function without state (a reshape, a pooling over frequency).

    Args:
        function: Maps one step's frames to its output.
        fresh: Its output is a new tensor (not a view of its input).
    """

    def __init__(self, function: Callable[[torch.Tensor], torch.Tensor], fresh: bool) -> None:
        self.function, self.fresh = function, fresh

    def __call__(self, x: torch.Tensor, commit: bool) -> torch.Tensor:
        """``function(x)``.

        Shape:
            x: one step's frames. Output: as ``function`` maps them.
        """
        return self.function(x)

    def plan(self, x: torch.Tensor, into: torch.Tensor | None) -> Planned:
        y = self.function(x)
        if y.untyped_storage().data_ptr() == x.untyped_storage().data_ptr():  # a view of x: nothing to run
            return [], y
        return [lambda: y.copy_(self.function(x))], y


class EagerLayer(Kernel):
    """The fallback for a layer without a fast kernel: its own ``streaming_forward`` (or, for a frame-wise
    torch module, its ``forward``) in its own layout, from the steady zero state.

    Args:
        layer: The layer.
        state: Its steady-state zeros (``{}`` for a frame-wise module).
        like: A tensor of the step's device and dtype.
    """

    fresh = False  # the layer may hand back (a view of) its input

    def __init__(self, layer: nn.Module, state: State, like: torch.Tensor) -> None:
        self.layer, self.zero = layer, cast_state(state, like)
        self.state = self.zero

    def __call__(self, x: torch.Tensor, commit: bool) -> torch.Tensor:
        """The layer's own streaming (or forward) in its own layout.

        Shape:
            x: (B, S) samples, (T, B, C) or (T, B, F, C). Output: the layer's output, time-major.
        """
        native = x if x.dim() == 2 else to_native(x)  # samples are (B, S) in both layouts
        if not isinstance(self.layer, StreamingLayer):
            return to_time_major(self.layer(native))
        y, state = self.layer.streaming_forward(native, self.state)
        if commit:
            self.state = state
        return to_time_major(y)

    def reset(self, streams: torch.Tensor | None) -> None:
        self.state = self.zero if streams is None else reset_streams(self.state, streams)

    def load(self, other: EagerLayer) -> None:
        self.state = other.state  # never changed in place: a step makes a new state


def cast_state(state: State, like: torch.Tensor) -> State:
    """The same nesting with every tensor on ``like``'s device and dtype."""
    return {key: cast_state(value, like) if isinstance(value, dict) else value.to(like) for key, value in state.items()}

"""What every fast kernel shares: the time-major layout, the carried frames, elementwise steps.

A kernel is one layer's work for one step (a fixed number of scan hops), in fixed shapes. Maps are
*time-major*: (T, B, C) for 1-D maps and (T, B, F, C) for 2-D ones, so that a step's new frames are one
contiguous block, a layer's carried frames are a prefix of one preallocated buffer, and a convolution's
taps are slices of it that a single matrix product reads (channels last, as BLAS wants them).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch import nn

from asr_cnn.layers.activation import FlooredLeakyReLU


def to_native(x: torch.Tensor) -> torch.Tensor:
    """Time-major to the layers' own layout (a view).

    Shape:
        x: (T, B, C) or (T, B, F, C). Output: (B, C, T) or (B, C, F, T).
    """
    return x.permute(1, 2, 0) if x.dim() == 3 else x.permute(1, 3, 2, 0)  # time last, channels second


def to_time_major(y: torch.Tensor) -> torch.Tensor:
    """The layers' own layout to time-major (a view).

    Shape:
        y: (B, C, T) or (B, C, F, T). Output: (T, B, C) or (T, B, F, C).
    """
    return y.permute(2, 0, 1) if y.dim() == 3 else y.permute(3, 0, 2, 1)  # time first, channels last


def stream_mask(streams: torch.Tensor, like: torch.Tensor, batch_axis: int) -> torch.Tensor:
    """A boolean stream mask (B,) shaped to broadcast over ``like`` along its batch axis."""
    shape = [1] * like.dim()
    shape[batch_axis] = -1
    return streams.to(like.device).view(shape)


Op = Callable[[], object]
"""One fixed piece of a step's work: a torch call bound to preallocated tensors (a :func:`functools.partial`)."""

Planned = tuple[list[Op], "torch.Tensor | list[torch.Tensor]"]
"""A step's ops in order, and the tensor (one per model) they leave its output in."""


class Unplanned(Exception):
    """A kernel whose work is no fixed list of ops (its output is a new tensor every step); names the kernel."""


class Kernel:
    """One layer's work over one step's frames; subclasses that carry frames override :meth:`reset`.

    A kernel runs either called (:meth:`__call__`, whatever its input) or planned (:meth:`plan`: the step's work
    on one fixed input tensor as bound ops, which a step runs without a Python call per layer).

    Attributes:
        fresh: The output is the kernel's own tensor, which the next kernel may overwrite in place.
    """

    fresh = True

    def __call__(self, x: torch.Tensor, commit: bool) -> torch.Tensor:
        """The layer's new output frames; its carried frames move on only when ``commit``.

        Shape:
            x: (T_in, B, ..., C). Output: (T_out, B, ..., C').
        """
        raise NotImplementedError

    def plan(self, x: torch.Tensor, into: torch.Tensor | None) -> Planned:
        """The step's work on ``x`` as bound ops.

        Args:
            x: The step's input, the same tensor at every step.
            into: Where the next kernel would like the output (its inbox), or ``None``; it may be ignored.

        Shape:
            x: (T_in, B, ..., C). Output: (T_out, B, ..., C').

        Raises:
            Unplanned: The kernel runs only called.
        """
        raise Unplanned(type(self).__name__)

    def inlet(self) -> torch.Tensor | None:
        """Where the kernel would like its input (its inbox), ``None`` when anywhere will do."""
        return None

    def moves(self) -> list[Op]:
        """Ops that move the carried frames on after a committed planned step."""
        return []

    def reset(self, streams: torch.Tensor | None) -> None:
        """Zero the carried frames of some streams (boolean mask (B,)), or of all when ``None``."""

    def load(self, other: Kernel) -> None:
        """Take over ``other``'s carried frames: ``other`` is this layer's kernel built for another hop count."""


class Carry:
    """The frames a layer keeps between hops, at the front of one preallocated buffer.

    The buffer holds ``length`` carried frames, then the ``T_in`` new frames of the hop (written inside
    ``pad`` zeros of frequency padding, which never change): :attr:`inbox`, which the kernel before may
    use as its output buffer, saving the copy. After a committed step the last ``length`` frames move to
    the front. With nothing to carry or pad there is no buffer: the input is used as is.

    Args:
        length: Frames carried between hops (the layer's steady buffer length).
        example: One step's input, (T_in, B, ...).
        pad: Zeros below and above the frequency axis (axis 2) of 2-D maps.
    """

    def __init__(self, length: int, example: torch.Tensor, pad: tuple[int, int] = (0, 0)) -> None:
        self.length, self.frames_in = length, example.shape[0]
        self.buffer = None
        if length or any(pad):
            shape = [length + self.frames_in, *example.shape[1:]]
            if any(pad):
                shape[2] += sum(pad)
            self.buffer = example.new_zeros(shape)
            inside = (slice(pad[0], pad[0] + example.shape[2]),) if any(pad) else ()
            self.inbox = self.buffer[(slice(length, None), slice(None), *inside)]
            self.front, self.kept = self.buffer[:length], self.buffer[self.frames_in:]
        self.advancing = self.moves()

    def receive(self, x: torch.Tensor) -> tuple[list[Op], torch.Tensor]:
        """The op that puts the hop's frames ``x`` after the carried ones (none when the kernel before wrote
        them there), and the buffer (or ``x`` itself when there is none)."""
        if self.buffer is None:
            return [], x
        return ([] if x is self.inbox else [partial(self.inbox.copy_, x)]), self.buffer

    def write(self, x: torch.Tensor) -> torch.Tensor:
        """Put the hop's frames after the carried ones; the buffer (or ``x`` itself when there is none)."""
        if self.buffer is None:
            return x
        if x is not self.inbox:  # the kernel before wrote them there already
            self.inbox.copy_(x)
        return self.buffer

    def moves(self) -> list[Op]:
        """The op that keeps the last ``length`` frames for the next hop (none when nothing is carried)."""
        return moving(self.front, self.kept, self.length > self.frames_in) if self.length else []

    def advance(self) -> None:
        """Keep the last ``length`` frames for the next hop."""
        for op in self.advancing:
            op()

    def load(self, other: Carry) -> None:
        """Take over the carried frames of ``other`` (the same layer's, for another number of new frames)."""
        if self.length:
            self.front.copy_(other.front)

    def reset(self, streams: torch.Tensor | None) -> None:
        """Zero the buffer of some streams (mask (B,)), or all of it."""
        if self.buffer is None:
            return
        if streams is None:
            self.buffer.zero_()
        else:
            self.buffer.masked_fill_(stream_mask(streams, self.buffer, 1), 0.0)


def moving(front: torch.Tensor, kept: torch.Tensor, overlapping: bool) -> list[Op]:
    """The op that copies the frames (or samples) ``kept`` to the ``front`` of their buffer (from a copy where
    the two overlap)."""
    return [lambda: front.copy_(kept.clone())] if overlapping else [partial(front.copy_, kept)]


class Elementwise(Kernel):
    """An activation (or any frame-wise, channel-blind module), in place when the input is the previous
    kernel's own output and the activation has an in-place form.

    ReLU, LeakyReLU and FlooredLeakyReLU are a leaky ReLU (``slope``), a clamp from below (``floor``), or
    the one then the other; ATen's own ReLU is such a clamp at 0.

    Args:
        module: ReLU, LeakyReLU, FlooredLeakyReLU (in place), or any elementwise module (called as is).
        in_place: The input belongs to this chain (a kernel's output buffer), so it may be overwritten.
    """

    def __init__(self, module: nn.Module, in_place: bool) -> None:
        self.module, self.known = module, isinstance(module, (nn.ReLU, nn.LeakyReLU, FlooredLeakyReLU))
        self.slope = module.negative_slope if isinstance(module, (nn.LeakyReLU, FlooredLeakyReLU)) else None
        self.floor = 0.0 if isinstance(module, nn.ReLU) else getattr(module, "floor", None)
        self.in_place = in_place and self.known

    def __call__(self, x: torch.Tensor, commit: bool) -> torch.Tensor:
        """The activation of every number.

        Shape:
            x: (T, B, ..., C). Output: the same.
        """
        if not self.in_place:
            return self.module(x)
        for op in self.ops(x, x):
            op()
        return x

    def ops(self, x: torch.Tensor, out: torch.Tensor) -> list[Op]:
        """Ops that write the activation of ``x``, which they may overwrite, into ``out`` (``x`` itself: in place).

        Shape:
            x: (T, B, ..., C). out: the same, any strides.
        """
        if not self.known:
            return [lambda: out.copy_(self.module(x))]
        ops: list[Op] = []
        if self.slope is not None:  # into ``out`` only when no clamp follows
            ops.append(partial(torch._C._nn.leaky_relu_, x, self.slope) if out is x or self.floor is not None else
                       partial(torch._C._nn.leaky_relu, x, self.slope, out=out))
        if self.floor is not None:
            in_place = partial(torch.relu_, x) if self.floor == 0.0 else partial(torch.clamp_min_, x, self.floor)
            ops.append(in_place if out is x else partial(torch.clamp_min, x, self.floor, out=out))
        return ops

    def without_floor(self) -> Elementwise | None:
        """The activation without its clamp from below (``None`` when nothing is left): where the next product
        reads its frames through a clamp of its own."""
        if self.slope is None:
            return None
        rest = Elementwise(self.module, self.in_place)
        rest.floor = None
        return rest

    def plan(self, x: torch.Tensor, into: torch.Tensor | None) -> Planned:
        if self.in_place:
            return self.ops(x, x), x
        out = torch.empty_like(x, memory_format=torch.contiguous_format)
        return [partial(out.copy_, x), *self.ops(out, out)], out


class Affine(Kernel):
    """A batch norm in evaluation mode, ``x * scale + shift`` over the channels (last axis).

    Args:
        scale: (C,).
        shift: (C,).
    """

    def __init__(self, scale: torch.Tensor, shift: torch.Tensor) -> None:
        self.scale, self.shift = scale, shift

    def __call__(self, x: torch.Tensor, commit: bool) -> torch.Tensor:
        """``x * scale + shift``.

        Shape:
            x: (T, B, ..., C). Output: the same.
        """
        return torch.addcmul(self.shift, x, self.scale)

    def plan(self, x: torch.Tensor, into: torch.Tensor | None) -> Planned:
        out = into if into is not None and into.shape == x.shape else torch.empty_like(x)
        return [partial(torch.addcmul, self.shift, x, self.scale, out=out)], out


def batch_norm_affine(norm: nn.modules.batchnorm._BatchNorm, like: torch.Tensor) -> Affine:
    """The affine map of an evaluation-mode batch norm, as ``like``'s device and dtype."""
    scale = torch.rsqrt(norm.running_var.double() + norm.eps)
    if norm.affine:
        scale = scale * norm.weight.double()
    shift = -norm.running_mean.double() * scale + (norm.bias.double() if norm.affine else 0.0)
    return Affine(scale.to(like), shift.to(like))

"""What every fast kernel shares: the time-major layout, the carried frames, elementwise steps.

A kernel is one layer's work for one step (a fixed number of scan hops), in fixed shapes. Maps are
*time-major*: (T, B, C) for 1-D maps and (T, B, F, C) for 2-D ones, so that a step's new frames are one
contiguous block, a layer's carried frames are a prefix of one preallocated buffer, and a convolution's
taps are slices of it that a single matrix product reads (channels last, as BLAS wants them).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
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


class Kernel:
    """One layer's work over one step's frames; subclasses that carry frames override :meth:`reset`.

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

    def write(self, x: torch.Tensor) -> torch.Tensor:
        """Put the hop's frames after the carried ones; the buffer (or ``x`` itself when there is none)."""
        if self.buffer is None:
            return x
        if x is not self.inbox:  # the kernel before wrote them there already
            self.inbox.copy_(x)
        return self.buffer

    def advance(self) -> None:
        """Keep the last ``length`` frames for the next hop."""
        if self.length:
            self.front.copy_(self.kept if self.length <= self.frames_in else self.kept.clone())  # no overlap

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


class Elementwise(Kernel):
    """An activation (or any frame-wise, channel-blind module), in place when the input is the previous
    kernel's own output.

    Args:
        module: ReLU, LeakyReLU, FlooredLeakyReLU, or any elementwise module (called as is).
        in_place: The input belongs to this chain (a kernel's output buffer), so it may be overwritten.
    """

    def __init__(self, module: nn.Module, in_place: bool) -> None:
        self.module, self.in_place = module, in_place
        if isinstance(module, nn.ReLU):
            self.apply = F.relu_ if in_place else F.relu
        elif isinstance(module, (nn.LeakyReLU, FlooredLeakyReLU)):
            leaky = F.leaky_relu_ if in_place else F.leaky_relu
            floor = module.floor if isinstance(module, FlooredLeakyReLU) else None
            self.apply = lambda x: leaky(x, module.negative_slope) if floor is None else (
                leaky(x, module.negative_slope).clamp_min_(floor))
        else:
            self.apply = module

    def __call__(self, x: torch.Tensor, commit: bool) -> torch.Tensor:
        """The activation of every number.

        Shape:
            x: (T, B, ..., C). Output: the same.
        """
        return self.apply(x)


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


def batch_norm_affine(norm: nn.modules.batchnorm._BatchNorm, like: torch.Tensor) -> Affine:
    """The affine map of an evaluation-mode batch norm, as ``like``'s device and dtype."""
    scale = torch.rsqrt(norm.running_var.double() + norm.eps)
    if norm.affine:
        scale = scale * norm.weight.double()
    shift = -norm.running_mean.double() * scale + (norm.bias.double() if norm.affine else 0.0)
    return Affine(scale.to(like), shift.to(like))

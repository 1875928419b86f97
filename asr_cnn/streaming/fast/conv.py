"""Convolutions and pooling over a step's frames: a convolution's taps side by side and one matrix product,
a pooling block position by position."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from functools import partial

from asr_cnn.streaming.fast.kernel import Affine, Carry, Elementwise, Kernel, Op, Planned


Grid = tuple[int, int, int, int]
"""Taps on a regular grid: ``(kT, dT, kF, dF)``, kT taps dT frames apart by kF taps dF bins apart."""


def span(offset: int, count: int, stride: int) -> slice:
    """``count`` indices ``stride`` apart from ``offset``."""
    return slice(offset, offset + (count - 1) * stride + 1, stride)


def grid_view(frames: torch.Tensor, out: tuple[int, ...], strides: tuple[int, int], grid: Grid) -> torch.Tensor:
    """Every output's taps as one strided view of ``frames`` (no copy), tap-major, channels last.

    Shape:
        frames: (T, B, C) or (T, B, F, C). Output: (T_out, B, kT, C) or (T_out, B, F_out, kT, kF, C),
        ``out`` giving (T_out, B) or (T_out, B, F_out).
    """
    (k_t, d_t, k_f, d_f), step = grid, frames.stride()
    if frames.dim() == 3:
        size, stride = (*out, k_t, frames.shape[-1]), (strides[0] * step[0], step[1], d_t * step[0], step[2])
    else:
        size = (*out, k_t, k_f, frames.shape[-1])
        stride = (strides[0] * step[0], step[1], strides[1] * step[2], d_t * step[0], d_f * step[2], step[3])
    return frames.as_strided(size, stride, frames.storage_offset())


class Producer(Kernel):
    """A kernel that writes its output into a preallocated tensor (its own, or the next kernel's inbox), runs
    the activations that follow it in place there, and carries frames between hops.

    Attributes:
        carry: Its :class:`~asr_cnn.streaming.fast.kernel.Carry`.
        own: Its own output buffer, (T_out, B, ..., C).
        out: Where its output goes when called: :attr:`own`, or the next kernel's inbox.
        epilogue: Activations of the output, in place.
        source: The frames that the views of the last call were made of.
    """

    carry: Carry
    own: torch.Tensor
    out: torch.Tensor
    epilogue: list[Elementwise]
    source: torch.Tensor | None

    def deliver_to(self, out: torch.Tensor) -> None:
        """Write the output into ``out`` (the output's shape), e.g. the next kernel's inbox."""
        self.out, self.source = out, None  # the views are made again

    def finish(self, commit: bool) -> torch.Tensor:
        """Activate the output written, move the carried frames on when ``commit``; the output."""
        for activation in self.epilogue:
            activation(self.out, commit)
        if commit:
            self.carry.advance()
        return self.out

    def activate(self, out: torch.Tensor, into: torch.Tensor | None) -> Planned:
        """Ops of the epilogue on the output written to ``out``; the last one writes into ``into`` (any strides,
        the output's shape) when there is one, which saves the next kernel a copy there."""
        if not self.epilogue or into is None or into.shape != out.shape:
            into = out
        ops: list[Op] = []
        for k, activation in enumerate(self.epilogue):
            ops += activation.ops(out, into if k == len(self.epilogue) - 1 else out)
        return ops, into

    def inlet(self) -> torch.Tensor | None:
        return None if self.carry.buffer is None else self.carry.inbox

    def moves(self) -> list[Op]:
        return self.carry.moves()

    def reset(self, streams: torch.Tensor | None) -> None:
        self.carry.reset(streams)

    def load(self, other: Producer) -> None:
        self.carry.load(other.carry)


class TapConv(Producer):
    """A convolution valid in time (frequency padded or not) as a product of the taps' frames with the weight.

    The frames every tap reads are copied side by side along the channels (im2col: one strided copy into a
    preallocated buffer when the taps lie on a grid), next to a column of ones, so that the whole layer,
    bias included, is one ``mm`` with the weight (taps x C_in + 1, C_out) into a preallocated output: for
    the few frames of a hop this is several times cheaper than a convolution call. A depthwise weight
    (taps, C) multiplies each channel by its own taps instead. Where :attr:`floor` is set, the taps' frames
    are clamped from below on their way into the buffer: the clamp of the activation before (see
    :func:`~asr_cnn.streaming.fast.build.defer_floors`), in the op that copies them anyway.

    Args:
        weight: (taps * C_in, C_out), tap-major; or (taps, C) with ``depthwise``.
        bias: (C_out,) or ``None``.
        taps: ``(dt, df)`` of each tap, in input frames (and bins) from the first one an output reads.
        strides: ``(sT, sF)``.
        carry: Frames kept between hops.
        example: One step's input, (T_in, B, C_in) or (T_in, B, F, C_in).
        pad: Zeros below and above frequency (2-D maps).
        depthwise: ``weight`` is per channel.
        grid: The taps as ``(kT, dT, kF, dF)`` when they lie on that grid (in that order), else ``None``.
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, taps: Sequence[tuple[int, int]],
                 strides: tuple[int, int], carry: int, example: torch.Tensor, pad: tuple[int, int] = (0, 0),
                 depthwise: bool = False, grid: Grid | None = None) -> None:
        self.weight, self.bias, self.depthwise, self.pad = weight.to(example).contiguous(), None, depthwise, pad
        if bias is not None:
            self.bias = bias.to(example)
        self.carry, self.taps, self.strides, self.grid = Carry(carry, example, pad), list(taps), strides, grid
        frames = (carry + example.shape[0] - max(dt for dt, _ in taps) - 1) // strides[0] + 1
        self.positions: tuple[int, ...] = (frames, example.shape[1])
        if example.dim() == 4:
            self.positions += ((example.shape[2] + sum(pad) - max(df for _, df in taps) - 1) // strides[1] + 1,)
        self.rows, channels = math.prod(self.positions), example.shape[-1]
        width = len(taps) * channels
        self.cols = example.new_ones(self.rows, width + (not depthwise))  # (M, taps * C_in [+ 1 of ones])
        if grid is None:  # one slot per tap, filled tap by tap
            tap_shape, tap_step = (len(taps),), (channels,)
        elif example.dim() == 3:
            tap_shape, tap_step = (grid[0],), (channels,)
        else:
            tap_shape, tap_step = (grid[0], grid[2]), (grid[2] * channels, channels)
        step = [self.cols.shape[1]]  # row strides of the positions, last position first
        for size in reversed(self.positions[1:]):
            step.insert(0, step[0] * size)
        # The columns before the ones, as (positions..., taps..., C_in): where the taps' frames go.
        self.patches = self.cols.as_strided((*self.positions, *tap_shape, channels), (*step, *tap_step, 1))
        self.own = example.new_empty(*self.positions, weight.shape[-1])  # (T_out, B, [F_out,] C_out)
        self.deliver_to(self.own)  # and no frames read yet (the views below are made once per source)
        self.direct = len(taps) == 1 and taps[0] == (0, 0) and strides == (1, 1) and not any(pad) and not carry
        self.epilogue = []
        self.floor: float | None = None

    def deliver_to(self, out: torch.Tensor) -> None:
        """Write the output into ``out`` (contiguous, the output's shape), e.g. the next kernel's inbox."""
        super().deliver_to(out)
        self.flat_out = out.view(self.rows, -1)  # (M, C_out)

    def layout(self, frames: torch.Tensor) -> tuple[list[Op], torch.Tensor, torch.Tensor]:
        """The copies that lay ``frames``' taps side by side (through the clamp), and the product's operands.

        Shape:
            frames: (T, B, [F,] C_in). Output: the copies, (M, K) and (K, C_out) (the depthwise weight alone).
        """
        if self.depthwise:
            operand, matrix = self.cols, self.weight
        elif self.direct and frames.is_contiguous():  # a frame-wise product reads the frames as they are
            return [], frames.view(self.rows, -1), self.weight
        else:
            bias = self.bias if self.bias is not None else self.weight.new_zeros(self.weight.shape[1])
            operand, matrix = self.cols, torch.cat([self.weight, bias[None]])  # (taps * C_in + 1, C_out): bias by ones
        if self.grid is not None:
            taps = grid_view(frames, self.positions, self.strides, self.grid)
            return [self.copy(self.patches, taps)], operand, matrix
        copies = []
        for k, (dt, df) in enumerate(self.taps):
            index = (span(dt, self.positions[0], self.strides[0]), slice(None))
            if frames.dim() == 4:
                index += (span(df, self.positions[2], self.strides[1]),)
            copies.append(self.copy(self.patches.select(-2, k), frames[index]))
        return copies, operand, matrix

    def copy(self, patch: torch.Tensor, taps: torch.Tensor) -> Op:
        """The op that copies the taps' frames into their place in the buffer, clamped where there is a floor."""
        if self.floor is None:
            return partial(patch.copy_, taps)
        return partial(torch.clamp_min, taps, self.floor, out=patch)

    def product(self, operand: torch.Tensor, matrix: torch.Tensor, out: torch.Tensor) -> Op:
        """The op that writes the convolution of the laid out taps into ``out``.

        Shape:
            operand: (M, K). matrix: (K, C_out), or (taps, C) depthwise. out: (M, C_out), contiguous.
        """
        if self.depthwise:
            return partial(depthwise, self.cols.view(self.rows, len(self.taps), -1), matrix, self.bias, out)
        if operand is self.cols or self.bias is None:
            return partial(torch.mm, operand, matrix, out=out)
        return partial(torch.addmm, self.bias, operand, matrix, out=out)

    def __call__(self, x: torch.Tensor, commit: bool) -> torch.Tensor:
        """The convolution's outputs that this step completes.

        Shape:
            x: (T_in, B, [F,] C_in). Output: (T_out, B, [F',] C_out).
        """
        frames = self.carry.write(x)
        if frames is not self.source:  # views made once per source
            copies, operand, matrix = self.layout(frames)
            self.source, self.copies, self.run = frames, copies, self.product(operand, matrix, self.flat_out)
        for copy in self.copies:
            copy()
        self.run()
        return self.finish(commit)

    def plan(self, x: torch.Tensor, into: torch.Tensor | None) -> Planned:
        ops, frames = self.carry.receive(x)
        copies, operand, matrix = self.layout(frames)
        # The product writes straight into the next kernel's inbox where it is one block; else into its own.
        out = into if into is not None and into.shape == self.own.shape and into.is_contiguous() else self.own
        ops += [*copies, self.product(operand, matrix, out.view(self.rows, -1))]
        epilogue, out = self.activate(out, into)
        return ops + epilogue, out

    def fold_after(self, affine: Affine) -> None:
        """Apply a following batch norm inside the product: scale the weight's columns, shift the bias."""
        self.source = None
        self.weight = self.weight * affine.scale
        self.bias = affine.shift if self.bias is None else self.bias * affine.scale + affine.shift

    def can_fold_before(self) -> bool:
        """A preceding affine map folds in exactly only where no padded zero enters the product."""
        return not any(self.pad)

    def fold_before(self, affine: Affine) -> None:
        """Apply a preceding batch norm inside the product: every tap reads ``x * scale + shift``."""
        self.source = None
        if self.depthwise:
            shift = (self.weight * affine.shift).sum(0)  # (C,) each channel's taps times its shift
            self.weight = self.weight * affine.scale
        else:
            shift = affine.shift.repeat(len(self.taps)) @ self.weight  # (C_out,)
            self.weight = self.weight * affine.scale.repeat(len(self.taps))[:, None]
        self.bias = shift if self.bias is None else self.bias + shift


def depthwise(cols: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, out: torch.Tensor) -> None:
    """Each channel times its own taps, summed, plus the bias, into ``out``.

    Shape:
        cols: (M, taps, C). weight: (taps, C). bias: (C,). out: (M, C).
    """
    torch.sum(cols * weight, dim=1, out=out)
    if bias is not None:
        out.add_(bias)


class Pool(Producer):
    """Max or mean over blocks of ``(pT, pF)`` frames and bins, ``(sT, sF)`` apart.

    Each position of a block is one strided slice of the frames; the blocks' maximum (or sum) is taken
    slice by slice into a preallocated output, elementwise over contiguous channels, which is several
    times faster than one reduction over the strided block axes.

    Args:
        mode: ``"max"`` or ``"mean"``.
        kernel: ``(pT, pF)``; ``pF`` is ignored for 1-D maps.
        strides: ``(sT, sF)``.
        carry: Frames kept between hops.
        example: One step's input, (T_in, B, C) or (T_in, B, F, C).
    """

    def __init__(self, mode: str, kernel: tuple[int, int], strides: tuple[int, int], carry: int,
                 example: torch.Tensor) -> None:
        self.mode, self.carry = mode, Carry(carry, example)
        frames = (carry + example.shape[0] - kernel[0]) // strides[0] + 1
        if example.dim() == 3:
            self.slices = [(span(t, frames, strides[0]),) for t in range(kernel[0])]
            positions: tuple[int, ...] = (frames, example.shape[1])
        else:
            freqs = (example.shape[2] - kernel[1]) // strides[1] + 1
            self.slices = [(span(t, frames, strides[0]), slice(None), span(f, freqs, strides[1]))
                           for t in range(kernel[0]) for f in range(kernel[1])]
            positions = (frames, example.shape[1], freqs)
        self.own = example.new_empty(*positions, example.shape[-1])  # (T_out, B, [F_out,] C)
        self.deliver_to(self.own)  # and no frames read yet
        self.combine = torch.maximum if mode == "max" else torch.add
        self.epilogue = []

    def __call__(self, x: torch.Tensor, commit: bool) -> torch.Tensor:
        """The blocks that this step completes, pooled.

        Shape:
            x: (T_in, B, [F,] C). Output: (T_out, B, [F',] C).
        """
        frames = self.carry.write(x)
        if frames is not self.source:  # views made once per source
            self.source, self.ops = frames, self.pooling([frames[index] for index in self.slices], self.out)
        for op in self.ops:
            op()
        return self.finish(commit)

    def pooling(self, blocks: list[torch.Tensor], out: torch.Tensor) -> list[Op]:
        """Ops that pool the block positions' slices into ``out`` (any strides).

        Shape:
            blocks: one (T_out, B, [F_out,] C) per block position. out: the same.
        """
        first, *others = blocks
        if not others:
            return [partial(out.copy_, first)]
        ops = [partial(self.combine, first, others[0], out=out)]
        ops += [partial(self.combine, out, other, out=out) for other in others[1:]]
        if self.mode == "mean":
            ops.append(partial(out.div_, len(blocks)))
        return ops

    def plan(self, x: torch.Tensor, into: torch.Tensor | None) -> Planned:
        ops, frames = self.carry.receive(x)
        out = into if into is not None and into.shape == self.own.shape else self.own  # written elementwise
        ops += self.pooling([frames[index] for index in self.slices], out)
        epilogue, out = self.activate(out, out)
        return ops + epilogue, out

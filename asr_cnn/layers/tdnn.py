"""Time-delay neural network layer: a 1-D time convolution whose taps sit at given context offsets."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from asr_cnn.layers.sizes import check_time_stride, conv_output_size
from asr_cnn.layers.streaming import StreamingLayer


class TDNN(StreamingLayer):
    """Kaldi-style TDNN layer over (B, C, T), valid in time.

    The taps are given either as context ``offsets`` (``[-2, 0, 2]`` reads frames t-2, t and t+2 of
    the layer's centre t) or as ``kernel_size`` and ``dilation``. Valid in time, output ``j`` sits at
    the *last* frame it reads: it reads input frames ``j * stride + (offset - min(offsets))``.
    Evenly spaced offsets are a dilated convolution; irregular ones (``[-3, 0, 1]``) splice the
    shifted frames and apply one matrix, which is the same convolution with taps at the offsets.
    Either way the weight is ``(out_channels, in_channels, len(offsets))``, tap ``k`` at ``offsets[k]``.

    Args:
        in_channels: C_in.
        out_channels: C_out.
        offsets: Sorted, unique integer frame offsets; exclusive with ``kernel_size``.
        kernel_size: Taps, spaced ``dilation`` apart (offsets ``0, D, ..., D (M - 1)``).
        dilation: Spacing of the taps when ``kernel_size`` is given.
        stride: Time subsampling.
        bias: Add a learned bias.

    Raises:
        ValueError: Both or neither of ``offsets`` and ``kernel_size``; offsets not sorted and unique;
            a size below 1.
    """

    def __init__(self, in_channels: int, out_channels: int, offsets: Sequence[int] | None = None,
                 kernel_size: int | None = None, dilation: int = 1, stride: int = 1, bias: bool = True) -> None:
        super().__init__()
        if (offsets is None) == (kernel_size is None):
            raise ValueError(f"give exactly one of offsets and kernel_size, got offsets={offsets}, kernel_size={kernel_size}")
        if in_channels < 1 or out_channels < 1 or stride < 1 or dilation < 1:
            raise ValueError(f"need in_channels, out_channels, stride, dilation >= 1, got in_channels={in_channels}, "
                             f"out_channels={out_channels}, stride={stride}, dilation={dilation}")
        if offsets is None:
            if kernel_size < 1:
                raise ValueError(f"kernel_size must be >= 1, got {kernel_size}")
            offsets = [dilation * k for k in range(kernel_size)]
        elif dilation != 1:
            raise ValueError(f"dilation is implied by offsets {list(offsets)}; got dilation={dilation} as well")
        offsets = [int(o) for o in offsets]
        if not offsets or any(b <= a for a, b in zip(offsets, offsets[1:])):
            raise ValueError(f"offsets must be non-empty, sorted and unique, got {offsets}")
        self.in_channels, self.out_channels, self.offsets = in_channels, out_channels, offsets
        self.taps = [o - offsets[0] for o in offsets]  # tap positions counted from the first frame read
        gaps = {b - a for a, b in zip(self.taps, self.taps[1:])} or {1}
        # Evenly spaced taps (or a single one) are a dilated convolution; irregular ones need the splice.
        self.dilation = gaps.pop() if len(gaps) == 1 else None
        self.context, self.stride = self.taps[-1], stride
        check_time_stride(self.context, self.stride)
        self.conv = nn.Conv1d(in_channels, out_channels, len(offsets), stride=stride,
                              dilation=self.dilation or 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Convolve every complete context window.

        Shape:
            x: (B, C_in, T). Output: (B, C_out, T'), T' = (T - context - 1) // stride + 1.
        """
        if x.dim() != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"TDNN expects (B, {self.in_channels}, T), got shape {tuple(x.shape)}")
        n_out = conv_output_size(x.shape[-1], self.context + 1, self.stride)  # raises on too few frames
        # On CPU, PyTorch convolves one dilated sequence with a slow generic kernel (~80 us however short,
        # torch 2.11); the splice is the same convolution and ~4x faster there, which is one stream's case.
        single_dilated_cpu = self.dilation != 1 and x.shape[0] == 1 and x.device.type == "cpu"
        if self.dilation is not None and not single_dilated_cpu:
            return F.conv1d(x, self.conv.weight, self.conv.bias, self.stride, 0, self.dilation)
        last = (n_out - 1) * self.stride + 1  # span of the frames one tap reads for all outputs
        spliced = torch.stack([x[..., t:t + last:self.stride] for t in self.taps], dim=2)  # (B, C_in, K, T')
        spliced = spliced.flatten(1, 2)  # (B, C_in * K, T'), channel-major to match the weight's layout
        weight = self.conv.weight.flatten(1).unsqueeze(-1)  # (C_out, C_in * K, 1)
        return F.conv1d(spliced, weight, self.conv.bias)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, offsets={self.offsets}, stride={self.stride}"

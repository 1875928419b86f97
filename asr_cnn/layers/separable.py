"""Depthwise-separable time-frequency block (MobileNet, Hello Edge DS-CNN)."""

from __future__ import annotations

from torch import nn

from asr_cnn.layers.conv2d import TimeFreqConv2d
from asr_cnn.layers.reshape import Conv1x1
from asr_cnn.layers.sequential import StreamingSequential


class DepthwiseSeparable2d(StreamingSequential):
    """A per-channel time-frequency convolution, then a 1x1 convolution mixing channels, each with BN and ReLU.

    It factors a ``kF x kT`` convolution from C_in to C_out maps into ``C_in kF kT + C_in C_out`` weights
    instead of ``C_in C_out kF kT``. The depthwise part is padded "same" in frequency and valid in time.

    Args:
        in_channels: C_in.
        out_channels: C_out.
        kernel_size: Depthwise ``(kF, kT)`` or one int.
        stride: Depthwise ``(sF, sT)`` or one int.
        dilation: Depthwise ``(dF, dT)`` or one int.

    Shape:
        (B, C_in, F, T) -> (B, C_out, F', T'), as the depthwise :class:`TimeFreqConv2d` sizes them.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int] = 3,
                 stride: int | tuple[int, int] = 1, dilation: int | tuple[int, int] = 1) -> None:
        super().__init__(named={
            # No biases before batch norm: its shift does their work.
            "depthwise": TimeFreqConv2d(in_channels, in_channels, kernel_size, stride, dilation,
                                        groups=in_channels, bias=False),
            "depthwise_norm": nn.BatchNorm2d(in_channels),
            "depthwise_relu": nn.ReLU(),
            "pointwise": Conv1x1(in_channels, out_channels, bias=False),
            "pointwise_norm": nn.BatchNorm2d(out_channels),
            "pointwise_relu": nn.ReLU(),
        })
        self.in_channels, self.out_channels = in_channels, out_channels

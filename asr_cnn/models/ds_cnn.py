"""DS-CNN (Zhang et al. 2017, "Hello Edge"): a strided convolution, then depthwise-separable blocks."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from asr_cnn.layers import AddChannel, DepthwiseSeparable2d, GlobalFreqPool, StreamingSequential, TimeFreqConv2d


class DSCNN(StreamingSequential):
    """A ``(kF, kT)`` convolution with stride, depthwise-separable blocks, then an average over frequency.

    Hello Edge's DS-CNN-S: a 4 x 10 convolution with stride 2 x 2 and 64 maps, four 3 x 3
    depthwise-separable blocks, global average pooling (over frequency here; the window head pools time).
    Its frames are 20 ms apart; ours are 10 ms, so the blocks are dilated in time (``block_dilation``)
    to keep the receptive field near the paper's half second without padding time.

    Args:
        in_features: F, features per frame.
        channels: Maps of the first convolution and of every block.
        kernel_size: ``(kF, kT)`` of the first convolution.
        stride: ``(sF, sT)`` of the first convolution.
        blocks: Depthwise-separable blocks.
        block_kernel_size: ``(kF, kT)`` of the depthwise convolutions.
        block_dilation: ``(dF, dT)`` of the depthwise convolutions.

    Raises:
        ValueError: ``blocks`` below 1 (other arguments are checked by the layers).
    """

    def __init__(self, in_features: int, channels: int = 64, kernel_size: Sequence[int] = (4, 10),
                 stride: Sequence[int] = (2, 2), blocks: int = 4, block_kernel_size: Sequence[int] = (3, 3),
                 block_dilation: Sequence[int] = (1, 2)) -> None:
        if blocks < 1:
            raise ValueError(f"blocks must be >= 1, got {blocks}")
        layers: dict[str, nn.Module] = {
            "input_norm": nn.BatchNorm1d(in_features),
            "to_image": AddChannel(),
            "conv0": StreamingSequential(named={
                # No bias before batch norm: its shift does the work.
                "conv": TimeFreqConv2d(1, channels, tuple(kernel_size), tuple(stride), bias=False),
                "norm": nn.BatchNorm2d(channels), "relu": nn.ReLU()}),
        }
        for i in range(blocks):
            layers[f"block{i + 1}"] = DepthwiseSeparable2d(channels, channels, tuple(block_kernel_size),
                                                           dilation=tuple(block_dilation))
        layers["freq_pool"] = GlobalFreqPool("mean")
        super().__init__(named=layers)
        self.in_features, self.out_channels = in_features, channels

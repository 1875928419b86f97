"""TC-ResNet8 (Choi et al. 2019): temporal convolutions with the features as channels, residual and strided."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from asr_cnn.layers import TDNN, Conv1x1, Residual, StreamingSequential


class TCResNet8(StreamingSequential):
    """A temporal convolution, then residual blocks that halve the frame rate and widen the channels.

    Treating the F feature bins as the input channels of 1-D convolutions over time makes every layer
    see the whole spectrum at once, so a few cheap layers suffice. Each block is convolution (stride 2),
    batch norm, ReLU, convolution, batch norm; its shortcut a 1x1 convolution, batch norm and ReLU on
    the identity, subsampled and cropped right-aligned to the block's frames; ReLU after the sum.

    Args:
        in_features: F, features per frame (the input channels).
        channels: Channels of the first convolution, then of each block (16, 24, 32, 48 in TC-ResNet8).
        kernel_size: Temporal kernel of the block convolutions (9 in the paper over padded time; 3 here
            keeps the valid context at 44 frames, 5 would give 86).
        first_kernel_size: Temporal kernel of the first convolution.

    Raises:
        ValueError: Fewer than two entries in ``channels``.
    """

    def __init__(self, in_features: int, channels: Sequence[int] = (16, 24, 32, 48), kernel_size: int = 3,
                 first_kernel_size: int = 3) -> None:
        if len(channels) < 2:
            raise ValueError(f"need the first convolution's channels and at least one block's, got {list(channels)}")
        layers: dict[str, nn.Module] = {
            "input_norm": nn.BatchNorm1d(in_features),
            # No biases before batch norm, here and below: the norm's shift does their work.
            "conv0": TDNN(in_features, channels[0], kernel_size=first_kernel_size, bias=False),
        }
        for i, (c_in, c_out) in enumerate(zip(channels, channels[1:])):
            body = StreamingSequential(named={
                "conv1": TDNN(c_in, c_out, kernel_size=kernel_size, stride=2, bias=False),
                "norm1": nn.BatchNorm1d(c_out),
                "relu1": nn.ReLU(),
                "conv2": TDNN(c_out, c_out, kernel_size=kernel_size, bias=False),
                "norm2": nn.BatchNorm1d(c_out),
            })
            shortcut = StreamingSequential(named={"conv": Conv1x1(c_in, c_out, bias=False),
                                                  "norm": nn.BatchNorm1d(c_out), "relu": nn.ReLU()})
            layers[f"block{i + 1}"] = StreamingSequential(named={"residual": Residual(body, shortcut), "relu": nn.ReLU()})
        super().__init__(named=layers)
        self.in_features, self.out_channels = in_features, channels[-1]

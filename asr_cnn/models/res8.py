"""Res8 (Tang & Lin 2018): a residual 2-D convnet, here valid in time so that it streams."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from asr_cnn.layers import AddChannel, GlobalFreqPool, Pool2d, Residual, StreamingSequential, TimeFreqConv2d


class Res8(StreamingSequential):
    """A 3x3 convolution, average pooling, then residual blocks of two 3x3 convolutions each.

    As in the paper, every convolution is followed by ReLU, and batch norm follows the first
    convolution of a block and the sum at its end (convolutions carry no bias: the norms shift).
    Frequency is padded "same" throughout, so each block's identity has its body's shape; time is
    valid, so the identity is cropped right-aligned to the body's frames. The maps are finally
    averaged over frequency (the paper averages over time as well; the window head does that).

    Args:
        in_features: F, features per frame.
        channels: Maps in every layer (45 in the paper).
        blocks: Residual blocks (3 in res8).
        kernel_size: Square kernel of every convolution.
        pool: ``(pF, pT)`` average pooling block (and stride) after the first convolution.

    Raises:
        ValueError: ``blocks`` below 1 (other arguments are checked by the layers).
    """

    def __init__(self, in_features: int, channels: int = 45, blocks: int = 3, kernel_size: int = 3,
                 pool: Sequence[int] = (3, 4)) -> None:
        if blocks < 1:
            raise ValueError(f"blocks must be >= 1, got {blocks}")

        def conv_relu(in_channels: int) -> dict[str, nn.Module]:
            return {"conv": TimeFreqConv2d(in_channels, channels, kernel_size, bias=False), "relu": nn.ReLU()}

        layers: dict[str, nn.Module] = {
            "input_norm": nn.BatchNorm1d(in_features),
            "to_image": AddChannel(),
            "conv0": StreamingSequential(named=conv_relu(1)),
            "pool": Pool2d(tuple(pool), mode="mean"),
        }
        for i in range(blocks):
            body = StreamingSequential(named={
                "first": StreamingSequential(named={**conv_relu(channels), "norm": nn.BatchNorm2d(channels)}),
                "second": StreamingSequential(named=conv_relu(channels)),
            })
            layers[f"block{i + 1}"] = StreamingSequential(named={"residual": Residual(body), "norm": nn.BatchNorm2d(channels)})
        layers["freq_pool"] = GlobalFreqPool("mean")
        super().__init__(named=layers)
        self.in_features, self.out_channels = in_features, channels

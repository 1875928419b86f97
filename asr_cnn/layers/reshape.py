"""Frame-by-frame reshapes between 1-D (B, C, T) and 2-D (B, C, F, T) layouts, and the 1x1 convolution."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from asr_cnn.layers.streaming import PointwiseLayer


class AddChannel(PointwiseLayer):
    """Features as a one-channel image, so 2-D convolutions see the spectrogram."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Insert the channel axis.

        Shape:
            x: (B, F, T). Output: (B, 1, F, T).
        """
        if x.dim() != 3:
            raise ValueError(f"AddChannel expects (B, F, T), got shape {tuple(x.shape)}")
        return x.unsqueeze(1)  # (B, 1, F, T)


class FlattenFreq(PointwiseLayer):
    """Every (map, frequency) pair as one channel, so 1-D layers and the head see each frame as a vector."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Merge channels and frequency, channel-major.

        Shape:
            x: (B, C, F, T). Output: (B, C * F, T).
        """
        if x.dim() != 4:
            raise ValueError(f"FlattenFreq expects (B, C, F, T), got shape {tuple(x.shape)}")
        return x.flatten(1, 2)  # (B, C * F, T)


class Conv1x1(PointwiseLayer):
    """A 1x1 convolution: the same linear map of the channels at every frame (and frequency bin).

    Works on (B, C, T) and (B, C, F, T). Initialised like ``nn.Conv1d`` with kernel 1.

    Args:
        in_channels: C_in.
        out_channels: C_out.
        bias: Add a learned bias.

    Raises:
        ValueError: A channel count below 1.
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True) -> None:
        super().__init__()
        if in_channels < 1 or out_channels < 1:
            raise ValueError(f"need in_channels, out_channels >= 1, got {in_channels}, {out_channels}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.conv = nn.Conv1d(in_channels, out_channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mix channels at every position.

        Shape:
            x: (B, C_in, T) or (B, C_in, F, T). Output: (B, C_out, T) or (B, C_out, F, T).
        """
        if x.dim() not in (3, 4) or x.shape[1] != self.in_channels:
            raise ValueError(f"Conv1x1 expects (B, {self.in_channels}, T) or (B, {self.in_channels}, F, T), "
                             f"got shape {tuple(x.shape)}")
        if x.shape[-1] == 0:  # a chunk with no new frames: torch convolutions reject empty inputs
            return x.new_zeros(x.shape[0], self.out_channels, *x.shape[2:])
        if x.dim() == 3:
            return self.conv(x)
        return F.conv2d(x, self.conv.weight.unsqueeze(-1), self.conv.bias)  # weight (C_out, C_in, 1, 1)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}"

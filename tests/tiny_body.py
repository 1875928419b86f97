"""A minimal body for engine tests that must not depend on the model zoo."""

from __future__ import annotations

import torch
from torch import nn

from asr_cnn.layers.sequential import StreamingSequential
from asr_cnn.layers.streaming import StreamingLayer


class ValidConv1d(StreamingLayer):
    """Plain valid 1-D convolution over (B, C, T) with a time stride."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride)
        self.context, self.stride = kernel_size - 1, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shape: x (B, C, T) -> (B, C', (T - kernel) // stride + 1)."""
        return torch.relu(self.conv(x))


class TinyBody(StreamingSequential):
    """Two strided convs: context and stride that exercise the stride phase (context 3 + 2 * 2 = 7, stride 4).

    Shape: (B, F, T) -> (B, C, T').
    """

    def __init__(self, in_features: int, channels: int = 8) -> None:
        super().__init__(ValidConv1d(in_features, channels, 4, stride=2), ValidConv1d(channels, channels, 3, stride=2))
        self.out_channels = channels

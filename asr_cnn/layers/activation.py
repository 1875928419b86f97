"""Frame-wise activations that torch has no module for."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from asr_cnn.layers.streaming import PointwiseLayer


class FlooredLeakyReLU(PointwiseLayer):
    """``max(leaky_relu(x, negative_slope), floor)``: a leaky ReLU whose negative side stops at ``floor``.

    Google's speech_embedding follows every convolution with this (slope 0.2, floor -0.4), so a
    strongly negative input cannot drive later layers without bound.

    Args:
        negative_slope: Slope for x < 0.
        floor: Lowest output value (<= 0).

    Raises:
        ValueError: A negative slope below 0 or a floor above 0.
    """

    def __init__(self, negative_slope: float, floor: float) -> None:
        super().__init__()
        if negative_slope < 0 or floor > 0:
            raise ValueError(f"need negative_slope >= 0 and floor <= 0, got negative_slope={negative_slope}, "
                             f"floor={floor}")
        self.negative_slope, self.floor = negative_slope, floor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the activation to every element.

        Shape:
            x: (B, ...). Output: same shape.
        """
        return F.leaky_relu(x, self.negative_slope).clamp_min_(self.floor)  # in place: one pass fewer over memory

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}, floor={self.floor}"

"""Pooling over frequency, time or both: max, mean, and learned ("network in network"), valid in time.

A pool of P x P blocks moved D at a time summarises each block of each map by one value. The block is
``(pF, pT)``: ``pT = 1`` pools frequency only (no time context), ``pF = 1`` time only. Time is never
padded; blocks that would run past the last frequency bin are dropped, as ``pool_output_size`` counts.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from asr_cnn.layers.sizes import as_pair, check_time_stride, pool_output_size
from asr_cnn.layers.streaming import PointwiseLayer, StreamingLayer

MODES = ("max", "mean")


def check_mode(mode: str) -> str:
    """``mode`` itself, or a ValueError naming it."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return mode


class Pool2d(StreamingLayer):
    """Max or mean pooling of ``(pF, pT)`` blocks of (B, C, F, T) maps.

    Args:
        kernel_size: ``(pF, pT)`` or one int for both.
        stride: ``(sF, sT)``, one int, or ``None`` for the kernel size (non-overlapping blocks).
        mode: ``"max"`` or ``"mean"``.

    Raises:
        ValueError: A size below 1 or an unknown mode.
    """

    def __init__(self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
                 mode: str = "max") -> None:
        super().__init__()
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.stride_ft = self.kernel_size if stride is None else as_pair(stride, "stride")
        self.mode = check_mode(mode)
        self.context, self.stride = self.kernel_size[1] - 1, self.stride_ft[1]
        check_time_stride(self.context, self.stride)

    def output_freqs(self, n_freqs: int) -> int:
        """Frequency bins out for ``n_freqs`` in (raises ValueError when too few)."""
        return pool_output_size(n_freqs, self.kernel_size[0], self.stride_ft[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pool every complete block.

        Shape:
            x: (B, C, F, T). Output: (B, C, F', T'), F' = ``output_freqs(F)``, T' = (T - pT) // sT + 1.
        """
        if x.dim() != 4:
            raise ValueError(f"Pool2d expects (B, C, F, T), got shape {tuple(x.shape)}")
        pool = F.max_pool2d if self.mode == "max" else F.avg_pool2d
        return pool(x, self.kernel_size, self.stride_ft)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride_ft}, mode={self.mode!r}"


class Pool1d(StreamingLayer):
    """Max or mean pooling over time of (B, C, T) sequences.

    Args:
        kernel_size: Frames pT per block.
        stride: Frames between blocks; ``None`` for ``kernel_size``.
        mode: ``"max"`` or ``"mean"``.

    Raises:
        ValueError: A size below 1 or an unknown mode.
    """

    def __init__(self, kernel_size: int, stride: int | None = None, mode: str = "max") -> None:
        super().__init__()
        stride = kernel_size if stride is None else stride
        if kernel_size < 1 or stride < 1:
            raise ValueError(f"need kernel_size, stride >= 1, got kernel_size={kernel_size}, stride={stride}")
        self.kernel_size, self.mode = kernel_size, check_mode(mode)
        self.context, self.stride = kernel_size - 1, stride
        check_time_stride(self.context, self.stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pool every complete block of frames.

        Shape:
            x: (B, C, T). Output: (B, C, T'), T' = (T - pT) // stride + 1.
        """
        if x.dim() != 3:
            raise ValueError(f"Pool1d expects (B, C, T), got shape {tuple(x.shape)}")
        pool = F.max_pool1d if self.mode == "max" else F.avg_pool1d
        return pool(x, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, mode={self.mode!r}"


class GlobalFreqPool(PointwiseLayer):
    """Max or mean over all frequency bins, frame by frame: (B, C, F, T) -> (B, C, T).

    Args:
        mode: ``"max"`` or ``"mean"``.
    """

    def __init__(self, mode: str = "mean") -> None:
        super().__init__()
        self.mode = check_mode(mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Summarise each frame's spectrum of every map.

        Shape:
            x: (B, C, F, T). Output: (B, C, T).
        """
        if x.dim() != 4:
            raise ValueError(f"GlobalFreqPool expects (B, C, F, T), got shape {tuple(x.shape)}")
        return x.amax(2) if self.mode == "max" else x.mean(2)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"


class LearnedPool2d(StreamingLayer):
    """Learned pooling: one small network, shared by all blocks and all channels, summarises each block.

    The "network in network" of the lecture: every ``(pF, pT)`` block of every map, taken ``stride``
    apart, goes through the same tiny MLP (``hidden`` units, ReLU, one output), written as a block-sized
    convolution followed by a 1x1 convolution on each map alone.

    Args:
        kernel_size: ``(pF, pT)`` or one int for both.
        stride: ``(sF, sT)``, one int, or ``None`` for the kernel size.
        hidden: Hidden units of the shared network.

    Raises:
        ValueError: A size below 1.
    """

    def __init__(self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
                 hidden: int = 4) -> None:
        super().__init__()
        if hidden < 1:
            raise ValueError(f"hidden must be >= 1, got {hidden}")
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.stride_ft = self.kernel_size if stride is None else as_pair(stride, "stride")
        self.context, self.stride = self.kernel_size[1] - 1, self.stride_ft[1]
        check_time_stride(self.context, self.stride)
        self.block = nn.Conv2d(1, hidden, self.kernel_size, self.stride_ft)  # hidden units, each sees one block
        self.out = nn.Conv2d(hidden, 1, 1)  # the pooled value from the hidden units

    def output_freqs(self, n_freqs: int) -> int:
        """Frequency bins out for ``n_freqs`` in (raises ValueError when too few)."""
        return pool_output_size(n_freqs, self.kernel_size[0], self.stride_ft[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pool every complete block with the shared network.

        Shape:
            x: (B, C, F, T). Output: (B, C, F', T'), F' = ``output_freqs(F)``, T' = (T - pT) // sT + 1.
        """
        if x.dim() != 4:
            raise ValueError(f"LearnedPool2d expects (B, C, F, T), got shape {tuple(x.shape)}")
        batch, channels = x.shape[:2]
        maps = x.flatten(0, 1).unsqueeze(1)  # (B * C, 1, F, T): each map alone, so channels share the network
        pooled = self.out(torch.relu(self.block(maps)))  # (B * C, 1, F', T')
        return pooled.view(batch, channels, *pooled.shape[2:])  # (B, C, F', T')

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride_ft}, hidden={self.block.out_channels}"

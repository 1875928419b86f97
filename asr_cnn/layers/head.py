"""The window head: pool the body's maps over one window's frames, then classify."""

from __future__ import annotations

import torch
from torch import nn

from asr_cnn.layers.streaming import StreamingLayer

POOLS = ("max", "mean", "learned")


class WindowHead(StreamingLayer):
    """Scores for the window that ends at each frame: pool ``frames`` body frames, then a small MLP.

    Over a sequence longer than one window this scans: output ``j`` classifies body frames
    ``[j, j + frames)``, so ``context = frames - 1`` and it streams like any other layer.

    Args:
        in_channels: C, channels of the body's output.
        n_classes: K.
        frames: Body frames in one window (the head's receptive field in time).
        pool: ``"max"``, ``"mean"`` or ``"learned"`` (a per-channel weighting of the window's frames).
        hidden: Width of the MLP's hidden layer; 0 for a single linear layer.
        dropout: Dropout before the classifier (training only).

    Raises:
        ValueError: An argument is out of range or ``pool`` is unknown.
    """

    def __init__(self, in_channels: int, n_classes: int, frames: int, pool: str = "max", hidden: int = 64,
                 dropout: float = 0.0) -> None:
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
        if frames < 1 or in_channels < 1 or n_classes < 1 or hidden < 0:
            raise ValueError(f"need frames, in_channels, n_classes >= 1 and hidden >= 0, got "
                             f"frames={frames}, in_channels={in_channels}, n_classes={n_classes}, hidden={hidden}")
        self.in_channels, self.n_classes, self.frames, self.pool = in_channels, n_classes, frames, pool
        self.context, self.stride = frames - 1, 1
        if pool == "learned":
            # One learned weight per channel and window position, started as the mean.
            self.weights = nn.Conv1d(in_channels, in_channels, frames, groups=in_channels, bias=False)
            nn.init.constant_(self.weights.weight, 1.0 / frames)
        layers: list[nn.Module] = [nn.Dropout(dropout)]
        if hidden:
            layers += [nn.Linear(in_channels, hidden), nn.ReLU(), nn.Linear(hidden, n_classes)]
        else:
            layers += [nn.Linear(in_channels, n_classes)]
        self.mlp = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits for every complete window of ``frames`` frames.

        Shape:
            x: (B, C, T). Output: (B, K, T - frames + 1).
        """
        if self.pool == "learned":
            pooled = self.weights(x)  # (B, C, N)
        else:
            windows = x.unfold(-1, self.frames, 1)  # (B, C, N, frames)
            pooled = windows.amax(-1) if self.pool == "max" else windows.mean(-1)  # (B, C, N)
        logits = self.mlp(pooled.transpose(1, 2))  # (B, N, C) -> (B, N, K)
        return logits.transpose(1, 2)  # (B, K, N)

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, n_classes={self.n_classes}, frames={self.frames}, pool={self.pool!r}"

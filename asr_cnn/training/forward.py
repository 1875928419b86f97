"""The training-time forward pass: front end, SpecAugment (training only), classifier.

This is the module that DistributedDataParallel wraps. It holds the spotter rather than being one, so
the spotter stays a plain inference model and SpecAugment never reaches a checkpoint or a stream.
"""

from __future__ import annotations

import torch
from torch import nn

from asr_cnn.layers.ensemble import combine_members
from asr_cnn.models.spotter import KeywordSpotter


def head_logits(head: nn.Module, maps: torch.Tensor) -> torch.Tensor:
    """What the loss reads from the head: every member's logits for an ensemble, so each member learns from
    its own loss (a loss on the average would let members lean on each other); else the head's logits.

    Shape:
        maps: (B, C, T). Output: (B, K, N), or (B, K, N, M) for M members.
    """
    member_logits = getattr(head, "member_logits", None)
    return head(maps) if member_logits is None else member_logits(maps)


def combined(logits: torch.Tensor) -> torch.Tensor:
    """The spotter's own logits from :func:`head_logits`' output, for accuracy.

    Shape:
        logits: (B, K) or (B, K, M). Output: (B, K).
    """
    return logits if logits.dim() == 2 else combine_members(logits)


class TrainingForward(nn.Module):
    """``spotter.features`` -> ``spec_augment`` (in training mode only) -> ``spotter.body`` -> ``spotter.head``.

    The front end always runs in float32, outside autocast: the log of small mel powers underflows in
    float16. The classifier runs under whatever autocast context the caller opened.

    Args:
        spotter: The model being trained.
        spec_augment: Masks on (B, F, T) features, or ``None``.
    """

    def __init__(self, spotter: KeywordSpotter, spec_augment: nn.Module | None = None) -> None:
        super().__init__()
        self.spotter = spotter
        self.spec_augment = spec_augment

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """Logits of one window per clip; in training mode, per member for an ensemble head.

        Shape:
            wave: (B, window_samples). Output: (B, K), or (B, K, M) (:func:`head_logits`).
        """
        with torch.autocast(device_type=wave.device.type, enabled=False):
            features = self.spotter.features(wave.float())  # (B, F, T)
        if self.training and self.spec_augment is not None:
            features = self.spec_augment(features)
        maps = self.spotter.body(features)  # (B, C, T')
        logits = head_logits(self.spotter.head, maps) if self.training else self.spotter.head(maps)
        return logits.squeeze(2)  # (B, K, 1[, M]) -> (B, K[, M])

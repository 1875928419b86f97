"""The training-time forward pass: front end, SpecAugment (training only), classifier.

This is the module that DistributedDataParallel wraps. It holds the spotter rather than being one, so
the spotter stays a plain inference model and SpecAugment never reaches a checkpoint or a stream.
"""

from __future__ import annotations

import torch
from torch import nn

from asr_cnn.layers.ensemble import combine_members
from asr_cnn.models.spotter import KeywordSpotter


def window_logits(head: nn.Module, maps: torch.Tensor, per_member: bool) -> torch.Tensor:
    """The head's logits for one window per item; with ``per_member``, every member's for an ensemble head,
    so that in training each member learns from its own loss (a loss on the average would let members lean
    on each other).

    Shape:
        maps: (B, C, T) holding one window. Output: (B, K), or (B, K, M) for M members.
    """
    member_logits = getattr(head, "member_logits", None)
    logits = member_logits(maps) if per_member and member_logits is not None else head(maps)
    return logits.squeeze(2)  # (B, K, 1[, M]) -> (B, K[, M])


def combined(logits: torch.Tensor) -> torch.Tensor:
    """The spotter's own logits from :func:`window_logits`' output, for accuracy.

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
            wave: (B, window_samples). Output: (B, K), or (B, K, M) (:func:`window_logits`).
        """
        with torch.autocast(device_type=wave.device.type, enabled=False):
            features = self.spotter.features(wave.float())  # (B, F, T)
        if self.training and self.spec_augment is not None:
            features = self.spec_augment(features)
        return window_logits(self.spotter.head, self.spotter.body(features), per_member=self.training)

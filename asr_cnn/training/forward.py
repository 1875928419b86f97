"""The training-time forward pass: front end, SpecAugment (training only), classifier.

This is the module that DistributedDataParallel wraps. It holds the spotter rather than being one, so
the spotter stays a plain inference model and SpecAugment never reaches a checkpoint or a stream.
"""

from __future__ import annotations

import torch
from torch import nn

from asr_cnn.models.spotter import KeywordSpotter


class TrainingForward(nn.Module):
    """``spotter.features`` -> ``spec_augment`` (in training mode only) -> ``spotter.classify_features``.

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
        """Logits of one window per clip.

        Shape:
            wave: (B, window_samples). Output: (B, K).
        """
        with torch.autocast(device_type=wave.device.type, enabled=False):
            features = self.spotter.features(wave.float())  # (B, F, T)
        if self.training and self.spec_augment is not None:
            features = self.spec_augment(features)
        return self.spotter.classify_features(features).squeeze(-1)  # (B, K, 1) -> (B, K)

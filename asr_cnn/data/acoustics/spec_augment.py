"""SpecAugment-style masking of features, applied by the training loop between front end and body."""

from __future__ import annotations

import torch
from torch import nn


def mask_along(features: torch.Tensor, axis: int, masks: int, width: int,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """Replace ``masks`` random bands of up to ``width`` bins along ``axis`` with each example's mean.

    The mean, not zero, fills the bands: zero is a loud value for unnormalised log-mel features.

    Args:
        features: A batch of feature maps.
        axis: -2 for frequency, -1 for time.
        masks: Bands per example.
        width: Largest band width (each width uniform in [0, width]).
        generator: Source of randomness.

    Shape:
        features: (B, F, T). Output: (B, F, T).
    """
    if axis not in (-2, -1):
        raise ValueError(f"axis must be -2 (frequency) or -1 (time), got {axis}")
    if masks == 0 or width == 0:
        return features
    batch, size = features.shape[0], features.shape[axis]
    widths = torch.randint(0, width + 1, (batch, masks), generator=generator, device=features.device)
    starts = (torch.rand(batch, masks, generator=generator, device=features.device)
              * (size - widths + 1).clamp_min(1)).long()
    positions = torch.arange(size, device=features.device)
    # (B, masks, 1) against (size,) -> (B, masks, size) -> any band -> (B, size)
    hit = ((positions >= starts[..., None]) & (positions < (starts + widths)[..., None])).any(dim=1)
    hit = hit[:, :, None] if axis == -2 else hit[:, None, :]  # (B, F, 1) or (B, 1, T)
    return torch.where(hit, features.mean(dim=(1, 2), keepdim=True), features)


class SpecAugment(nn.Module):
    """Frequency and time masks in training mode; the identity in eval mode.

    Args:
        freq_masks: Frequency bands masked per example.
        freq_width: Largest frequency band, in bins.
        time_masks: Time bands masked per example.
        time_width: Largest time band, in frames.
    """

    def __init__(self, freq_masks: int = 2, freq_width: int = 8, time_masks: int = 2, time_width: int = 10) -> None:
        super().__init__()
        for name, value in (("freq_masks", freq_masks), ("freq_width", freq_width), ("time_masks", time_masks),
                            ("time_width", time_width)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        self.freq_masks, self.freq_width = freq_masks, freq_width
        self.time_masks, self.time_width = time_masks, time_width

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Mask a batch (training mode only).

        Shape:
            features: (B, F, T). Output: (B, F, T).
        """
        if not self.training:
            return features
        if features.dim() != 3:
            raise ValueError(f"SpecAugment expects features of shape (B, F, T), got {tuple(features.shape)}")
        features = mask_along(features, -2, self.freq_masks, self.freq_width)
        return mask_along(features, -1, self.time_masks, self.time_width)

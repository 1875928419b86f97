"""Several training datasets as one: clips, negative windows, keywords in context, mined windows."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import torch
from torch.utils.data import Dataset


class Mixture(Dataset):
    """The items of ``parts`` one after another; ``set_epoch`` reaches every part that has one.

    Args:
        parts: Datasets of ``(wave, label)`` items; empty ones are allowed.
    """

    def __init__(self, parts: Sequence[Dataset]) -> None:
        self.parts = list(parts)
        self.ends = torch.tensor([len(p) for p in self.parts], dtype=torch.long).cumsum(0).tolist()

    def set_epoch(self, epoch: int) -> None:
        for part in self.parts:
            if hasattr(part, "set_epoch"):
                part.set_epoch(epoch)

    def __len__(self) -> int:
        return self.ends[-1] if self.ends else 0

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items")
        part = bisect.bisect_right(self.ends, index)
        return self.parts[part][index - (self.ends[part - 1] if part else 0)]

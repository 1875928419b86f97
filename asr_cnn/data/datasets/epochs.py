"""Datasets drawn afresh every epoch, reproducibly: item ``i`` of epoch ``e`` has a seed of its own."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from asr_cnn.data.corpus.cache import seed_of


class EpochSeeded(Dataset):
    """Base of datasets whose items are random draws (windows, augmentation) seeded by the epoch and index.

    The seed of item ``index`` depends on ``(seed, *stream, epoch, index)`` alone, so any worker, process
    or order of work draws the same item, and ``stream`` keeps datasets that share a training seed apart.

    Args:
        seed: Training seed.
        stream: Names that set this dataset's draws apart from others seeded alike.
    """

    def __init__(self, seed: int, *stream: str) -> None:
        self.seed, self.stream, self.epoch = seed, stream, 0

    def set_epoch(self, epoch: int) -> None:
        """Draw fresh items: those of ``epoch`` from now on."""
        self.epoch = epoch

    def generator(self, index: int) -> torch.Generator:
        """The random generator of item ``index`` in the current epoch."""
        return torch.Generator().manual_seed(seed_of(self.seed, *self.stream, self.epoch, index))

"""Batches whose order is a pure function of (seed, epoch, step), so training can resume exactly.

The crops of each batch (:mod:`asr_cnn.data.datasets.windows`) are drawn from a generator seeded the same way.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler


def derive_seed(*keys: int) -> int:
    """A 63-bit seed mixed from integer keys (e.g. seed, epoch, rank) with numpy's SeedSequence."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1, dtype=np.uint64)[0] >> 1)


class EpochItems(Dataset):
    """A dataset addressed by ``(epoch, index)``, for datasets whose augmentation is seeded by the epoch.

    The epoch travels with every index, so persistent DataLoader workers, which hold their own copy of
    the dataset, augment for the right epoch without being restarted.

    Args:
        dataset: Has ``set_epoch(epoch)`` and ``__getitem__(index)``.
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]):
        epoch, index = key
        self.dataset.set_epoch(epoch)
        return self.dataset[index]


class EpochBatchSampler(Sampler[list[tuple[int, int]]]):
    """Shuffled batches of ``(epoch, index)`` for one process of ``world_size``, reproducible from (seed, epoch).

    Every epoch is one permutation drawn from ``(seed, epoch)``, padded by wrapping around so it splits
    evenly, then dealt out round-robin to the ranks (as ``DistributedSampler`` does). Starting at a later
    batch skips those already trained on, so a resumed epoch continues where the killed one stopped
    without reading those clips. Pair it with :class:`EpochItems`.

    Args:
        n_items: Dataset length.
        batch_size: Items per batch on this process.
        seed: Base seed of the run.
        rank: This process's rank.
        world_size: Number of processes.
        drop_last: Drop the final short batch (keeps batch-norm statistics and the step count regular).

    Raises:
        ValueError: Too few items for one batch on every rank, or an invalid rank.
    """

    def __init__(self, n_items: int, batch_size: int, seed: int, rank: int = 0, world_size: int = 1,
                 drop_last: bool = True) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
        if batch_size < 1 or n_items < batch_size * world_size:
            raise ValueError(f"{n_items} items cannot fill one batch of {batch_size} on each of {world_size} "
                             "processes; lower trainer.batch_size or build a larger corpus")
        self.n_items, self.batch_size, self.seed = n_items, batch_size, seed
        self.rank, self.world_size, self.drop_last = rank, world_size, drop_last
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Select the epoch's permutation and the first batch to yield."""
        self.epoch, self.start = epoch, start_batch

    def per_rank(self) -> int:
        """Items this rank sees in an epoch (the permutation padded to a multiple of ``world_size``)."""
        return -(-self.n_items // self.world_size)

    def __len__(self) -> int:
        """Batches in a whole epoch (ignoring ``start``)."""
        full, rest = divmod(self.per_rank(), self.batch_size)
        return full if self.drop_last or rest == 0 else full + 1

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        generator = torch.Generator().manual_seed(derive_seed(self.seed, self.epoch))
        order = torch.randperm(self.n_items, generator=generator)
        padded = torch.cat([order, order[: self.per_rank() * self.world_size - self.n_items]])
        mine = padded[self.rank :: self.world_size].tolist()
        for batch in range(self.start, len(self)):
            yield [(self.epoch, index) for index in mine[batch * self.batch_size : (batch + 1) * self.batch_size]]

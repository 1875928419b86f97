"""Batch order and crops: pure functions of (seed, epoch, step), shared out across ranks, resumable."""

from __future__ import annotations

import pytest
import torch

from asr_cnn.data.datasets.windows import centre_crop, random_crop, window_of
from asr_cnn.training.batching import EpochBatchSampler, EpochItems


def batches(sampler: EpochBatchSampler, epoch: int, start: int = 0) -> list[list[int]]:
    """The indices of every batch, checking that each carries the epoch."""
    sampler.set_epoch(epoch, start)
    pairs = list(sampler)
    assert all(e == epoch for batch in pairs for e, _ in batch)
    return [[index for _, index in batch] for batch in pairs]


def test_order_depends_on_seed_and_epoch_only():
    a, b = EpochBatchSampler(50, 8, seed=3), EpochBatchSampler(50, 8, seed=3)
    assert batches(a, 0) == batches(b, 0)
    assert batches(a, 0) != batches(a, 1)
    assert batches(a, 1) != batches(EpochBatchSampler(50, 8, seed=4), 1)
    assert len(batches(a, 0)) == len(a) == 50 // 8


def test_skipping_continues_where_an_epoch_stopped():
    sampler = EpochBatchSampler(50, 8, seed=0)
    assert batches(sampler, 2, start=3) == batches(sampler, 2)[3:]


def test_ranks_get_disjoint_shares_of_one_permutation():
    shares = [sum(batches(EpochBatchSampler(40, 5, seed=0, rank=r, world_size=2), 1), []) for r in range(2)]
    assert not set(shares[0]) & set(shares[1])
    assert sorted(shares[0] + shares[1]) == list(range(40))


def test_too_few_items_is_a_clear_error():
    with pytest.raises(ValueError, match="cannot fill one batch"):
        EpochBatchSampler(7, 4, seed=0, world_size=2)


def test_crops():
    wave = torch.arange(20.0).repeat(3, 1)  # (3, 20) every clip 0..19
    crop = random_crop(wave, 8, torch.Generator().manual_seed(0))
    assert crop.shape == (3, 8)
    assert torch.equal(crop - crop[:, :1], torch.arange(8.0).expand(3, 8))  # contiguous windows
    assert torch.equal(centre_crop(wave, 8)[0], torch.arange(6.0, 14.0))
    with pytest.raises(ValueError, match="window_samples=30"):
        centre_crop(wave, 30)
    assert torch.equal(window_of(wave, 8), centre_crop(wave, 8))
    longer = window_of(wave, 26)  # a window longer than the clip: silence, then the clip
    assert longer.shape == (3, 26) and longer[:, :6].abs().max() == 0 and torch.equal(longer[:, 6:], wave)


def test_items_carry_their_epoch_to_the_dataset():
    class Seen:
        epoch = None

        def set_epoch(self, epoch):
            self.epoch = epoch

        def __getitem__(self, index):
            return self.epoch, index

        def __len__(self):
            return 3

    items = EpochItems(Seen())
    assert items[(4, 2)] == (4, 2) and len(items) == 3

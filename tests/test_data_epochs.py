"""EpochSeeded: every item's draws depend on (seed, stream, epoch, index) alone."""

from __future__ import annotations

import torch

from asr_cnn.data.datasets.epochs import EpochSeeded


def draws(dataset: EpochSeeded, index: int) -> torch.Tensor:
    return torch.rand(4, generator=dataset.generator(index))


def test_an_item_draws_the_same_in_any_copy_and_afresh_each_epoch():
    first, copy = EpochSeeded(7, "windows"), EpochSeeded(7, "windows")
    copy.set_epoch(3)
    copy.set_epoch(0)  # back to epoch 0, as a resumed run or another worker would be
    assert torch.equal(draws(first, 5), draws(copy, 5))
    assert not torch.equal(draws(first, 5), draws(first, 6))
    before = draws(first, 5)
    first.set_epoch(1)
    assert first.epoch == 1 and not torch.equal(draws(first, 5), before)


def test_seed_and_stream_set_datasets_apart():
    base = draws(EpochSeeded(7, "windows"), 0)
    assert not torch.equal(base, draws(EpochSeeded(8, "windows"), 0))
    assert not torch.equal(base, draws(EpochSeeded(7, "in context"), 0))

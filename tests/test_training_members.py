"""The loss of an ensemble's members: the mean of their own losses, each on its own Poisson resample."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from asr_cnn.training.members import bagging_counts, member_loss

B, K, M = 6, 4, 3


@pytest.fixture
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return torch.randn(B, K, M, generator=generator), torch.tensor([0, 1, 2, 3, 2, 1])


@pytest.mark.parametrize("weight", [None, torch.tensor([2.0, 1.0, 0.5, 1.0])])
def test_without_counts_it_is_the_mean_of_the_members_losses(batch, weight):
    logits, label = batch
    loss_fn = nn.CrossEntropyLoss(weight=weight, label_smoothing=0.1)
    expected = torch.stack([loss_fn(logits[..., m], label) for m in range(M)]).mean()
    torch.testing.assert_close(member_loss(loss_fn, logits, label), expected)
    torch.testing.assert_close(member_loss(loss_fn, logits, label, torch.ones(B, M)), expected)


def test_a_count_repeats_the_example_for_that_member_alone(batch):
    logits, label = batch
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor([2.0, 1.0, 0.5, 1.0]), label_smoothing=0.1)
    counts = torch.ones(B, M)
    counts[0, 1], counts[3, 2] = 2.0, 0.0
    # Member 1 trained on example 0 twice and member 2 without example 3: as the batch written out so.
    rows = [list(range(B)), list(range(B)) + [0], [b for b in range(B) if b != 3]]
    weighted = sum(loss_fn(logits[rows[m], :, m], label[rows[m]]) * loss_fn.weight[label[rows[m]]].sum()
                   for m in range(M)) / sum(loss_fn.weight[label[rows[m]]].sum() for m in range(M))
    torch.testing.assert_close(member_loss(loss_fn, logits, label, counts), weighted)

    leaf = logits.clone().requires_grad_()
    member_loss(loss_fn, leaf, label, counts).backward()
    assert not leaf.grad[3, :, 2].any() and leaf.grad[3, :, 1].any()  # what member 2 did not see, it does not learn


def test_counts_are_seeded_poisson_draws():
    draws = bagging_counts(4000, 5, torch.Generator().manual_seed(3))
    assert draws.shape == (4000, 5)
    torch.testing.assert_close(draws, bagging_counts(4000, 5, torch.Generator().manual_seed(3)))
    assert torch.equal(draws, draws.round()) and draws.min() == 0
    assert abs(draws.mean().item() - 1.0) < 0.03 and abs(draws.var().item() - 1.0) < 0.06
    assert not torch.equal(draws[:, 0], draws[:, 1])  # every member its own resample

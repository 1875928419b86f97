"""The loss of an ensemble head's members: each against the label, each on its own resample of the batch.

Members that start apart but see the same batches end up alike. Online bagging (Oza and Russell, 2001)
gives each member its own view of the data at no cost: member m counts example b ``Poisson(1)`` times,
as if it were trained on its own bootstrap sample of the training set.
"""

from __future__ import annotations

import torch
from torch import nn


def bagging_counts(batch: int, members: int, generator: torch.Generator) -> torch.Tensor:
    """How often each member sees each example of a batch: Poisson(1) draws.

    Shape:
        Output: (B, M).
    """
    return torch.poisson(torch.ones(batch, members), generator=generator)


def member_loss(loss_fn: nn.CrossEntropyLoss, logits: torch.Tensor, label: torch.Tensor,
                counts: torch.Tensor | None = None) -> torch.Tensor:
    """``loss_fn`` (its class weights and label smoothing) over every member, each example weighted by ``counts``.

    With ``counts`` of ones this is ``loss_fn`` on (B, K, M) against the label repeated per member: the
    mean of the members' own losses.

    Shape:
        logits: (B, K, M). label: (B,). counts: (B, M). Output: ().
    """
    target = label[:, None].expand(-1, logits.shape[-1])  # (B, M)
    if counts is None:
        return loss_fn(logits, target)
    losses = nn.functional.cross_entropy(logits, target, weight=loss_fn.weight, reduction="none",
                                         label_smoothing=loss_fn.label_smoothing)  # (B, M), class weights applied
    weights = counts.to(losses) * (loss_fn.weight[target] if loss_fn.weight is not None else 1.0)  # (B, M)
    return (losses * counts.to(losses)).sum() / weights.sum().clamp_min(torch.finfo(losses.dtype).tiny)

"""A module in evaluation mode for a block, then back in the mode it was in."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from torch import nn


@contextlib.contextmanager
def evaluating(module: nn.Module) -> Iterator[nn.Module]:
    """``module.eval()`` inside the block (batch norms use running statistics, no dropout); its previous
    mode is restored afterwards, even when the block raises, so a check in the middle of training does
    not leave the model in evaluation mode."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)

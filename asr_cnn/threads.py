"""Torch's intra-op thread count, set for a block and then restored."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Use ``threads`` intra-op threads inside the block (``None``: leave torch's choice).

    Small work gains nothing from more threads: streaming pushes small chunks and synthesis makes short
    clips, whose ops finish before extra threads help; on a busy machine the hand-offs cost more than the
    work (about 20x here with two threads), so the recipes default to one.
    """
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)

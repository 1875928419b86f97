"""An ensemble head: several TDNN + window-head stacks over a shared body's maps, posteriors averaged."""

from __future__ import annotations

from collections.abc import Sequence

from asr_cnn.layers import StreamingSequential, available_outputs
from asr_cnn.layers.ensemble import Ensemble
from asr_cnn.layers.head import WindowHead
from asr_cnn.models.tdnn import TDNNBody


class TDNNHeads(Ensemble):
    """``members`` independent stacks of a :class:`TDNNBody` and a :class:`WindowHead`, as one head.

    Each member is ``speech_embedding_tdnn``'s TDNN and head. Over a frozen pretrained body the members
    cost little next to the body, which runs once for all of them. :func:`asr_cnn.training.ensemble.ensemble_of`
    builds one from models trained on their own (their mistakes differ most); trained as one head, each
    member starts from its own random weights and learns from its own loss.

    Args:
        in_channels: C, channels of the body's maps.
        n_classes: K.
        frames: Body frames in one window: each member's TDNN reads them all, its head what the TDNN leaves.
        members: M, how many stacks.
        channels, offsets, strides: Each member's TDNN (:class:`TDNNBody`).
        pool, hidden, dropout: Each member's :class:`WindowHead`.

    Raises:
        ValueError: ``members`` < 1, or the TDNN's context does not fit in ``frames``.
    """

    def __init__(self, in_channels: int, n_classes: int, frames: int, members: int, channels: Sequence[int],
                 offsets: Sequence[Sequence[int]], strides: Sequence[int], pool: str = "max", hidden: int = 64,
                 dropout: float = 0.0) -> None:
        if members < 1:
            raise ValueError(f"members must be >= 1, got {members}")
        stacks = []
        for _ in range(members):
            tdnn = TDNNBody(in_channels, channels, offsets, strides)
            head_frames = available_outputs(frames, tdnn.context, tdnn.stride)
            if head_frames < 1:
                raise ValueError(f"the TDNN reads {tdnn.context + 1} body frames but a window holds {frames}")
            head = WindowHead(tdnn.out_channels, n_classes, head_frames, pool=pool, hidden=hidden, dropout=dropout)
            stacks.append(StreamingSequential(named={"tdnn": tdnn, "head": head}))
        super().__init__(stacks, n_classes)
        self.in_channels, self.frames = in_channels, frames

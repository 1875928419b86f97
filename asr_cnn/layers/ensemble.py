"""Several layers over the same maps: branches each give their own output, an ensemble averages posteriors."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from asr_cnn.layers.streaming import State, StreamingLayer


def combine_members(logits: torch.Tensor) -> torch.Tensor:
    """Log of the members' mean posterior, as logits: its softmax is the average of theirs.

    Averaging probabilities (not logits) is the ensemble of independently trained members; a member
    that is confidently wrong on one input is outvoted rather than summed in.

    Shape:
        logits: (B, K, ..., M), classes on axis 1 and members last. Output: (B, K, ...).
    """
    return torch.logsumexp(logits.log_softmax(dim=1), dim=-1) - math.log(logits.shape[-1])


class Branches(StreamingLayer):
    """Streaming layers that read the same input, each giving its own output: the input's work is shared.

    Streaming streams each member (state keyed by member name), so no frame is computed twice. The members
    must agree in stride, so their outputs come at the same rate; their contexts may differ (each output
    starts once its own member's context has arrived), and ``context`` is the largest.

    Args:
        members: Streaming layers over the same input.

    Raises:
        ValueError: No member, or members of different strides.
    """

    def __init__(self, members: Sequence[StreamingLayer]) -> None:
        super().__init__()
        if not members:
            raise ValueError("branches need at least one member")
        strides = {m.stride for m in members}
        if len(strides) != 1:
            raise ValueError(f"branches must share their stride, got {sorted(strides)}")
        self.members = nn.ModuleDict({f"member{i}": member for i, member in enumerate(members)})
        self.context, self.stride = max(m.context for m in members), strides.pop()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every member's output.

        Shape:
            x: (B, C, T). Output: one (B, C_m, N_m) per member.
        """
        return [member(x) for member in self.members.values()]

    def init_state(self, batch: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> State:
        """One state per member, keyed by the member's name."""
        return {name: member.init_state(batch, device, dtype) for name, member in self.members.items()}

    def streaming_forward(self, x: torch.Tensor, state: State) -> tuple[list[torch.Tensor], State]:
        """Stream a chunk through every member.

        Shape:
            x: (B, C, T_in). Output: one (B, C_m, T_out_m) per member.
        """
        outputs, new_state = [], {}
        for name, member in self.members.items():
            y, new_state[name] = member.streaming_forward(x, state[name])
            outputs.append(y)
        return outputs, new_state


class Ensemble(Branches):
    """``M`` members that each map the same input to class logits; the output averages their posteriors.

    The members must agree in context and stride, so their outputs line up frame by frame; streaming
    streams each member (:class:`Branches`), so no frame is computed twice. Training reads
    :meth:`member_logits` so that each member learns from its own loss (see ``asr_cnn.training.forward``).

    Args:
        members: Streaming layers (B, C, T) -> (B, K, N), all of ``n_classes`` outputs.
        n_classes: K.

    Raises:
        ValueError: No member, or members of different context or stride.
    """

    def __init__(self, members: Sequence[StreamingLayer], n_classes: int) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        shapes = {(m.context, m.stride) for m in members}
        if len(shapes) != 1:
            raise ValueError(f"ensemble members must share context and stride, got (context, stride) {sorted(shapes)}")
        super().__init__(members)
        self.n_classes = n_classes

    def member_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Every member's logits.

        Shape:
            x: (B, C, T). Output: (B, K, N, M).
        """
        return torch.stack(super().forward(x), dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits whose softmax is the members' mean posterior.

        Shape:
            x: (B, C, T). Output: (B, K, N).
        """
        return combine_members(self.member_logits(x))

    def streaming_forward(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Stream a chunk through every member, then average.

        Shape:
            x: (B, C, T_in). Output: (B, K, T_out).
        """
        outputs, new_state = super().streaming_forward(x, state)
        return combine_members(torch.stack(outputs, dim=-1)), new_state

    def extra_repr(self) -> str:
        return f"members={len(self.members)}, n_classes={self.n_classes}"

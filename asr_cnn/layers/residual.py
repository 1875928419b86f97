"""Residual connection for valid-in-time bodies: the identity is cropped right-aligned to the body's output."""

from __future__ import annotations

import torch
from torch import nn

from asr_cnn.layers.sequential import is_pointwise
from asr_cnn.layers.streaming import State, StreamingLayer


class Residual(StreamingLayer):
    """``body(x) + shortcut(identity)``, where the identity for output ``j`` is input frame ``j * stride + context``.

    A valid body shortens time by its context, so the identity is cropped to the body's frames, aligned
    on the right: each output adds the last input frame its body output has read, which is what a
    causal stream has at that moment. With a time stride the identity is subsampled the same way.

    Streaming runs the body with its own state (each of its frames computed once) and keeps the input
    frames since the next output's first frame as a delay line for the identity: at most
    ``context + stride - 1`` frames, its length being the stride phase.

    Args:
        body: The convolutional path, a :class:`StreamingLayer`.
        shortcut: Applied to the cropped identity, e.g. a :class:`~asr_cnn.layers.reshape.Conv1x1`
            projection when the body changes the channels; it must have no time context. ``None`` for
            the identity itself.

    Raises:
        TypeError: ``body`` is not a streaming layer, or ``shortcut`` works across time.
    """

    def __init__(self, body: StreamingLayer, shortcut: nn.Module | None = None) -> None:
        super().__init__()
        if not isinstance(body, StreamingLayer):
            raise TypeError(f"body must be a StreamingLayer, got {type(body).__name__}")
        frame_wise = is_pointwise(shortcut) or (isinstance(shortcut, StreamingLayer)
                                               and shortcut.context == 0 and shortcut.stride == 1)
        if shortcut is not None and not frame_wise:
            raise TypeError(f"shortcut must act on each frame alone (no time context or stride), got {shortcut!r}")
        self.body, self.shortcut = body, shortcut if shortcut is not None else nn.Identity()
        self.context, self.stride = body.context, body.stride

    def identity(self, x: torch.Tensor, n_out: int) -> torch.Tensor:
        """The input frames added to ``n_out`` body outputs, after the shortcut.

        Shape:
            x: (B, ..., T) with T >= (n_out - 1) * stride + context + 1. Output: (B, ..., n_out) after the shortcut.
        """
        last = self.context + (n_out - 1) * self.stride + 1
        return self.shortcut(x[..., self.context:last:self.stride])  # (B, ..., n_out): right-aligned frames

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Body plus cropped identity.

        Shape:
            x: (B, ..., T). Output: (B, ..., T'), T' = (T - context - 1) // stride + 1, the body's shape.
        """
        y = self.body(x)
        return y + self.identity(x, y.shape[-1])

    def init_state(self, batch: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> State:
        """The body's state and an empty delay line (it takes the input's shape on the first chunk)."""
        delay = torch.zeros(batch, 0, device=device, dtype=dtype or torch.get_default_dtype())
        return {"body": self.body.init_state(batch, device, dtype), "delay": delay}

    def streaming_forward(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Stream the body, add the delayed identity frames of its new outputs.

        Shape:
            x: (B, ..., T_in). Output: (B, ..., T_out), the outputs newly computable.
        """
        y, body_state = self.body.streaming_forward(x, state["body"])
        delay = state["delay"]
        if delay.shape[-1] == 0:
            delay = x[..., :0]  # first call: adopt the chunk's non-time shape
        frames = torch.cat([delay, x], dim=-1)  # (B, ..., T_delay + T_in)
        n_out = y.shape[-1]
        if n_out:
            y = y + self.identity(frames, n_out)
        return y, {"body": body_state, "delay": frames[..., n_out * self.stride:]}

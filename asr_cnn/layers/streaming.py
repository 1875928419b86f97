"""The streaming contract shared by every layer that works along time.

A layer is *valid in time*: output frame ``j`` reads input frames ``[j * stride, j * stride + context]``
and nothing later, so it can run over an endless stream. Streaming keeps, per layer, a buffer of the
input frames that later outputs still need. A chunk is appended to the buffer, the layer's ordinary
``forward`` computes every output whose inputs are all present (each output exactly once), and the
inputs no later output reads are dropped. The buffer's length is the layer's phase: with a time stride,
it remembers how far the next output is into the stride, so any chunk size works.

State is an explicit dict of tensors, keyed by name (``"buffer"`` here, submodule names in containers).
Every state tensor has the batch as its first axis, so single streams of a batch can be reset.
"""

from __future__ import annotations

from typing import Union

import torch
from torch import nn

State = dict[str, Union[torch.Tensor, "State"]]


class StreamingLayer(nn.Module):
    """Base class for layers that are valid in time and stream by buffering their input.

    Subclasses set ``context`` and ``stride`` and implement ``forward`` over a whole sequence whose
    last axis is time. They inherit ``init_state`` and ``streaming_forward``; a container overrides them
    to stream its children instead, so that no frame is computed twice.

    Attributes:
        context: Past input frames an output needs beyond its last one (receptive field - 1).
        stride: Time decimation; output ``j`` ends at input ``j * stride + context``.
    """

    context: int = 0
    stride: int = 1

    def init_state(self, batch: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> State:
        """Empty buffer: the first outputs come once ``context + 1`` frames have arrived.

        The non-time axes are unknown until the first chunk, so the buffer starts as (B, 0) and takes
        the chunk's shape on the first call.
        """
        return {"buffer": torch.zeros(batch, 0, device=device, dtype=dtype or torch.get_default_dtype())}

    def streaming_forward(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Consume one chunk of frames and emit every output that has become computable.

        Args:
            x: New input frames, time last.
            state: From ``init_state`` or the previous call.

        Returns:
            The new output frames (possibly zero of them) and the next state.

        Shape:
            x: (B, ..., T_in). Output: (B, ..., T_out), where T_out counts the outputs whose
            receptive field ends inside the buffered input.
        """
        if self.stride > self.context + 1:
            # Such a layer skips input frames; the buffer length (the phase) cannot remember a skip
            # that reaches into frames not yet arrived, so streaming would drift from forward.
            raise ValueError(f"{type(self).__name__}: time stride {self.stride} exceeds the receptive field of "
                             f"{self.context + 1} frames, which cannot stream")
        buffer = state["buffer"]
        if buffer.shape[-1] == 0:
            buffer = x[..., :0]  # first call: adopt the chunk's non-time shape
        frames = torch.cat([buffer, x], dim=-1)  # (B, ..., T_buf + T_in)
        n_out = available_outputs(frames.shape[-1], self.context, self.stride)
        if n_out == 0:
            return self._empty_output(frames), {"buffer": frames}
        y = self(frames[..., : (n_out - 1) * self.stride + self.context + 1])
        return y, {"buffer": frames[..., n_out * self.stride :]}

    def _empty_output(self, frames: torch.Tensor) -> torch.Tensor:
        """Zero output frames with the right non-time shape.

        The shape is found once per input shape by running on one receptive field of zeros and then
        remembered, so that chunks too short to yield an output cost nothing.
        """
        key = tuple(frames.shape[1:-1])
        memo = self.__dict__.setdefault("_output_shape_memo", {})
        if key not in memo:
            probe = frames.new_zeros(1, *key, self.context + 1)
            memo[key] = tuple(self(probe).shape[1:-1])
        return frames.new_zeros(frames.shape[0], *memo[key], 0)


def streams_as(module: nn.Module, base: type) -> bool:
    """``module`` is a ``base`` that computes and streams as ``base`` does: a subclass that only builds one
    (a model made of a :class:`~asr_cnn.layers.StreamingSequential`), so ``base``'s structure may be relied on."""
    return isinstance(module, base) and all(getattr(type(module), name) is getattr(base, name)
                                            for name in ("forward", "streaming_forward"))


def available_outputs(n_frames: int, context: int, stride: int) -> int:
    """How many outputs a valid layer yields from ``n_frames`` inputs: ``(N - M) // S + 1``, at least 0.

    Args:
        n_frames: Input frames N.
        context: Receptive field M minus one.
        stride: Stride S.
    """
    if n_frames <= context:
        return 0
    return (n_frames - context - 1) // stride + 1


def reset_streams(state: State, streams: torch.Tensor) -> State:
    """Zero the state of some streams of a batch, leaving the others untouched.

    Args:
        state: A (possibly nested) state dict whose tensors have the batch first.
        streams: Boolean mask (B,) of the streams to reset.
    """
    out: State = {}
    for key, value in state.items():
        if isinstance(value, dict):
            out[key] = reset_streams(value, streams)
        else:
            mask = streams.to(value.device).view(-1, *([1] * (value.dim() - 1)))  # (B, 1, ..., 1)
            out[key] = torch.where(mask, torch.zeros((), dtype=value.dtype, device=value.device), value)
    return out


def flatten_state(state: State, prefix: str = "") -> dict[str, torch.Tensor]:
    """Flatten a nested state into dotted names (``"body.0.buffer"``), e.g. for ONNX inputs."""
    flat: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_state(value, prefix=f"{name}."))
        else:
            flat[name] = value
    return flat


def unflatten_state(flat: dict[str, torch.Tensor]) -> State:
    """Inverse of :func:`flatten_state`."""
    state: State = {}
    for name, value in flat.items():
        node = state
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return state


class PointwiseLayer(StreamingLayer):
    """A layer that maps each frame on its own (reshapes, 1x1 maps): no context, no stride, no state."""

    def init_state(self, batch: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> State:
        """Nothing to remember between chunks."""
        return {}

    def streaming_forward(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Same as ``forward``: every frame is complete on arrival.

        Shape:
            x: (B, ..., T). Output: (B, ..., T).
        """
        return self(x), state

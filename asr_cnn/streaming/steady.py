"""The steady state of a stream: every buffer at the length it keeps once a stream has run a while.

Pushed one scan hop at a time, every layer receives the same number of frames per hop and keeps the same
number between hops, so a hop becomes a step of fixed shapes. Started from zeros of those shapes, such a
step first emits ``lag`` rows whose windows began before the stream (partly made of the zero state, not
of audio); every row after them equals :class:`~asr_cnn.streaming.StreamingScanner`'s. The ONNX export
and the fast runtime both step this way.
"""

from __future__ import annotations

import math

import torch

from asr_cnn.layers.streaming import State, StreamingLayer, flatten_state
from asr_cnn.placement import placement

MAX_WARM_UP_HOPS = 10_000
"""Give up finding steady state shapes after this many hops (no real window needs minutes)."""


def lag_rows(window_samples: int, hop_samples: int) -> int:
    """Rows a stream stepped from the zero state emits before its first window that lies wholly inside it."""
    return math.ceil(window_samples / hop_samples) - 1


def steady_state(layer: StreamingLayer, batch_size: int = 1, hop_samples: int | None = None) -> State:
    """Zeros shaped like the state of a stream that has run long enough for every buffer to settle.

    Hop-sized chunks are pushed until output has come out and no state shape changes any more.

    Args:
        layer: A spotter, or any streaming layer over samples.
        batch_size: Streams B.
        hop_samples: Samples per hop; ``None``: ``layer.hop_samples``.

    Raises:
        RuntimeError: The shapes still change after ``MAX_WARM_UP_HOPS`` hops.
    """
    hop = hop_samples or layer.hop_samples
    state = layer.init_state(batch_size, **placement(layer))
    silence = torch.zeros(batch_size, hop, **placement(layer))  # (B, hop)
    shapes = None
    with torch.inference_mode():
        for _ in range(MAX_WARM_UP_HOPS):
            rows, state = layer.streaming_forward(silence, state)
            now = {name: value.shape for name, value in flatten_state(state).items()}
            if produced(rows) and now == shapes:
                return zeros_like_state(state)
            shapes = now
    raise RuntimeError(f"state shapes still change after {MAX_WARM_UP_HOPS} hops; cannot step in fixed shapes")


def produced(rows: torch.Tensor | list[torch.Tensor]) -> bool:
    """Whether a streaming step emitted output: some frames, or some in every output of a list."""
    return all(r.shape[-1] for r in rows) if isinstance(rows, list) else bool(rows.shape[-1])


def zeros_like_state(state: State) -> State:
    """The same nesting (empty dicts of stateless layers included), every tensor replaced by normal zeros."""
    return {key: zeros_like_state(value) if isinstance(value, dict) else torch.zeros(value.shape, device=value.device)
            for key, value in state.items()}


def fill_state(template: State, flat: dict[str, torch.Tensor], prefix: str = "") -> State:
    """Nest flat dotted-name tensors like ``template`` (keeping the empty dicts that flattening drops)."""
    return {key: fill_state(value, flat, f"{prefix}{key}.") if isinstance(value, dict) else flat[f"{prefix}{key}"]
            for key, value in template.items()}

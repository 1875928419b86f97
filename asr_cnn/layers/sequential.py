"""A chain of streaming layers that streams each child, so no frame is computed twice."""

from __future__ import annotations

import torch
from torch import nn

from asr_cnn.layers.streaming import State, StreamingLayer

# Modules that act on each frame alone (no time context, no stride, no state): allowed as-is in a chain.
POINTWISE_MODULES: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh, nn.Hardswish,
    nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d,
    nn.BatchNorm1d, nn.BatchNorm2d,
)


def is_pointwise(module: nn.Module) -> bool:
    """True for modules that treat every frame independently (activations, batch norm in eval, dropout)."""
    return isinstance(module, POINTWISE_MODULES)


class StreamingSequential(StreamingLayer):
    """Runs its children in order, offline and streaming.

    Context and stride compose: a chain (c1, s1) then (c2, s2) has context ``c1 + s1 * c2`` and stride
    ``s1 * s2``. Streaming passes each chunk through every child's own ``streaming_forward``; the state
    is a dict keyed by child name.

    Args:
        *layers: :class:`StreamingLayer` instances, or pointwise torch modules (see ``POINTWISE_MODULES``).
            A dict-like ``nn.ModuleDict`` order is respected when given as keyword ``named``.

    Raises:
        TypeError: A child is neither a streaming layer nor pointwise, so streaming could not be exact.
    """

    def __init__(self, *layers: nn.Module, named: dict[str, nn.Module] | None = None) -> None:
        super().__init__()
        children = dict(named) if named is not None else {str(i): layer for i, layer in enumerate(layers)}
        if named is not None and layers:
            raise TypeError("give layers either positionally or as `named`, not both")
        for name, layer in children.items():
            if not isinstance(layer, StreamingLayer) and not is_pointwise(layer):
                raise TypeError(
                    f"layer {name!r} ({type(layer).__name__}) is neither a StreamingLayer nor a pointwise module; "
                    "wrap time-dependent operations in a StreamingLayer so they can stream exactly")
            self.add_module(name, layer)
        self.context, self.stride = compose_context(self.children())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply every child in order.

        Shape:
            x: (B, ..., T). Output: (B, ..., T') with T' = (T - 1 - context) // stride + 1.
        """
        for layer in self.children():
            x = layer(x)
        return x

    def init_state(self, batch: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> State:
        """One state per streaming child, keyed by the child's name."""
        return {name: layer.init_state(batch, device, dtype)
                for name, layer in self.named_children() if isinstance(layer, StreamingLayer)}

    def streaming_forward(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Stream a chunk through every child.

        Shape:
            x: (B, ..., T_in). Output: (B, ..., T_out), the outputs newly computable.
        """
        new_state: State = {}
        for name, layer in self.named_children():
            if isinstance(layer, StreamingLayer):
                x, new_state[name] = layer.streaming_forward(x, state[name])
            else:
                x = layer(x)
        return x, new_state


def compose_context(layers) -> tuple[int, int]:
    """Context and stride of layers applied in order (pointwise modules count as (0, 1)).

    Returns:
        ``(context, stride)`` of the whole chain, in input frames.
    """
    context, stride = 0, 1
    for layer in layers:
        if isinstance(layer, StreamingLayer):
            context += stride * layer.context
            stride *= layer.stride
    return context, stride

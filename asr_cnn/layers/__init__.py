"""Audio CNN layers, all valid in time and streamable (see ``asr_cnn.layers.streaming``)."""

from asr_cnn.layers.sequential import StreamingSequential, compose_context, is_pointwise
from asr_cnn.layers.streaming import PointwiseLayer, State, StreamingLayer, available_outputs, flatten_state, reset_streams, unflatten_state

__all__ = [
    "PointwiseLayer", "State", "StreamingLayer", "StreamingSequential", "available_outputs", "compose_context", "flatten_state",
    "is_pointwise", "reset_streams", "unflatten_state",
]

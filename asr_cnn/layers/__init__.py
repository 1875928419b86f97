"""Audio CNN layers, all valid in time and streamable (see ``asr_cnn.layers.streaming``)."""

from asr_cnn.layers.activation import FlooredLeakyReLU
from asr_cnn.layers.conv2d import TimeFreqConv2d
from asr_cnn.layers.fftconv import FFTConv1d
from asr_cnn.layers.neocognitron import CCells, SCells
from asr_cnn.layers.pooling import GlobalFreqPool, LearnedPool2d, Pool1d, Pool2d
from asr_cnn.layers.reshape import AddChannel, Conv1x1, FlattenFreq
from asr_cnn.layers.residual import Residual
from asr_cnn.layers.separable import DepthwiseSeparable2d
from asr_cnn.layers.sequential import StreamingSequential, compose_context, is_pointwise
from asr_cnn.layers.sizes import conv_output_size, pool_output_size, receptive_field, same_padding
from asr_cnn.layers.streaming import PointwiseLayer, State, StreamingLayer, available_outputs, flatten_state, reset_streams, unflatten_state
from asr_cnn.layers.tdnn import TDNN

__all__ = [
    "AddChannel", "Conv1x1", "DepthwiseSeparable2d", "FlattenFreq", "GlobalFreqPool", "LearnedPool2d", "Pool1d", "Pool2d",
    "Residual", "TDNN", "TimeFreqConv2d", "conv_output_size", "pool_output_size", "receptive_field", "same_padding",
    "PointwiseLayer", "State", "StreamingLayer", "StreamingSequential", "available_outputs", "compose_context", "flatten_state",
    "is_pointwise", "reset_streams", "unflatten_state",
    "CCells", "FFTConv1d", "FlooredLeakyReLU", "SCells",
]

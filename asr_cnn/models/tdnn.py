"""Waibel-style time-delay neural network body: 1-D convolutions over time with growing context offsets."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from asr_cnn.layers import TDNN, StreamingSequential

# Three layers: context 48 frames (0.5 s receptive field), stride 4 (40 ms scan hop). A fourth layer
# would cost ~40 us more per 80 ms chunk in streaming, mostly per-call overhead, not arithmetic.
DEFAULT_CHANNELS = (64, 64, 64)
DEFAULT_OFFSETS = ((-2, -1, 0, 1, 2), (-3, 0, 3), (-4, 0, 4))
DEFAULT_STRIDES = (2, 2, 1)


class TDNNBody(StreamingSequential):
    """Stacked TDNN layers (convolution, batch norm, ReLU) over the feature vectors of each frame.

    The features are the input channels, as in Waibel's phoneme TDNN; each layer looks at a few frames
    of the layer below at its ``offsets``, so the context grows layer by layer while every layer stays
    small. Sparse offsets such as ``[-3, 0, 3]`` widen the view cheaply (Kaldi's TDNN); strides
    subsample time so higher layers run less often. A batch norm on the raw features normalises them
    with statistics fixed after training (per-utterance normalisation would not stream).

    Args:
        in_features: F, features per frame.
        channels: Output channels of each layer.
        offsets: Context offsets of each layer, in frames of the layer below.
        strides: Time stride of each layer.

    Raises:
        ValueError: The three lists differ in length or are empty.
    """

    def __init__(self, in_features: int, channels: Sequence[int] = DEFAULT_CHANNELS,
                 offsets: Sequence[Sequence[int]] = DEFAULT_OFFSETS, strides: Sequence[int] = DEFAULT_STRIDES) -> None:
        if not len(channels) == len(offsets) == len(strides) > 0:
            raise ValueError(f"need one entry per layer in channels, offsets, strides; got {len(channels)}, "
                             f"{len(offsets)}, {len(strides)}")
        layers: dict[str, nn.Module] = {"input_norm": nn.BatchNorm1d(in_features)}
        widths = [in_features, *channels]
        for i, (taps, stride) in enumerate(zip(offsets, strides)):
            layers[f"layer{i + 1}"] = StreamingSequential(named={
                # No bias: the batch norm's shift replaces it.
                "tdnn": TDNN(widths[i], widths[i + 1], offsets=list(taps), stride=stride, bias=False),
                "norm": nn.BatchNorm1d(widths[i + 1]),
                "relu": nn.ReLU(),
            })
        super().__init__(named=layers)
        self.in_features, self.out_channels = in_features, widths[-1]

"""LeNet / trad-fpool3-style time-frequency convnet (Sainath & Parada 2015), small and valid in time."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from asr_cnn.layers import AddChannel, FlattenFreq, Pool2d, StreamingSequential, TimeFreqConv2d


class CNN2d(StreamingSequential):
    """Two time-frequency convolutions with max pooling in frequency after the first, then flattened.

    As in cnn-trad-fpool3, the first layer's tall-and-long filters see a block of the spectrogram and
    max pooling over ``freq_pool`` bins (not time) buys tolerance to pitch and formant shifts; time
    resolution is kept for the window head. The maps are flattened to ``channels[-1] * F'`` channels.

    Args:
        in_features: F, features per frame.
        channels: Maps of the two convolutions.
        kernel_sizes: ``(kF, kT)`` of each convolution.
        time_strides: Time stride of each convolution.
        freq_pool: Max pooling block (and stride) over frequency after the first convolution.

    Raises:
        ValueError: Not two entries per list, or too few features for the kernels and pooling.
    """

    def __init__(self, in_features: int, channels: Sequence[int] = (16, 32),
                 kernel_sizes: Sequence[Sequence[int]] = ((8, 20), (4, 10)), time_strides: Sequence[int] = (2, 1),
                 freq_pool: int = 3) -> None:
        if not len(channels) == len(kernel_sizes) == len(time_strides) == 2:
            raise ValueError(f"CNN2d has two convolutions: need two channels, kernel_sizes, time_strides, got "
                             f"{list(channels)}, {list(kernel_sizes)}, {list(time_strides)}")
        convs = [TimeFreqConv2d(c_in, c_out, tuple(kernel), (1, stride), bias=False)
                 for c_in, c_out, kernel, stride in zip((1, channels[0]), channels, kernel_sizes, time_strides)]
        pool = Pool2d((freq_pool, 1), mode="max")
        freqs = convs[1].output_freqs(pool.output_freqs(convs[0].output_freqs(in_features)))
        super().__init__(named={
            "input_norm": nn.BatchNorm1d(in_features),
            "to_image": AddChannel(),
            "conv1": StreamingSequential(named={"conv": convs[0], "norm": nn.BatchNorm2d(channels[0]), "relu": nn.ReLU()}),
            "freq_pool": pool,
            "conv2": StreamingSequential(named={"conv": convs[1], "norm": nn.BatchNorm2d(channels[1]), "relu": nn.ReLU()}),
            "flatten": FlattenFreq(),
        })
        self.in_features, self.out_channels = in_features, channels[1] * freqs

"""Time-frequency convolution: "same" frequency padding, valid time, strides and dilation; exact streaming."""

import pytest
import torch
from hypothesis import given, settings
from streaming_helpers import assert_streams_exactly, check_streaming_contract, random_chunkings

from asr_cnn.layers import TimeFreqConv2d, conv_output_size, same_padding


@pytest.mark.parametrize("kernel_f", [1, 2, 3, 4, 5, 8])
def test_same_frequency_padding_keeps_bins_odd_and_even(kernel_f):
    layer = TimeFreqConv2d(1, 1, (kernel_f, 1))
    left, right = layer.freq_pad
    assert left + right == kernel_f - 1 and abs(left - right) <= 1
    assert layer(torch.randn(1, 1, 13, 5)).shape == (1, 1, 13, 5)


def test_even_kernel_pads_the_extra_zero_on_the_high_side():
    # A kernel of 2 ones over bins [1, 2, 3]: padded [1, 2, 3, 0] -> sums [3, 5, 3].
    layer = TimeFreqConv2d(1, 1, (2, 1), bias=False)
    with torch.no_grad():
        layer.conv.weight.fill_(1.0)
    x = torch.tensor([1.0, 2.0, 3.0]).view(1, 1, 3, 1)
    torch.testing.assert_close(layer(x).flatten(), torch.tensor([3.0, 5.0, 3.0]))


def test_time_is_never_padded():
    layer = TimeFreqConv2d(2, 3, (3, 4), stride=(1, 2), dilation=(1, 3))
    assert layer.context == 9 and layer.stride == 2
    assert layer(torch.randn(1, 2, 10, 30)).shape == (1, 3, 10, conv_output_size(30, 4, 2, 3))


@pytest.mark.parametrize("freq_padding, expected", [("valid", 40 - 7), (3, 40 - 7 + 3), ("same", 40)])
def test_frequency_padding_modes_and_stride(freq_padding, expected):
    layer = TimeFreqConv2d(1, 2, (8, 3), freq_padding=freq_padding)
    assert layer(torch.randn(1, 1, 40, 5)).shape[2] == expected == layer.output_freqs(40)
    strided = TimeFreqConv2d(1, 2, (4, 3), stride=(2, 1), freq_padding=freq_padding)
    assert strided(torch.randn(1, 1, 40, 5)).shape[2] == strided.output_freqs(40)
    if freq_padding == "same":
        assert strided.output_freqs(40) == 20 and strided.freq_pad == same_padding(4)


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=(3, 3)), dict(kernel_size=(4, 2), stride=(2, 2)), dict(kernel_size=(3, 3), dilation=(2, 2), stride=(1, 4)),
    dict(kernel_size=(5, 1)), dict(kernel_size=(3, 5), groups=2, freq_padding="valid")])
def test_streams_exactly(kwargs):
    torch.manual_seed(0)
    layer = TimeFreqConv2d(2, 4, **kwargs)
    check_streaming_contract(layer, torch.randn(3, 2, 12, 35))


@settings(max_examples=6, deadline=None)
@given(chunks=random_chunkings)
def test_streams_exactly_random_chunks(chunks):
    torch.manual_seed(0)
    layer = TimeFreqConv2d(2, 3, (3, 4), stride=(2, 2), dilation=(1, 2))
    assert_streams_exactly(layer, torch.randn(2, 2, 10, 33), [chunks])


@pytest.mark.parametrize("kwargs, match", [
    (dict(kernel_size=(3, 0)), "kernel_size"), (dict(kernel_size=3, stride=(1, 2, 3)), "stride"),
    (dict(kernel_size=3, freq_padding="full"), "freq_padding"), (dict(kernel_size=3, freq_padding=-1), "freq_padding"),
    (dict(kernel_size=3, groups=3), "groups")])
def test_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TimeFreqConv2d(2, 4, **kwargs)

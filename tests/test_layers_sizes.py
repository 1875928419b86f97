"""Output-size helpers and the "same" padding rule."""

import pytest
import torch
from torch import nn

from asr_cnn.layers import TDNN, Pool2d, TimeFreqConv2d, conv_output_size, pool_output_size, receptive_field, same_padding
from asr_cnn.layers.sizes import check_time_stride


@pytest.mark.parametrize("kernel_size", range(1, 9))
@pytest.mark.parametrize("dilation", [1, 2, 3])
def test_same_padding_rule(kernel_size, dilation):
    left, right = same_padding(kernel_size, dilation)
    assert left + right == dilation * (kernel_size - 1)
    assert 0 <= right - left <= 1  # symmetric when possible, the extra zero on the right
    assert conv_output_size(40, kernel_size, dilation=dilation, padding=left + right) == 40


@pytest.mark.parametrize("n, kernel, stride, dilation, padding", [
    (98, 3, 1, 1, 0), (98, 5, 2, 1, 0), (40, 8, 1, 1, 0), (40, 4, 2, 1, 3), (101, 3, 2, 4, 0), (7, 7, 3, 1, 0)])
def test_conv_output_size_matches_torch(n, kernel, stride, dilation, padding):
    x = torch.zeros(1, 1, n + padding)
    expected = nn.functional.conv1d(x, torch.zeros(1, 1, kernel), stride=stride, dilation=dilation).shape[-1]
    assert conv_output_size(n, kernel, stride, dilation, padding) == expected
    assert conv_output_size(n, kernel, stride, dilation, padding) == (n + padding - dilation * (kernel - 1) - 1) // stride + 1


def test_pool_output_size_defaults_stride_to_kernel():
    assert pool_output_size(40, 3) == 13  # trad-fpool3: 40 bins pooled by 3 -> 13 (the last bin dropped)
    assert pool_output_size(40, 3, 1) == 38
    assert pool_output_size(41, 2, padding=1) == 21


def test_sizes_reject_too_short_and_bad_arguments():
    with pytest.raises(ValueError, match="length 4"):
        conv_output_size(4, 3, dilation=2)
    with pytest.raises(ValueError, match="stride=0"):
        conv_output_size(10, 3, stride=0)
    with pytest.raises(ValueError, match="kernel_size=0"):
        same_padding(0)


def test_layers_agree_with_size_helpers():
    torch.manual_seed(0)
    conv = TimeFreqConv2d(2, 3, (4, 3), stride=(2, 2), dilation=(1, 2))
    pool = Pool2d((3, 2), (2, 2))
    x = torch.randn(1, 2, 40, 30)
    y = conv(x)
    assert y.shape[2:] == (conv_output_size(40, 4, 2, 1, 3), conv_output_size(30, 3, 2, 2))
    assert pool(y).shape[2:] == (pool_output_size(y.shape[2], 3, 2), pool_output_size(y.shape[3], 2, 2))


def test_time_stride_may_not_skip_frames():
    check_time_stride(2, 3)  # stride == receptive field: blocks touch, none skipped
    with pytest.raises(ValueError, match="time stride 4 exceeds the receptive field of 3"):
        check_time_stride(2, 4)
    for make in (lambda: TimeFreqConv2d(1, 1, (3, 1), stride=(1, 2)), lambda: Pool2d((2, 2), (2, 3))):
        with pytest.raises(ValueError, match="exceeds"):
            make()


def test_receptive_field_composes():
    layers = [TDNN(4, 4, kernel_size=5, stride=2), nn.ReLU(), TDNN(4, 4, offsets=[-2, 0, 2])]
    assert receptive_field(layers) == 4 + 2 * 4 + 1

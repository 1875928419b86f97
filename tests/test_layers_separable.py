"""Depthwise-separable block: factored weights, exact streaming."""

import pytest
import torch
from hypothesis import given, settings
from streaming_helpers import assert_streams_exactly, check_streaming_contract, random_chunkings, randomize_batchnorm

from asr_cnn.layers import DepthwiseSeparable2d


def test_factored_weight_count():
    block = DepthwiseSeparable2d(8, 16, (3, 5))
    convs = block.depthwise.conv.weight.numel() + block.pointwise.conv.weight.numel()
    assert convs == 8 * 3 * 5 + 8 * 16
    assert (block.context, block.stride) == (4, 1)


@pytest.mark.parametrize("kwargs", [dict(), dict(kernel_size=(3, 3), stride=(2, 2)), dict(kernel_size=(4, 2), dilation=(1, 3))])
def test_streams_exactly(kwargs):
    torch.manual_seed(0)
    block = randomize_batchnorm(DepthwiseSeparable2d(4, 6, **kwargs))
    y = check_streaming_contract(block, torch.randn(3, 4, 10, 30))
    assert y.shape[1] == 6 and y.shape[2] == block.depthwise.output_freqs(10)


@settings(max_examples=5, deadline=None)
@given(chunks=random_chunkings)
def test_streams_exactly_random_chunks(chunks):
    torch.manual_seed(0)
    block = randomize_batchnorm(DepthwiseSeparable2d(3, 5, (3, 3), stride=(1, 2))).eval()
    assert_streams_exactly(block, torch.randn(2, 3, 8, 29), [chunks])

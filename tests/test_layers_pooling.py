"""Max, mean and learned pooling over frequency, time or both; sizes and exact streaming."""

import pytest
import torch
from hypothesis import given, settings
from streaming_helpers import assert_streams_exactly, check_streaming_contract, random_chunkings

from asr_cnn.layers import GlobalFreqPool, LearnedPool2d, Pool1d, Pool2d, pool_output_size


def test_hand_computed_max_and_mean():
    # The lecture's 4x4 example pooled 2x2 with stride 2.
    x = torch.tensor([[1.0, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]).view(1, 1, 4, 4)
    torch.testing.assert_close(Pool2d(2, mode="max")(x).view(2, 2), torch.tensor([[6.0, 8], [3, 4]]))
    torch.testing.assert_close(Pool2d(2, mode="mean")(x).view(2, 2), torch.tensor([[3.25, 5.25], [2, 2]]))


@pytest.mark.parametrize("layer_cls", [Pool2d, LearnedPool2d])
@pytest.mark.parametrize("kernel, stride", [((3, 1), None), ((1, 3), (1, 2)), ((2, 2), None), ((3, 4), (2, 2))])
def test_output_sizes_agree_with_helper(layer_cls, kernel, stride):
    layer = layer_cls(kernel, stride)
    y = layer(torch.randn(2, 3, 40, 31))
    s = kernel if stride is None else stride
    assert y.shape == (2, 3, pool_output_size(40, kernel[0], s[0]), pool_output_size(31, kernel[1], s[1]))
    assert y.shape[2] == layer.output_freqs(40)
    assert layer.context == kernel[1] - 1 and layer.stride == s[1]


@pytest.mark.parametrize("mode", ["max", "mean"])
@pytest.mark.parametrize("kernel, stride", [((3, 1), None), ((1, 3), (1, 2)), ((2, 3), (2, 2)), ((3, 4), None)])
def test_pool2d_streams_exactly(mode, kernel, stride):
    torch.manual_seed(0)
    check_streaming_contract(Pool2d(kernel, stride, mode), torch.randn(3, 2, 9, 34))


@pytest.mark.parametrize("mode", ["max", "mean"])
@pytest.mark.parametrize("kernel, stride", [(1, None), (3, 1), (2, None), (4, 3)])
def test_pool1d_streams_exactly(mode, kernel, stride):
    torch.manual_seed(0)
    layer = Pool1d(kernel, stride, mode)
    y = check_streaming_contract(layer, torch.randn(3, 4, 34))
    assert y.shape[-1] == pool_output_size(34, kernel, stride)


@pytest.mark.parametrize("mode", ["max", "mean"])
def test_global_freq_pool(mode):
    x = torch.randn(3, 2, 9, 10)
    y = check_streaming_contract(GlobalFreqPool(mode), x)
    torch.testing.assert_close(y, x.amax(2) if mode == "max" else x.mean(2))


def test_learned_pool_is_one_network_shared_by_blocks_and_channels():
    torch.manual_seed(0)
    layer = LearnedPool2d((2, 2), hidden=3)
    assert sum(p.numel() for p in layer.parameters()) == 3 * 4 + 3 + 3 + 1  # independent of channels
    x = torch.randn(1, 2, 4, 4)
    y = layer(x)
    block = x[0, 1, 2:4, 0:2].reshape(-1)  # channel 1, frequency block 1, time block 0
    hidden = torch.relu(layer.block.weight.view(3, 4) @ block + layer.block.bias)
    expected = layer.out.weight.view(3) @ hidden + layer.out.bias
    torch.testing.assert_close(y[0, 1, 1, 0], expected[0])


@pytest.mark.parametrize("kernel, stride", [((2, 2), None), ((3, 3), (1, 2)), ((3, 1), None)])
def test_learned_pool_streams_exactly(kernel, stride):
    torch.manual_seed(0)
    check_streaming_contract(LearnedPool2d(kernel, stride, hidden=4), torch.randn(3, 2, 9, 29))


@settings(max_examples=6, deadline=None)
@given(chunks=random_chunkings)
def test_pools_stream_exactly_random_chunks(chunks):
    torch.manual_seed(0)
    x = torch.randn(2, 2, 9, 31)
    assert_streams_exactly(Pool2d((2, 3), (2, 2)), x, [chunks])
    assert_streams_exactly(LearnedPool2d((3, 2), (3, 2)), x, [chunks])
    assert_streams_exactly(Pool1d(3, 2, "mean"), x[:, 0], [chunks])


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        Pool2d(2, mode="median")
    with pytest.raises(ValueError, match="kernel_size"):
        Pool2d((0, 2))
    with pytest.raises(ValueError, match="stride=0"):
        Pool1d(2, 0)
    with pytest.raises(ValueError, match="hidden"):
        LearnedPool2d(2, hidden=0)
    with pytest.raises(ValueError, match=r"\(B, C, F, T\)"):
        Pool2d(2)(torch.zeros(1, 2, 3))

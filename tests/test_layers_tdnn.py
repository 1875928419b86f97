"""TDNN layer: context offsets, dilation, stride; hand-computed values; exact streaming."""

import pytest
import torch
from hypothesis import given, settings
from streaming_helpers import assert_streams_exactly, check_streaming_contract, random_chunkings

from asr_cnn.layers import TDNN, conv_output_size


def test_hand_computed_offsets():
    # Offsets [-1, 1] on a ramp: y_j = 2 * x[j] + 3 * x[j + 2] + 1 (output sits at its last frame).
    layer = TDNN(1, 1, offsets=[-1, 1])
    with torch.no_grad():
        layer.conv.weight.copy_(torch.tensor([[[2.0, 3.0]]]))
        layer.conv.bias.fill_(1.0)
    ramp = torch.arange(6.0).view(1, 1, 6)
    assert layer.context == 2 and layer.dilation == 2
    torch.testing.assert_close(layer(ramp), torch.tensor([[[7.0, 12.0, 17.0, 22.0]]]))


def test_irregular_offsets_splice_equals_the_sparse_kernel():
    torch.manual_seed(0)
    layer = TDNN(3, 4, offsets=[-3, 0, 1], stride=2)
    assert layer.dilation is None and layer.context == 4
    x = torch.randn(2, 3, 21)
    # The same weights placed on a dense kernel of 5 taps, zeros between them.
    dense = torch.zeros(4, 3, 5)
    dense[..., [0, 3, 4]] = layer.conv.weight.detach()
    expected = torch.nn.functional.conv1d(x, dense, layer.conv.bias, stride=2)
    torch.testing.assert_close(layer(x), expected)
    assert layer(x).shape[-1] == conv_output_size(21, 5, 2)


@pytest.mark.parametrize("kwargs", [
    dict(offsets=[-2, 0, 2]), dict(offsets=[-3, 0, 3], stride=2), dict(offsets=[-2, -1, 0, 1, 2], stride=3),
    dict(offsets=[-4, -1, 0, 2]), dict(offsets=[0]), dict(kernel_size=3, dilation=2, stride=2), dict(kernel_size=1)])
def test_streams_exactly(kwargs):
    torch.manual_seed(0)
    layer = TDNN(3, 5, **kwargs)
    check_streaming_contract(layer, torch.randn(3, 3, 40))


@settings(max_examples=8, deadline=None)
@given(chunks=random_chunkings)
def test_streams_exactly_random_chunks(chunks):
    torch.manual_seed(0)
    layer = TDNN(3, 5, offsets=[-3, -1, 0, 2], stride=2)
    assert_streams_exactly(layer, torch.randn(2, 3, 37), [chunks])


@pytest.mark.parametrize("kwargs, match", [
    (dict(), "exactly one"), (dict(offsets=[0, 1], kernel_size=2), "exactly one"),
    (dict(offsets=[2, 0]), "sorted"), (dict(offsets=[0, 0]), "sorted"), (dict(offsets=[]), "non-empty"),
    (dict(kernel_size=3, stride=0), "stride=0"), (dict(kernel_size=1, stride=2), "exceeds the receptive field"),
    (dict(offsets=[0, 2], dilation=2), "dilation")])
def test_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TDNN(2, 2, **kwargs)


def test_rejects_short_or_misshaped_input():
    layer = TDNN(2, 2, offsets=[-2, 0, 2])
    with pytest.raises(ValueError, match="length 4"):
        layer(torch.zeros(1, 2, 4))
    with pytest.raises(ValueError, match=r"\(B, 2, T\)"):
        layer(torch.zeros(1, 3, 9))

"""AddChannel, FlattenFreq and Conv1x1: frame-wise, so they stream trivially."""

import pytest
import torch
from streaming_helpers import check_streaming_contract

from asr_cnn.layers import AddChannel, Conv1x1, FlattenFreq


def test_add_channel_and_flatten_freq():
    x = torch.randn(2, 5, 9)
    image = AddChannel()(x)
    assert image.shape == (2, 1, 5, 9)
    maps = torch.randn(2, 3, 5, 9)
    flat = FlattenFreq()(maps)
    assert flat.shape == (2, 15, 9)
    assert torch.equal(flat[:, 5:10], maps[:, 1])  # channel-major: map 1's bins follow map 0's
    check_streaming_contract(FlattenFreq(), maps)


def test_conv1x1_is_the_same_map_in_1d_and_2d():
    torch.manual_seed(0)
    conv = Conv1x1(3, 4)
    maps = torch.randn(2, 3, 5, 9)
    y = conv(maps)
    assert y.shape == (2, 4, 5, 9)
    torch.testing.assert_close(y[:, :, 2], conv(maps[:, :, 2]))
    check_streaming_contract(conv, maps)


def test_reshapes_reject_wrong_rank():
    with pytest.raises(ValueError, match=r"\(B, F, T\)"):
        AddChannel()(torch.zeros(1, 2, 3, 4))
    with pytest.raises(ValueError, match=r"\(B, C, F, T\)"):
        FlattenFreq()(torch.zeros(1, 2, 3))
    with pytest.raises(ValueError, match="in_channels"):
        Conv1x1(0, 3)

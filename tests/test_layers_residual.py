"""Residual block: identity cropped right-aligned, body streamed once, small delay line."""

import pytest
import torch
from hypothesis import given, settings
from streaming_helpers import assert_streams_exactly, check_streaming_contract, random_chunkings, randomize_batchnorm, stream
from torch import nn

from asr_cnn.layers import TDNN, Conv1x1, Pool1d, Residual, StreamingSequential, TimeFreqConv2d


def first_frame_body(stride: int = 1) -> TDNN:
    """A body of known delay: output j is input frame j * stride (the first of its 3-frame window)."""
    body = TDNN(1, 1, kernel_size=3, stride=stride, bias=False)
    with torch.no_grad():
        body.conv.weight.copy_(torch.tensor([[[1.0, 0.0, 0.0]]]))
    return body


@pytest.mark.parametrize("stride, expected", [(1, [2.0, 4, 6, 8, 10]), (2, [2.0, 6, 10])])
def test_identity_is_cropped_right_aligned(stride, expected):
    # Output j = x[j * stride] (body) + x[j * stride + 2] (identity at the body window's last frame).
    ramp = torch.arange(7.0).view(1, 1, 7)
    block = Residual(first_frame_body(stride))
    torch.testing.assert_close(block(ramp).flatten(), torch.tensor(expected))
    assert_streams_exactly(block, ramp)


def test_projection_shortcut_and_2d_body():
    torch.manual_seed(0)
    body = StreamingSequential(TimeFreqConv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), TimeFreqConv2d(4, 4, (3, 2), stride=(1, 2)))
    block = randomize_batchnorm(Residual(body, StreamingSequential(Conv1x1(2, 4), nn.BatchNorm2d(4))))
    assert (block.context, block.stride) == (2 + 1, 2)
    check_streaming_contract(block, torch.randn(3, 2, 6, 31))


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_nested_residuals_stream_exactly(stride):
    torch.manual_seed(0)
    inner = Residual(StreamingSequential(TDNN(3, 3, offsets=[-1, 0, 1]), nn.ReLU(), TDNN(3, 3, offsets=[-2, 0])))
    outer = Residual(StreamingSequential(inner, TDNN(3, 5, kernel_size=3, stride=stride), Pool1d(2, 1)), Conv1x1(3, 5))
    check_streaming_contract(outer, torch.randn(3, 3, 40))


class CountingTDNN(TDNN):
    """Counts the output frames it computes for the test's batch of 2 (not the one-off shape probe on 1)."""

    computed = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = super().forward(x)
        self.computed += y.shape[-1] if x.shape[0] == 2 else 0
        return y


@settings(max_examples=8, deadline=None)
@given(chunks=random_chunkings)
def test_body_frames_computed_once_and_delay_line_small(chunks):
    torch.manual_seed(0)
    body = CountingTDNN(2, 2, offsets=[-2, 0, 3], stride=2)
    block = Residual(body)
    x = torch.randn(2, 2, 37)
    expected = block(x)
    body.computed = 0
    got, state = stream(block, x, chunks)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    assert body.computed == expected.shape[-1]
    assert state["delay"].shape[-1] <= block.context + block.stride - 1


def test_rejects_time_dependent_shortcut_or_plain_body():
    with pytest.raises(TypeError, match="shortcut"):
        Residual(TDNN(2, 2, kernel_size=3), TDNN(2, 2, kernel_size=2))
    with pytest.raises(TypeError, match="body"):
        Residual(nn.Conv1d(2, 2, 3))

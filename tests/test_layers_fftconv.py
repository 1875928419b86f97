"""FFTConv1d: equal to direct convolution, chooses its method by cost, streams exactly."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from streaming_helpers import assert_streams_exactly, check_streaming_contract, random_chunkings

from asr_cnn.fft import fft_size
from asr_cnn.layers.fftconv import FFT_COST_SCALE, FFTConv1d, direct_cost, fft_cost

TOLERANCE = 1e-4  # relative to the largest output magnitude


def assert_close_to_scale(actual: torch.Tensor, expected: torch.Tensor, tolerance: float = TOLERANCE) -> None:
    assert actual.shape == expected.shape
    scale = expected.abs().max().clamp_min(1.0)
    assert (actual - expected).abs().max() <= tolerance * scale


@settings(max_examples=25, deadline=None)
@given(batch=st.integers(1, 2), c_in=st.integers(1, 4), c_out=st.integers(1, 4), kernel=st.integers(1, 40),
       dilation=st.integers(1, 3), extra=st.integers(0, 50), bias=st.booleans())
def test_fft_and_direct_equal_conv1d(batch, c_in, c_out, kernel, dilation, extra, bias):
    torch.manual_seed(kernel * 100 + extra)
    layer = FFTConv1d(c_in, c_out, kernel, dilation=dilation, bias=bias)
    x = torch.randn(batch, c_in, layer.context + 1 + extra)
    expected = F.conv1d(x, layer.weight, layer.bias, dilation=dilation)
    for method in ("fft", "direct"):
        layer.method = method
        assert_close_to_scale(layer(x), expected)


def test_fft_gradients_match_direct():
    torch.manual_seed(0)
    layer = FFTConv1d(3, 2, 9, dilation=2, method="fft")
    x = torch.randn(2, 3, 40, requires_grad=True)
    layer(x).square().sum().backward()
    fft_grads = [x.grad.clone(), layer.weight.grad.clone(), layer.bias.grad.clone()]
    x.grad, layer.weight.grad, layer.bias.grad = None, None, None
    F.conv1d(x, layer.weight, layer.bias, dilation=2).square().sum().backward()
    for fft_grad, direct_grad in zip(fft_grads, [x.grad, layer.weight.grad, layer.bias.grad]):
        assert_close_to_scale(fft_grad, direct_grad)


def test_auto_follows_cost_model():
    batch, channels, frames = 4, 32, 2048
    assert FFTConv1d(channels, channels, 3).choose_method(batch, frames) == "direct"
    assert FFTConv1d(channels, channels, 512).choose_method(batch, frames) == "fft"
    choices = []
    for kernel in (3, 8, 16, 32, 64, 128, 256, 512, 1024):
        layer = FFTConv1d(channels, channels, kernel)
        predicted_fft = (FFT_COST_SCALE * fft_cost(batch, channels, channels, fft_size(frames))
                         < direct_cost(batch, channels, channels, kernel, frames - kernel + 1))
        choices.append(layer.choose_method(batch, frames))
        assert choices[-1] == ("fft" if predicted_fft else "direct")
    # One crossover: once the FFT is cheaper, it stays cheaper for longer kernels.
    assert choices == sorted(choices)  # "direct" < "fft"


def test_fixed_method_is_respected():
    assert FFTConv1d(32, 32, 1024, method="direct").choose_method(4, 2048) == "direct"
    assert FFTConv1d(1, 1, 3, method="fft").choose_method(1, 10) == "fft"


@pytest.mark.parametrize("method", ["auto", "fft", "direct"])
def test_streaming_equals_offline(method):
    # Chunks of 1, the stride, 7 and the whole clip; batch consistency; resetting one stream.
    torch.manual_seed(1)
    check_streaming_contract(FFTConv1d(3, 4, 5, dilation=3, method=method), torch.randn(2, 3, 61))


@settings(max_examples=10, deadline=None)
@given(chunks=random_chunkings)
def test_streaming_random_chunks(chunks):
    torch.manual_seed(2)
    layer = FFTConv1d(8, 8, 200)
    x = torch.randn(2, 8, 1200)
    # "auto" runs the whole clip by FFT and short chunks directly: streaming mixes both methods.
    assert layer.choose_method(2, x.shape[-1]) == "fft"
    assert layer.choose_method(2, layer.context + 2 * max(chunks)) == "direct"
    with torch.no_grad():
        scale = layer(x).abs().max().item()
    assert_streams_exactly(layer, x, [chunks], atol=TOLERANCE * scale)


@pytest.mark.parametrize("kwargs, needle", [
    ({"method": "fast"}, "'fast'"),
    ({"kernel_size": 0}, "kernel_size must be >= 1, got 0"),
    ({"dilation": -1}, "dilation must be >= 1, got -1"),
    ({"in_channels": 0}, "in_channels must be >= 1, got 0"),
])
def test_bad_arguments(kwargs, needle):
    arguments = {"in_channels": 2, "out_channels": 2, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError, match=needle):
        FFTConv1d(**arguments)


def test_bad_input():
    layer = FFTConv1d(2, 2, 5)
    with pytest.raises(ValueError, match=r"\(B, 2, T\), got shape \(1, 3, 10\)"):
        layer(torch.zeros(1, 3, 10))
    with pytest.raises(ValueError, match="context=4 frames, got T=4"):
        layer(torch.zeros(1, 2, 4))

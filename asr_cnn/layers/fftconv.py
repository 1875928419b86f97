"""1-D convolution over time computed directly or through the FFT, whichever is estimated cheaper.

Correlating a length-``T`` signal with a length-``M`` kernel directly costs ``M`` multiply-adds per output;
in the transform domain it is ``IDFT(DFT(x) * conj(DFT(w)))``, whose cost hardly depends on ``M``
(O(N log N) transforms plus one complex product per frequency). Long kernels therefore favour the FFT.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from asr_cnn.fft import fft_size
from asr_cnn.layers.streaming import StreamingLayer

METHODS = ("auto", "fft", "direct")

FFT_COST_SCALE = 10.0
"""Time of one FFT-model operation (:func:`fft_cost`) in units of one direct multiply-add (:func:`direct_cost`).

Calibrated with ``python -m asr_cnn.bench.fftconv --repeats 15`` on the 2-core development CPU (torch 2.11,
B=4, C=32, T=2048), which prints the value at which the model's crossover matches the measured one: 9.0 to
9.9 over three runs (measured crossover at kernel length 48 to 64), rounded to 10.
"""

COMPLEX_MADD = 4
"""Real multiply-adds in one complex multiply-add (the per-frequency channel mixing)."""

def direct_cost(batch: int, in_channels: int, out_channels: int, kernel_size: int, out_frames: int) -> float:
    """Multiply-adds of direct correlation: one per tap, channel pair and output frame."""
    return float(batch * in_channels * out_channels * kernel_size * out_frames)


def fft_cost(batch: int, in_channels: int, out_channels: int, n_fft: int) -> float:
    """Operations of FFT correlation of size ``n_fft``, before scaling by :data:`FFT_COST_SCALE`.

    One ``N log2 N`` transform per input signal, kernel and output signal, plus the channel mixing:
    a complex multiply-add per channel pair, example and one-sided frequency.
    """
    transforms = batch * in_channels + in_channels * out_channels + batch * out_channels
    mixing = COMPLEX_MADD * batch * in_channels * out_channels * (n_fft // 2 + 1)
    return transforms * n_fft * math.log2(n_fft) + mixing


class FFTConv1d(StreamingLayer):
    """Convolution over time (cross-correlation, like :func:`torch.nn.functional.conv1d`), valid in time.

    ``method="auto"`` picks, at every call, the cheaper of direct and FFT correlation by the cost model
    (:func:`direct_cost` versus :data:`FFT_COST_SCALE` times :func:`fft_cost`) for that input's shape.
    Both give the same result within float rounding.

    Args:
        in_channels: C_in.
        out_channels: C_out.
        kernel_size: Taps M.
        dilation: Spacing between taps; the receptive field is ``dilation * (M - 1) + 1`` frames.
        bias: Add a learned bias per output channel.
        method: ``"auto"``, ``"fft"`` or ``"direct"``.

    Raises:
        ValueError: A size is below 1 or ``method`` is unknown.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1, bias: bool = True,
                 method: str = "auto") -> None:
        super().__init__()
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("kernel_size", kernel_size), ("dilation", dilation)):
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.dilation, self.method = kernel_size, dilation, method
        self.context, self.stride = dilation * (kernel_size - 1), 1
        # Same parameters and initialisation as nn.Conv1d, so the two are interchangeable.
        reference = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation, bias=bias)
        self.weight = nn.Parameter(reference.weight.detach().clone())  # (C_out, C_in, M)
        self.bias = nn.Parameter(reference.bias.detach().clone()) if bias else None  # (C_out,)

    def choose_method(self, batch: int, frames: int) -> str:
        """``"direct"`` or ``"fft"``: the configured method, or for ``"auto"`` the cheaper by the cost model."""
        if self.method != "auto":
            return self.method
        out_frames = frames - self.context
        direct = direct_cost(batch, self.in_channels, self.out_channels, self.kernel_size, out_frames)
        fft = FFT_COST_SCALE * fft_cost(batch, self.in_channels, self.out_channels, fft_size(frames))
        return "fft" if fft < direct else "direct"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Correlate every output channel's kernel with the input, without time padding.

        Shape:
            x: (B, C_in, T) with T > context. Output: (B, C_out, T - context).

        Raises:
            ValueError: ``x`` is not (B, C_in, T) or has too few frames.
        """
        if x.dim() != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected input (B, {self.in_channels}, T), got shape {tuple(x.shape)}")
        if x.shape[-1] <= self.context:
            raise ValueError(f"need more than context={self.context} frames, got T={x.shape[-1]}")
        if self.choose_method(x.shape[0], x.shape[-1]) == "direct":
            return F.conv1d(x, self.weight, self.bias, dilation=self.dilation)
        return self._fft_forward(x)

    def _fft_forward(self, x: torch.Tensor) -> torch.Tensor:
        frames = x.shape[-1]
        out_frames = frames - self.context
        # Circular correlation of size N >= T wraps only into outputs past T - context, which are dropped.
        n_fft = fft_size(frames)
        kernel = self.weight.new_zeros(self.out_channels, self.in_channels, self.context + 1)
        kernel[..., :: self.dilation] = self.weight  # (C_out, C_in, context + 1), zeros between dilated taps
        x_hat = torch.fft.rfft(x, n=n_fft)  # (B, C_in, N/2 + 1)
        w_hat = torch.fft.rfft(kernel, n=n_fft).conj()  # (C_out, C_in, N/2 + 1); conj: correlation, no flip
        # Channel mixing is one matrix product per frequency: (N', B, C_in) @ (N', C_in, C_out). Contiguous
        # operands, because batched complex matmul over strided views is several times slower.
        x_hat = x_hat.permute(2, 0, 1).contiguous()  # (N', B, C_in)
        w_hat = w_hat.permute(2, 1, 0).contiguous()  # (N', C_in, C_out)
        y_hat = torch.matmul(x_hat, w_hat).permute(1, 2, 0)  # (N', B, C_out) -> (B, C_out, N')
        y = torch.fft.irfft(y_hat, n=n_fft)[..., :out_frames]  # (B, C_out, T - context)
        if self.bias is not None:
            y = y + self.bias[:, None]
        return y

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, bias={self.bias is not None}, method={self.method!r}")

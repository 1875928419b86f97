"""Streaming resampling that equals torchaudio's offline ``resample`` for any chunking."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
# torchaudio's own windowed-sinc kernel, so streamed audio matches ``load_audio`` (which resamples offline).
from torchaudio.functional.functional import _get_sinc_resample_kernel

from asr_cnn.layers.streaming import StreamingLayer


class SincResample(StreamingLayer):
    """Windowed-sinc resampling as a valid strided convolution over samples.

    torchaudio computes ``new`` output samples from every ``orig`` input samples (rates divided by their
    gcd) with one filter bank of length ``2 * width + orig``; that is a valid convolution with stride
    ``orig``, so it streams like any layer. :class:`StreamResampler` adds torchaudio's edge padding.

    Args:
        orig_freq: Input rate in Hz.
        new_freq: Output rate in Hz.
    """

    def __init__(self, orig_freq: int, new_freq: int) -> None:
        super().__init__()
        if orig_freq <= 0 or new_freq <= 0:
            raise ValueError(f"sample rates must be positive, got {orig_freq} -> {new_freq}")
        gcd = math.gcd(int(orig_freq), int(new_freq))
        kernel, self.width = _get_sinc_resample_kernel(orig_freq, new_freq, gcd)  # (new, 1, 2 * width + orig)
        self.register_buffer("kernel", kernel, persistent=False)
        self.orig, self.new = orig_freq // gcd, new_freq // gcd
        self.context, self.stride = kernel.shape[-1] - 1, self.orig

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """Resample every complete filter position.

        Shape:
            wave: (B, S). Output: (B, new * n), n = 1 + (S - 2 * width - orig) // orig.
        """
        phases = F.conv1d(wave[:, None], self.kernel, stride=self.orig)  # (B, new, n) output j*new + p
        return phases.transpose(1, 2).reshape(wave.shape[0], -1)  # (B, n, new) -> (B, n * new) interleaved


class StreamResampler:
    """Resample a batch of streams chunk by chunk; :meth:`flush` emits the tail at the end.

    The concatenated outputs equal ``torchaudio.functional.resample`` of the whole signal (float
    tolerance), for any chunking.

    Args:
        orig_freq: Input rate in Hz.
        new_freq: Output rate in Hz.
        batch_size: Streams B.
    """

    def __init__(self, orig_freq: int, new_freq: int, batch_size: int = 1) -> None:
        self.layer = SincResample(orig_freq, new_freq)
        self.batch_size = batch_size
        self.reset()

    def reset(self) -> None:
        """Start afresh: torchaudio pads ``width`` zeros before the signal."""
        self.state = {"buffer": torch.zeros(self.batch_size, self.layer.width)}
        self.samples_in = self.samples_out = 0

    def push(self, chunk: torch.Tensor) -> torch.Tensor:
        """Resample the next input samples.

        Shape:
            chunk: (B, S_in). Output: (B, S_out), the samples that became computable.
        """
        out, self.state = self.layer.streaming_forward(chunk.to(self.layer.kernel.dtype), self.state)
        self.samples_in += chunk.shape[-1]
        self.samples_out += out.shape[-1]
        return out

    def flush(self) -> torch.Tensor:
        """The last samples, computed against torchaudio's zero padding after the end.

        Shape:
            Output: (B, S_tail), so that the total is ``ceil(new * S_in / orig)``.
        """
        total = math.ceil(self.layer.new * self.samples_in / self.layer.orig)
        pad = torch.zeros(self.batch_size, self.layer.width + self.layer.orig)
        out, self.state = self.layer.streaming_forward(pad, self.state)
        out = out[:, : max(0, total - self.samples_out)]
        self.samples_out += out.shape[-1]
        return out

"""Log-mel spectrogram front end with causal frames and the streaming contract."""

from __future__ import annotations

import torch

from asr_cnn.constants import F_MIN, HOP_LENGTH, LOG_FLOOR, N_FFT, N_MELS, SAMPLE_RATE, WIN_LENGTH
from asr_cnn.frontend import functional as F_
from asr_cnn.layers.streaming import StreamingLayer


class LogMel(StreamingLayer):
    """``log(mel power + 1e-6)`` of causal 25 ms frames every 10 ms.

    As a streaming layer over samples it has ``context = win_length - 1`` and ``stride = hop_length``:
    streaming keeps the samples that the next frames still need, so any chunking gives the offline frames.

    Args:
        sample_rate: Input rate in Hz.
        n_fft: FFT size (>= win_length); frames are zero-padded to it.
        win_length: Frame length in samples (Hann window, periodic).
        hop_length: Frame hop in samples.
        n_mels: Mel bands F.
        f_min: Lowest filter edge in Hz.
        f_max: Highest filter edge in Hz; ``None`` means sample_rate / 2.
    """

    def __init__(self, sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, win_length: int = WIN_LENGTH,
                 hop_length: int = HOP_LENGTH, n_mels: int = N_MELS, f_min: float = F_MIN,
                 f_max: float | None = None) -> None:
        super().__init__()
        nyquist = sample_rate / 2
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        if not 0 < win_length <= n_fft:
            raise ValueError(f"win_length must be in (0, n_fft={n_fft}], got {win_length}")
        if hop_length <= 0:
            raise ValueError(f"hop_length must be positive, got {hop_length}")
        if n_mels <= 0:
            raise ValueError(f"n_mels must be positive, got {n_mels}")
        top = nyquist if f_max is None else f_max
        if not 0 <= f_min < top <= nyquist:
            raise ValueError(f"need 0 <= f_min < f_max <= {nyquist}, got f_min={f_min}, f_max={f_max}")
        self.sample_rate, self.n_fft, self.win_length, self.hop_length = sample_rate, n_fft, win_length, hop_length
        self.n_mels, self.f_min, self.f_max = n_mels, f_min, f_max
        self.context, self.stride = win_length - 1, hop_length
        # Derived from the arguments, so kept out of the state_dict.
        self.register_buffer("window", torch.hann_window(win_length, periodic=True), persistent=False)
        self.register_buffer("filterbank", F_.mel_filterbank(sample_rate, n_fft, n_mels, f_min, f_max),
                             persistent=False)

    @property
    def n_features(self) -> int:
        """F, the number of features per frame."""
        return self.n_mels

    def mel_power(self, wave: torch.Tensor) -> torch.Tensor:
        """Mel power before the log.

        Shape:
            wave: (B, S). Output: (B, F, T), T = 1 + (S - win_length) // hop_length.
        """
        return F_.mel_power(wave, self.window, self.filterbank, self.hop_length, self.n_fft)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """Log mel features of every complete causal frame.

        Shape:
            wave: (B, S). Output: (B, F, T), T = 1 + (S - win_length) // hop_length (0 if S < win).
        """
        if wave.dim() != 2:
            raise ValueError(f"{type(self).__name__} expects a waveform batch (B, S), got shape {tuple(wave.shape)}")
        return torch.log(self.mel_power(wave) + LOG_FLOOR)

    def extra_repr(self) -> str:
        return (f"sample_rate={self.sample_rate}, n_fft={self.n_fft}, win_length={self.win_length}, "
                f"hop_length={self.hop_length}, n_mels={self.n_mels}, f_min={self.f_min}, f_max={self.f_max}")

"""MFCC front end: the log-mel front end followed by an orthonormal DCT-II over the mel bands."""

from __future__ import annotations

import torch
import torchaudio.functional as AF

from asr_cnn.constants import F_MIN, HOP_LENGTH, N_FFT, N_MELS, N_MFCC, SAMPLE_RATE, WIN_LENGTH
from asr_cnn.frontend.logmel import LogMel


class MFCC(LogMel):
    """Mel-frequency cepstral coefficients of causal frames, streamable like :class:`LogMel`.

    Args:
        n_mfcc: Coefficients kept (<= n_mels).
        Others: as :class:`LogMel`.
    """

    def __init__(self, sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, win_length: int = WIN_LENGTH,
                 hop_length: int = HOP_LENGTH, n_mels: int = N_MELS, f_min: float = F_MIN,
                 f_max: float | None = None, n_mfcc: int = N_MFCC) -> None:
        super().__init__(sample_rate, n_fft, win_length, hop_length, n_mels, f_min, f_max)
        if not 0 < n_mfcc <= n_mels:
            raise ValueError(f"n_mfcc must be in (0, n_mels={n_mels}], got {n_mfcc}")
        self.n_mfcc = n_mfcc
        self.register_buffer("dct", AF.create_dct(n_mfcc, n_mels, norm="ortho"), persistent=False)  # (n_mels, n_mfcc)

    @property
    def n_features(self) -> int:
        """F, the number of coefficients per frame."""
        return self.n_mfcc

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """Cepstral coefficients of every complete causal frame.

        Shape:
            wave: (B, S). Output: (B, n_mfcc, T).
        """
        log_mel = super().forward(wave)  # (B, n_mels, T)
        return self.dct.T @ log_mel  # (n_mfcc, n_mels) @ (B, n_mels, T) -> (B, n_mfcc, T), contiguous for streaming

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, n_mfcc={self.n_mfcc}"

"""Stateless pieces of the spectrogram front end.

Framing is causal: frame ``t`` covers samples ``[t * hop, t * hop + win)``. The window is applied to
those ``win`` samples and the frame is zero-padded to ``n_fft`` before the FFT, so the number of
frames depends on the window length alone: ``T = 1 + (S - win) // hop``.
"""

from __future__ import annotations

import torch
import torchaudio.functional as AF


def num_frames(n_samples: int, win_length: int, hop_length: int) -> int:
    """Frames a causal front end yields from ``n_samples``: ``1 + (S - win) // hop``, at least 0."""
    if n_samples < win_length:
        return 0
    return 1 + (n_samples - win_length) // hop_length


def causal_frames(wave: torch.Tensor, win_length: int, hop_length: int) -> torch.Tensor:
    """Cut a waveform into overlapping causal frames.

    Shape:
        wave: (..., S). Output: (..., T, win_length) with T = ``num_frames(S, ...)``.
    """
    n = num_frames(wave.shape[-1], win_length, hop_length)
    if n == 0:
        return wave.new_zeros(*wave.shape[:-1], 0, win_length)
    return wave.unfold(-1, win_length, hop_length)  # (..., T, win) a strided view, no copy


def power_spectrum(frames: torch.Tensor, window: torch.Tensor, n_fft: int) -> torch.Tensor:
    """|FFT|^2 of windowed frames zero-padded to ``n_fft``.

    Shape:
        frames: (..., T, win). window: (win,). Output: (..., T, n_fft // 2 + 1).
    """
    spec = torch.fft.rfft(frames * window, n=n_fft)  # (..., T, n_fft // 2 + 1) complex
    return spec.real.square() + spec.imag.square()


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, f_min: float, f_max: float | None) -> torch.Tensor:
    """HTK-scale triangular mel filters without area normalisation (librosa's ``htk=True, norm=None``).

    Shape:
        Output: (n_fft // 2 + 1, n_mels).
    """
    return AF.melscale_fbanks(
        n_freqs=n_fft // 2 + 1,
        f_min=f_min,
        f_max=float(f_max if f_max is not None else sample_rate / 2),
        n_mels=n_mels,
        sample_rate=sample_rate,
        norm=None,
        mel_scale="htk",
    )


def mel_power(wave: torch.Tensor, window: torch.Tensor, filterbank: torch.Tensor, hop_length: int,
              n_fft: int) -> torch.Tensor:
    """Mel power of causal frames.

    Shape:
        wave: (..., S). window: (win,). filterbank: (n_fft // 2 + 1, F). Output: (..., F, T).
    """
    frames = causal_frames(wave, window.shape[0], hop_length)  # (..., T, win)
    if frames.shape[-2] == 0:  # too short for one frame; the FFT backends reject empty input
        return wave.new_zeros(*wave.shape[:-1], filterbank.shape[-1], 0)
    mel = power_spectrum(frames, window, n_fft) @ filterbank  # (..., T, F)
    return mel.transpose(-1, -2)  # (..., F, T) time last, as every layer expects

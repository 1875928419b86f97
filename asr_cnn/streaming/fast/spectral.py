"""The spectral front ends over a step's samples: the DFT as one matrix product, only the bins the mel
filters read."""

from __future__ import annotations

import math

import torch

from asr_cnn.constants import LOG_FLOOR
from asr_cnn.frontend import MFCC, LogMel, SpeechEmbeddingMel
from asr_cnn.frontend.speech_embedding_mel import DB_SHIFT, INT16_SCALE
from asr_cnn.streaming.fast.kernel import Kernel

SPECTRAL_FRONTENDS = (LogMel, MFCC, SpeechEmbeddingMel)


def dft_basis(window: torch.Tensor, n_fft: int, bins: torch.Tensor) -> torch.Tensor:
    """Windowed cosines and sines: ``frames @ basis`` is the real and imaginary DFT of the windowed frames,
    zero-padded to ``n_fft``, at ``bins``. Built in float64.

    Shape:
        window: (win,). bins: (n_bins,). Output: (win, 2 * n_bins), real parts first.
    """
    taps = torch.arange(window.shape[0], dtype=torch.float64, device=window.device)[:, None]
    angle = 2 * math.pi * taps * bins.double() / n_fft
    window = window.double()[:, None]
    return torch.cat([window * torch.cos(angle), -window * torch.sin(angle)], dim=1)


class Spectral(Kernel):
    """:class:`~asr_cnn.frontend.LogMel`, :class:`~asr_cnn.frontend.MFCC` or
    :class:`~asr_cnn.frontend.SpeechEmbeddingMel` for one step's samples.

    The frames' DFT is a product with a windowed cosine and sine basis restricted to the bins some mel
    filter reads (the others are multiplied by zero anyway), and the power's sum over real and imaginary
    parts is folded into the filter bank: two matrix products instead of an FFT call and its reshapes.

    Args:
        frontend: One of ``SPECTRAL_FRONTENDS``.
        carry: Samples kept between hops (the steady buffer length).
        example: One step's samples, (B, n * hop).
    """

    def __init__(self, frontend: LogMel | SpeechEmbeddingMel, carry: int, example: torch.Tensor) -> None:
        self.frontend, self.carry = frontend, carry
        self.hop, self.frame, self.step = example.shape[1], frontend.win_length, frontend.hop_length
        batch, frames = example.shape[0], (carry + self.hop - self.frame) // self.step + 1
        self.samples = example.new_zeros(batch, carry + self.hop)  # (B, carry + hop)
        self.inbox, self.front, self.kept = self.samples[:, carry:], self.samples[:, :carry], self.samples[:, self.hop:]
        self.overlapping = self.samples.unfold(1, self.frame, self.step)  # (B, T, win) a view
        self.frames = example.new_empty(batch, frames, self.frame)  # (B, T, win)
        bank = frontend.filterbank.double()  # (n_fft // 2 + 1, F)
        bins = bank.abs().sum(1).nonzero().flatten()
        scale = INT16_SCALE if isinstance(frontend, SpeechEmbeddingMel) else 1.0  # its graph reads int16 units
        self.basis = (scale * dft_basis(frontend.window, frontend.n_fft, bins)).to(example)  # (win, 2 * n_bins)
        self.bank = torch.cat([bank[bins], bank[bins]]).to(example)  # (2 * n_bins, F): re^2 + im^2 summed in
        self.dct = frontend.dct.to(example) if isinstance(frontend, MFCC) else None
        rows = batch * frames
        self.spectrum = example.new_empty(rows, self.basis.shape[1])  # (B * T, 2 * n_bins)
        self.mel = example.new_empty(rows, self.bank.shape[1])  # (B * T, F)
        self.cepstrum = None if self.dct is None else example.new_empty(rows, self.dct.shape[1])  # (B * T, n_mfcc)
        self.floor = 10.0 ** (frontend.floor_db / 10.0) if isinstance(frontend, SpeechEmbeddingMel) else None

    def __call__(self, chunk: torch.Tensor, commit: bool) -> torch.Tensor:
        """Features of the frames this step completes.

        Shape:
            chunk: (B, n * hop). Output: (T, B, F).
        """
        self.inbox.copy_(chunk)
        self.frames.copy_(self.overlapping)  # (B, T, win)
        torch.mm(self.frames.view(-1, self.frame), self.basis, out=self.spectrum)  # (B * T, 2 * n_bins)
        torch.mul(self.spectrum, self.spectrum, out=self.spectrum)  # squared real and imaginary parts
        mel = torch.mm(self.spectrum, self.bank, out=self.mel)  # (B * T, F) mel power
        if self.floor is not None:
            features = mel.clamp_min_(self.floor).log10_().add_(DB_SHIFT)  # dB / 10 + 2
        else:
            features = mel.add_(LOG_FLOOR).log_()
            if self.dct is not None:
                features = torch.mm(features, self.dct, out=self.cepstrum)  # (B * T, n_mfcc)
        if commit and self.carry:
            self.front.copy_(self.kept if self.carry <= self.hop else self.kept.clone())
        return features.view(*self.frames.shape[:2], -1).transpose(0, 1)  # (B, T, F) -> (T, B, F)

    def reset(self, streams: torch.Tensor | None) -> None:
        if streams is None:
            self.samples.zero_()
        else:
            self.samples.masked_fill_(streams.to(self.samples.device)[:, None], 0.0)

    def load(self, other: Spectral) -> None:
        self.front.copy_(other.front)

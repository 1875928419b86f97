"""The spectral front ends over a step's samples: one FFT of the step's frames, the power's sum over real and
imaginary parts folded into the mel filters."""

from __future__ import annotations

import math
from functools import partial

import torch

from asr_cnn.constants import LOG_FLOOR
from asr_cnn.frontend import MFCC, LogMel, SpeechEmbeddingMel
from asr_cnn.frontend.speech_embedding_mel import DB_SHIFT, INT16_SCALE
from asr_cnn.streaming.fast.kernel import Kernel, Op, Planned, moving

SPECTRAL_FRONTENDS = (LogMel, MFCC, SpeechEmbeddingMel)

DFT_ROWS = 32
"""Frames (times streams) up to which a step takes the DFT as a product: an FFT call plans its transform
afresh every time (twiddles included), which costs a single hop's 8 frames more than the product does."""


def dft_basis(window: torch.Tensor, n_fft: int, taps: slice, bins: torch.Tensor) -> torch.Tensor:
    """Windowed cosines and sines: ``frames[..., taps] @ basis`` is the real and imaginary DFT of the windowed
    frames, zero-padded to ``n_fft``, at ``bins`` (``taps``: where the window is not zero). Built in float64.

    Shape:
        window: (win,). bins: (n_bins,). Output: (len(taps), 2 * n_bins), real parts first.
    """
    times = torch.arange(window.shape[0], dtype=torch.float64, device=window.device)[taps, None]
    angle = 2 * math.pi * times * bins.double() / n_fft
    window = window.double()[taps, None]
    return torch.cat([window * torch.cos(angle), -window * torch.sin(angle)], dim=1)


class Spectral(Kernel):
    """:class:`~asr_cnn.frontend.LogMel`, :class:`~asr_cnn.frontend.MFCC` or
    :class:`~asr_cnn.frontend.SpeechEmbeddingMel` for one step's samples.

    The squares of the spectrum's real and imaginary parts, side by side, meet a filter bank with each bin's
    row twice, so the power and its mel filtering are one product. Up to ``DFT_ROWS`` frames, the spectrum is
    a product of the frames' samples under the window with a windowed cosine and sine basis, only at the bins
    some mel filter reads; beyond, one FFT of the windowed frames (the product's cost grows faster).

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
        scale = INT16_SCALE if isinstance(frontend, SpeechEmbeddingMel) else 1.0  # int16 units; a power of 2: exact
        self.window, bank = (scale * frontend.window).to(example), frontend.filterbank  # (win,), (n_fft // 2 + 1, F)
        self.shape, self.basis = (batch, frames), None
        if batch * frames <= DFT_ROWS:
            used = frontend.window.nonzero().flatten()  # a centred window's zero ends read nothing
            self.taps = slice(int(used[0]), int(used[-1]) + 1)
            bins = bank.abs().sum(1).nonzero().flatten()  # the others are multiplied by zero anyway
            self.basis = (scale * dft_basis(frontend.window, frontend.n_fft, self.taps, bins)).to(example)
            self.frames = example.new_empty(batch, frames, self.taps.stop - self.taps.start)  # (B, T, taps)
            self.power = example.new_empty(batch * frames, self.basis.shape[1])  # (B * T, 2 * n_bins): re..., im...
            self.bank = torch.cat([bank[bins], bank[bins]]).to(example)  # (2 * n_bins, F)
        else:
            self.frames = example.new_empty(batch, frames, self.frame)  # (B, T, win)
            self.spectrum = torch.empty(batch, frames, frontend.n_fft // 2 + 1, dtype=example.dtype.to_complex(),
                                        device=example.device)  # (B, T, bins)
            self.power = torch.view_as_real(self.spectrum).view(batch * frames, -1)  # (B * T, 2 * bins): re, im, ...
            self.bank = bank.repeat_interleave(2, dim=0).to(example)  # (2 * bins, F)
        self.dct = frontend.dct.to(example) if isinstance(frontend, MFCC) else None
        self.mel = example.new_empty(batch * frames, self.bank.shape[1])  # (B * T, F)
        self.cepstrum = None if self.dct is None else example.new_empty(batch * frames, self.dct.shape[1])
        self.floor = 10.0 ** (frontend.floor_db / 10.0) if isinstance(frontend, SpeechEmbeddingMel) else None

    def __call__(self, chunk: torch.Tensor, commit: bool) -> torch.Tensor:
        """Features of the frames this step completes.

        Shape:
            chunk: (B, n * hop). Output: (T, B, F).
        """
        ops, features = self.plan(chunk, None)
        for op in ops + (self.moves() if commit else []):
            op()
        return features

    def plan(self, x: torch.Tensor, into: torch.Tensor | None) -> Planned:
        ops: list[Op] = [] if x is self.inbox else [partial(self.inbox.copy_, x)]
        if self.basis is not None:
            ops += [partial(self.frames.copy_, self.overlapping[..., self.taps]),  # (B, T, taps)
                    partial(torch.mm, self.frames.view(self.power.shape[0], -1), self.basis, out=self.power)]
        else:
            ops += [partial(torch.mul, self.overlapping, self.window, out=self.frames),  # (B, T, win) windowed
                    partial(torch.fft.rfft, self.frames, n=self.frontend.n_fft, out=self.spectrum)]  # (B, T, bins)
        ops += [partial(torch.mul, self.power, self.power, out=self.power),  # squared real and imaginary parts
                partial(torch.mm, self.power, self.bank, out=self.mel)]  # (B * T, F) mel power
        features = self.mel
        if self.floor is not None:  # dB / 10 + 2
            ops += [partial(self.mel.clamp_min_, self.floor), self.mel.log10_, partial(self.mel.add_, DB_SHIFT)]
        else:
            ops += [partial(self.mel.add_, LOG_FLOOR), self.mel.log_]
            if self.dct is not None:
                features = self.cepstrum
                ops.append(partial(torch.mm, self.mel, self.dct, out=self.cepstrum))  # (B * T, n_mfcc)
        return ops, features.view(*self.shape, -1).transpose(0, 1)  # (B, T, F) -> (T, B, F)

    def inlet(self) -> torch.Tensor | None:
        return self.inbox

    def moves(self) -> list[Op]:
        return moving(self.front, self.kept, self.carry > self.hop) if self.carry else []

    def reset(self, streams: torch.Tensor | None) -> None:
        if streams is None:
            self.samples.zero_()
        else:
            self.samples.masked_fill_(streams.to(self.samples.device)[:, None], 0.0)

    def load(self, other: Spectral) -> None:
        self.front.copy_(other.front)

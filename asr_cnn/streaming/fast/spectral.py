"""The spectral front ends over a step's samples: one FFT of the step's frames, the power's sum over real and
imaginary parts folded into the mel filters."""

from __future__ import annotations

from functools import partial

import torch

from asr_cnn.constants import LOG_FLOOR
from asr_cnn.frontend import MFCC, LogMel, SpeechEmbeddingMel
from asr_cnn.frontend.speech_embedding_mel import DB_SHIFT, INT16_SCALE
from asr_cnn.streaming.fast.kernel import Kernel, Op, Planned, moving

SPECTRAL_FRONTENDS = (LogMel, MFCC, SpeechEmbeddingMel)


class Spectral(Kernel):
    """:class:`~asr_cnn.frontend.LogMel`, :class:`~asr_cnn.frontend.MFCC` or
    :class:`~asr_cnn.frontend.SpeechEmbeddingMel` for one step's samples.

    The frames are windowed into a preallocated buffer and transformed by one FFT into another; the squares of
    its real and imaginary parts, side by side, meet a filter bank with each bin's row twice, so the power and
    its mel filtering are one product. An FFT, not the DFT as a product: its basis would be half a megabyte
    that a single hop reads from beyond the caches.

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
        scale = INT16_SCALE if isinstance(frontend, SpeechEmbeddingMel) else 1.0  # int16 units; a power of 2: exact
        self.window = (scale * frontend.window).to(example)  # (win,)
        self.spectrum = torch.empty(batch, frames, frontend.n_fft // 2 + 1, dtype=example.dtype.to_complex(),
                                    device=example.device)  # (B, T, bins)
        self.power = torch.view_as_real(self.spectrum).view(batch * frames, -1)  # (B * T, 2 * bins): re, im, re, ...
        self.bank = frontend.filterbank.repeat_interleave(2, dim=0).to(example)  # (2 * bins, F): re^2 + im^2 summed in
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
        ops += [partial(torch.mul, self.overlapping, self.window, out=self.frames),  # (B, T, win) windowed
                partial(torch.fft.rfft, self.frames, n=self.frontend.n_fft, out=self.spectrum),  # (B, T, bins)
                partial(torch.mul, self.power, self.power, out=self.power),  # squared real and imaginary parts
                partial(torch.mm, self.power, self.bank, out=self.mel)]  # (B * T, F) mel power
        features = self.mel
        if self.floor is not None:  # dB / 10 + 2
            ops += [partial(self.mel.clamp_min_, self.floor), self.mel.log10_, partial(self.mel.add_, DB_SHIFT)]
        else:
            ops += [partial(self.mel.add_, LOG_FLOOR), self.mel.log_]
            if self.dct is not None:
                features = self.cepstrum
                ops.append(partial(torch.mm, self.mel, self.dct, out=self.cepstrum))  # (B * T, n_mfcc)
        return ops, features.view(*self.frames.shape[:2], -1).transpose(0, 1)  # (B, T, F) -> (T, B, F)

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

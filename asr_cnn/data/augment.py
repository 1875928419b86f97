"""Waveform augmentation for training: stateless functions and :class:`WaveAugment`, which draws their
parameters from a generator the caller seeds (the dataset seeds one per item and epoch).

Feature-level masking lives in :mod:`asr_cnn.data.spec_augment`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torchaudio.functional as AF
from torch import nn

from asr_cnn.audio import load_audio
from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.data.clips import EPS, fit
from asr_cnn.data.engines.base import RATE_STEP
from asr_cnn.data.noise import COLOR_EXPONENTS, colored_noise

DECAY_60_DB = math.log(1000.0)
"""Natural-log amplitude decay over RT60 (60 dB)."""

MAX_RIR_S = 1.0
"""Longest synthetic room impulse response."""

DIRECT_TO_REVERB_DB = (0.0, 12.0)
"""Range of the energy ratio of the direct sound to the reverberant tail."""

SYNTH_NOISE_S = 10.0
"""Length of the coloured noises made when a corpus has no ``_background_noise_`` folder."""


def time_shift(wave: torch.Tensor, shift: int) -> torch.Tensor:
    """Move the audio ``shift`` samples later (earlier if negative), filling with zeros.

    Shape:
        wave: (..., S). Output: same.
    """
    if shift == 0:
        return wave
    shifted = torch.zeros_like(wave)
    if shift > 0:
        shifted[..., shift:] = wave[..., :-shift]
    else:
        shifted[..., :shift] = wave[..., -shift:]
    return shifted


def apply_gain(wave: torch.Tensor, gain_db: float) -> torch.Tensor:
    """Scale by ``gain_db`` decibels.

    Shape:
        wave: (..., S). Output: same.
    """
    return wave * 10 ** (gain_db / 20)


def add_noise(wave: torch.Tensor, noise: torch.Tensor, snr_db: float) -> torch.Tensor:
    """Add ``noise`` scaled to a signal-to-noise ratio of ``snr_db`` (power ratio, in dB).

    Shape:
        wave: (S,). noise: (S,). Output: (S,).
    """
    signal_power = wave.pow(2).mean().clamp_min(EPS)
    noise_power = noise.pow(2).mean().clamp_min(EPS)
    return wave + noise * (signal_power / noise_power / 10 ** (snr_db / 10)).sqrt()


def change_speed(wave: torch.Tensor, factor: float) -> torch.Tensor:
    """Play ``factor`` times faster (pitch moves with it), keeping the length by centred crop or padding.

    The factor is rounded so the resampling ratio has a small kernel (see ``RATE_STEP``).

    Shape:
        wave: (S,). Output: (S,).
    """
    orig = max(RATE_STEP, round(SAMPLE_RATE * factor / RATE_STEP) * RATE_STEP)
    if orig == SAMPLE_RATE:
        return wave
    changed = AF.resample(wave, orig_freq=orig, new_freq=SAMPLE_RATE)
    excess = changed.shape[-1] - wave.shape[-1]
    if excess >= 0:
        return changed[..., excess // 2: excess // 2 + wave.shape[-1]]
    return nn.functional.pad(changed, (-excess // 2, -excess - (-excess // 2)))


def synthetic_rir(rt60_s: float, direct_to_reverb_db: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A room impulse response: a unit direct impulse and an exponentially decaying noise tail.

    Args:
        rt60_s: Time for the tail to fall by 60 dB.
        direct_to_reverb_db: Energy of the direct impulse over the tail's.
        generator: Source of randomness.

    Shape:
        Output: (min(rt60_s, MAX_RIR_S) * SAMPLE_RATE,).
    """
    length = max(2, int(min(rt60_s, MAX_RIR_S) * SAMPLE_RATE))
    t = torch.arange(length) / SAMPLE_RATE
    tail = torch.randn(length, generator=generator) * torch.exp(-DECAY_60_DB * t / rt60_s)
    tail[0] = 0.0
    tail *= (10 ** (-direct_to_reverb_db / 10) / tail.pow(2).sum().clamp_min(EPS)).sqrt()
    tail[0] = 1.0
    return tail


def reverberate(wave: torch.Tensor, rir: torch.Tensor) -> torch.Tensor:
    """Convolve with a room impulse response, keeping the length and the RMS.

    Shape:
        wave: (S,). rir: (R,). Output: (S,).
    """
    wet = AF.fftconvolve(wave, rir)[..., :wave.shape[-1]]
    return wet * (wave.pow(2).mean() / wet.pow(2).mean().clamp_min(EPS)).sqrt()


class WaveAugment(nn.Module):
    """Random speed, time shift, reverberation, gain and background noise, in that order.

    Args:
        noises: Background noise waveforms (e.g. a corpus's ``_background_noise_`` files).
        shift_s: Largest time shift either way, in seconds.
        gain_db: Range of gain.
        noise_prob: Chance of adding noise.
        snr_db: Range of signal-to-noise ratio of the added noise.
        speed: Range of the speed factor.
        speed_prob: Chance of changing speed.
        reverb_prob: Chance of reverberation.
        rt60_s: Range of reverberation time.
    """

    def __init__(self, noises: Sequence[torch.Tensor] = (), *, shift_s: float = 0.1,
                 gain_db: Sequence[float] = (-6.0, 6.0), noise_prob: float = 0.8, snr_db: Sequence[float] = (0.0, 20.0),
                 speed: Sequence[float] = (0.9, 1.1), speed_prob: float = 0.5, reverb_prob: float = 0.3,
                 rt60_s: Sequence[float] = (0.1, 0.6)) -> None:
        super().__init__()
        if noise_prob > 0 and not noises:
            raise ValueError("noise_prob > 0 needs background noises")
        for name, p in (("noise_prob", noise_prob), ("speed_prob", speed_prob), ("reverb_prob", reverb_prob)):
            if not 0 <= p <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {p}")
        self.noises = list(noises)  # a plain list: noise is data, not module state
        self.shift, self.gain_db = int(shift_s * SAMPLE_RATE), tuple(gain_db)
        self.noise_prob, self.snr_db = noise_prob, tuple(snr_db)
        self.speed, self.speed_prob = tuple(speed), speed_prob
        self.reverb_prob, self.rt60_s = reverb_prob, tuple(rt60_s)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], noise_dir: Path | None = None, seed: int = 0) -> WaveAugment:
        """From ``data.augment``, with the ``*.wav`` files of ``noise_dir`` as noise.

        Without a noise folder (or with an empty one), white, pink and brown noise are synthesized.
        The key ``spec`` (SpecAugment's settings) is ignored here.
        """
        files = sorted(Path(noise_dir).glob("*.wav")) if noise_dir is not None and Path(noise_dir).is_dir() else []
        if files:
            noises = [load_audio(f) for f in files]
        else:
            generator = torch.Generator().manual_seed(seed)
            noises = [colored_noise(int(SYNTH_NOISE_S * SAMPLE_RATE), e, generator) for e in COLOR_EXPONENTS.values()]
        return cls(noises, **{k: v for k, v in dict(cfg).items() if k != "spec"})

    def forward(self, wave: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Augment one clip.

        Args:
            wave: A clip.
            generator: Source of every random choice; seed it for reproducible augmentation.

        Shape:
            wave: (S,). Output: (S,).
        """
        def uniform(bounds: Sequence[float]) -> float:
            return bounds[0] + (bounds[1] - bounds[0]) * float(torch.rand((), generator=generator))

        def chance(p: float) -> bool:
            return float(torch.rand((), generator=generator)) < p

        if chance(self.speed_prob):
            wave = change_speed(wave, uniform(self.speed))
        wave = time_shift(wave, int(torch.randint(-self.shift, self.shift + 1, (), generator=generator)))
        if chance(self.reverb_prob):
            wave = reverberate(wave, synthetic_rir(uniform(self.rt60_s), uniform(DIRECT_TO_REVERB_DB), generator))
        wave = apply_gain(wave, uniform(self.gain_db))
        if chance(self.noise_prob):
            noise = self.noises[int(torch.randint(len(self.noises), (), generator=generator))]
            wave = add_noise(wave, _segment(noise, wave.shape[-1], generator), uniform(self.snr_db))
        return wave.clamp(-1.0, 1.0)


def _segment(noise: torch.Tensor, length: int, generator: torch.Generator | None) -> torch.Tensor:
    """A random stretch of ``length`` samples (the noise repeated if shorter).

    Shape:
        noise: (N,). Output: (length,).
    """
    if noise.shape[0] < length:
        noise = noise.repeat(length // noise.shape[0] + 1)
    start = int(torch.randint(noise.shape[0] - length + 1, (), generator=generator))
    return fit(noise[start:start + length], length)

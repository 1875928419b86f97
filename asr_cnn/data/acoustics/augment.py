"""Waveform augmentation for training: stateless functions and :class:`WaveAugment`, which draws their
parameters from a generator the caller seeds (the dataset seeds one per item and epoch).

Rooms are simulated in :mod:`asr_cnn.data.acoustics.rooms`, devices and links in :mod:`asr_cnn.data.acoustics.channel`;
feature-level masking lives in :mod:`asr_cnn.data.acoustics.spec_augment`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torchaudio.functional as AF
from torch import nn

from asr_cnn.audio import load_audio
from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.data.acoustics.channel import DeviceChannel
from asr_cnn.data.acoustics.clips import EPS, fit
from asr_cnn.data.acoustics.noise import COLOR_EXPONENTS, colored_noise
from asr_cnn.data.acoustics.rooms import room_bank
from asr_cnn.data.voices.engines.base import RATE_STEP
from asr_cnn.fft import fft_size

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


def reverberate(wave: torch.Tensor, rir: torch.Tensor) -> torch.Tensor:
    """Convolve with a room impulse response, keeping the length and the RMS.

    Shape:
        wave: (S,). rir: (R,). Output: (S,).
    """
    n = fft_size(wave.shape[-1] + rir.shape[-1] - 1)  # S + R - 1 itself is often 10x slower
    wet = torch.fft.irfft(torch.fft.rfft(wave, n) * torch.fft.rfft(rir, n), n)[..., :wave.shape[-1]]
    return wet * (wave.pow(2).mean() / wet.pow(2).mean().clamp_min(EPS)).sqrt()


class WaveAugment(nn.Module):
    """A talker in a room heard through a device: random speed, time shift, room, noise, gain, device.

    In that order: the room reverberates the speech only (the noise files stand for diffuse noise, not
    a second talker in the room); the device then colours speech and noise together, as a microphone
    does, and its link may band-limit, compress or clip them.

    Args:
        noises: Background noise waveforms (e.g. a corpus's ``_background_noise_`` files).
        shift_s: Largest time shift either way, in seconds.
        gain_db: Range of gain.
        noise_prob: Chance of adding noise.
        snr_db: Range of signal-to-noise ratio of the added noise.
        speed: Range of the speed factor.
        speed_prob: Chance of changing speed.
        rooms: Room impulse responses to draw from (:func:`asr_cnn.data.acoustics.rooms.room_bank`).
        room_prob: Chance of reverberation by one of ``rooms``.
        device: The device and link stage, or ``None`` for none.
    """

    def __init__(self, noises: Sequence[torch.Tensor], *, shift_s: float, gain_db: Sequence[float],
                 noise_prob: float, snr_db: Sequence[float], speed: Sequence[float], speed_prob: float,
                 rooms: Sequence[torch.Tensor] = (), room_prob: float = 0.0,
                 device: DeviceChannel | None = None) -> None:
        super().__init__()
        if noise_prob > 0 and not noises:
            raise ValueError("noise_prob > 0 needs background noises")
        if room_prob > 0 and not rooms:
            raise ValueError("room.prob > 0 needs room impulse responses (room.bank > 0)")
        for name, p in (("noise_prob", noise_prob), ("speed_prob", speed_prob), ("room.prob", room_prob)):
            if not 0 <= p <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {p}")
        self.noises, self.rooms = list(noises), list(rooms)  # plain lists: audio is data, not module state
        self.shift, self.gain_db = int(shift_s * SAMPLE_RATE), tuple(gain_db)
        self.noise_prob, self.snr_db = noise_prob, tuple(snr_db)
        self.speed, self.speed_prob = tuple(speed), speed_prob
        self.room_prob = room_prob
        self.device = device

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], noise_dir: Path | None = None, seed: int = 0) -> WaveAugment:
        """From ``data.augment``, with the ``*.wav`` files of ``noise_dir`` as noise.

        Without a noise folder (or with an empty one), white, pink and brown noise are synthesized. The
        ``room`` block makes a bank of ``room.bank`` rooms seeded by ``seed``; the ``device`` block, when
        present, a :class:`DeviceChannel`. The key ``spec`` (SpecAugment's settings) is ignored here.
        """
        files = sorted(Path(noise_dir).glob("*.wav")) if noise_dir is not None and Path(noise_dir).is_dir() else []
        if files:
            noises = [load_audio(f) for f in files]
        else:
            generator = torch.Generator().manual_seed(seed)
            noises = [colored_noise(int(SYNTH_NOISE_S * SAMPLE_RATE), e, generator) for e in COLOR_EXPONENTS.values()]
        options = {k: v for k, v in dict(cfg).items() if k not in ("spec", "room", "device")}
        room = dict(cfg.get("room") or {})
        if room:
            generator = torch.Generator().manual_seed(seed)
            options["room_prob"] = room.pop("prob")
            options["rooms"] = room_bank(room.pop("bank"), generator=generator, **room) if options["room_prob"] else []
        if cfg.get("device"):
            options["device"] = DeviceChannel(**dict(cfg["device"]))
        return cls(noises, **options)

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
        if chance(self.room_prob):
            wave = reverberate(wave, self.rooms[int(torch.randint(len(self.rooms), (), generator=generator))])
        if chance(self.noise_prob):
            noise = self.noises[int(torch.randint(len(self.noises), (), generator=generator))]
            wave = add_noise(wave, _segment(noise, wave.shape[-1], generator), uniform(self.snr_db))
        wave = apply_gain(wave, uniform(self.gain_db))
        if self.device is not None:
            wave = self.device(wave, generator)
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

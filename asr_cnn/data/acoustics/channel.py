"""What devices and transmission do to speech: colouration, band limits, codecs and clipping.

Stateless functions of a waveform and explicit parameters, and :class:`DeviceChannel`, which draws the
parameters for training (``data.augment.device``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache

import math

import soundfile as sf
import torch
import torchaudio.functional as AF
from torch import nn

from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.data.acoustics.clips import fit
from asr_cnn.fft import fft_size

TELEPHONE_BAND_HZ = (300.0, 3400.0)
"""The pass band of narrowband telephony."""

TRANSITION_HZ = 50.0
"""Width of the raised-cosine edges of :func:`band_limit` (sharp, but without ringing over the clip)."""

MU_LAW_CHANNELS = 256
"""8-bit mu-law, as in G.711 telephony."""

EQ_DECAY = 1024
"""Samples (64 ms) allowed for the peaking filters' ringing (time constant Q / (pi f0) <= 6 ms here)."""

NARROWBAND_RATE = 8000
"""Sample rate of narrowband telephony and of many headsets."""


def equalize(wave: torch.Tensor, bands: Sequence[tuple[float, float, float]]) -> torch.Tensor:
    """Peaking filters in series, one per ``(centre_hz, gain_db, q)``: a device's uneven response.

    Each is the biquad of the Audio EQ Cookbook (as ``torchaudio.functional.equalizer_biquad``), applied
    through its frequency response: one FFT for all bands instead of a sample loop per band.

    Shape:
        wave: (S,). Output: (S,).
    """
    if not bands:
        return wave
    n = fft_size(wave.shape[-1] + EQ_DECAY)  # room for the filters' decay: no wrap-around
    z1, z2 = _delays(n)
    spectrum = torch.fft.rfft(wave, n)
    for centre, gain, q in bands:
        a = 10 ** (gain / 40)
        w0 = 2 * math.pi * centre / SAMPLE_RATE
        alpha = math.sin(w0) / (2 * q)
        spectrum = spectrum * (1 + alpha * a - 2 * math.cos(w0) * z1 + (1 - alpha * a) * z2) \
            / (1 + alpha / a - 2 * math.cos(w0) * z1 + (1 - alpha / a) * z2)
    return torch.fft.irfft(spectrum, n)[:wave.shape[-1]]


@cache
def _delays(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``z**-1`` and ``z**-2`` on the bins of an ``n``-point real FFT.

    Shape:
        Output: (n // 2 + 1,) each, complex64.
    """
    z1 = torch.exp(-2j * torch.pi * torch.arange(n // 2 + 1, dtype=torch.float64) / n)
    return z1.to(torch.complex64), (z1 * z1).to(torch.complex64)


def band_limit(wave: torch.Tensor, low_hz: float, high_hz: float) -> torch.Tensor:
    """Keep ``low_hz``..``high_hz`` and remove the rest (zero-phase, in the frequency domain).

    Shape:
        wave: (..., S). Output: same.
    """
    if not 0 <= low_hz < high_hz:
        raise ValueError(f"band_limit needs 0 <= low_hz < high_hz, got {low_hz}, {high_hz}")
    samples = wave.shape[-1]
    freqs = torch.fft.rfftfreq(samples, d=1.0 / SAMPLE_RATE)
    rise = _ramp((freqs - low_hz) / TRANSITION_HZ + 0.5) if low_hz > 0 else torch.ones_like(freqs)
    fall = _ramp((high_hz - freqs) / TRANSITION_HZ + 0.5)
    return torch.fft.irfft(torch.fft.rfft(wave) * rise * fall, n=samples)


def _ramp(x: torch.Tensor) -> torch.Tensor:
    """0 below 0, 1 above 1, a raised cosine between."""
    return 0.5 - 0.5 * torch.cos(torch.pi * x.clamp(0.0, 1.0))


def resample_through(wave: torch.Tensor, rate: int) -> torch.Tensor:
    """Down to ``rate`` and back: what a narrowband link keeps (nothing above ``rate / 2``).

    Shape:
        wave: (S,). Output: (S,).
    """
    low = AF.resample(wave, SAMPLE_RATE, rate)
    return fit(AF.resample(low, rate, SAMPLE_RATE), wave.shape[-1])


def mu_law(wave: torch.Tensor, channels: int = MU_LAW_CHANNELS) -> torch.Tensor:
    """Encode to ``channels``-level mu-law and decode: G.711's companded quantisation.

    Shape:
        wave: (..., S) in [-1, 1]. Output: same.
    """
    codes = AF.mu_law_encoding(wave.clamp(-1.0, 1.0), channels)
    return AF.mu_law_decoding(codes, channels)


def opus(wave: torch.Tensor, compression: float) -> torch.Tensor:
    """Encode to Opus in Ogg (libsndfile through soundfile) and decode.

    Args:
        wave: One clip in [-1, 1].
        compression: libsndfile's compression level, 0 (about 270 kbit/s) to 1 (about 14 kbit/s at 16 kHz,
            a narrow VoIP link).

    Shape:
        wave: (S,). Output: (S,).
    """
    if not 0 <= compression <= 1:
        raise ValueError(f"opus compression must be in [0, 1], got {compression}")
    buffer = io.BytesIO()
    sf.write(buffer, wave.clamp(-1.0, 1.0).numpy(), SAMPLE_RATE, format="OGG", subtype="OPUS",
             compression_level=compression)
    buffer.seek(0)
    decoded, _ = sf.read(buffer, dtype="float32")
    return fit(torch.from_numpy(decoded), wave.shape[-1])


def hard_clip(wave: torch.Tensor, headroom_db: float) -> torch.Tensor:
    """Clip at ``headroom_db`` below the peak: an overdriven microphone or converter.

    Shape:
        wave: (..., S). Output: same.
    """
    limit = wave.abs().amax(dim=-1, keepdim=True) * 10 ** (-headroom_db / 20)
    return torch.maximum(torch.minimum(wave, limit), -limit)


class DeviceChannel(nn.Module):
    """A random microphone, loudspeaker and link: colouration, then each transmission effect by chance.

    In order: ``eq_bands`` peaking filters (centre log-uniform in ``eq_hz``) with chance ``eq_prob``; the
    telephone band (300-3400 Hz); a round trip through 8 kHz; 8-bit mu-law; Opus; clipping.

    Args:
        eq_prob: Chance of colouration.
        eq_bands: Peaking filters per colouration.
        eq_hz: Range of their centre frequencies.
        eq_gain_db: Range of their gains.
        eq_q: Range of their quality factors.
        telephone_prob: Chance of the telephone band.
        narrowband_prob: Chance of 8 kHz resampling.
        mu_law_prob: Chance of mu-law.
        opus_prob: Chance of Opus.
        opus_compression: Range of Opus compression levels (see :func:`opus`).
        clip_prob: Chance of clipping.
        clip_headroom_db: Range of the clipping level below the peak.
    """

    def __init__(self, *, eq_prob: float, eq_bands: int, eq_hz: Sequence[float], eq_gain_db: Sequence[float],
                 eq_q: Sequence[float], telephone_prob: float, narrowband_prob: float, mu_law_prob: float,
                 opus_prob: float, opus_compression: Sequence[float], clip_prob: float,
                 clip_headroom_db: Sequence[float]) -> None:
        super().__init__()
        chances = {"eq_prob": eq_prob, "telephone_prob": telephone_prob, "narrowband_prob": narrowband_prob,
                   "mu_law_prob": mu_law_prob, "opus_prob": opus_prob, "clip_prob": clip_prob}
        for name, p in chances.items():
            if not 0 <= p <= 1:
                raise ValueError(f"device.{name} must be in [0, 1], got {p}")
        if eq_bands < 0 or min(eq_hz) <= 0 or max(eq_hz) >= SAMPLE_RATE / 2 or min(eq_q) <= 0:
            raise ValueError(f"device: eq_bands must be >= 0, eq_hz within (0, {SAMPLE_RATE // 2}) and eq_q "
                             f"positive, got {eq_bands}, {list(eq_hz)}, {list(eq_q)}")
        self.chances = chances
        self.eq_bands, self.eq_hz, self.eq_gain_db, self.eq_q = eq_bands, tuple(eq_hz), tuple(eq_gain_db), tuple(eq_q)
        self.opus_compression, self.clip_headroom_db = tuple(opus_compression), tuple(clip_headroom_db)

    def forward(self, wave: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Pass one clip through a random device.

        Args:
            wave: A clip.
            generator: Source of every random choice.

        Shape:
            wave: (S,). Output: (S,).
        """
        def uniform(bounds: Sequence[float]) -> float:
            return bounds[0] + (bounds[1] - bounds[0]) * float(torch.rand((), generator=generator))

        def chance(name: str) -> bool:
            return float(torch.rand((), generator=generator)) < self.chances[name]

        if chance("eq_prob"):
            log_hz = (math.log(self.eq_hz[0]), math.log(self.eq_hz[1]))
            wave = equalize(wave, [(math.exp(uniform(log_hz)), uniform(self.eq_gain_db), uniform(self.eq_q))
                                   for _ in range(self.eq_bands)])
        if chance("telephone_prob"):
            wave = band_limit(wave, *TELEPHONE_BAND_HZ)
        if chance("narrowband_prob"):
            wave = resample_through(wave, NARROWBAND_RATE)
        if chance("mu_law_prob"):
            wave = mu_law(wave)
        if chance("opus_prob"):
            wave = opus(wave, uniform(self.opus_compression))
        if chance("clip_prob"):
            wave = hard_clip(wave, uniform(self.clip_headroom_db))
        return wave

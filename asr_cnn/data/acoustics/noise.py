"""Background noise: coloured noise (white, pink, brown) and babble mixed from synthesized sentences.

Everything returns unit-RMS waveforms; callers set the level (SNR or dBFS).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch

from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.data.acoustics.clips import EPS

COLOR_EXPONENTS = {"white": 0.0, "pink": 1.0, "brown": 2.0}
"""Power spectral density ~ 1 / f ** exponent."""

BABBLE_PAUSE_S = (0.05, 0.6)
"""Range of pauses between one talker's sentences in babble."""

BABBLE_EVENT_S = (1.0, 4.0)
BABBLE_EVENT_TALKERS = (2, 5)
"""Ranges of length and of simultaneous talkers of a babble event."""


def colored_noise(samples: int, exponent: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Gaussian noise whose power falls as ``1 / f ** exponent`` (0 white, 1 pink, 2 brown).

    Shape:
        Output: (samples,), unit RMS.
    """
    white = torch.randn(samples, generator=generator)
    spectrum = torch.fft.rfft(white)
    freqs = torch.fft.rfftfreq(samples, d=1.0 / SAMPLE_RATE)
    # Amplitude ~ f ** (-exponent / 2); the DC bin is zeroed so brown noise does not drift.
    shaping = torch.where(freqs > 0, freqs.clamp_min(EPS) ** (-exponent / 2), torch.zeros_like(freqs))
    noise = torch.fft.irfft(spectrum * shaping, n=samples)
    return noise / noise.pow(2).mean().sqrt().clamp_min(EPS)


def babble(sentences: Sequence[torch.Tensor], samples: int, talkers: int,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Several talkers at once, each saying random sentences one after another with short pauses.

    Args:
        sentences: Speech waveforms to draw from (reused as often as needed).
        samples: Length of the result.
        talkers: Simultaneous voices.
        generator: Source of randomness.

    Shape:
        sentences: each (S_i,). Output: (samples,), unit RMS.
    """
    if not sentences or talkers < 1:
        raise ValueError(f"babble needs sentences and at least one talker, got {len(sentences)} and {talkers}")
    mix = torch.zeros(samples)
    low, high = (int(s * SAMPLE_RATE) for s in BABBLE_PAUSE_S)
    for _ in range(talkers):
        position = int(torch.randint(0, high, (1,), generator=generator))
        while position < samples:
            sentence = sentences[int(torch.randint(len(sentences), (1,), generator=generator))]
            sentence = sentence / sentence.pow(2).mean().sqrt().clamp_min(EPS)
            piece = sentence[:samples - position]
            mix[position:position + piece.shape[0]] += piece
            position += piece.shape[0] + int(torch.randint(low, high, (1,), generator=generator))
    return mix / mix.pow(2).mean().sqrt().clamp_min(EPS)


def random_stretch(source: torch.Tensor, seconds: tuple[float, float], rng: random.Random) -> torch.Tensor:
    """A random stretch of ``source`` whose length is drawn from ``seconds`` (at most all of it).

    Shape:
        source: (S,). Output: (S',).
    """
    length = min(int(rng.uniform(*seconds) * SAMPLE_RATE), source.shape[0] - 1)
    start = rng.randrange(source.shape[0] - length)
    return source[start:start + length]


def babble_event(speech: torch.Tensor, rng: random.Random) -> torch.Tensor:
    """A few talkers over each other for a few seconds: stretches of ``speech`` mixed by :func:`babble`.

    Shape:
        speech: (S,). Output: (S',), unit RMS.
    """
    talkers = [random_stretch(speech, BABBLE_EVENT_S, rng) for _ in range(rng.randint(*BABBLE_EVENT_TALKERS))]
    length = min(t.shape[0] for t in talkers)
    generator = torch.Generator().manual_seed(rng.getrandbits(63))
    return babble([t[:length] for t in talkers], length, len(talkers), generator)

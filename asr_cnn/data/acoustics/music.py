"""Synthetic music for background beds: chords and a melody of decaying harmonic tones over a beat.

Music is the other sound a live detector hears all day (radio, television); these beds give training,
validation and test streams tonal, rhythmic sound that is neither speech nor noise.
"""

from __future__ import annotations

import math

import torch

from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.data.acoustics.clips import EPS

TEMPO_BPM = (70.0, 160.0)
"""Range of tempo; a new tempo, key and timbre every section."""

SECTION_S = 8.0
"""Length of a section of one tempo, key and timbre."""

MAJOR, MINOR = (0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10)
HARMONICS = 6
"""Partials per tone; their amplitudes fall as ``1 / n ** rolloff``, rolloff drawn per section."""


def tone(freq: float, samples: int, rolloff: float, decay_s: float) -> torch.Tensor:
    """A plucked or struck tone: harmonics of ``freq`` under an exponential decay.

    Shape:
        Output: (samples,).
    """
    t = torch.arange(samples) / SAMPLE_RATE
    partials = torch.arange(1, HARMONICS + 1, dtype=torch.float32)  # (H,)
    partials = partials[partials * freq < SAMPLE_RATE / 2]  # no aliasing
    waves = torch.sin(2 * math.pi * freq * partials[:, None] * t[None, :]) / partials[:, None] ** rolloff  # (H, S)
    attack = (t / 0.01).clamp(max=1.0)
    return waves.sum(0) * attack * torch.exp(-t / decay_s)


def music(samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Sections of chords, a melody and a kick-and-hat beat, each with its own tempo, key and timbre.

    Shape:
        Output: (samples,), unit RMS.
    """
    def uniform(low: float, high: float) -> float:
        return low + (high - low) * float(torch.rand((), generator=generator))

    def integer(high: int) -> int:
        return int(torch.randint(high, (), generator=generator))

    section = int(SECTION_S * SAMPLE_RATE)
    mix = torch.zeros(samples + section)
    for start in range(0, samples, section):
        beat = int(60 / uniform(*TEMPO_BPM) * SAMPLE_RATE)
        root = 110.0 * 2 ** (integer(12) / 12)  # A2 up to G#3
        scale = MAJOR if integer(2) else MINOR
        rolloff, decay_s = uniform(0.8, 2.5), uniform(0.15, 0.8)
        for offset in range(0, section, beat):
            position = start + offset
            if offset % (4 * beat) == 0:  # a new chord every bar
                degree, bar = integer(7), min(4 * beat, section - offset)
                for step in (0, 2, 4):
                    semitones = scale[(degree + step) % 7] + 12 * ((degree + step) // 7)
                    mix[position:position + bar] += 0.3 * tone(root * 2 ** (semitones / 12), bar, rolloff, 4 * decay_s)
            semitones = scale[integer(7)] + 12 * (1 + integer(2))
            note = min(2 * beat, section - offset)
            mix[position:position + note] += tone(root * 2 ** (semitones / 12), note, rolloff, decay_s)
            hit = min(beat // 2, section - offset)
            t = torch.arange(hit) / SAMPLE_RATE
            kick = torch.sin(2 * math.pi * 55.0 * t) * torch.exp(-t / 0.08)  # a drum on every beat
            hat = torch.randn(hit, generator=generator) * torch.exp(-t / 0.02) * 0.3  # and a hi-hat
            mix[position:position + hit] += kick + hat
    mix = mix[:samples]
    return mix / mix.pow(2).mean().sqrt().clamp_min(EPS)

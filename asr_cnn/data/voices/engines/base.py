"""The synthesis-engine interface: (text, voice, speed, pitch, seed) -> 16 kHz mono waveform.

Speed and pitch are factors relative to the voice's own default (1.0 = unchanged), so that corpora and
manifests compare across engines. ``seed`` fixes every random choice inside the engine, so the same
arguments always give the same samples, whatever was synthesized before.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import cache
from typing import ClassVar

import numpy as np
import torch
import torchaudio.transforms as T

from asr_cnn.constants import SAMPLE_RATE

NO_AUDIO_PEAK = 1e-3
"""Synthesized audio whose peak stays below this counts as no audio (the text was not pronounced)."""

RATE_STEP = 100
"""Granularity in Hz of reinterpreted sample rates, so resampling to 16 kHz keeps a short kernel."""


class EngineError(ValueError):
    """An engine, voice or text that cannot be used; the message names the value received."""


class EngineUnavailable(EngineError):
    """The engine's package or program is not installed on this machine."""


class Unpronounceable(EngineError):
    """The engine produced no audio for a text."""


class Engine(ABC):
    """One text-to-speech engine. Subclasses implement :meth:`_synthesize_native` and :meth:`version`.

    An instance may hold process-global native state (espeak-ng does), so make one per process and use
    processes, not threads, for parallel synthesis.
    """

    name: ClassVar[str]

    @classmethod
    @abstractmethod
    def version(cls) -> str:
        """Versions of the engine and its voices, cheap to compute (keys the corpus cache)."""

    @classmethod
    @abstractmethod
    def available(cls) -> str | None:
        """``None`` when the engine can run here, else why not (e.g. ``"program flite not found"``)."""

    def expand_voices(self, voices: Sequence[str]) -> list[str]:
        """The full voice names for configured ``voices`` (espeak adds its variants)."""
        return list(voices)

    def speaker(self, voice: str) -> str:
        """The speaker identity behind a voice; corpus splits never share a speaker."""
        return voice

    @abstractmethod
    def check_voice(self, voice: str) -> None:
        """Raise :class:`EngineError` naming ``voice`` when this engine does not have it."""

    @abstractmethod
    def _synthesize_native(self, text: str, voice: str, speed: float, pitch: float,
                           seed: int) -> tuple[np.ndarray, int]:
        """Samples in [-1, 1] and their sample rate, straight from the engine.

        Shape:
            Output: (S,) at the returned rate.
        """

    def synthesize(self, text: str, voice: str, *, speed: float = 1.0, pitch: float = 1.0,
                   seed: int = 0) -> torch.Tensor:
        """Speak ``text`` with ``voice``.

        Args:
            text: Words or a phrase.
            voice: One of the engine's voice names.
            speed: Speaking rate relative to the voice's default.
            pitch: Voice pitch relative to the voice's default.
            seed: Fixes the engine's randomness; same arguments, same samples.

        Returns:
            Float32 waveform at ``SAMPLE_RATE``, with the engine's leading and trailing silence kept.

        Raises:
            EngineError: Empty text, non-positive speed or pitch, or an unknown voice.
            Unpronounceable: The engine produced no audio for ``text``.

        Shape:
            Output: (S,).
        """
        if not isinstance(text, str) or not text.strip():
            raise EngineError(f"{self.name}: text must be a non-empty string, got {text!r}")
        if speed <= 0 or pitch <= 0:
            raise EngineError(f"{self.name}: speed and pitch must be positive, got speed={speed}, pitch={pitch}")
        samples, rate = self._synthesize_native(text, voice, speed, pitch, seed)
        if samples.size == 0 or float(np.abs(samples).max()) < NO_AUDIO_PEAK:
            raise Unpronounceable(f"{self.name} voice {voice!r} produced no audio for {text!r}")
        wave = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
        return _resampler(rate)(wave) if rate != SAMPLE_RATE else wave


@cache
def _resampler(rate: int) -> T.Resample:
    """Resampling from ``rate`` to ``SAMPLE_RATE``, its filter kernel computed once per rate."""
    return T.Resample(orig_freq=rate, new_freq=SAMPLE_RATE)


def pitch_by_rate(native_rate: int, pitch: float) -> int:
    """The sample rate at which to read an engine's output so that it sounds ``pitch`` times higher.

    Reading samples made at ``native_rate`` as if made at ``native_rate * pitch`` raises pitch and shortens
    duration by ``pitch``; callers lengthen the synthesis by ``pitch`` first to keep the speed. The rate is
    rounded to ``RATE_STEP``.
    """
    return max(RATE_STEP, round(native_rate * pitch / RATE_STEP) * RATE_STEP)

"""hibari, a small neural English voice (``hibari-tts``): the US female voice ``heart`` inside the wheel.

hibari's other voices are downloaded on first use, which this project never does, so only the voices
its registry marks as bundled are accepted. The model's only randomness is the noise of its vocoder,
drawn from a numpy generator that hibari seeds from ``seed``. Pitch, which the model does not take,
comes from reading the samples at a shifted rate, as for piper (:func:`pitch_by_rate`).
"""

from __future__ import annotations

import importlib.util
from importlib import metadata

import numpy as np

from asr_cnn.data.voices.engines.base import Engine, EngineError, EngineUnavailable, pitch_by_rate


class HibariEngine(Engine):
    """hibari's bundled voices; ``speed`` is hibari's own pace factor (after the pitch correction)."""

    name = "hibari"

    def __init__(self) -> None:
        problem = self.available()
        if problem:
            raise EngineUnavailable(f"hibari: {problem}")
        self._voices: dict[str, object] = {}

    @classmethod
    def version(cls) -> str:
        return f"hibari-tts {metadata.version('hibari-tts')}"

    @classmethod
    def available(cls) -> str | None:
        if importlib.util.find_spec("hibari") is None or importlib.util.find_spec("onnxruntime") is None:
            return "packages ['hibari-tts', 'onnxruntime'] are not installed (pip install hibari-tts)"
        return None

    @staticmethod
    def bundled_voices() -> list[str]:
        """The voices whose model ships inside the hibari-tts wheel."""
        from hibari.voices import VOICES

        return sorted(name for name, entry in VOICES.items() if entry.get("bundled"))

    def check_voice(self, voice: str) -> None:
        from hibari.voices import VOICES

        if voice not in self.bundled_voices():
            known = "is downloaded by hibari at run time, which this project does not do" if voice in VOICES \
                else "is unknown"
            raise EngineError(f"hibari: voice {voice!r} {known}; voices in the package: {self.bundled_voices()}")

    def _load(self, voice: str):
        if voice not in self._voices:
            from hibari import Hibari

            self.check_voice(voice)
            # One thread: parallelism comes from processes, and results do not depend on thread count.
            self._voices[voice] = Hibari(voice=voice, threads=1)
        return self._voices[voice]

    def _synthesize_native(self, text: str, voice: str, speed: float, pitch: float,
                           seed: int) -> tuple[np.ndarray, int]:
        model = self._load(voice)
        if not any(c.isalpha() for c in "".join(model.phonemize(text))):
            return np.zeros(0, np.float32), model.sample_rate  # punctuation only: the model would only breathe
        # Spoken slower by ``pitch`` here, then read ``pitch`` times faster: ``speed`` overall.
        samples = model(text, speed=speed / pitch, seed=seed)
        return np.clip(samples, -1.0, 1.0), pitch_by_rate(model.sample_rate, pitch)

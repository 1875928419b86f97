"""Engines that run an installed program writing a WAV file (flite, festival, espeak-ng with mbrola).

Such programs cannot share one pitch control, so every command engine gets pitch the same way: it
stretches the utterance by ``pitch / speed`` and the samples are read ``pitch`` times faster
(:func:`pitch_by_rate`).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from abc import abstractmethod
from functools import cache
from pathlib import Path
from typing import ClassVar

import numpy as np
import soundfile as sf

from asr_cnn.data.voices.engines.base import Engine, EngineError, EngineUnavailable, pitch_by_rate

TIMEOUT_S = 60
"""Longest a program may take for one utterance."""


class CommandEngine(Engine):
    """Base of engines driven through a program; subclasses name it and build its command line."""

    program: ClassVar[str]
    package: ClassVar[str]
    """Debian package that provides ``program``, named in the error when it is missing."""
    voices: ClassVar[tuple[str, ...]]
    version_program: ClassVar[str | None] = None
    """Program whose ``--version`` names the engine's version, when not ``program`` itself."""

    def __init__(self) -> None:
        problem = self.available()
        if problem:
            raise EngineUnavailable(f"{self.name}: {problem}")

    @classmethod
    def available(cls) -> str | None:
        if shutil.which(cls.program) is None:
            return f"program {cls.program!r} not found on PATH (apt-get install {cls.package})"
        return None

    @classmethod
    def version(cls) -> str:
        return _program_version(cls.version_program or cls.program)

    def check_voice(self, voice: str) -> None:
        if voice not in self.voices:
            raise EngineError(f"{self.name}: unknown voice {voice!r}; available: {list(self.voices)}")

    @abstractmethod
    def command(self, text_file: Path, voice: str, stretch: float, out: Path) -> list[str]:
        """The command line that speaks the text in ``text_file`` into the WAV file ``out``."""

    def _synthesize_native(self, text: str, voice: str, speed: float, pitch: float,
                           seed: int) -> tuple[np.ndarray, int]:
        self.check_voice(voice)
        with tempfile.TemporaryDirectory(prefix=f"asr_cnn_{self.name}_") as tmp:
            text_file, out = Path(tmp) / "text.txt", Path(tmp) / "out.wav"
            text_file.write_text(text + "\n", encoding="utf-8")
            command = self.command(text_file, voice, pitch / speed, out)
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
            except subprocess.TimeoutExpired as err:
                raise EngineError(f"{self.name}: {command[0]} took over {TIMEOUT_S} s for {text!r}") from err
            if done.returncode != 0 or not out.exists():
                raise EngineError(f"{self.name}: {' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
            samples, rate = sf.read(out, dtype="float32", always_2d=True)  # (S, channels)
        return samples.mean(axis=1), pitch_by_rate(rate, pitch)


@cache
def _program_version(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        return f"{program} missing"
    done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    lines = [line.strip() for line in (done.stdout or done.stderr).splitlines() if line.strip()]
    versioned = [line for line in lines if "version" in line.lower()]
    return f"{program} {(versioned or lines or ['unknown version'])[0]}"

"""espeak-ng with MBROLA diphone voices, through the ``espeak-ng`` and ``mbrola`` programs.

The espeak-ng wheel has no MBROLA voice definitions, so this engine needs the system packages
(``apt-get install espeak-ng mbrola mbrola-us1``; Debian ships MBROLA voices in non-free).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from asr_cnn.data.voices.engines.base import EngineError
from asr_cnn.data.voices.engines.command import CommandEngine
from asr_cnn.data.voices.engines.espeak import DEFAULT_RATE

MBROLA_DATA = Path("/usr/share/mbrola")
"""Where Debian's mbrola-* packages put the diphone databases."""


class MbrolaEngine(CommandEngine):
    """Voices ``mb-us1`` .. ``mb-us3`` and ``mb-en1``, each needing its ``mbrola-*`` database."""

    name = "mbrola"
    program = "espeak-ng"
    package = "espeak-ng mbrola"
    voices = ("mb-us1", "mb-us2", "mb-us3", "mb-en1")

    @classmethod
    def available(cls) -> str | None:
        if shutil.which("mbrola") is None:
            return "program 'mbrola' not found on PATH (apt-get install mbrola)"
        return super().available()

    def check_voice(self, voice: str) -> None:
        super().check_voice(voice)
        database = MBROLA_DATA / voice.removeprefix("mb-")
        if not database.exists():
            raise EngineError(f"mbrola: voice {voice!r} needs {database} (apt-get install mbrola-{database.name})")

    def command(self, text_file: Path, voice: str, stretch: float, out: Path) -> list[str]:
        return [self.program, "-v", voice, "-s", str(round(DEFAULT_RATE / stretch)), "-f", str(text_file),
                "-w", str(out)]

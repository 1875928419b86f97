"""Festival through its ``text2wave`` script (``apt-get install festival festvox-kallpc16k``)."""

from __future__ import annotations

import re
from pathlib import Path

from asr_cnn.data.voices.engines.base import EngineError
from asr_cnn.data.voices.engines.command import CommandEngine

_VOICE_NAME = re.compile(r"^[a-z0-9_]+$")


class FestivalEngine(CommandEngine):
    """Festival voices by their Scheme name without ``voice_`` (e.g. ``kal_diphone``).

    Which voices exist depends on the installed ``festvox-*`` packages, so any well-formed name is
    accepted and a missing one fails at synthesis with festival's own message.
    """

    name = "festival"
    program = "text2wave"
    version_program = "festival"
    package = "festival"

    def check_voice(self, voice: str) -> None:
        # The name goes into a Scheme expression, so only plain identifiers pass.
        if not _VOICE_NAME.match(voice):
            raise EngineError(f"festival: voice must be a name like 'kal_diphone', got {voice!r}")

    def command(self, text_file: Path, voice: str, stretch: float, out: Path) -> list[str]:
        return [self.program, "-o", str(out), "-eval", f"(voice_{voice})",
                "-eval", f"(Parameter.set 'Duration_Stretch {stretch:.4f})", str(text_file)]

"""flite, CMU's small synthesizer, through its program (``apt-get install flite``)."""

from __future__ import annotations

from pathlib import Path

from asr_cnn.data.voices.engines.command import CommandEngine


class FliteEngine(CommandEngine):
    """flite's built-in voices; speed and pitch come from ``duration_stretch`` and the read rate."""

    name = "flite"
    program = "flite"
    package = "flite"
    voices = ("kal", "kal16", "awb", "rms", "slt")

    def command(self, text_file: Path, voice: str, stretch: float, out: Path) -> list[str]:
        return [self.program, "-voice", voice, "--setf", f"duration_stretch={stretch:.4f}",
                "-f", str(text_file), "-o", str(out)]

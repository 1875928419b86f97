"""The schemas of ``conf/frontend``: one per constructor's file; the values are in those files.

Hydra checks the types while composing; each front end checks the rest (a band edge above Nyquist, more
coefficients than bands) when it is built.
"""

from __future__ import annotations

from dataclasses import dataclass

from asr_cnn.schema import Target, integer, number, setting


@dataclass
class LogMelConfig(Target):
    """``frontend``: :class:`~asr_cnn.frontend.LogMel` (``conf/frontend/logmel.yaml``)."""

    sample_rate: int = integer(1)
    n_fft: int = integer(1)
    win_length: int = integer(1)
    hop_length: int = integer(1)
    n_mels: int = integer(1)
    f_min: float = number(0)
    f_max: float | None = setting("be a frequency in Hz (or null: Nyquist)")


@dataclass
class MFCCConfig(LogMelConfig):
    """``frontend``: :class:`~asr_cnn.frontend.MFCC` (``conf/frontend/mfcc.yaml``, which extends ``logmel.yaml``)."""

    n_mfcc: int = integer(1)


@dataclass
class SpeechEmbeddingMelConfig(Target):
    """``frontend``: :class:`~asr_cnn.frontend.SpeechEmbeddingMel` (``conf/frontend/speech_embedding_mel.yaml``)."""

    floor_db: float = setting("be a number of dB")
    top_db: float | None = setting("be a number of dB > 0 (or null)")


FRONTEND_SCHEMAS: dict[str, type] = {"logmel": LogMelConfig, "mfcc": MFCCConfig,
                                     "speech_embedding_mel": SpeechEmbeddingMelConfig}
"""``conf/frontend/<option>.yaml`` -> its schema."""

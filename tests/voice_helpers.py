"""What a synthesized voice sounds like, measured: shared by the engine tests."""

from __future__ import annotations

import librosa
import numpy as np
import torch

from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.data.acoustics.clips import trim_silence


def dominant_pitch_hz(wave: torch.Tensor) -> float:
    """Median fundamental frequency (YIN) over the speech."""
    speech = trim_silence(wave).numpy()
    return float(np.median(librosa.yin(speech, fmin=60, fmax=500, sr=SAMPLE_RATE, frame_length=1024)))

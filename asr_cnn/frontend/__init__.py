"""Spectrogram front ends: causal frames, streamable, built on torchaudio's filter banks."""

from asr_cnn.frontend.logmel import LogMel
from asr_cnn.frontend.mfcc import MFCC

__all__ = ["LogMel", "MFCC"]

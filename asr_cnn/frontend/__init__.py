"""Spectrogram front ends: causal frames, streamable, built on torchaudio's filter banks."""

from asr_cnn.frontend.logmel import LogMel
from asr_cnn.frontend.mfcc import MFCC
from asr_cnn.frontend.speech_embedding_mel import SpeechEmbeddingMel

__all__ = ["LogMel", "MFCC", "SpeechEmbeddingMel"]

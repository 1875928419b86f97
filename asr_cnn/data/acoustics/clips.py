"""Cutting synthesized speech into 1-s clips: trim the engine's silence, set the level, place it."""

from __future__ import annotations

import torch

from asr_cnn.constants import CLIP_SAMPLES, HOP_LENGTH

TRIM_DB = 40.0
"""Frames quieter than the loudest frame by more than this are silence at the ends of an utterance."""

EPS = 1e-12


def trim_silence(wave: torch.Tensor, threshold_db: float = TRIM_DB, frame: int = HOP_LENGTH) -> torch.Tensor:
    """Drop leading and trailing frames whose RMS is ``threshold_db`` below the loudest frame.

    Args:
        wave: A waveform.
        threshold_db: Silence threshold relative to the loudest frame.
        frame: Frame length in samples (10 ms at 16 kHz).

    Returns:
        The part from the first to the end of the last non-silent frame; empty if all is silent.

    Shape:
        wave: (S,). Output: (S',) with S' <= S.
    """
    padded = torch.nn.functional.pad(wave, (0, -wave.shape[0] % frame))
    rms = padded.view(-1, frame).pow(2).mean(dim=1).sqrt()  # (S,) -> (frames, frame) -> (frames,)
    if rms.numel() == 0 or float(rms.max()) <= EPS:
        return wave[:0]
    loud = torch.nonzero(rms >= rms.max() * 10 ** (-threshold_db / 20)).flatten()
    return wave[int(loud[0]) * frame: min(wave.shape[0], (int(loud[-1]) + 1) * frame)]


def set_peak(wave: torch.Tensor, level_db: float) -> torch.Tensor:
    """Scale so the absolute peak is ``level_db`` dB re full scale.

    Shape:
        wave: (..., S). Output: same.
    """
    return wave * (10 ** (level_db / 20) / wave.abs().max().clamp_min(EPS))


def set_rms(wave: torch.Tensor, level_db: float) -> torch.Tensor:
    """Scale so the RMS is ``level_db`` dB re full scale.

    Shape:
        wave: (..., S). Output: same.
    """
    return wave * (10 ** (level_db / 20) / wave.pow(2).mean().sqrt().clamp_min(EPS))


def place(speech: torch.Tensor, offset: int, length: int = CLIP_SAMPLES) -> torch.Tensor:
    """Zeros of ``length`` samples with ``speech`` starting at ``offset``.

    Raises:
        ValueError: The speech does not fit at that offset.

    Shape:
        speech: (S,). Output: (length,).
    """
    if not 0 <= offset <= length - speech.shape[0]:
        raise ValueError(f"{speech.shape[0]} samples do not fit in {length} at offset {offset}")
    clip = torch.zeros(length, dtype=speech.dtype)
    clip[offset:offset + speech.shape[0]] = speech
    return clip


def fit(wave: torch.Tensor, length: int = CLIP_SAMPLES) -> torch.Tensor:
    """Pad with trailing zeros or crop the end to exactly ``length`` samples (Speech Commands' rule).

    Shape:
        wave: (S,). Output: (length,).
    """
    return torch.nn.functional.pad(wave, (0, length - wave.shape[0])) if wave.shape[0] < length else wave[:length]

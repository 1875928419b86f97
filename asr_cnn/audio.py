"""Reading and writing waveforms: mono float32 in [-1, 1] at one sample rate.

Every failure is an :class:`AudioError` naming the file and what is wrong with it, never a bare
traceback from soundfile.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.files import atomic_write


class AudioError(ValueError):
    """A file or waveform that cannot be used as audio; the message names the file and the fault."""


def load_audio(path: str | os.PathLike, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """Load a sound file as one mono waveform.

    Channels are averaged; a file at another rate is resampled with torchaudio.

    Args:
        path: Any format libsndfile reads (WAV, FLAC, OGG, ...).
        sample_rate: Rate of the returned waveform in Hz.

    Returns:
        Float32 waveform in [-1, 1].

    Raises:
        AudioError: The file is missing, not audio, unreadable, empty, or holds NaN or Inf samples.

    Shape:
        Output: (S,).
    """
    path = Path(path)
    if sample_rate <= 0:
        raise AudioError(f"{path}: sample_rate must be positive, got {sample_rate}")
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if not path.is_file():
        raise AudioError(f"{path}: not a regular file")
    try:
        data, file_rate = sf.read(str(path), dtype="float32", always_2d=True)  # (S, channels)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise AudioError(f"{path}: not a readable audio file ({err})") from err
    if data.shape[0] == 0:
        raise AudioError(f"{path}: the file holds zero samples")
    if not np.isfinite(data).all():
        bad = int((~np.isfinite(data)).sum())
        raise AudioError(f"{path}: {bad} sample(s) are NaN or Inf")
    wave = torch.from_numpy(data.mean(axis=1))  # (S,) channels averaged
    if file_rate != sample_rate:
        wave = AF.resample(wave, orig_freq=int(file_rate), new_freq=sample_rate)
    return wave.clamp_(-1.0, 1.0).contiguous()


def load_audios(paths: Sequence[str | os.PathLike], sample_rate: int = SAMPLE_RATE) -> list[torch.Tensor]:
    """:func:`load_audio` of each path, in order, decoded on a thread per core (libsndfile releases the GIL).

    Shape:
        Output: one (S_i,) waveform per path.
    """
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(lambda path: load_audio(path, sample_rate), paths))


def save_audio(path: str | os.PathLike, wave: torch.Tensor | np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Write a mono waveform as 16-bit PCM, atomically (temporary file, then rename).

    Args:
        path: Output file; the format follows the suffix (``.wav``, ``.flac``).
        wave: Samples in [-1, 1]; values outside are clipped.
        sample_rate: Rate in Hz.

    Raises:
        AudioError: The waveform is not 1-D, is empty or holds NaN/Inf, or the file cannot be written.

    Shape:
        wave: (S,).
    """
    path = Path(path)
    data = wave.detach().cpu().numpy() if isinstance(wave, torch.Tensor) else np.asarray(wave)
    if data.ndim != 1:
        raise AudioError(f"{path}: expected a mono waveform of shape (S,), got shape {tuple(data.shape)}")
    if data.size == 0:
        raise AudioError(f"{path}: refusing to write zero samples")
    if not np.isfinite(data).all():
        raise AudioError(f"{path}: waveform holds NaN or Inf samples")
    data = np.clip(data.astype(np.float32), -1.0, 1.0)
    try:
        with atomic_write(path) as tmp:
            sf.write(tmp, data, sample_rate, subtype="PCM_16")
    except (OSError, sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise AudioError(f"{path}: cannot write audio ({err})") from err

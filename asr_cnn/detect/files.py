"""Scanning sound files and folders for keywords in bounded memory, block by block."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import soundfile as sf
import torch
from omegaconf import DictConfig

from asr_cnn.audio import AudioError
from asr_cnn.detect.detector import Detector
from asr_cnn.detect.events import Event
from asr_cnn.detect.load import load_detector
from asr_cnn.detect.resample import StreamResampler
from asr_cnn.recipes.config import DetectRecipe
from asr_cnn.schema import typed
from asr_cnn.threads import torch_threads

AUDIO_SUFFIXES = frozenset({*(f".{name.lower()}" for name in sf.available_formats()), ".opus"})
"""File name endings scanned in a folder: every container libsndfile reads (.wav, .flac, .ogg, ...), and
``.opus``, the usual ending of Ogg/Opus (libsndfile's OGG container), which the format list does not name."""

DEFAULT_BLOCK_SECONDS = 1.0
"""Audio read per block: memory stays a few blocks whatever the file's length."""


def audio_files(path: str | os.PathLike) -> list[Path]:
    """The file itself, or every sound file under a folder (recursively, sorted).

    Raises:
        AudioError: Nothing exists at ``path``, or a folder holds no sound file.
    """
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise AudioError(f"{path}: no such file or folder")
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise AudioError(f"{path}: the folder holds no sound file ({', '.join(sorted(AUDIO_SUFFIXES))})")
    return files


def read_blocks(path: str | os.PathLike, sample_rate: int, block_seconds: float = DEFAULT_BLOCK_SECONDS
                ) -> Iterator[torch.Tensor]:
    """Stream a sound file as mono blocks at ``sample_rate``, never holding the whole file.

    Channels are averaged and other rates resampled on the fly (the same samples as
    :func:`asr_cnn.audio.load_audio`, within float tolerance). NaN or out-of-range samples are passed on
    for the detector to sanitise and count.

    Shape:
        Output: blocks (S_block,); the last one may be shorter.

    Raises:
        AudioError: The file cannot be opened as audio or holds no sample.
    """
    path = Path(path)
    try:
        handle = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise AudioError(f"{path}: not a readable audio file ({err})") from err
    with handle:
        if handle.frames == 0:
            raise AudioError(f"{path}: the file holds zero samples")
        resampler = None if handle.samplerate == sample_rate else StreamResampler(handle.samplerate, sample_rate)
        block = max(1, round(block_seconds * handle.samplerate))
        for data in handle.blocks(blocksize=block, dtype="float32", always_2d=True):  # (S_block, channels)
            wave = torch.from_numpy(data.mean(axis=1))  # (S_block,) channels averaged
            yield wave if resampler is None else resampler.push(wave[None])[0]
        if resampler is not None:
            yield resampler.flush()[0]


def detect_file(detector: Detector, path: str | os.PathLike, block_seconds: float = DEFAULT_BLOCK_SECONDS
                ) -> Iterator[Event]:
    """Events in one file, yielded as they are found (the detector is reset first).

    Raises:
        AudioError: The file cannot be read.
    """
    detector.reset()
    for block in read_blocks(path, detector.sample_rate, block_seconds):
        yield from detector.push(block)


def detect(cfg: DictConfig, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Entry point of ``recipes/detect.py``: one JSON line per event, per file, on ``out``.

    The detector's operating point goes to ``err`` first, then unreadable files, repaired samples and files
    that gave no event; the other files are still scanned.
    ``out`` and ``err`` default to the standard streams current at the call.

    Args:
        cfg: Composed ``conf/detect.yaml`` (:class:`~asr_cnn.recipes.config.DetectRecipe`): ``checkpoint`` (one
            path, or a list of models on one backbone, whose events then carry ``"model": <path>``), ``input``
            (a file or folder), ``detector``, ``block_seconds``, ``device``, ``threads``.

    Returns:
        Exit status: 0, or 1 when some file could not be read.

    Raises:
        AudioError: ``cfg.input`` is neither a sound file nor a folder holding some.
        FileNotFoundError, ValueError: A checkpoint is missing or unreadable, the models do not share a backbone,
            or a setting is out of range.
    """
    out, err = out or sys.stdout, err or sys.stderr
    files = audio_files(cfg.input)  # a bad input is reported first, whatever else the config lacks
    recipe = typed(DetectRecipe, cfg, "")
    detector = load_detector(recipe.detector, recipe.checkpoint, recipe.device)
    print(detector.operating_point(), file=err, flush=True)
    failed = 0
    with torch_threads(recipe.threads):
        for path in files:
            found = 0
            try:
                for event in detect_file(detector, path, recipe.block_seconds):
                    print(event.to_json(file=str(path)), file=out, flush=True)
                    found += 1
            except AudioError as error:
                failed += 1
                print(f"error: {error}", file=err)
                continue
            if not found:
                print(f"{path}: no event at this operating point", file=err)
            bad = int(detector.bad_samples.sum())
            if bad:
                print(f"warning: {path}: {bad} NaN, Inf or out-of-range sample(s) were zeroed or clipped", file=err)
    return 1 if failed else 0

"""Long test streams for detection: negatives with keywords from held-out voices at known times.

Each stream ``streams/<id>.wav`` (16 kHz mono) is a bed of coloured noise at a varying floor, with
unknown words, babble and noise bursts, and every so often a keyword spoken by a ``test`` or
``test_engine`` voice; ``streams/<id>.json`` lists ``{"keyword", "start_s", "end_s"}`` of each keyword,
the bounds of its speech. Keywords keep ``KEYWORD_MARGIN_S`` of non-speech on both sides.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from asr_cnn.audio import load_audio, save_audio
from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.data.background import read_noises
from asr_cnn.data.cache import seed_of
from asr_cnn.data.clips import set_rms, trim_silence
from asr_cnn.data.config import HELD_OUT_SPLIT, CorpusConfig, CorpusError, corpus_config
from asr_cnn.data.labels import UNKNOWN
from asr_cnn.data.manifest import MANIFEST_FILE, Record, read_manifest

STREAM_DIR = "streams"
STREAM_FORMAT = 2
"""Version of how streams are composed; part of the corpus's cache key."""
STREAM_SPLITS = ("test", HELD_OUT_SPLIT)
"""Splits whose voices speak in streams (never heard in training)."""

KEYWORD_MARGIN_S = 0.5
"""Non-speech kept before and after every keyword, so events are separable."""

BED_SEGMENT_S = 10.0
"""Length of each stretch of the noise bed; kind and level change between stretches."""

FADE_S = 0.1
"""Cross-fade between bed stretches (no clicks)."""

KEYWORD_SPACING = (0.5, 1.5)
"""Range of the interval between keyword starts, in multiples of the mean (60 s / keywords_per_minute)."""

BED_KINDS = ("white", "pink", "brown")

NEGATIVES = {"unknown": 0.6, "babble": 0.25, "burst": 0.15}
"""Relative frequency of each kind of negative event."""

BABBLE_S = (1.0, 4.0)
BURST_S = (0.1, 0.8)
EVENT_DB = (-30.0, -12.0)
"""Range of RMS level of babble and noise bursts, dBFS."""


def build_streams(cfg_data: DictConfig | Mapping[str, Any]) -> list[Path]:
    """Write ``data.streams.count`` streams of a built corpus.

    Args:
        cfg_data: The data config (the corpus must be built with it first).

    Returns:
        Paths of the WAV files; each has a ``.json`` beside it.

    Raises:
        CorpusError: No corpus at ``data.root``, or it has no keyword clip from a held-out voice.
    """
    config = corpus_config(cfg_data)
    if not (config.root / MANIFEST_FILE).is_file():
        raise CorpusError(f"{config.root}: no {MANIFEST_FILE}; build the corpus first (build_corpus)")
    return write_streams(config, read_manifest(config.root))


def write_streams(config: CorpusConfig, records: Sequence[Record]) -> list[Path]:
    """Write the streams of ``config`` from the held-out clips among ``records``; remove older ones."""
    folder = config.root / STREAM_DIR
    paths = [folder / f"stream_{index:03d}.wav" for index in range(config.streams.count)]
    for stale in folder.glob("stream_*"):
        if stale.with_suffix(".wav") not in paths:
            stale.unlink()
    if not paths:
        return []
    held = sorted((r for r in records if r.split in STREAM_SPLITS), key=lambda r: r.path)  # order fixes choices
    keywords = [r for r in held if r.label in config.keywords]
    unknown = [r for r in held if r.label == UNKNOWN]
    if not keywords:
        raise CorpusError(f"{config.root}: no keyword clip in splits {STREAM_SPLITS} to put in streams")
    noises = read_noises(config.root)
    speech = _SpeechCache()
    for index, path in enumerate(paths):
        wave, events = _stream(config, index, keywords, unknown, noises, speech)
        save_audio(path, wave)
        path.with_suffix(".json").write_text(json.dumps(events, indent=1), encoding="utf-8")
    return paths


class _SpeechCache:
    """Trimmed speech of clip files, each read once."""

    def __init__(self) -> None:
        self._waves: dict[Path, torch.Tensor] = {}

    def __call__(self, record: Record) -> torch.Tensor:
        """The clip's speech without its leading and trailing silence.

        Shape:
            Output: (S,).
        """
        if record.path not in self._waves:
            self._waves[record.path] = trim_silence(load_audio(record.path))
        return self._waves[record.path]


def _stream(config: CorpusConfig, index: int, keywords: Sequence[Record], unknown: Sequence[Record],
            noises: Mapping[str, torch.Tensor], speech: Callable[[Record], torch.Tensor]
            ) -> tuple[torch.Tensor, list[dict[str, Any]]]:
    """One stream and its keyword events.

    Shape:
        Output: (minutes * 60 * SAMPLE_RATE,) and a list of events.
    """
    rng = random.Random(seed_of(config.seed, "stream", index))
    spec = config.streams
    total = math.ceil(spec.minutes * 60 * SAMPLE_RATE)
    wave = _bed(total, noises, spec.noise_db, rng)
    period = 60 * SAMPLE_RATE / spec.keywords_per_minute
    margin = int(KEYWORD_MARGIN_S * SAMPLE_RATE)
    next_keyword = rng.uniform(*KEYWORD_SPACING) * period
    cursor, after_keyword, events = 0, False, []
    while True:
        gap = int(rng.uniform(*spec.gap_s) * SAMPLE_RATE)
        start = cursor + (max(gap, margin) if after_keyword else gap)
        kind = rng.choices(list(NEGATIVES), weights=list(NEGATIVES.values()))[0]
        piece = _negative(kind, unknown, noises, rng, speech)
        # A negative that would run into the keyword's time gives way to it, so keywords keep their rate.
        is_keyword = start + piece.shape[0] + margin > next_keyword
        if is_keyword:
            start = max(int(next_keyword), cursor + margin)
            record = rng.choice(keywords)
            piece = speech(record)
        if start + piece.shape[0] + margin > total:
            break
        wave[start:start + piece.shape[0]] += piece
        cursor, after_keyword = start + piece.shape[0], is_keyword
        if is_keyword:
            events.append({"keyword": record.label, "start_s": start / SAMPLE_RATE, "end_s": cursor / SAMPLE_RATE})
            next_keyword = start + rng.uniform(*KEYWORD_SPACING) * period  # from the start, so the rate holds
    return wave.clamp(-1.0, 1.0), events


def _negative(kind: str, unknown: Sequence[Record], noises: Mapping[str, torch.Tensor], rng: random.Random,
              speech: Callable[[Record], torch.Tensor]) -> torch.Tensor:
    """An unknown word, a stretch of babble, or a short noise burst.

    Shape:
        Output: (S,).
    """
    if kind == "unknown" and unknown:
        return speech(rng.choice(unknown))
    source = noises["babble"] if kind != "burst" else noises[rng.choice(BED_KINDS)]
    length = int(rng.uniform(*(BABBLE_S if kind != "burst" else BURST_S)) * SAMPLE_RATE)
    start = rng.randrange(source.shape[0] - length)
    return set_rms(source[start:start + length], rng.uniform(*EVENT_DB))


def _bed(total: int, noises: Mapping[str, torch.Tensor], noise_db: tuple[float, float],
         rng: random.Random) -> torch.Tensor:
    """Stretches of coloured noise at random floors, cross-faded.

    Shape:
        Output: (total,).
    """
    shortest = min(noises[k].shape[0] for k in BED_KINDS)
    segment, fade = min(int(BED_SEGMENT_S * SAMPLE_RATE), shortest // 2), int(FADE_S * SAMPLE_RATE)
    ramp = torch.linspace(0.0, 1.0, fade)
    bed = torch.zeros(total + segment + fade)
    for start in range(0, total, segment):
        source = noises[rng.choice(BED_KINDS)]
        offset = rng.randrange(source.shape[0] - segment - fade)
        piece = set_rms(source[offset:offset + segment + fade].clone(), rng.uniform(*noise_db))
        piece[:fade] *= ramp
        piece[-fade:] *= ramp.flip(0)
        bed[start:start + segment + fade] += piece
    return bed[:total]

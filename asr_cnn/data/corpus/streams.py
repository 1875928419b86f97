"""Long streams for detection: negatives with keywords from voices never trained on, at known times.

Each stream ``<id>.wav`` (16 kHz mono) is a bed of coloured noise or music at a varying floor, with
unknown words, stretches of running speech, babble, noise bursts and (for keywords that allow it) real
read speech, and every so often a keyword; ``<id>.json`` lists ``{"keyword", "start_s", "end_s"}`` of each
keyword, the bounds of its speech. Keywords keep ``KEYWORD_MARGIN_S`` of non-speech on both sides.

Test streams (``streams/``) are made of ``test`` and ``test_engine`` material only, validation streams
(``validation_streams/``, for calibrating thresholds and choosing checkpoints) of ``validation`` material
only: voices, running speech, real speakers and the region of every noise file all belong to the split.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from asr_cnn.audio import load_audio, save_audio
from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.data.acoustics.clips import set_rms, trim_silence
from asr_cnn.data.acoustics.noise import babble_event, random_stretch
from asr_cnn.data.corpus.background import read_noises
from asr_cnn.data.corpus.cache import seed_of
from asr_cnn.data.corpus.config import HELD_OUT_SPLIT, CorpusConfig, CorpusError, corpus_config
from asr_cnn.data.corpus.labels import UNKNOWN
from asr_cnn.data.corpus.manifest import MANIFEST_FILE, Record, read_manifest
from asr_cnn.data.corpus.realnegatives import load_split, real_negatives, unsafe_keywords
from asr_cnn.data.corpus.running import read_running
from asr_cnn.files import write_text_atomic

STREAM_DIR = "streams"
VALIDATION_STREAM_DIR = "validation_streams"
STREAM_FORMAT = 3
"""Version of how streams are composed; part of the corpus's cache key."""
STREAM_SPLITS = {"test": ("test", HELD_OUT_SPLIT), "validation": ("validation",)}
"""Stream split -> the clip splits whose voices speak in it (never heard in training)."""

KEYWORD_MARGIN_S = 0.5
"""Non-speech kept before and after every keyword, so events are separable."""

BED_SEGMENT_S = 10.0
"""Length of each stretch of the noise bed; kind and level change between stretches."""

FADE_S = 0.1
"""Cross-fade between bed stretches (no clicks)."""

KEYWORD_SPACING = (0.5, 1.5)
"""Range of the interval between keyword starts, in multiples of the mean (60 s / keywords_per_minute)."""

BED_KINDS = ("white", "pink", "brown", "music")

NEGATIVES = {"unknown": 0.35, "speech": 0.3, "real": 0.15, "babble": 0.1, "burst": 0.1}
"""Relative frequency of each kind of negative event (kinds a stream lacks material for are left out)."""

SPEECH_S = (2.0, 8.0)
BURST_S = (0.1, 0.8)
EVENT_DB = (-30.0, -12.0)
"""Range of RMS level of babble and noise bursts, dBFS."""


def build_streams(cfg_data: DictConfig | Mapping[str, Any], split: str = "test") -> list[Path]:
    """Write ``split``'s streams of a built corpus (``data.streams.count`` test or ``validation_count``).

    Args:
        cfg_data: The data config (the corpus must be built with it first).
        split: ``test`` or ``validation``.

    Returns:
        Paths of the WAV files; each has a ``.json`` beside it.

    Raises:
        CorpusError: No corpus at ``data.root``, or it has no keyword clip from the split's voices.
    """
    config = corpus_config(cfg_data)
    if not (config.root / MANIFEST_FILE).is_file():
        raise CorpusError(f"{config.root}: no {MANIFEST_FILE}; build the corpus first (build_corpus)")
    return write_streams(config, read_manifest(config.root), split)


def stream_folder(root: Path, split: str) -> Path:
    """Where a corpus keeps ``split``'s streams."""
    if split not in STREAM_SPLITS:
        raise ValueError(f"streams are made for splits {list(STREAM_SPLITS)}, got {split!r}")
    return root / (STREAM_DIR if split == "test" else VALIDATION_STREAM_DIR)


def write_streams(config: CorpusConfig, records: Sequence[Record], split: str = "test") -> list[Path]:
    """Write ``split``'s streams of ``config`` from that split's material; remove older ones."""
    folder = stream_folder(config.root, split)
    count = config.streams.count if split == "test" else config.streams.validation_count
    paths = [folder / f"stream_{index:03d}.wav" for index in range(count)]
    for stale in folder.glob("stream_*"):
        if stale.with_suffix(".wav") not in paths:
            stale.unlink()
    if not paths:
        return []
    held = sorted((r for r in records if r.split in STREAM_SPLITS[split]), key=lambda r: r.path)  # order fixes choices
    keywords = [r for r in held if r.label in config.keywords]
    if not keywords:
        raise CorpusError(f"{config.root}: no keyword clip in splits {STREAM_SPLITS[split]} to put in streams")
    material = _Material(unknown=[r for r in held if r.label == UNKNOWN], noises=read_noises(config.root, split),
                         running=read_running(config.root, split), real=_real_speech(config, split))
    speech = _SpeechCache()
    for index, path in enumerate(paths):
        wave, events = _stream(config, (split, index), keywords, material, speech)
        save_audio(path, wave)
        write_text_atomic(path.with_suffix(".json"), json.dumps(events, indent=1))
    return paths


@dataclass(frozen=True)
class _Material:
    """What one split's streams are made of besides keywords.

    Attributes:
        unknown: Unknown-word clips of the split's voices.
        noises: The split's region of every noise file, by kind.
        running: The split's running speech, if any.
        real: The split's real read speech (empty when the keywords forbid it).
    """

    unknown: Sequence[Record]
    noises: Mapping[str, torch.Tensor]
    running: torch.Tensor | None
    real: Sequence[torch.Tensor]


def _real_speech(config: CorpusConfig, split: str) -> list[torch.Tensor]:
    """The split's shipped real speech, when enabled and no keyword is common in read speech."""
    spec = config.real_negatives
    if not spec.enabled or unsafe_keywords(config.keywords, spec.common_words):
        return []
    return load_split(real_negatives(spec.splits, config.seed), split)


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


def _stream(config: CorpusConfig, key: tuple[str, int], keywords: Sequence[Record], material: _Material,
            speech: Callable[[Record], torch.Tensor]) -> tuple[torch.Tensor, list[dict[str, Any]]]:
    """One stream and its keyword events; ``key`` (split, index) seeds it.

    Shape:
        Output: (minutes * 60 * SAMPLE_RATE,) and a list of events.
    """
    rng = random.Random(seed_of(config.seed, "stream", *key))
    spec = config.streams
    total = math.ceil(spec.minutes * 60 * SAMPLE_RATE)
    wave = _bed(total, material.noises, spec.noise_db, rng)
    period = 60 * SAMPLE_RATE / spec.keywords_per_minute
    margin = int(KEYWORD_MARGIN_S * SAMPLE_RATE)
    next_keyword = rng.uniform(*KEYWORD_SPACING) * period
    kinds = {k: w for k, w in NEGATIVES.items() if _has(k, material)}
    cursor, after_keyword, events = 0, False, []
    while True:
        gap = int(rng.uniform(*spec.gap_s) * SAMPLE_RATE)
        start = cursor + (max(gap, margin) if after_keyword else gap)
        kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
        piece = _negative(kind, material, rng, speech)
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


def _has(kind: str, material: _Material) -> bool:
    """Whether the split has material for a kind of negative event."""
    return {"unknown": bool(material.unknown), "speech": material.running is not None,
            "real": bool(material.real), "babble": material.running is not None}.get(kind, True)


def _negative(kind: str, material: _Material, rng: random.Random, speech: Callable[[Record], torch.Tensor]
              ) -> torch.Tensor:
    """An unknown word, a stretch of running, babbled or real speech, or a short noise burst.

    Shape:
        Output: (S,).
    """
    if kind == "unknown":
        return speech(rng.choice(material.unknown))
    if kind == "real":
        return rng.choice(material.real)
    if kind == "burst":
        return set_rms(random_stretch(material.noises[rng.choice(BED_KINDS)], BURST_S, rng), rng.uniform(*EVENT_DB))
    if kind == "speech":
        return random_stretch(material.running, SPEECH_S, rng)
    return set_rms(babble_event(material.running, rng), rng.uniform(*EVENT_DB))  # the split's own running speech


def _bed(total: int, noises: Mapping[str, torch.Tensor], noise_db: tuple[float, float],
         rng: random.Random) -> torch.Tensor:
    """Stretches of coloured noise or music at random floors, cross-faded.

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

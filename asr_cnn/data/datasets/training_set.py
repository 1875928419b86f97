"""The training set of a live-stream run: clips, windows of keyword-free speech, keywords in context,
and the hard negatives mining adds (:mod:`asr_cnn.training.mining` finds them).

Settings: the corpus (:class:`~asr_cnn.data.corpus.config.CorpusConfig`), ``data.augment``
(:class:`~asr_cnn.data.corpus.config.AugmentSpec`) and ``trainer.live`` (how much of each part).
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from omegaconf import MISSING

from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.data.acoustics.augment import WaveAugment
from asr_cnn.data.corpus.background import NOISE_DIR, TRAIN_NOISE_DIR
from asr_cnn.data.corpus.config import AugmentSpec, CorpusConfig
from asr_cnn.data.corpus.labels import SILENCE, UNKNOWN
from asr_cnn.data.corpus.running import read_running
from asr_cnn.data.datasets.context import KeywordsInContext
from asr_cnn.data.datasets.mixture import Mixture
from asr_cnn.data.datasets.negatives import FixedWindows, NegativeWindows, Window, WindowSources
from asr_cnn.data.datasets.real import RealSpeechConfig, real_speech
from asr_cnn.data.datasets.speech_commands import SpeechCommands
from asr_cnn.data.datasets.windows import item_samples
from asr_cnn.schema import flag, interval, number

log = logging.getLogger(__name__)

SECONDS = "be a range [low, high] of seconds with 0 <= low <= high"


@dataclass
class TrainingSetConfig:
    """The schema of the settings in ``trainer.live`` that compose the training set (values in
    ``conf/trainer/default.yaml``; :class:`~asr_cnn.training.config.LiveConfig` adds the training's own)."""

    speech_windows: float = number(0)
    real_negatives: bool = flag()
    context_windows: float = number(0)
    partial_fraction: float = number(0, 1)
    lead_speech: float = number(0, 1)
    tail_s: list[float] = interval(SECONDS, low=0)
    gap_s: list[float] = interval(SECONDS, low=0)
    real_speech: RealSpeechConfig = MISSING


def train_augment(augment: AugmentSpec | None, root: Path, seed: int, **changes: Any) -> WaveAugment | None:
    """``augment`` (``data.augment``) with the train region of the noise files of the corpus at ``root``
    (``changes`` override settings)."""
    if augment is None:
        return None
    noise_dir = root / TRAIN_NOISE_DIR if (root / TRAIN_NOISE_DIR).is_dir() else root / NOISE_DIR
    return WaveAugment.from_config({**asdict(augment), **changes}, noise_dir, seed=seed)


@dataclass
class LiveData:
    """The training set of a live-stream run and what mining adds to it.

    Attributes:
        clips: The corpus's training clips (augmented).
        parts: Negative windows and keywords in context (empty parts when disabled).
        sources: Keyword-free training audio, cut into negative windows and mined.
        mined: Hard negatives found so far.
        unknown: Class index of negatives.
        augment: Augmentation of the windows.
        seed: Training seed.
    """

    clips: SpeechCommands
    parts: list[torch.utils.data.Dataset]
    sources: WindowSources | None
    unknown: int
    augment: WaveAugment | None
    seed: int
    mined: list[Window] = field(default_factory=list)

    def dataset(self) -> Mixture:
        """Clips, windows, keywords in context and the mined windows, as one dataset."""
        mined = [FixedWindows(self.sources, self.mined, self.unknown, self.augment, self.seed)] if self.mined else []
        return Mixture([self.clips, *self.parts, *mined])


def build_live_data(corpus: CorpusConfig, augment_spec: AugmentSpec | None, live: TrainingSetConfig, seed: int,
                    labels: list[str], window: int) -> LiveData:
    """The training set that ``live`` describes over the built ``corpus``, augmented by ``augment_spec``."""
    root = corpus.root
    augment = train_augment(augment_spec, root, seed)
    item = item_samples(window)  # a clip, or the window when longer; training crops the window
    speech = [s for s in (read_running(root, "train"),) if s is not None]
    real = real_speech(corpus, live.real_speech, "train") if live.real_negatives else []
    if real:
        speech.append(torch.cat(real))
    unknown = labels.index(UNKNOWN)
    if not speech:
        log.info("no running speech in %s: training on clips alone", root)
        return LiveData(SpeechCommands(root, "train", labels, augment=augment, seed=seed, samples=item), [],
                        None, unknown, augment, seed)
    sources = WindowSources(speech, item)
    clips = SpeechCommands(root, "train", labels, augment=augment, seed=seed, samples=item, lead=sources,
                           lead_speech=live.lead_speech)

    def count(fraction: float) -> int:
        return math.ceil(fraction * len(clips))

    keywords = [r for r in clips.records if r.label not in (SILENCE, UNKNOWN) and r.label in labels]
    parts = [NegativeWindows(sources, count(live.speech_windows), unknown, augment, seed),
             KeywordsInContext(keywords, labels, unknown, sources, count(live.context_windows), item, window,
                               partial_fraction=live.partial_fraction, tail_s=live.tail_s, gap_s=live.gap_s,
                               augment=train_augment(augment_spec, root, seed, shift_s=0.0), seed=seed)]
    log.info("live training set: %d clips, %d speech windows, %d keywords in context from %.1f minutes of "
             "running%s speech", len(clips), len(parts[0]), len(parts[1]),
             sum(s.shape[0] for s in speech) / SAMPLE_RATE / 60, " and real" if real else "")
    return LiveData(clips, parts, sources, unknown, augment, seed)

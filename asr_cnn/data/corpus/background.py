"""The ``_background_noise_`` folder (white, pink, brown noise, babble, music) and what is cut from it.

Every split uses its own region of each noise file (:data:`REGIONS`): silence clips, the noise that
training mixes into clips (the train regions, written to ``_train_noise_/``), and the beds of the
validation and test streams. No stretch of noise is in two splits. Babble is spoken by training voices
only, so held-out voices stay unheard in training; the streams mix their babble from their own split's
running speech instead.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from asr_cnn.audio import load_audio, save_audio
from asr_cnn.constants import CLIP_SAMPLES, SAMPLE_RATE
from asr_cnn.data.acoustics.clips import set_rms
from asr_cnn.data.acoustics.music import music
from asr_cnn.data.acoustics.noise import COLOR_EXPONENTS, babble, colored_noise
from asr_cnn.data.corpus.cache import digest, seed_of
from asr_cnn.data.corpus.config import CorpusConfig, CorpusError, EngineSpec
from asr_cnn.data.corpus.plan import ClipJob, make_job
from asr_cnn.data.corpus.synthesis import MADE, REUSED, Outcome
from asr_cnn.data.voices.vocabulary import Vocabulary

NOISE_DIR = "_background_noise_"
NOISE_FILES = {"white": "white_noise.wav", "pink": "pink_noise.wav", "brown": "brown_noise.wav", "babble": "babble.wav",
               "music": "music.wav"}
"""Noise kind -> file name in ``_background_noise_`` (the coloured ones named as in Speech Commands)."""

TRAIN_NOISE_DIR = "_train_noise_"
"""The train region of every noise file: what training mixes into clips (``data.augment``)."""

SILENCE_KINDS = ("white", "pink", "brown")
"""Noise kinds silence clips are cut from: not babble, which is speech and would blur silence with unknown."""

NOISE_RMS_DB = -20.0
"""RMS level of the noise files; users rescale them (SNR, silence level)."""

REGIONS = {"train": (0.0, 0.55), "validation": (0.55, 0.7), "test": (0.7, 0.85), "test_engine": (0.85, 1.0)}
"""Split -> the fraction of every noise file its silence clips are cut from."""

BABBLE_SENTENCES = 48
"""Distinct sentences babble is mixed from."""

SENTENCE_WORDS = (5, 9)
"""Range of words per babble sentence."""


def babble_jobs(config: CorpusConfig, train_voices: Sequence[tuple[EngineSpec, str]], vocabulary: Vocabulary,
                engine_keys: Mapping[str, str]) -> list[ClipJob]:
    """Sentences of random general words (no keyword, no near-miss) by random training voices."""
    jobs = []
    for i in range(BABBLE_SENTENCES):
        rng = random.Random(seed_of(config.seed, "babble", i))
        spec, voice = rng.choice(list(train_voices))
        text = " ".join(rng.choice(vocabulary.general) for _ in range(rng.randint(*SENTENCE_WORDS)))
        jobs.append(make_job(spec.name, voice, text, "babble", "train", speed=rng.uniform(*spec.speed),
                             pitch=rng.uniform(*spec.pitch), seed=rng.getrandbits(63), level_db=0.0,
                             key=engine_keys[spec.name]))
    return jobs


def noise_key(config: CorpusConfig, sentences: Sequence[ClipJob]) -> str:
    """Hash of everything the noise files depend on."""
    return digest(config.seed, config.noise.__dict__, NOISE_RMS_DB, list(NOISE_FILES), [j.path for j in sentences])


def make_noises(config: CorpusConfig, sentences: Sequence[torch.Tensor]) -> dict[str, torch.Tensor]:
    """Every noise kind, ``noise.seconds`` long at ``NOISE_RMS_DB``.

    Shape:
        sentences: each (S_i,). Output values: (noise.seconds * SAMPLE_RATE,).
    """
    samples = math.ceil(config.noise.seconds * SAMPLE_RATE)
    shortest = min(high - low for low, high in REGIONS.values())
    if shortest * samples < CLIP_SAMPLES:
        raise CorpusError(f"data.noise.seconds={config.noise.seconds} is too short: every split's share "
                          f"({shortest:.0%}) must hold a {CLIP_SAMPLES / SAMPLE_RATE:g}-s clip, so use at least "
                          f"{math.ceil(CLIP_SAMPLES / SAMPLE_RATE / shortest)}")
    noises = {}
    for kind, exponent in COLOR_EXPONENTS.items():
        generator = torch.Generator().manual_seed(seed_of(config.seed, "noise", kind))
        noises[kind] = set_rms(colored_noise(samples, exponent, generator), NOISE_RMS_DB).clamp(-1.0, 1.0)
    generator = torch.Generator().manual_seed(seed_of(config.seed, "noise", "babble"))
    noises["babble"] = set_rms(babble(sentences, samples, config.noise.babble_talkers, generator), NOISE_RMS_DB)
    generator = torch.Generator().manual_seed(seed_of(config.seed, "noise", "music"))
    noises["music"] = set_rms(music(samples, generator), NOISE_RMS_DB).clamp(-1.0, 1.0)
    return noises


def region(wave: torch.Tensor, split: str) -> torch.Tensor:
    """The part of a noise file that belongs to ``split`` (see :data:`REGIONS`).

    Shape:
        wave: (S,). Output: (S_split,), a view.
    """
    low, high = (int(f * wave.shape[0]) for f in REGIONS[split])
    return wave[low:high]


def write_noises(root: Path, noises: Mapping[str, torch.Tensor]) -> None:
    """Write every noise kind into ``root/_background_noise_``, and their train regions into ``_train_noise_``."""
    for kind, wave in noises.items():
        save_audio(root / NOISE_DIR / NOISE_FILES[kind], wave)
        save_audio(root / TRAIN_NOISE_DIR / NOISE_FILES[kind], region(wave, "train"))


def read_noises(root: Path, split: str | None = None) -> dict[str, torch.Tensor]:
    """The noise files of a corpus by kind, or only ``split``'s region of each (raises
    :class:`asr_cnn.audio.AudioError` naming a bad file).

    Shape:
        Output values: (S,) each.
    """
    noises = {kind: load_audio(root / NOISE_DIR / name) for kind, name in NOISE_FILES.items()}
    return noises if split is None else {kind: region(wave, split) for kind, wave in noises.items()}


def render_silence(jobs: Sequence[ClipJob], noises: Mapping[str, torch.Tensor], root: Path) -> list[Outcome]:
    """Write each silence clip (unless present): one second from its split's region of a noise file."""
    outcomes = []
    for job in jobs:
        if (root / job.path).is_file():
            outcomes.append(Outcome(job, REUSED))
            continue
        kind, _, split = job.voice.partition("@")
        noise = region(noises[kind], split)
        start = random.Random(job.seed).randrange(noise.shape[0] - CLIP_SAMPLES + 1)
        save_audio(root / job.path, set_rms(noise[start:start + CLIP_SAMPLES], job.level_db).clamp(-1.0, 1.0))
        outcomes.append(Outcome(job, MADE))
    return outcomes

"""What a corpus contains: which speaker goes to which split, and one job per clip to make.

Every random choice is seeded by the corpus seed and the item's identity (engine, voice, take, slot),
never by the order of work, so any subset of jobs can be made in any process with the same result.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from asr_cnn.data.corpus.cache import digest, seed_of
from asr_cnn.data.corpus.config import HELD_OUT_SPLIT, SPLITS, CorpusConfig, CorpusError
from asr_cnn.data.corpus.labels import SILENCE, UNKNOWN, label_folder
from asr_cnn.data.corpus.manifest import Record
from asr_cnn.data.voices.vocabulary import Vocabulary

CLIP_FORMAT = 3
"""Version of how clips are made (engines, trimming, placement, level); part of every clip's hash."""

NOISE_ENGINE = "noise"
"""Engine name of silence clips, whose voice is ``<noise kind>@<split>``."""

_DECIMALS = 3  # speed, pitch and levels are rounded so the manifest states them exactly


@dataclass(frozen=True)
class ClipJob:
    """One 1-s clip to make.

    Attributes:
        engine, voice, text, label, split, speed, pitch: As in the manifest.
        seed: Seeds the engine, the placement in the clip, and the noise segment of a silence clip.
        level_db: Peak level of speech (RMS level of a silence clip) in dBFS.
        path: File path relative to the corpus root; its name hashes everything above.
    """

    engine: str
    voice: str
    text: str
    label: str
    split: str
    speed: float
    pitch: float
    seed: int
    level_db: float
    path: str

    def record(self, root: Path) -> Record:
        """The manifest record of the made clip."""
        return Record(path=root / self.path, label=self.label, engine=self.engine, voice=self.voice,
                      split=self.split, text=self.text, speed=self.speed, pitch=self.pitch)


def is_held_out(engine: str, voice: str, held_out: str) -> bool:
    """Whether ``held_out`` (an engine, ``engine:voice`` or ``engine:language`` of espeak) covers a voice."""
    name = f"{engine}:{voice}"
    return held_out in (engine, name) or name.startswith(f"{held_out}+")


def assign_splits(speakers: Mapping[tuple[str, str], str], held_out: str, fractions: Mapping[str, float],
                  seed: int) -> dict[tuple[str, str], str]:
    """The split of every (engine, voice): held-out ones to ``test_engine``, the rest by speaker.

    Each engine's speakers are shuffled (seeded) and divided by ``fractions``; a split with a positive
    fraction gets at least one speaker when the engine has enough, else all of its speakers train.

    Args:
        speakers: (engine, voice) -> speaker identity (espeak: the variant shared across languages).
        held_out: See :func:`is_held_out`.
        fractions: Split name -> fraction of speakers.
        seed: Corpus seed.

    Raises:
        CorpusError: ``held_out`` matches no voice, or nothing is left to train on.
    """
    result = {key: HELD_OUT_SPLIT for key in speakers if is_held_out(*key, held_out)}
    if not result:
        raise CorpusError(f"data.held_out {held_out!r} matches no engine or voice; engines: "
                          f"{sorted({e for e, _ in speakers})} (voice families as 'espeak:en-029')")
    by_engine: dict[str, set[str]] = defaultdict(set)
    for key, speaker in speakers.items():
        if key not in result:
            by_engine[key[0]].add(speaker)
    if not by_engine:
        raise CorpusError(f"data.held_out {held_out!r} holds out every voice: nothing is left to train on")
    split_of: dict[tuple[str, str], str] = {}
    for engine, names in by_engine.items():
        ordered = sorted(names)
        random.Random(seed_of(seed, engine, "speakers")).shuffle(ordered)
        wanted = [s for s in SPLITS[1:] if fractions[s] > 0]
        counts = {s: max(1, round(fractions[s] * len(ordered))) for s in wanted} \
            if len(ordered) > len(wanted) else {}
        position = 0
        for split in wanted:
            for speaker in ordered[position:position + counts.get(split, 0)]:
                split_of[engine, speaker] = split
            position += counts.get(split, 0)
        for speaker in ordered[position:]:
            split_of[engine, speaker] = "train"
    result.update({key: split_of[key[0], speaker] for key, speaker in speakers.items() if key not in result})
    return result


def plan_speech(config: CorpusConfig, voices: Mapping[str, Sequence[str]], splits: Mapping[tuple[str, str], str],
                vocabulary: Vocabulary, engine_keys: Mapping[str, str]) -> list[ClipJob]:
    """Every speech clip: each voice says each keyword ``takes`` times plus ``unknown_per_take`` words a take.

    Args:
        config: The corpus configuration.
        voices: Engine -> its full voice names (only engines that are available).
        splits: From :func:`assign_splits`.
        vocabulary: Unknown words and near-misses.
        engine_keys: Engine -> hash of its version and options, so a new engine version means new files.
    """
    jobs = []
    for spec in config.engines:
        for voice in voices.get(spec.name, ()):
            for take in range(spec.takes):
                slots = [(("keyword", k), k, k) for k in config.keywords]
                for u in range(config.unknown_per_take):
                    rng = random.Random(seed_of(config.seed, spec.name, voice, take, "unknown", u))
                    slots.append((("unknown", u), _unknown_word(rng, config, vocabulary), UNKNOWN))
                for slot, text, label in slots:
                    rng = random.Random(seed_of(config.seed, spec.name, voice, take, *slot))
                    jobs.append(make_job(spec.name, voice, text, label, splits[spec.name, voice],
                                     speed=rng.uniform(*spec.speed), pitch=rng.uniform(*spec.pitch),
                                     seed=rng.getrandbits(63), level_db=rng.uniform(*config.level_db),
                                     key=engine_keys[spec.name]))
    return jobs


def plan_silence(config: CorpusConfig, speech: Sequence[ClipJob], kinds: Sequence[str],
                 noise_key: str) -> list[ClipJob]:
    """Silence clips per split: ``silence_ratio`` times one keyword's clips there, of random noise kinds.

    Args:
        config: The corpus configuration.
        speech: The split's speech jobs (to size the silence class like a keyword class).
        kinds: Noise kinds to cut from (``_background_noise_`` file stems).
        noise_key: Hash of the noise files' content.
    """
    per_split: dict[str, int] = defaultdict(int)
    for job in speech:
        per_split[job.split] += job.label in config.keywords
    jobs = []
    for split, keyword_clips in sorted(per_split.items()):
        for i in range(round(config.silence_ratio * keyword_clips / len(config.keywords))):
            rng = random.Random(seed_of(config.seed, NOISE_ENGINE, split, i))
            jobs.append(make_job(NOISE_ENGINE, f"{rng.choice(kinds)}@{split}", "", SILENCE, split, speed=1.0, pitch=1.0,
                             seed=rng.getrandbits(63), level_db=rng.uniform(*config.noise.silence_db), key=noise_key))
    return jobs


def _unknown_word(rng: random.Random, config: CorpusConfig, vocabulary: Vocabulary) -> str:
    if rng.random() < config.near_miss_fraction:
        near = vocabulary.near_misses[rng.choice(config.keywords)]
        if near:
            return rng.choice(near)
    return rng.choice(vocabulary.general)


def make_job(engine: str, voice: str, text: str, label: str, split: str, *, speed: float, pitch: float, seed: int,
         level_db: float, key: str) -> ClipJob:
    speed, pitch, level_db = (round(v, _DECIMALS) for v in (speed, pitch, level_db))
    name = digest(engine, voice, text, speed, pitch, seed, level_db, key, CLIP_FORMAT)[:16]
    path = f"{label_folder(label)}/{digest(engine, voice)[:8]}_nohash_{name}.wav"
    return ClipJob(engine, voice, text, label, split, speed, pitch, seed, level_db, path)

"""Running speech: minutes of continuous keyword-free synthetic speech per split, read as random windows.

``_running_speech_/<split>.wav`` holds sentences (:mod:`asr_cnn.data.voices.sentences`) said one after another
by that split's voices of every engine (each voice weighted by its engine's ``takes``, as in the clips,
times ``running_speech.engine_weights``), with short pauses; ``<split>.json`` lists each sentence's text,
voice and time; some carry a partial keyword or a confusable (``running_speech.partial_rate`` and
``confusable_rate``, per split). The test file is spoken by ``test`` and ``test_engine`` voices. Training
reads random windows of the train file as negatives and builds keywords-in-context on it; the validation
and test streams draw their speech from their own file.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from asr_cnn.audio import load_audio, save_audio
from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.data.acoustics.clips import set_peak
from asr_cnn.data.corpus.cache import digest, seed_of
from asr_cnn.data.corpus.config import HELD_OUT_SPLIT, SPLITS, CorpusConfig, EngineSpec
from asr_cnn.data.corpus.plan import ClipJob, make_job
from asr_cnn.data.voices.sentences import Lexicon, make_sentence
from asr_cnn.files import write_text_atomic

RUNNING_DIR = "_running_speech_"
RUNNING_FORMAT = 1
"""Version of how running speech is composed; part of its cache key."""

SENTENCE_S = 4.5
"""Typical length of a sentence at speed 1, to plan how many make the configured minutes."""

LABEL = "running"
"""Label of sentence jobs (never a clip label: they are not written as clips)."""


def speaking_split(split: str) -> tuple[str, ...]:
    """Voice splits that speak a running-speech split: the test file also hears the held-out engine."""
    return (split, HELD_OUT_SPLIT) if split == "test" else (split,)


def running_jobs(config: CorpusConfig, voices: Sequence[tuple[EngineSpec, str]], splits: Mapping[tuple[str, str], str],
                 lexicon: Lexicon, engine_keys: Mapping[str, str]) -> dict[str, list[ClipJob]]:
    """Sentences to speak per split, enough for ``running_speech.minutes``.

    Args:
        config: The corpus configuration.
        voices: Every (engine spec, full voice name) available.
        splits: (engine, voice) -> split.
        lexicon: Keyword-free words, partial keywords and confusables.
        engine_keys: Engine -> hash of its version and options.
    """
    spec = config.running_speech
    jobs: dict[str, list[ClipJob]] = {}
    for split in SPLITS:
        speakers = [(s, v) for s, v in voices if splits[s.name, v] in speaking_split(split)]
        weights = [s.takes * spec.engine_weights.get(s.name, 1.0) for s, _ in speakers]
        count = math.ceil(spec.minutes[split] * 60 / SENTENCE_S)
        if count == 0 or sum(weights) == 0:
            continue
        jobs[split] = []
        for i in range(count):
            rng = random.Random(seed_of(config.seed, "running", split, i))
            engine, voice = rng.choices(speakers, weights=weights)[0]
            text = make_sentence(rng, lexicon, spec.partial_rate[split], spec.confusable_rate[split])
            jobs[split].append(make_job(engine.name, voice, text, LABEL, split, speed=rng.uniform(*engine.speed),
                                        pitch=rng.uniform(*engine.pitch), seed=rng.getrandbits(63),
                                        level_db=rng.uniform(*config.level_db), key=engine_keys[engine.name]))
    return jobs


def running_keys(config: CorpusConfig, jobs: Mapping[str, Sequence[ClipJob]]) -> dict[str, str]:
    """Split -> hash of everything its running-speech file depends on (a job's path names its text, voice and
    settings), so a change to one split's speech re-speaks that split alone."""
    return {split: digest(RUNNING_FORMAT, config.seed, config.running_speech.pause_s, [j.path for j in js])
            for split, js in jobs.items()}


def running_paths(root: Path, splits: Sequence[str] = SPLITS) -> dict[str, Path]:
    """Split -> its running-speech file (which may not exist: a split with no voices or no minutes)."""
    return {split: root / RUNNING_DIR / f"{split}.wav" for split in splits}


def write_running(root: Path, config: CorpusConfig, jobs: Mapping[str, Sequence[ClipJob]],
                  speech: Mapping[str, Sequence[torch.Tensor]]) -> list[Path]:
    """Join each split's sentences with seeded pauses into ``<split>.wav`` and list them in ``<split>.json``.

    Args:
        root: The corpus folder.
        config: The corpus configuration.
        jobs: Split -> its sentence jobs, for the splits to (re)write.
        speech: Split -> the trimmed waveform of each job, in order (empty ones are left out).

    Shape:
        speech values: each (S_i,).
    """
    written = []
    for split, split_jobs in jobs.items():
        rng = random.Random(seed_of(config.seed, "running pauses", split))
        pieces, sentences, position = [], [], 0
        for job, wave in zip(split_jobs, speech[split]):
            if wave.numel() == 0:
                continue
            pause = torch.zeros(int(rng.uniform(*config.running_speech.pause_s) * SAMPLE_RATE))
            pieces += [pause, set_peak(wave, job.level_db)]
            start = position + pause.shape[0]
            position = start + wave.shape[0]
            sentences.append({"text": job.text, "engine": job.engine, "voice": job.voice,
                              "start_s": start / SAMPLE_RATE, "end_s": position / SAMPLE_RATE})
        path = running_paths(root, [split])[split]
        save_audio(path, torch.cat(pieces).clamp(-1.0, 1.0))
        write_text_atomic(path.with_suffix(".json"), json.dumps(sentences, indent=1))
        written.append(path)
    return written


def drop_stale_running(root: Path, splits: Sequence[str]) -> None:
    """Remove the running-speech files of every split not in ``splits`` (no longer configured)."""
    for stale in (root / RUNNING_DIR).glob("*"):
        if stale.stem not in splits:
            stale.unlink()


def read_running(root: Path, split: str) -> torch.Tensor | None:
    """A split's running speech, or ``None`` when the corpus has none for it.

    Shape:
        Output: (S,).
    """
    path = running_paths(root, [split])[split]
    return load_audio(path) if path.is_file() else None

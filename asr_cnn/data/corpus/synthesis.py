"""Making speech clips in parallel: chunks of jobs go to worker processes, one engine instance each.

Workers are spawned (not forked), so no native engine state or onnxruntime thread pool is inherited.
"""

from __future__ import annotations

import multiprocessing
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch

from asr_cnn.audio import save_audio
from asr_cnn.constants import CLIP_SAMPLES, SAMPLE_RATE
from asr_cnn.data.acoustics.clips import place, set_peak, trim_silence
from asr_cnn.data.corpus.cache import digest
from asr_cnn.data.corpus.plan import ClipJob
from asr_cnn.data.voices.engines import Engine, EngineError, Unpronounceable, make_engine
from asr_cnn.threads import torch_threads

CHUNK = 64
"""Jobs per task sent to a worker: large enough to amortise the hand-off, small enough to balance."""

MADE = "made"
REUSED = "reused"
NO_AUDIO = "no audio"

_ENGINES: dict[str, Engine] = {}  # this process's engine instances, by name and options
T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    """What happened to one job: ``made``, ``reused``, or why it was skipped."""

    job: ClipJob
    status: str

    @property
    def ok(self) -> bool:
        return self.status in (MADE, REUSED)


def render_clips(jobs: Sequence[ClipJob], options: dict[str, dict[str, Any]], root: Path,
                 workers: int) -> list[Outcome]:
    """Make every speech clip whose file is missing; clips already there are reused.

    Args:
        jobs: Speech jobs.
        options: Engine name -> constructor options.
        root: Corpus root.
        workers: Processes; 0 or 1 means this process.

    Returns:
        One outcome per job, in order.
    """
    reused = {j.path for j in jobs if (root / j.path).is_file()}
    todo = [j for j in jobs if j.path not in reused]
    tasks = [(j[0].engine, options[j[0].engine], list(j), root) for j in _chunks(todo)]
    made = {o.job.path: o for chunk in _run(_render_chunk, tasks, workers) for o in chunk}
    return [Outcome(j, REUSED) if j.path in reused else made[j.path] for j in jobs]


def speak(jobs: Sequence[ClipJob], options: dict[str, dict[str, Any]], workers: int) -> list[torch.Tensor]:
    """Synthesize and trim each job's text without writing files (babble sentences).

    Shape:
        Output: one (S_i,) waveform per job, in order.
    """
    chunks = _chunks(jobs)  # grouped by engine, so out of order
    tasks = [(c[0].engine, options[c[0].engine], list(c)) for c in chunks]
    waves = {id(job): wave for chunk, result in zip(chunks, _run(_speak_chunk, tasks, workers))
             for job, wave in zip(chunk, result)}
    return [waves[id(job)] for job in jobs]


def _chunks(jobs: Sequence[ClipJob]) -> list[list[ClipJob]]:
    """Chunks of at most ``CHUNK`` jobs, each of one engine."""
    result = []
    for engine in sorted({j.engine for j in jobs}):
        same = [j for j in jobs if j.engine == engine]
        result += [same[i:i + CHUNK] for i in range(0, len(same), CHUNK)]
    return result


def _run(function: Callable[..., T], tasks: list[tuple], workers: int) -> list[T]:
    if workers <= 1 or len(tasks) <= 1:
        with torch_threads(1):  # as in the workers: clips are small
            return [function(*task) for task in tasks]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context,
                             initializer=_one_thread) as pool:
        return list(pool.map(function, *zip(*tasks)))


def _one_thread() -> None:
    # Clips are small: torch's thread pool only adds contention, above all beside other workers.
    torch.set_num_threads(1)


def _engine(name: str, options: dict[str, Any]) -> Engine:
    key = digest(name, options)
    if key not in _ENGINES:
        _ENGINES[key] = make_engine(name, **options)
    return _ENGINES[key]


def _render_chunk(name: str, options: dict[str, Any], jobs: list[ClipJob], root: Path) -> list[Outcome]:
    engine = _engine(name, options)
    return [Outcome(job, _render(job, engine, root)) for job in jobs]


def _speak_chunk(name: str, options: dict[str, Any], jobs: list[ClipJob]) -> list[torch.Tensor]:
    engine = _engine(name, options)
    return [trim_silence(engine.synthesize(j.text, j.voice, speed=j.speed, pitch=j.pitch, seed=j.seed)) for j in jobs]


def _render(job: ClipJob, engine: Engine, root: Path) -> str:
    """Synthesize, trim, set the level, place at a seeded offset in 1 s, write; or say why not."""
    try:
        wave = engine.synthesize(job.text, job.voice, speed=job.speed, pitch=job.pitch, seed=job.seed)
    except Unpronounceable:
        return NO_AUDIO
    except EngineError as err:
        return f"engine error: {err}"
    speech = trim_silence(wave)
    if speech.shape[0] > CLIP_SAMPLES:
        return f"too long for a clip ({speech.shape[0] / SAMPLE_RATE:.2f} s)"
    offset = random.Random(job.seed).randrange(CLIP_SAMPLES - speech.shape[0] + 1)
    save_audio(root / job.path, place(set_peak(speech, job.level_db), offset))
    return MADE

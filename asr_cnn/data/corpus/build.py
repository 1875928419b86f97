"""Building a keyword corpus from text in the Speech Commands layout: ``build_corpus(cfg.data)``.

Layout under ``data.root``: ``<label>/<voice>_nohash_<hash>.wav`` (16 kHz mono, 1 s; phrases use ``_`` for
spaces), ``_background_noise_/`` (and its train regions in ``_train_noise_/``), ``_running_speech_/``
(continuous keyword-free speech per split), ``validation_list.txt``, ``testing_list.txt``, ``manifest.csv``
(the authority on labels and splits, including ``test_engine``, which the two lists do not name), and
``streams/`` and ``validation_streams/`` when ``data.streams.count`` and ``validation_count`` are > 0.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from asr_cnn.data.corpus.background import (NOISE_DIR, NOISE_FILES, SILENCE_KINDS, TRAIN_NOISE_DIR, babble_jobs,
                                            make_noises, noise_key, read_noises, render_silence, write_noises)
from asr_cnn.data.corpus.cache import digest, read_stamp, write_stamp
from asr_cnn.data.corpus.config import CorpusConfig, CorpusError, DataConfig, EngineSpec, corpus_config
from asr_cnn.data.corpus.manifest import MANIFEST_FILE, SPLIT_LISTS, Record, read_manifest, write_manifest
from asr_cnn.data.corpus.plan import CLIP_FORMAT, assign_splits, plan_silence, plan_speech
from asr_cnn.data.corpus.running import (RUNNING_FORMAT, drop_stale_running, running_jobs, running_keys, running_paths,
                                         write_running)
from asr_cnn.data.corpus.streams import STREAM_DIR, STREAM_FORMAT, write_streams
from asr_cnn.data.corpus.synthesis import MADE, NO_AUDIO, Outcome, render_clips, speak
from asr_cnn.data.voices.engines import EngineUnavailable, Unpronounceable, engine_class, make_engine
from asr_cnn.data.voices.engines.espeak import EspeakEngine
from asr_cnn.data.voices.sentences import build_lexicon, corpus_vocabulary
from asr_cnn.files import write_text_atomic
from asr_cnn.threads import torch_threads

log = logging.getLogger(__name__)


@dataclass
class BuildReport:
    """What a build did.

    Attributes:
        root: The corpus folder.
        up_to_date: Nothing was done: the stamp matched and every file was there.
        made: Clips written by this build.
        reused: Clips found already made (content-addressed names).
        skipped: ``"<path> (<text> by <engine>:<voice>): <reason>"`` for each clip left out.
        missing_engines: Optional engine -> why it could not run here.
        streams: Long test streams written or found.
        validation_streams: Long validation streams written or found.
        seconds: Wall time of the build.
    """

    root: Path
    up_to_date: bool
    made: int = 0
    reused: int = 0
    skipped: list[str] = field(default_factory=list)
    missing_engines: dict[str, str] = field(default_factory=dict)
    streams: list[Path] = field(default_factory=list)
    validation_streams: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    def records(self) -> list[Record]:
        """The corpus's manifest records."""
        return read_manifest(self.root)


def build_corpus(cfg_data: DataConfig | DictConfig | Mapping[str, Any]) -> BuildReport:
    """Synthesize the corpus of a data config, or do nothing when it is already built.

    Args:
        cfg_data: The ``data`` config node (or its :class:`DataConfig`); ``root`` is taken relative to the
            current directory.

    Returns:
        What was done, with every skipped clip named.

    Raises:
        CorpusError: A bad config value, an unwritable root, or a split that ends up without a keyword.
        EngineError: An unknown engine or voice, a missing required engine (:class:`EngineUnavailable`),
            or a keyword an engine cannot pronounce (:class:`Unpronounceable`).
    """
    with torch_threads(1):  # the corpus's bytes must not depend on the caller's thread count (workers run one)
        return _build(cfg_data)


def _build(cfg_data: DataConfig | DictConfig | Mapping[str, Any]) -> BuildReport:
    """:func:`build_corpus` on one torch thread."""
    start = time.monotonic()
    config = corpus_config(cfg_data)
    root = config.root
    specs, missing = _usable_engines(config)
    versions = {s.name: engine_class(s.name).version() for s in specs}
    key = digest(config.content(), versions, sorted(missing), CLIP_FORMAT, STREAM_FORMAT, RUNNING_FORMAT)
    stamp = read_stamp(root)
    if stamp.get("key") == key and _complete(root, stamp):
        log.info("corpus %s is up to date (%s)", root, MANIFEST_FILE)
        return BuildReport(root, True, reused=len(read_manifest(root)), missing_engines=missing,
                           streams=[root / p for p in stamp["streams"]],
                           validation_streams=[root / p for p in stamp["validation_streams"]],
                           seconds=time.monotonic() - start)
    _writable(root)
    if not stamp and any(root.iterdir()):
        raise CorpusError(f"{root} is not empty and was not built by asr_cnn; choose another data.root "
                          "(a corpus is only ever written into its own folder)")
    write_stamp(root, {**stamp, "key": None})  # marks the folder as ours while the build runs

    engines = {s.name: make_engine(s.name, **s.options) for s in specs}
    voices = {name: engine.expand_voices(spec.voices) for spec, (name, engine) in zip(specs, engines.items())}
    for name, names in voices.items():
        for voice in names:
            engines[name].check_voice(voice)
    speakers = {(name, v): engines[name].speaker(v) for name, names in voices.items() for v in names}
    splits = assign_splits(speakers, config.held_out, config.splits, config.seed)
    phonemizer = engines.get("espeak") or EspeakEngine()
    vocabulary = corpus_vocabulary(config.keywords, phonemizer.phonemize)
    engine_keys = {s.name: digest(versions[s.name], s.options) for s in specs}
    options = {s.name: s.options for s in specs}

    sentences = babble_jobs(config, [(s, v) for s in specs for v in voices[s.name] if splits[s.name, v] == "train"],
                            vocabulary, engine_keys)
    nkey = noise_key(config, sentences)
    if stamp.get("noise_key") == nkey and all((root / folder / f).is_file() for folder in (NOISE_DIR, TRAIN_NOISE_DIR)
                                              for f in NOISE_FILES.values()):
        noises = read_noises(root)
    else:
        noises = make_noises(config, speak(sentences, options, config.workers))
        write_noises(root, noises)

    lexicon = build_lexicon(config.keywords, phonemizer.phonemize, vocabulary.general, vocabulary.near_misses)
    running = running_jobs(config, [(s, v) for s in specs for v in voices[s.name]], splits, lexicon, engine_keys)
    rkeys = running_keys(config, running)
    drop_stale_running(root, list(running))
    done = stamp.get("running_keys", {})
    stale = {split: js for split, js in running.items()
             if done.get(split) != rkeys[split] or not running_paths(root, [split])[split].is_file()}
    said = iter(speak([j for js in stale.values() for j in js], options, config.workers))
    write_running(root, config, stale, {split: [next(said) for _ in js] for split, js in stale.items()})

    speech = plan_speech(config, voices, splits, vocabulary, engine_keys)
    log.info("corpus %s: %d speech clips from %s", root, len(speech), ", ".join(f"{k} ({len(v)} voices)"
                                                                                for k, v in voices.items()))
    outcomes = render_clips(speech, options, root, config.workers)
    _check_keywords(config, outcomes)
    silence = plan_silence(config, [o.job for o in outcomes if o.ok], SILENCE_KINDS, nkey)
    outcomes += render_silence(silence, noises, root)

    kept = [o.job.record(root) for o in outcomes if o.ok]
    write_manifest(root, kept)
    _write_split_lists(root, kept)
    _prune(root, {r.path for r in kept})
    streams, validation_streams = write_streams(config, kept, "test"), write_streams(config, kept, "validation")
    write_stamp(root, {"key": key, "noise_key": nkey, "running_keys": rkeys, "versions": versions,
                       "missing_engines": missing, "streams": [str(p.relative_to(root)) for p in streams],
                       "validation_streams": [str(p.relative_to(root)) for p in validation_streams],
                       "running": [str(p.relative_to(root)) for p in running_paths(root, list(running)).values()]})
    report = BuildReport(root, False, made=sum(o.status == MADE for o in outcomes),
                         reused=sum(o.ok and o.status != MADE for o in outcomes),
                         skipped=[_describe(o) for o in outcomes if not o.ok], missing_engines=missing,
                         streams=streams, validation_streams=validation_streams, seconds=time.monotonic() - start)
    if report.skipped:
        log.warning("%d clip(s) skipped:\n  %s", len(report.skipped), "\n  ".join(report.skipped))
    log.info("corpus %s: %d clips made, %d reused, %d skipped in %.1f s", root, report.made, report.reused,
             len(report.skipped), report.seconds)
    return report


def summarize(records: Sequence[Record]) -> str:
    """Clips per split and label, per split and engine, and voices per split, as text lines."""
    lines = []
    for split in sorted({r.split for r in records}):
        rows = [r for r in records if r.split == split]
        labels = Counter(r.label for r in rows)
        engines = Counter(r.engine for r in rows)
        speakers = {(r.engine, r.voice) for r in rows if r.engine != "noise"}
        lines += [f"{split}: {len(rows)} clips, {len(speakers)} voices",
                  "  labels: " + ", ".join(f"{k} {n}" for k, n in sorted(labels.items())),
                  "  engines: " + ", ".join(f"{k} {n}" for k, n in sorted(engines.items()))]
    return "\n".join(lines)


def _writable(root: Path) -> None:
    """Create ``root`` and prove a file can be written there."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=root, prefix=".write_probe.")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise CorpusError(f"cannot write the corpus to {root}: {err.strerror or err}") from err


def _usable_engines(config: CorpusConfig) -> tuple[list[EngineSpec], dict[str, str]]:
    """The configured engines that can run here, and why each missing optional one cannot."""
    usable, missing = [], {}
    for spec in config.engines:
        problem = engine_class(spec.name).available()
        if problem is None:
            usable.append(spec)
        elif spec.required:
            raise EngineUnavailable(f"required engine {spec.name!r} cannot run: {problem}")
        else:
            missing[spec.name] = problem
    if missing:
        log.warning("optional engines left out: %s", "; ".join(f"{k}: {v}" for k, v in missing.items()))
    return usable, missing


def _complete(root: Path, stamp: Mapping[str, Any]) -> bool:
    """Whether the manifest, the noise files and the streams of a stamped corpus are all there."""
    try:
        paths = [r.path for r in read_manifest(root)]
    except (OSError, ValueError):
        return False
    paths += [root / folder / f for folder in (NOISE_DIR, TRAIN_NOISE_DIR) for f in NOISE_FILES.values()]
    paths += [root / p for name in ("streams", "validation_streams", "running") for p in stamp.get(name, ())]
    return all(p.is_file() for p in paths)


def _check_keywords(config: CorpusConfig, outcomes: Sequence[Outcome]) -> None:
    """Every engine must say every keyword, and every split must hold every keyword."""
    for engine in sorted({o.job.engine for o in outcomes}):
        for keyword in config.keywords:
            mine = [o for o in outcomes if o.job.engine == engine and o.job.text == keyword and o.job.label == keyword]
            if mine and all(o.status == NO_AUDIO for o in mine):
                raise Unpronounceable(f"engine {engine} produces no audio for keyword {keyword!r} "
                                      f"(tried {len(mine)} voices); use words it can pronounce")
    for split in sorted({o.job.split for o in outcomes}):
        have = {o.job.label for o in outcomes if o.ok and o.job.split == split}
        lost = [k for k in config.keywords if k not in have]
        if lost:
            reasons = sorted({o.status for o in outcomes if o.job.split == split and o.job.label in lost})
            raise CorpusError(f"split {split!r} has no clip of keyword(s) {lost}: {reasons}")


def _write_split_lists(root: Path, records: Sequence[Record]) -> None:
    for split, name in SPLIT_LISTS.items():
        paths = sorted(r.path.relative_to(root).as_posix() for r in records if r.split == split)
        write_text_atomic(root / name, "".join(f"{p}\n" for p in paths))


def _prune(root: Path, keep: set[Path]) -> None:
    """Delete clip files of earlier builds that this manifest no longer lists (only names we make)."""
    for folder in root.iterdir():
        if folder.is_dir() and folder.name not in (NOISE_DIR, STREAM_DIR):
            for clip in folder.glob("*_nohash_*.wav"):
                if clip not in keep:
                    clip.unlink()
            if not any(folder.iterdir()):
                folder.rmdir()


def _describe(outcome: Outcome) -> str:
    job = outcome.job
    return f"{job.path} ({job.text!r} by {job.engine}:{job.voice}): {outcome.status}"

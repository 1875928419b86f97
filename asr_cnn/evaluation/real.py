"""Recall and false alarms per hour on real recordings (``recipes/evaluate_real.py``), thresholds as shipped.

The set is evaluation only: its figures are reported, never written back. Every keyword-free ``speech``
clip plays, one after another with a pause, through the :class:`~asr_cnn.detect.Detector`, spread over a
few streams side by side (false alarms per hour of those streams); every ``wake_word`` clip of a keyword
the model knows plays as a stream of its own between silences (recall: the right keyword fires; listed
worst word first, counting a clip only when the right keyword fires first), and so does every
``wake_word`` clip of a word that is none of the model's keywords (the share of those clips on which any
keyword fires, per word). Scores are stored
once and the detector's own picking is replayed at each operating point (:mod:`asr_cnn.evaluation.sweep`).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig

from asr_cnn.audio import load_audios
from asr_cnn.detect.detector import Detector
from asr_cnn.detect.files import audio_files
from asr_cnn.evaluation.manifest import SPEECH, WAKE_WORD, Recording, mentions, read_manifest
from asr_cnn.evaluation.plots import plot_det
from asr_cnn.evaluation.real_calibration import STREAMS
from asr_cnn.evaluation.real_measure import RealMeasure, first_fire_recall, measure, measure_json, other_word_firing
from asr_cnn.evaluation.real_table import format_table
from asr_cnn.evaluation.scoring import SECONDS_PER_HOUR, score_clips, score_concatenation
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.recipes.config import EvaluateRealRecipe
from asr_cnn.schema import typed
from asr_cnn.threads import torch_threads

log = logging.getLogger(__name__)

REAL_EVAL_NAME, REAL_DET_NAME = "real_eval.json", "real_det.png"
DECODE_BATCH = 256  # clips decoded together, on a thread per core
REAL_SET = Path("..") / "shared" / "realspeech"
"""The project's real recordings (evaluation only), beside the checkout when its shared folder is there."""


def positive_clips(positives: str | None, keyword: str | None, recordings: list[Recording], keywords: list[str]
                   ) -> list[tuple[Path, str]]:
    """``(file, keyword)`` of every clip to measure recall on: the folder ``positives`` (all saying ``keyword``)
    or the set's wake words.

    Raises:
        ValueError: ``positives`` without a ``keyword`` the model knows.
    """
    if positives:
        if keyword not in keywords:
            raise ValueError(f"keyword={keyword!r}: positives= needs the keyword its clips say, one of the "
                             f"model's keywords {keywords}")
        return [(path, keyword) for path in audio_files(positives)]
    known = [r for r in recordings if r.kind == WAKE_WORD and r.keyword in keywords]
    return [(r.path, r.keyword) for r in sorted(known, key=lambda r: r.seconds)]  # similar lengths batch well


def other_word_clips(recordings: list[Recording], keywords: list[str]) -> list[tuple[Path, str]]:
    """``(file, word)`` of every ``wake_word`` clip whose word is none of ``keywords``, shortest first."""
    others = [r for r in recordings if r.kind == WAKE_WORD and r.keyword not in keywords]
    return [(r.path, r.keyword) for r in sorted(others, key=lambda r: r.seconds)]  # similar lengths batch well


def padded_clips(clips: list[tuple[Path, str]], sample_rate: int, padding_s: float
                 ) -> Iterator[tuple[torch.Tensor, list[dict[str, Any]]]]:
    """Each clip between ``padding_s`` of silence, labelled with its keyword over the clip's span."""
    silence = torch.zeros(round(padding_s * sample_rate))
    for start in range(0, len(clips), DECODE_BATCH):
        part = clips[start:start + DECODE_BATCH]
        for (_, keyword), wave in zip(part, load_audios([path for path, _ in part], sample_rate), strict=True):
            label = {"keyword": keyword, "start_s": padding_s, "end_s": padding_s + wave.shape[-1] / sample_rate}
            yield torch.cat([silence, wave, silence]), [label]


def keyword_free(recordings: list[Recording], keywords: list[str]) -> list[Recording]:
    """The ``speech`` recordings whose transcript says none of ``keywords`` (whole words, any case)."""
    return [r for r in recordings if r.kind == SPEECH and not any(mentions(r.transcript, k) for k in keywords)]


def describe(recipe: EvaluateRealRecipe, detector: Detector, recordings: list[Recording],
             clips: list[tuple[Path, str]], clean: list[Recording], hours: float) -> dict[str, Any]:
    """What was measured: the model's keywords and thresholds, the clips used and left out, the speech streamed."""
    keywords = list(detector.thresholds)
    unused = Counter(r.keyword for r in recordings
                     if r.kind == WAKE_WORD and (recipe.positives or r.keyword not in keywords))
    return {
        "checkpoint": str(recipe.checkpoint), "set": recipe.set, "positives": recipe.positives, "keywords": keywords,
        "thresholds_as_shipped": detector.thresholds,
        "wake_word_clips": {keyword: sum(k == keyword for _, k in clips) for keyword in keywords},
        "wake_word_clips_unused": dict(unused), "padding_s": recipe.padding_s,
        "speech": {"clips": len(clean), "hours": hours if clean else None, "pause_s": recipe.pause_s,
                   "left_out_saying_a_keyword": sum(r.kind == SPEECH for r in recordings) - len(clean)},
        "output_dir": str(recipe.output_dir),
    }


def plot_real_det(measured: RealMeasure, path: Path) -> Path:
    """All keywords at one threshold and each keyword alone, with the three reported points marked."""
    marks = {"as shipped": measured.shipped, "threshold 0.5": measured.half}
    if measured.oracle is not None:
        marks[f"oracle {measured.oracle.threshold:.4g}"] = measured.oracle
    curves = {"all keywords": measured.det,
              **{f"{k} alone": [p.per_keyword[k] for p in points] for k, points in measured.keyword_det.items()}}
    return plot_det(curves, path, marks, "DET on real speech (thresholds swept on this set: oracle)")


def evaluate_real(cfg: DictConfig) -> dict[str, Any]:
    """Entry point of ``recipes/evaluate_real.py``: measure, write ``real_eval.json`` and the DET PNG, print a table.

    Args:
        cfg: Composed ``conf/evaluate_real.yaml`` (:class:`~asr_cnn.recipes.config.EvaluateRealRecipe`):
            ``checkpoint``, ``set`` (a folder with ``manifest.csv``) and/or ``positives`` with ``keyword``,
            ``detector``, ``pause_s``, ``padding_s``, ``oracle_fa_per_hour``, ``other_words``, ``batch_size``,
            ``output_dir``, ``device``, ``threads``.

    Returns:
        The content of ``real_eval.json``.

    Raises:
        ValueError: Neither a set nor positives, a bad manifest, an unknown ``keyword``, or a setting out of range.
        AudioError: A sound file that cannot be read.
    """
    started = time.perf_counter()
    recipe = typed(EvaluateRealRecipe, cfg, "")
    if not recipe.set and not recipe.positives:
        raise ValueError("nothing to evaluate: give set=<folder with manifest.csv> and/or positives=<folder> "
                         "keyword=<word>")
    spotter = KeywordSpotter.load(recipe.checkpoint, map_location=recipe.device)
    detector: Detector = instantiate(recipe.detector)(spotter, device=recipe.device)
    recordings = read_manifest(recipe.set) if recipe.set else []
    clips = positive_clips(recipe.positives, recipe.keyword, recordings, list(detector.thresholds))
    clean = keyword_free(recordings, list(detector.thresholds))
    others = other_word_clips(recordings, list(detector.thresholds)) if recipe.other_words else []
    rate = spotter.sample_rate
    with torch_threads(recipe.threads):
        batched = instantiate(recipe.detector)(spotter, batch_size=recipe.batch_size, device=recipe.device)
        log.info("scoring %d wake-word clips", len(clips))
        recall = score_clips(batched, padded_clips(clips, rate, recipe.padding_s))
        log.info("scoring %d clips of other words", len(others))
        other = score_clips(batched, ((wave, []) for wave, _ in padded_clips(others, rate, recipe.padding_s)))
        log.info("streaming %d speech clips (%.2f h)", len(clean), sum(r.seconds for r in clean) / SECONDS_PER_HOUR)
        speech = instantiate(recipe.detector)(spotter, batch_size=STREAMS, device=recipe.device)
        alarms, _ = score_concatenation(speech, load_audios([r.path for r in clean], rate), recipe.pause_s)
        log.info("sweeping thresholds")
        measured = measure(recall, alarms, recipe.oracle_fa_per_hour)
    result = describe(recipe, detector, recordings, clips, clean, alarms.hours) | measure_json(measured)
    result["recall_worst_first"] = first_fire_recall(recall)
    result["other_words"] = other_word_firing(other, [word for _, word in others]) if recipe.other_words else None
    output = Path(recipe.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    result["det_png"] = str(plot_real_det(measured, output / REAL_DET_NAME)) if clean else None
    result["seconds"] = time.perf_counter() - started
    (output / REAL_EVAL_NAME).write_text(json.dumps(result, indent=2))
    print(format_table(result), flush=True)
    return result

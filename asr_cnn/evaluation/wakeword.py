"""Wake-word evaluation over long labelled streams (``recipes/evaluate_stream.py``): DET sweep and thresholds.

A stream is ``<id>.wav`` with ``<id>.json``, a list of ``{"keyword", "start_s", "end_s"}`` (the spoken
keywords); see :mod:`asr_cnn.evaluation.matching` for what counts as a hit, a miss and a false alarm.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig

from asr_cnn.detect.detector import Detector
from asr_cnn.evaluation.operating import REFERENCE_FA_PER_HOUR, REFERENCE_THRESHOLD, threshold_for
from asr_cnn.evaluation.plots import plot_det
from asr_cnn.evaluation.scoring import stored, stream_scores
from asr_cnn.evaluation.streams import load_streams
from asr_cnn.evaluation.sweep import SWEEP_THRESHOLDS, point_at, sweep
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.recipes.config import EvaluateStreamRecipe
from asr_cnn.schema import typed
from asr_cnn.threads import torch_threads

DET_FILENAME, METRICS_FILENAME = "det.png", "stream_metrics.json"


def evaluate_streams(cfg: DictConfig) -> dict[str, Any]:
    """Entry point of ``recipes/evaluate_stream.py``.

    Scores every stream once, then sweeps one threshold for all keywords (``SWEEP_THRESHOLDS``) through the
    detector's own smoothing and refractory logic. Writes the DET PNG and a metrics JSON to
    ``cfg.output_dir``; with ``cfg.write_threshold`` it stores the threshold that meets
    ``cfg.target_fa_per_hour`` for every keyword in the checkpoint's ``extra["thresholds"]``.

    Args:
        cfg: Composed ``conf/evaluate_stream.yaml`` (:class:`~asr_cnn.recipes.config.EvaluateStreamRecipe`).

    Returns:
        The metrics (also written as JSON).

    Raises:
        AudioError: A bad stream folder or label file.
        ValueError: ``write_threshold`` is set but no swept threshold meets the target, or a setting is out of
            range.
    """
    recipe = typed(EvaluateStreamRecipe, cfg, "")
    spotter = KeywordSpotter.load(recipe.checkpoint, map_location=recipe.device)
    detector: Detector = instantiate(recipe.detector)(spotter, device=recipe.device)
    streams = load_streams(recipe.streams, list(detector.thresholds))
    with torch_threads(recipe.threads):
        rows, seconds = zip(*(stream_scores(detector, stream.audio, recipe.block_seconds) for stream in streams))
    scored = stored(detector, list(rows), list(seconds), [stream.labels for stream in streams])
    points = sweep(scored)
    at_reference = sweep(scored, grid=torch.tensor([REFERENCE_THRESHOLD], dtype=torch.float64))[0]
    reference_fa = threshold_for(points, REFERENCE_FA_PER_HOUR)
    target = threshold_for(points, recipe.target_fa_per_hour)
    output = Path(recipe.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    marks = {} if target is None else {f"threshold {target.threshold:.4g}": target}
    plot_det({"all keywords": points}, output / DET_FILENAME, marks)
    metrics = {
        "streams": len(streams), "hours": scored.hours,
        "detector_thresholds": asdict(point_at(scored)) | {"thresholds": detector.thresholds},
        "at_threshold_0.5": asdict(at_reference),
        "frr_at_1_fa_per_hour": None if reference_fa is None else reference_fa.frr,
        "target_fa_per_hour": recipe.target_fa_per_hour,
        "target": None if target is None else asdict(target),
        "det_png": str(output / DET_FILENAME),
        "det": [asdict(point) for point in points],
    }
    if recipe.write_threshold:
        if target is None:
            raise ValueError(f"no threshold up to {float(SWEEP_THRESHOLDS[-1]):.4g} keeps false alarms at or "
                             f"below {recipe.target_fa_per_hour}/h; {recipe.checkpoint} left unchanged")
        spotter.extra["thresholds"] = {keyword: target.threshold for keyword in detector.thresholds}
        spotter.cpu().save(recipe.checkpoint)
        metrics["written_to"] = str(recipe.checkpoint)
    (output / METRICS_FILENAME).write_text(json.dumps(metrics, indent=2))
    return metrics

"""Calibrate a trained model as training does and save it: ``recipes/calibrate.py`` and ``recipes/combine.py``.

Recalibrating a checkpoint gives it the calibration of today's recipe (thresholds spent on real speech,
operating curves for ``detector.fa_per_hour``) without training it again; its weights are unchanged.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from asr_cnn.data.corpus.config import CorpusConfig, corpus_config
from asr_cnn.evaluation.calibration import write_calibration
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.training.config import LiveConfig, trainer_config
from asr_cnn.training.distributed import resolve_device
from asr_cnn.training.live import real_heldout_check, shipped_calibration
from asr_cnn.training.outputs import METRICS_NAME, MODEL_NAME

log = logging.getLogger(__name__)


def save_calibrated(corpus: CorpusConfig, live: LiveConfig, run_dir: Path, spotter: KeywordSpotter,
                    device: torch.device) -> dict[str, Any]:
    """Calibrate ``spotter`` (:func:`~asr_cnn.training.live.shipped_calibration`) on ``corpus``, save it as
    ``<run_dir>/model.pt`` and check it on the held-out real speech (``metrics.json`` beside it).

    Raises:
        ValueError: The corpus at ``corpus.root`` has no validation streams.
    """
    calibrated = shipped_calibration(corpus, live, spotter, device)
    if calibrated is None:
        raise ValueError(f"{corpus.root}: no validation streams to calibrate on; build the corpus the model was "
                         "trained on (recipes/make_data.py with the same data settings)")
    write_calibration(spotter.extra, calibrated)
    output = Path(run_dir) / MODEL_NAME
    output.parent.mkdir(parents=True, exist_ok=True)
    spotter.save(output)
    result = {"model": str(output), "thresholds": spotter.extra["thresholds"],
              "calibration": spotter.extra["calibration"],
              "real_heldout": real_heldout_check(corpus, live, spotter, device)}
    (output.parent / METRICS_NAME).write_text(json.dumps(result, indent=2))
    heldout = result["real_heldout"] or {"fa_per_hour": float("nan")}
    log.info("calibrated: thresholds %s, validation recall %.3f; %.2f false alarms per hour of held-out real speech "
             "(target %g) -> %s", result["thresholds"], calibrated.recall, heldout["fa_per_hour"],
             calibrated.target_fa_per_hour, output)
    return result


def recalibrate(cfg: DictConfig) -> dict[str, Any]:
    """Entry point of ``recipes/calibrate.py``: ``cfg.checkpoint`` calibrated anew into ``cfg.run_dir``.

    Raises:
        FileNotFoundError, ValueError: The checkpoint cannot be loaded, or as for :func:`save_calibrated`.
    """
    trainer, corpus = trainer_config(cfg.trainer), corpus_config(cfg.data)
    device = resolve_device(trainer.device)
    spotter = KeywordSpotter.load(cfg.checkpoint, map_location=device)
    return save_calibrated(corpus, trainer.live, cfg.run_dir, spotter, device)

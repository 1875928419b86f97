"""What a finished run leaves in its directory besides the checkpoints: metrics, plots, report."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch

from asr_cnn.evaluation.clips import evaluate_dataset
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.evaluation.plots import plot_confusion
from asr_cnn.training.config import TrainerConfig
from asr_cnn.training.plots import plot_curves
from asr_cnn.training.report import write_report

log = logging.getLogger(__name__)

MODEL_NAME = "model.pt"
SUMMARY_NAME = "summary.md"
METRICS_NAME = "metrics.json"
CONFUSION_NAME = "confusion_matrix.png"
CURVES_NAME = "training_curves.png"
IMAGES = {"Training curves": CURVES_NAME, "Confusion matrices (rows: true class)": CONFUSION_NAME}
CONFUSION_SPLITS = ("test", "test_engine")  # the held-out splits are the ones worth looking at


def evaluate_splits(trainer: TrainerConfig, root: Path, spotter: KeywordSpotter, device: torch.device
                    ) -> dict[str, dict]:
    """Metrics of every split in ``trainer.eval_splits`` of the corpus at ``root``."""
    from asr_cnn.data import SpeechCommands

    splits = {}
    for split in trainer.eval_splits:
        dataset = SpeechCommands(root, split, spotter.labels)
        splits[split] = evaluate_dataset(spotter, dataset, batch_size=trainer.eval_batch_size, device=device,
                                         num_workers=trainer.num_workers)
        log.info("%s accuracy: %.4f (%d clips)", split, splits[split]["accuracy"] or float("nan"), splits[split]["n"])
    return splits


def write_run_outputs(trainer: TrainerConfig, root: Path, spotter: KeywordSpotter, history: list[dict],
                      run_dir: Path, *, device: torch.device) -> dict:
    """Evaluate the trained spotter on the corpus at ``root`` and write ``metrics.json``, the PNGs and ``report.md``.

    Returns:
        The metrics as written to ``metrics.json``.
    """
    splits = evaluate_splits(trainer, root, spotter, device)
    metrics = {
        "model": spotter.config["model"]["_target_"],
        "params": sum(p.numel() for p in spotter.parameters()),
        "labels": spotter.labels,
        "epochs": len(history),
        "train_seconds": sum(row["seconds"] for row in history),
        "device": str(device),
        "splits": splits,
        "history": history,
    }
    (run_dir / METRICS_NAME).write_text(json.dumps(metrics, indent=2))
    shown = {name: splits[name]["confusion"] for name in CONFUSION_SPLITS if name in splits} or \
        {name: report["confusion"] for name, report in splits.items()}
    plot_confusion(shown, spotter.labels, run_dir / CONFUSION_NAME)
    plot_curves(history, run_dir / CURVES_NAME)
    write_report(run_dir, metrics, (run_dir / SUMMARY_NAME).read_text(), IMAGES)
    return metrics

"""Evaluation: class scores for clips, metrics per split, and ``recipes/evaluate.py``'s library function."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from omegaconf import DictConfig
from torch.utils.data import DataLoader, Dataset

from asr_cnn.data.datasets.windows import window_of
from asr_cnn.evaluation.folder import evaluate_audio_dir, format_folder_report
from asr_cnn.evaluation.metrics import classification_report
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.recipes.config import EvaluateRecipe
from asr_cnn.schema import typed
from asr_cnn.threads import torch_threads
from asr_cnn.training.distributed import resolve_device

log = logging.getLogger(__name__)

EVALUATION_NAME = "evaluation.json"


@torch.no_grad()
def predict(spotter: KeywordSpotter, dataset: Dataset, *, batch_size: int, device: torch.device | str = "cpu",
            num_workers: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits of the centred window of every clip, in dataset order.

    Returns:
        ``(logits, targets)`` on the CPU.

    Shape:
        Output: logits (N, K), targets (N,).
    """
    spotter.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers)
    logits, targets = [], []
    for wave, label in loader:
        window = window_of(wave, spotter.window_samples).to(device)  # (B, W)
        logits.append(spotter(window).squeeze(-1).float().cpu())  # (B, K, 1) -> (B, K): one window per clip
        targets.append(label)
    if not logits:
        return torch.zeros(0, len(spotter.labels)), torch.zeros(0, dtype=torch.long)
    return torch.cat(logits), torch.cat(targets).long()


def evaluate_dataset(spotter: KeywordSpotter, dataset: Dataset, *, batch_size: int,
                     device: torch.device | str = "cpu", num_workers: int = 0) -> dict:
    """Accuracy overall, per class and per synthesis engine, and the confusion matrix of one split.

    The engine of each clip comes from ``dataset.records`` when the corpus has a manifest.
    """
    logits, targets = predict(spotter, dataset, batch_size=batch_size, device=device, num_workers=num_workers)
    records = getattr(dataset, "records", None)
    engines = [str(r.engine) for r in records] if records and all(getattr(r, "engine", None) for r in records) else None
    report = classification_report(logits.argmax(-1), targets, spotter.labels, engines)
    if targets.numel():
        report["loss"] = torch.nn.functional.cross_entropy(logits, targets).item()
    return report


def evaluate(cfg: DictConfig) -> dict:
    """Evaluate a checkpoint on corpus splits or a folder of audio (``recipes/evaluate.py``).

    Reads ``cfg.checkpoint``, then either ``cfg.audio_dir`` or ``cfg.split`` (one name or a list) of the
    corpus at ``cfg.data.root``, on ``cfg.threads`` torch threads; writes ``evaluation.json`` into
    ``cfg.run_dir``, logs the splits' accuracies and prints the folder's accuracies and confusion matrix.

    Args:
        cfg: Composed ``conf/evaluate.yaml`` (:class:`~asr_cnn.recipes.config.EvaluateRecipe`).

    Returns:
        ``{"checkpoint", "splits": {name: report}}`` or ``{"checkpoint", "audio_dir": report}``.

    Raises:
        ValueError: A setting out of range (one line naming the key).
    """
    recipe = typed(EvaluateRecipe, cfg, "")
    device = resolve_device(recipe.device)
    spotter = KeywordSpotter.load(recipe.checkpoint, map_location=device)
    with torch_threads(recipe.threads):
        result = {"checkpoint": str(recipe.checkpoint), **evaluate_sets(recipe, spotter, device)}
    run_dir = Path(recipe.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / EVALUATION_NAME).write_text(json.dumps(result, indent=2))
    return result


def evaluate_sets(recipe: EvaluateRecipe, spotter: KeywordSpotter, device: torch.device) -> dict:
    """``{"audio_dir": report}`` or ``{"splits": {name: report}}``, as :func:`evaluate` reads them from ``recipe``.

    Raises:
        CorpusError: A bad ``data`` setting, when splits are read.
    """
    from asr_cnn.data import SpeechCommands  # the corpus package is optional for loading checkpoints
    from asr_cnn.data.corpus.config import data_config

    result: dict = {}
    if recipe.audio_dir:
        result["audio_dir"] = evaluate_audio_dir(spotter, recipe.audio_dir, batch_size=recipe.batch_size,
                                                 device=device)
        print(format_folder_report(result["audio_dir"], recipe.audio_dir), flush=True)
    else:
        root = data_config(recipe.data).root
        splits = [recipe.split] if isinstance(recipe.split, str) else list(recipe.split)
        result["splits"] = {}
        for split in splits:
            dataset = SpeechCommands(root, split, spotter.labels)
            report = evaluate_dataset(spotter, dataset, batch_size=recipe.batch_size, device=device,
                                      num_workers=recipe.num_workers)
            result["splits"][split] = report
            log.info("%s: accuracy %.4f on %d clips", split, report["accuracy"] or float("nan"), report["n"])
    return result

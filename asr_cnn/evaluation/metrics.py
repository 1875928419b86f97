"""Classification metrics from predicted and true class indices: accuracy, per class, per group, confusion."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def confusion_matrix(predictions: torch.Tensor, targets: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Counts of (true class, predicted class) pairs.

    Shape:
        predictions, targets: (N,) class indices. Output: (K, K), rows true, columns predicted.
    """
    flat = targets.long() * n_classes + predictions.long()  # (N,) one index per (true, predicted) cell
    return torch.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)  # (K, K)


def accuracy(predictions: torch.Tensor, targets: torch.Tensor) -> float | None:
    """Fraction correct; ``None`` for no items (valid JSON, and an empty split is not 0% or 100%)."""
    if targets.numel() == 0:
        return None
    return (predictions == targets).float().mean().item()


def grouped_accuracy(predictions: torch.Tensor, targets: torch.Tensor, groups: Sequence[str]) -> dict[str, dict]:
    """Accuracy and item count per group (e.g. per synthesis engine or voice), sorted by name.

    Shape:
        predictions, targets: (N,); groups: N names.
    """
    names = sorted(set(groups))
    result = {}
    for name in names:
        mask = torch.tensor([group == name for group in groups], dtype=torch.bool)  # (N,)
        result[name] = {"accuracy": accuracy(predictions[mask], targets[mask]), "n": int(mask.sum())}
    return result


def classification_report(predictions: torch.Tensor, targets: torch.Tensor, labels: Sequence[str],
                          engines: Sequence[str] | None = None) -> dict:
    """All metrics of one split as plain data (JSON-ready).

    Args:
        predictions: Predicted class indices.
        targets: True class indices.
        labels: Class names, K of them.
        engines: Synthesis engine of each item; ``None`` when unknown (e.g. recorded speech).

    Returns:
        ``accuracy``, ``n``, ``per_class`` (accuracy and count per label), ``per_engine`` (same per
        engine, empty when unknown) and ``confusion`` (K x K counts, rows true).

    Shape:
        predictions, targets: (N,).
    """
    per_class = grouped_accuracy(predictions, targets, [labels[int(t)] for t in targets])
    return {
        "accuracy": accuracy(predictions, targets),
        "n": int(targets.numel()),
        "per_class": {label: per_class.get(label, {"accuracy": None, "n": 0}) for label in labels},
        "per_engine": grouped_accuracy(predictions, targets, engines) if engines else {},
        "confusion": confusion_matrix(predictions, targets, len(labels)).tolist(),
    }

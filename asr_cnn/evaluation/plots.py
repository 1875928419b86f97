"""PNG plots of measurements: confusion matrices of clip classification, DET curves of detection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from matplotlib.figure import Figure

from asr_cnn.evaluation.operating import REFERENCE_FA_PER_HOUR, OperatingPoint
from asr_cnn.figures import DPI, save_figure

CELL_INCHES = 0.45  # confusion-matrix cell size: readable labels for up to ~20 classes


def plot_confusion(confusions: dict[str, Sequence[Sequence[int]]], labels: Sequence[str], path: str | Path) -> Path:
    """Row-normalised confusion matrices side by side, one per split, with counts in the cells.

    Args:
        confusions: Split name -> K x K counts (rows true, columns predicted).
        labels: Class names.
        path: PNG to write.
    """
    side = max(4.0, CELL_INCHES * len(labels) + 2.0)
    fig = Figure(figsize=(side * len(confusions), side), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, len(confusions), squeeze=False)[0]
    for ax, (split, counts) in zip(axes, confusions.items()):
        counts = torch.tensor(counts, dtype=torch.float64)  # (K, K)
        rates = counts / counts.sum(1, keepdim=True).clamp(min=1)  # (K, K) each row sums to 1
        ax.imshow(rates.numpy(), cmap="Blues", vmin=0.0, vmax=1.0)
        for i in range(len(labels)):
            for j in range(len(labels)):
                if counts[i, j]:
                    colour = "white" if rates[i, j] > 0.5 else "black"
                    ax.text(j, i, int(counts[i, j]), ha="center", va="center", fontsize=7, color=colour)
        ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(split)
    return save_figure(fig, path)


def plot_det(curves: Mapping[str, Sequence[OperatingPoint]], path: str | Path,
             marks: Mapping[str, OperatingPoint] | None = None, title: str = "DET curve (threshold sweep)") -> Path:
    """DET curves: false-reject rate against false alarms per hour, one point per swept threshold.

    Args:
        curves: Name -> points sorted by threshold (points without a false-alarm rate are left out).
        path: PNG to write.
        marks: Name -> a single operating point to mark (e.g. the detector's own thresholds).
        title: Figure title.
    """
    fig = Figure(figsize=(6.5, 4.5), dpi=DPI, layout="constrained")
    axes = fig.subplots()
    for name, points in curves.items():
        shown = [p for p in points if p.fa_per_hour is not None]
        axes.plot([p.fa_per_hour for p in shown], [100 * p.frr for p in shown], marker=".", label=name)
    for name, mark in (marks or {}).items():
        if mark.fa_per_hour is not None:
            axes.plot([mark.fa_per_hour], [100 * mark.frr], "o", label=name)
    axes.set_xscale("symlog", linthresh=REFERENCE_FA_PER_HOUR)  # linear near 0 FA, logarithmic beyond
    axes.set_xlabel("false alarms per hour")
    axes.set_ylabel("false-reject rate (%)")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    return save_figure(fig, path)

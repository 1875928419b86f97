"""PNG plots of a run: confusion matrices, training curves, receptive fields.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot), so plotting never needs a display
and never touches global matplotlib state.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from matplotlib.figure import Figure

CELL_INCHES = 0.45  # confusion-matrix cell size: readable labels for up to ~20 classes
CURVE_SIZE = (10.0, 3.5)
DPI = 110
LINEAR_BELOW = 1e-3  # gradient plot: values under this fraction of the peak are drawn on a linear scale


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
    return save(fig, path)


def plot_curves(history: Sequence[dict[str, float]], path: str | Path) -> Path:
    """Loss, accuracy and learning rate per epoch (training and validation).

    Args:
        history: One dict per epoch with ``epoch``, ``train_loss``, ``train_accuracy``, ``val_loss``,
            ``val_accuracy`` and ``lr``.
        path: PNG to write.
    """
    fig = Figure(figsize=CURVE_SIZE, dpi=DPI, layout="constrained")
    loss_ax, acc_ax, lr_ax = fig.subplots(1, 3)
    epochs = [row["epoch"] for row in history]
    for key, name in (("train", "training"), ("val", "validation")):
        loss_ax.plot(epochs, [row[f"{key}_loss"] for row in history], marker="o", label=name)
        acc_ax.plot(epochs, [row[f"{key}_accuracy"] for row in history], marker="o", label=name)
    lr_ax.plot(epochs, [row["lr"] for row in history], marker="o")
    for ax, title in ((loss_ax, "loss"), (acc_ax, "accuracy"), (lr_ax, "learning rate")):
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    loss_ax.legend()
    acc_ax.legend()
    return save(fig, path)


def plot_receptive_field(pattern: torch.Tensor, gradient: torch.Tensor, field: tuple[int, int],
                         path: str | Path, title: str) -> Path:
    """The input change that excites one unit, its gradient's reach, and the analytic field.

    Args:
        pattern: What gradient ascent added to the input features.
        gradient: Mean absolute gradient of the unit w.r.t. each input frame.
        field: First and last input frame of the analytic receptive field.
        path: PNG to write.
        title: Figure title (model, unit).

    Shape:
        pattern: (F, T); gradient: (T,).
    """
    fig = Figure(figsize=CURVE_SIZE, dpi=DPI, layout="constrained")
    image_ax, grad_ax = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    reach = float(pattern.abs().max()) or 1.0
    image_ax.imshow(pattern.numpy(), origin="lower", aspect="auto", cmap="RdBu_r", vmin=-reach, vmax=reach)
    image_ax.set_ylabel("feature")
    grad_ax.plot(gradient.numpy())
    grad_ax.set_yscale("symlog", linthresh=float(gradient.max()) * LINEAR_BELOW or 1.0)
    grad_ax.set_xlabel("input frame")
    grad_ax.set_ylabel("|gradient|")
    for ax in (image_ax, grad_ax):
        for edge in field:
            ax.axvline(edge, color="cyan", linestyle="--", linewidth=1)
    image_ax.set_title(title)
    return save(fig, path)


def save(fig: Figure, path: str | Path) -> Path:
    """Write a figure as PNG, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path

"""PNG plots of training: curves per epoch and receptive fields (plots of measurements: :mod:`asr_cnn.evaluation.plots`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from matplotlib.figure import Figure

from asr_cnn.figures import DPI, save_figure

CURVE_SIZE = (10.0, 3.5)
LINEAR_BELOW = 1e-3  # gradient plot: values under this fraction of the peak are drawn on a linear scale


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
    return save_figure(fig, path)


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
    return save_figure(fig, path)


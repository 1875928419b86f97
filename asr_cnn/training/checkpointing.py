"""The resume checkpoint: everything a killed run needs to continue as if it had never stopped.

A run writes two files: ``model.pt`` (:meth:`KeywordSpotter.save`, what users load) and the resume
checkpoint ``last.ckpt`` holding model, optimiser, scheduler and gradient-scaler state, the position in
training (epoch, step, batches done in the epoch), the metric history and every random-number state
(torch CPU and CUDA, numpy, Python). The data order and the crops are functions of (seed, epoch, step)
(see :mod:`asr_cnn.training.batching`), so restoring these is enough for a resumed run on CPU to end
with the same weights as an uninterrupted one.

Both are written atomically (temporary file, then rename), so a SIGKILL mid-write leaves the previous
checkpoint intact, and read with ``weights_only=True``: only tensors and plain containers are stored.
"""

from __future__ import annotations

import os
import random
from typing import Any

import numpy as np
import torch

from asr_cnn.files import atomic_write

RESUME_FORMAT = 1
RESUME_NAME = "last.ckpt"
RESUME_KEYS = ("model", "optimizer", "scheduler", "scaler", "progress", "history", "rng")
"""What :func:`save_resume` writes besides ``format``, and :func:`load_resume` needs."""


def atomic_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename it over ``path``."""
    with atomic_write(path) as tmp:
        torch.save(obj, tmp)


def rng_state() -> dict[str, Any]:
    """Every global random state, as tensors and plain Python values (loadable with weights_only)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": pos,
                  "has_gauss": has_gauss, "cached_gaussian": cached},
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` captured."""
    torch.set_rng_state(state["torch"])
    np_state = state["numpy"]
    np.random.set_state((np_state["kind"], np_state["keys"].numpy().astype(np.uint32), np_state["pos"],
                         np_state["has_gauss"], np_state["cached_gaussian"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))  # weights_only loading gives lists back
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_resume(path: str | os.PathLike, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                scheduler: Any, scaler: torch.amp.GradScaler, progress: dict[str, int],
                history: list[dict[str, float]]) -> None:
    """Write the resume checkpoint atomically.

    Args:
        path: Usually ``<run_dir>/last.ckpt``.
        model: The bare spotter (not its DDP wrapper).
        optimizer: Its optimiser.
        scheduler: Its learning-rate scheduler.
        scaler: The mixed-precision gradient scaler (a disabled one on CPU).
        progress: ``epoch``, ``step`` and ``batch_in_epoch``: where training continues.
        history: One dict of metrics per finished epoch.
    """
    atomic_save({"format": RESUME_FORMAT, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                 "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(), "progress": dict(progress),
                 "history": list(history), "rng": rng_state()}, path)


def load_resume(path: str | os.PathLike, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                scheduler: Any, scaler: torch.amp.GradScaler) -> tuple[dict[str, int], list[dict[str, float]]]:
    """Restore a resume checkpoint into the given objects and the global random states.

    Returns:
        ``(progress, history)`` as saved.

    Raises:
        ValueError: The file is not a resume checkpoint of this format, or does not fit the model.
    """
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for bad bytes; all mean "not a checkpoint"
        raise ValueError(f"{path}: not a readable resume checkpoint ({err})") from err
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != RESUME_FORMAT:
        raise ValueError(f"{path}: not an asr_cnn resume checkpoint of format {RESUME_FORMAT}")
    missing = [key for key in RESUME_KEYS if key not in checkpoint]
    if missing:
        raise ValueError(f"{path}: the resume checkpoint lacks {', '.join(map(repr, missing))}")
    try:
        model.load_state_dict(checkpoint["model"])
    except RuntimeError as err:
        raise ValueError(f"{path}: weights do not match this run's model ({err})") from err
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    scaler.load_state_dict(checkpoint["scaler"])
    set_rng_state(checkpoint["rng"])
    return checkpoint["progress"], checkpoint["history"]

"""Type and range checks of ``conf/trainer``: a bad override fails at once, naming the key and the value.

Hydra keeps an override such as ``trainer.max_epochs=abc`` as a string; without these checks it would
surface as a ``TypeError`` deep in the loop, after the corpus was built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

INTEGERS = {"max_epochs": 1, "batch_size": 1, "eval_batch_size": 1, "num_workers": 0, "seed": 0,
            "checkpoint_every_n_steps": 0}
"""Integer keys and their smallest allowed value."""

OPTIONAL_INTEGERS = {"threads": 1}
NUMBERS = {"label_smoothing": (0.0, 1.0)}
"""Number keys and their closed range."""

OPTIONAL_NUMBERS = {"grad_clip": (0.0, float("inf"))}
FLAGS = ("resume", "progress_bar")


def is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_numbers(value: Any) -> bool:
    """A list of numbers (a Hydra ``ListConfig`` included; a string is not one)."""
    return not isinstance(value, (str, bytes)) and hasattr(value, "__len__") and all(is_number(v) for v in value)


def check_trainer(trainer: Mapping[str, Any]) -> None:
    """Check the scalar settings of a composed ``cfg.trainer``.

    Raises:
        ValueError: Naming the first bad key (``trainer.<key>``) and its value.
    """
    for key, low in (INTEGERS | OPTIONAL_INTEGERS).items():
        value = trainer.get(key)
        if (value is not None or key in INTEGERS) and not (is_integer(value) and value >= low):
            optional = " (or null)" if key in OPTIONAL_INTEGERS else ""
            raise ValueError(f"trainer.{key} must be an integer >= {low}{optional}, got {value!r}")
    for key, (low, high) in (NUMBERS | OPTIONAL_NUMBERS).items():
        value = trainer.get(key)
        if (value is not None or key in NUMBERS) and not (is_number(value) and low <= value <= high):
            optional = " (or null)" if key in OPTIONAL_NUMBERS else ""
            raise ValueError(f"trainer.{key} must be a number in [{low}, {high}]{optional}, got {value!r}")
    for key in FLAGS:
        if not isinstance(trainer.get(key), bool):
            raise ValueError(f"trainer.{key} must be true or false, got {trainer.get(key)!r}")

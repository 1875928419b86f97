"""Composing the Hydra configs that ship inside the package (``asr_cnn/conf/``) from Python.

Recipes, console commands, the demo, tools and tests all compose from this one folder, so an installed
wheel and a clone read the same configs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

CONF_DIR = Path(__file__).resolve().parent / "conf"
"""The package's config folder (shipped as package data)."""


def compose_config(name: str, overrides: Sequence[str] = ()) -> DictConfig:
    """Compose ``conf/<name>.yaml`` with command-line style overrides, outside ``@hydra.main``.

    ``${hydra:...}`` interpolations (such as the default ``run_dir``) are not available this way, so
    callers that write files pass ``run_dir=...`` in ``overrides``.

    Raises:
        hydra.errors.MissingConfigException: No such config or option.
    """
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name=name, overrides=list(overrides))

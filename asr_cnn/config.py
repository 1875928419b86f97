"""Composing the Hydra configs (the top-level ``conf/``, installed as the package ``asr_cnn.conf``) from Python.

Recipes, console commands, the demo, tools and tests all compose from this one folder, so an installed
wheel and a clone read the same configs: the editable install of a clone maps ``asr_cnn.conf`` to
``conf/`` as the wheel carries it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from asr_cnn import conf

CONF_DIR = Path(conf.__file__).resolve().parent
"""The config folder: ``conf/`` in a clone, ``asr_cnn/conf/`` in an installed wheel."""


def compose_config(name: str, overrides: Sequence[str] = ()) -> DictConfig:
    """Compose ``conf/<name>.yaml`` with command-line style overrides, outside ``@hydra.main``.

    ``${hydra:...}`` interpolations (such as the default ``run_dir``) are not available this way, so
    callers that write files pass ``run_dir=...`` in ``overrides``.

    Raises:
        hydra.errors.MissingConfigException: No such config or option.
    """
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name=name, overrides=list(overrides))

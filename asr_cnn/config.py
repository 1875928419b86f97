"""Composing the Hydra configs (the top-level ``conf/``, installed as the package ``asr_cnn.conf``) from Python.

Recipes, console commands, the demo, tools and tests all compose from this one folder, so an installed
wheel and a clone read the same configs: the editable install of a clone maps ``asr_cnn.conf`` to
``conf/`` as the wheel carries it. Importing this module registers the config groups' schemas
(:data:`SCHEMAS`, :data:`OPTION_SCHEMAS`) and the recipes' (:data:`~asr_cnn.recipes.config.RECIPE_SCHEMAS`) in
Hydra's ``ConfigStore``, so composing checks every value against them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.errors import ConfigCompositionException, MissingConfigException
from omegaconf import DictConfig

from asr_cnn import conf
from asr_cnn.data.corpus.config import DataConfig
from asr_cnn.detect.config import DetectorConfig
from asr_cnn.frontend.config import FRONTEND_SCHEMAS
from asr_cnn.models.config import HEAD_SCHEMAS, MODEL_SCHEMAS, SpotterConfig
from asr_cnn.recipes.config import RECIPE_SCHEMAS
from asr_cnn.schema import composition_error
from asr_cnn.training.config import OPTIMIZER_SCHEMAS, SCHEDULER_SCHEMAS, TrainerConfig

CONF_DIR = Path(conf.__file__).resolve().parent
"""The config folder: ``conf/`` in a clone, ``asr_cnn/conf/`` in an installed wheel."""

SCHEMAS: dict[str, type] = {"data": DataConfig, "detector": DetectorConfig, "spotter": SpotterConfig,
                             "trainer": TrainerConfig}
"""Config group (or a key of a primary config: ``spotter``) -> its schema, stored as ``<group>/schema``, which
``conf/<group>/default.yaml`` (``conf/train.yaml``) extends."""

OPTION_SCHEMAS: dict[str, dict[str, type]] = {
    "frontend": FRONTEND_SCHEMAS, "model": MODEL_SCHEMAS, "head": HEAD_SCHEMAS, "optimizer": OPTIMIZER_SCHEMAS,
    "scheduler": SCHEDULER_SCHEMAS}
"""Config group whose options build different classes -> option -> the schema of its constructor's config,
stored as ``schema/<group>/<option>``, which ``conf/train.yaml`` puts before the chosen option's file."""

for recipe, schema in RECIPE_SCHEMAS.items():
    ConfigStore.instance().store(name=f"{recipe}_schema", node=schema)
for group, schema in SCHEMAS.items():
    ConfigStore.instance().store(group=group, name="schema", node=schema)
for group, options in OPTION_SCHEMAS.items():
    for option, schema in options.items():
        ConfigStore.instance().store(group=f"schema/{group}", name=option, node=schema)


def compose_config(name: str, overrides: Sequence[str] = ()) -> DictConfig:
    """Compose ``conf/<name>.yaml`` with command-line style overrides, outside ``@hydra.main``.

    ``${hydra:...}`` interpolations (such as the default ``run_dir``) are not available this way, so
    callers that write files pass ``run_dir=...`` in ``overrides``.

    Raises:
        hydra.errors.MissingConfigException: No such config or option.
        ValueError: A value its schema refuses, or a key the config lacks; one line naming it.
    """
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose(config_name=name, overrides=list(overrides))
    except MissingConfigException:
        raise
    except ConfigCompositionException as err:
        raise composition_error(err, SCHEMAS) from None

"""The schemas of ``conf/trainer`` (how to train, typed; the values are in ``conf/trainer/default.yaml``) and of
the optimisers and schedulers in ``conf/optimizer`` and ``conf/scheduler`` (one per constructor's file).

Hydra checks the types while composing; :func:`trainer_config` checks the rest before any work is done. The
optimiser's and scheduler's ranges are their constructors' to check (``torch.optim`` refuses a negative rate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omegaconf import MISSING

from asr_cnn.data.datasets.training_set import TrainingSetConfig
from asr_cnn.schema import Partial, flag, integer, number, positive, setting, typed


def _weights(weights: Any) -> bool:
    return weights is None or isinstance(weights, dict) and all(
        isinstance(w, (int, float)) and not isinstance(w, bool) for w in weights.values())


@dataclass
class LiveConfig(TrainingSetConfig):
    """``trainer.live``: training for live streams (:mod:`asr_cnn.training.live`), beyond the training set's
    composition (:class:`~asr_cnn.data.datasets.training_set.TrainingSetConfig`)."""

    mining_rounds: int = integer(0)
    mined_windows: float = number(0)
    target_fa_per_hour: float = number(0)
    tail_events: int = integer(0)
    smoothing_s: list[float] = setting("be a non-empty list of moving-average spans in seconds, each >= 0",
                                       lambda v: len(v) > 0 and min(v) >= 0)
    select_every: int = integer(0)


@dataclass
class FeatureCacheConfig:
    """``trainer.feature_cache``: a frozen prefix's features cached (:mod:`asr_cnn.training.feature_cache`)."""

    enabled: bool = flag()
    copies: int = integer(1)
    stream_windows: float = number(0)


@dataclass
class TrainerConfig:
    """``trainer``: read by :func:`asr_cnn.training.loop.train` (the spotter itself never sees these)."""

    max_epochs: int = integer(1)
    batch_size: int = integer(1)
    eval_batch_size: int = integer(1)
    num_workers: int = integer(0)
    device: str = setting("be auto, cpu, cuda or cuda:N")
    precision: str = setting("be 16-mixed or 32")
    label_smoothing: float = number(0.0, 1.0)
    # Any, not dict | None: OmegaConf cannot merge an override's mapping into a typed optional mapping that is null.
    class_weights: Any = setting("map labels to loss weights (or be null)", _weights)
    grad_clip: float | None = number(0.0, optional=True)
    pretrained_lr_scale: float = positive()
    seed: int = integer(0)
    ensemble: int = integer(1)
    threads: int | None = integer(1, optional=True)
    checkpoint_every_n_steps: int = integer(0)
    resume: bool = flag()
    progress_bar: bool = flag()
    eval_splits: list[str] = setting("be a list of split names")
    live: LiveConfig = MISSING
    feature_cache: FeatureCacheConfig = MISSING


@dataclass
class AdamConfig(Partial):
    """``optimizer``: Adam (``conf/optimizer/adam.yaml``). The loop calls every optimiser's partial with the
    spotter's parameter groups, the pretrained ones at ``trainer.pretrained_lr_scale`` of ``lr``."""

    lr: float = positive()
    weight_decay: float = number(0)


@dataclass
class RMSpropConfig(Partial):
    """``optimizer``: RMSprop with momentum (``conf/optimizer/rmsprop.yaml``)."""

    lr: float = positive()
    momentum: float = number(0)
    weight_decay: float = number(0)


@dataclass
class SGDConfig(Partial):
    """``optimizer``: SGD (``conf/optimizer/sgd.yaml``)."""

    lr: float = positive()
    momentum: float = number(0)
    nesterov: bool = flag()
    weight_decay: float = number(0)


OPTIMIZER_SCHEMAS: dict[str, type] = {"adam": AdamConfig, "rmsprop": RMSpropConfig, "sgd": SGDConfig}
"""``conf/optimizer/<option>.yaml`` -> its schema."""


@dataclass
class CosineConfig(Partial):
    """``scheduler``: cosine decay (``conf/scheduler/cosine.yaml``); the loop calls the partial with the optimiser."""

    T_max: int = integer(1)
    eta_min: float = number(0)


@dataclass
class StepConfig(Partial):
    """``scheduler``: step decay (``conf/scheduler/step.yaml``); the loop calls the partial with the optimiser."""

    step_size: int = integer(1)
    gamma: float = positive()


SCHEDULER_SCHEMAS: dict[str, type] = {"cosine": CosineConfig, "step": StepConfig}
"""``conf/scheduler/<option>.yaml`` -> its schema."""


def trainer_config(node: object) -> TrainerConfig:
    """The composed ``cfg.trainer`` as a :class:`TrainerConfig`, every value checked.

    Raises:
        ValueError: Naming the first bad key (``trainer.<key>``), what it must be and its value.
    """
    return typed(TrainerConfig, node, "trainer")

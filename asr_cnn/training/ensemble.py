"""One spotter from several trained on their own: a shared frozen backbone, their heads averaged, calibrated anew.

Models trained with different seeds (each its own augmented copies, mining, batches and start) make
different mistakes on real voices, and the average of their posteriors makes fewer. When they share a
frozen pretrained backbone (``experiment=pretrained`` and ``wakewords``), the ensemble runs that backbone
once: it costs about what one of them costs (:class:`~asr_cnn.models.tdnn_heads.TDNNHeads`).

Two ways in: ``recipes/combine.py`` combines checkpoints trained apart (:func:`combine`), and
``trainer.ensemble=<n>`` makes one training run train its ``n`` members and ship their ensemble
(:func:`train_ensemble`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from asr_cnn.data.corpus.config import corpus_config
from asr_cnn.models.group import same_layer
from asr_cnn.models.speech_embedding import SpeechEmbedding
from asr_cnn.models.speech_embedding_tdnn import SpeechEmbeddingTDNN
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.models.tdnn_heads import TDNNHeads
from asr_cnn.training.distributed import env_rank, resolve_device
from asr_cnn.training.calibrate import save_calibrated
from asr_cnn.training.config import trainer_config
from asr_cnn.training.loop import train
from asr_cnn.training.outputs import METRICS_NAME, MODEL_NAME, evaluate_splits

log = logging.getLogger(__name__)

MEMBER_DIR = "seed{seed}"
"""Where :func:`train_ensemble` trains each member, inside the run directory."""


SHARED_KEYS = ("frontend", "model", "head", "spotter", "labels")
"""Config entries the members must agree on: same architecture, same classes."""


def target(cls: type) -> str:
    """The ``_target_`` that builds ``cls``."""
    return f"{cls.__module__}.{cls.__qualname__}"


def ensemble_of(members: Sequence[KeywordSpotter]) -> KeywordSpotter:
    """A spotter whose head is every member's TDNN and window head, over the members' shared backbone.

    Args:
        members: Spotters of ``speech_embedding_tdnn`` with a frozen backbone, one architecture and one
            set of labels.

    Raises:
        ValueError: No member, a member of another body or a fine-tuned backbone, members that differ in
            architecture or labels, or backbone weights that differ.
    """
    if not members:
        raise ValueError("an ensemble needs at least one member")
    first = members[0]
    for index, member in enumerate(members):
        if not isinstance(member.body, SpeechEmbeddingTDNN) or member.body.frozen_children() != 1:
            raise ValueError(f"member {index}: only speech_embedding_tdnn models with a frozen backbone "
                             f"(model.trainable_blocks=0) share their backbone; got {type(member.body).__name__}")
        differ = [key for key in SHARED_KEYS if member.config.get(key) != first.config.get(key)]
        if differ:
            raise ValueError(f"member {index} differs from member 0 in {differ}: members must share architecture and labels")
        if not same_layer(member.body.backbone, first.body.backbone):
            raise ValueError(f"member {index}: its backbone weights differ from member 0's")
    config: dict[str, Any] = {key: first.config[key] for key in ("frontend", "spotter", "labels")}
    model, head = first.config["model"], first.config["head"]
    config["model"] = {"_target_": target(SpeechEmbedding), "trainable_blocks": 0}
    config["head"] = {"_target_": target(TDNNHeads), "members": len(members),
                      **{key: model[key] for key in ("channels", "offsets", "strides")},
                      **{key: head[key] for key in ("pool", "hidden", "dropout")}}
    ensemble = KeywordSpotter.from_config(config)
    ensemble.body.load_state_dict(first.body.backbone.state_dict())
    for stack, member in zip(ensemble.head.members.values(), members):
        stack.tdnn.load_state_dict(member.body.tdnn.state_dict())
        stack.head.load_state_dict(member.head.state_dict())
    return ensemble.eval()


def combine(cfg: DictConfig) -> dict[str, Any]:
    """Load ``cfg.members``, build their ensemble, calibrate it as training calibrates a model and save it as
    ``<run_dir>/model.pt`` (:func:`~asr_cnn.training.calibrate.save_calibrated`).

    Raises:
        FileNotFoundError, ValueError: A member is not a readable checkpoint (:meth:`KeywordSpotter.load`),
            or the members do not combine (:func:`ensemble_of`), or the corpus has no validation streams.
    """
    trainer = trainer_config(cfg.trainer)
    device = resolve_device(trainer.device)
    ensemble = load_ensemble([Path(path) for path in cfg.members], device)
    return save_calibrated(corpus_config(cfg.data), trainer.live, cfg.run_dir, ensemble, device)


def load_ensemble(paths: Sequence[Path], device: torch.device) -> KeywordSpotter:
    """The ensemble (:func:`ensemble_of`) of the checkpoints at ``paths``, on ``device``; it lists its members' paths.

    Raises:
        FileNotFoundError, ValueError: As :meth:`KeywordSpotter.load` and :func:`ensemble_of`.
    """
    ensemble = ensemble_of([KeywordSpotter.load(path) for path in paths]).to(device)
    ensemble.extra["members"] = [str(path) for path in paths]
    return ensemble


def train_ensemble(cfg: DictConfig) -> dict[str, Any]:
    """Train ``trainer.ensemble`` models, seeds ``trainer.seed`` upwards, each a run of its own in
    ``<run_dir>/seed<s>/``, and ship their ensemble, calibrated, as ``<run_dir>/model.pt`` with ``metrics.json``
    (its calibration, the held-out real speech check and its accuracy on ``trainer.eval_splits``).

    A member whose folder already holds ``model.pt`` is not trained again when ``trainer.resume`` is set; one
    that was stopped midway resumes from its ``last.ckpt``.

    Returns:
        ``{"run_dir", "model", "metrics"}`` on rank 0 (as :func:`~asr_cnn.training.loop.train`); ``{"run_dir"}``
        on the other ranks.

    Raises:
        ValueError: The model is not ``speech_embedding_tdnn`` with a frozen backbone (before any training), or
            as :func:`~asr_cnn.training.loop.train`.
    """
    trainer = trainer_config(cfg.trainer)
    model = cfg.model
    if model.get("_target_") != target(SpeechEmbeddingTDNN) or model.get("trainable_blocks") != 0:
        raise ValueError(f"trainer.ensemble={trainer.ensemble} combines speech_embedding_tdnn models with a frozen "
                         f"backbone (experiment=pretrained or wakewords); this run's model is {model.get('_target_')} "
                         f"with trainable_blocks={model.get('trainable_blocks')}")
    run_dir = Path(cfg.run_dir)
    paths = []
    for seed in range(trainer.seed, trainer.seed + trainer.ensemble):
        member = OmegaConf.merge(cfg, {"trainer": {"seed": seed, "ensemble": 1},
                                       "run_dir": str(run_dir / MEMBER_DIR.format(seed=seed))})
        paths.append(Path(member.run_dir) / MODEL_NAME)
        if trainer.resume and paths[-1].is_file():
            log.info("ensemble member %d of %d: %s is trained already", len(paths), trainer.ensemble, paths[-1])
            continue
        log.info("ensemble member %d of %d: seed %d into %s", len(paths), trainer.ensemble, seed, member.run_dir)
        train(member)
    if env_rank() != 0:  # the members trained on every rank; one process combines them
        return {"run_dir": str(run_dir)}
    device, corpus = resolve_device(trainer.device), corpus_config(cfg.data)
    ensemble = load_ensemble(paths, device)
    metrics = save_calibrated(corpus, trainer.live, run_dir, ensemble, device)
    metrics["splits"] = evaluate_splits(trainer, corpus.root, ensemble, device)
    (run_dir / METRICS_NAME).write_text(json.dumps(metrics, indent=2))
    return {"run_dir": str(run_dir), "model": metrics["model"], "metrics": metrics}

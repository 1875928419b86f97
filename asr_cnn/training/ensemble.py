"""One spotter from several trained on their own: a shared frozen backbone, their heads averaged, calibrated anew.

Models trained with different seeds (each its own augmented copies, mining, batches and start) make
different mistakes on real voices, and the average of their posteriors makes fewer. When they share a
frozen pretrained backbone (``experiment=pretrained`` and ``wakewords``), the ensemble runs that backbone
once: it costs about what one of them costs (:class:`~asr_cnn.models.tdnn_heads.TDNNHeads`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from asr_cnn.data.corpus.config import corpus_config
from asr_cnn.models.group import same_layer
from asr_cnn.models.speech_embedding import SpeechEmbedding
from asr_cnn.models.speech_embedding_tdnn import SpeechEmbeddingTDNN
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.models.tdnn_heads import TDNNHeads
from asr_cnn.training.distributed import resolve_device
from asr_cnn.training.calibrate import save_calibrated
from asr_cnn.training.config import trainer_config


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
    trainer, corpus = trainer_config(cfg.trainer), corpus_config(cfg.data)
    device = resolve_device(trainer.device)
    paths = [Path(path) for path in cfg.members]
    ensemble = ensemble_of([KeywordSpotter.load(path) for path in paths]).to(device)
    ensemble.extra["members"] = [str(path) for path in paths]
    return save_calibrated(corpus, trainer.live, cfg.run_dir, ensemble, device)

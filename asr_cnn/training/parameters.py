"""The optimiser's parameter groups: a fine-tuned pretrained backbone learns at a fraction of the rate."""

from __future__ import annotations

from typing import Any

from torch import nn

from asr_cnn.models.speech_embedding import SpeechEmbedding


def parameter_groups(spotter: nn.Module, lr: float, pretrained_lr_scale: float) -> list[dict[str, Any]]:
    """The spotter's trainable parameters: those of pretrained modules at ``lr * pretrained_lr_scale``,
    the rest at the optimiser's own ``lr``.

    The stages of :class:`~asr_cnn.models.speech_embedding.SpeechEmbedding` left trainable
    (``model.trainable_blocks``) start from weights learnt on large amounts of real speech; a smaller step
    adapts them to the keywords without first overwriting what the synthetic corpus cannot teach again.
    Frozen parameters are left out.

    Raises:
        ValueError: A scale that is not positive.
    """
    if pretrained_lr_scale <= 0:
        raise ValueError(f"trainer.pretrained_lr_scale must be > 0, got {pretrained_lr_scale}")
    pretrained = {id(p) for module in spotter.modules() if isinstance(module, SpeechEmbedding)
                  for p in module.parameters()}
    trainable = [p for p in spotter.parameters() if p.requires_grad]
    groups: list[dict[str, Any]] = [{"params": [p for p in trainable if id(p) not in pretrained]}]
    fine_tuned = [p for p in trainable if id(p) in pretrained]
    if fine_tuned:
        groups.append({"params": fine_tuned, "lr": lr * pretrained_lr_scale})
    return groups

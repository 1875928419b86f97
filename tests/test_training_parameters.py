"""The optimiser's parameter groups: a fine-tuned backbone's top at its own rate, frozen weights left out."""

from __future__ import annotations

import pytest
import torch

from asr_cnn import KeywordSpotter
from asr_cnn.config import compose_config
from asr_cnn.training.parameters import parameter_groups

LABELS = "+labels=[_silence_,_unknown_,a,b]"


def spotter(trainable_blocks: int) -> KeywordSpotter:
    return KeywordSpotter.from_config(compose_config("train", ["experiment=pretrained", LABELS,
                                                               f"model.trainable_blocks={trainable_blocks}"]))


def test_the_backbone_top_learns_at_its_scale_and_the_rest_at_the_optimisers_rate():
    model = spotter(2)
    groups = parameter_groups(model, 0.003, 0.1)
    assert [group.get("lr") for group in groups] == [None, pytest.approx(0.0003)]
    top = {id(p) for p in [*model.body.backbone.block5.parameters(), *model.body.backbone.embed.parameters()]}
    assert {id(p) for p in groups[1]["params"]} == top
    heads = {id(p) for p in [*model.body.tdnn.parameters(), *model.head.parameters()]}
    assert {id(p) for p in groups[0]["params"]} == heads
    optimizer = torch.optim.Adam(groups, lr=0.003)
    assert [group["lr"] for group in optimizer.param_groups] == [0.003, pytest.approx(0.0003)]


def test_a_frozen_backbone_gives_one_group_without_its_weights():
    model = spotter(0)
    groups = parameter_groups(model, 0.003, 0.1)
    assert len(groups) == 1
    assert not {id(p) for p in model.body.backbone.parameters()} & {id(p) for p in groups[0]["params"]}


def test_a_scale_that_is_not_positive_is_refused():
    with pytest.raises(ValueError, match="pretrained_lr_scale"):
        parameter_groups(spotter(2), 0.003, 0.0)

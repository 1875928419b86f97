"""Every model config in conf/model/ builds through KeywordSpotter.from_config and trains one batch."""

from __future__ import annotations

import math

import pytest
import torch
from hydra.utils import instantiate

from asr_cnn.config import CONF_DIR, compose_config
from asr_cnn.data.corpus.config import data_config
from asr_cnn.data.datasets.windows import random_crop
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.training.forward import TrainingForward
from asr_cnn.training.loop import spec_augment

MODELS = sorted(path.stem for path in (CONF_DIR / "model").glob("*.yaml"))
BATCH = 4
CLIP = 16_000


def test_model_zoo_is_not_empty():
    assert MODELS, f"no model configs in {CONF_DIR / 'model'}"


@pytest.mark.parametrize("name", MODELS)
def test_model_trains_one_batch(name):
    cfg = compose_config("train", ["~experiment", f"model={name}"])  # the model config on its own
    torch.manual_seed(0)
    spotter = KeywordSpotter.from_config(cfg)
    forward = TrainingForward(spotter, spec_augment(data_config(cfg.data).augment)).train()
    optimizer = instantiate(cfg.optimizer)(params=spotter.parameters())
    wave = random_crop(0.1 * torch.randn(BATCH, CLIP), spotter.window_samples, torch.Generator().manual_seed(0))
    labels = torch.arange(BATCH) % len(spotter.labels)
    before = [p.detach().clone() for p in spotter.parameters()]

    loss = torch.nn.functional.cross_entropy(forward(wave), labels, label_smoothing=cfg.trainer.label_smoothing)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

    assert math.isfinite(loss.item())
    changed = [not torch.equal(a, b) for a, b in zip(before, spotter.parameters())]
    assert all(changed), f"{name}: {changed.count(False)} parameter tensors did not move"
    assert forward.eval()(wave).shape == (BATCH, len(spotter.labels))

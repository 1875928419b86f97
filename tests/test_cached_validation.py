"""Validation on cached features equals validation on audio: the same clip loss and accuracy, the same
smoothed stream scores, the same calibration, and no backbone call after the features are built; for a
frozen backbone and for one fine-tuned at the top (cached at its last frozen block)."""

from __future__ import annotations

import pytest
import torch
from conftest import tiny_overrides

from asr_cnn.config import compose_config
from asr_cnn.detect import Detector
from asr_cnn.evaluation.calibration import score_validation
from asr_cnn.evaluation.clips import evaluate_dataset
from asr_cnn.training import distributed
from asr_cnn.training.config import trainer_config
from asr_cnn.training.live import validation_calibration, validation_folder
from asr_cnn.training.loop import build_run, select

FROZEN = ("model=speech_embedding_tdnn", "trainer.live.select_every=1")


@pytest.mark.parametrize("trainable_blocks", [0, 2], ids=["frozen", "top2"])
def test_cached_validation_equals_validation_on_audio(tiny_corpus, tmp_path, trainable_blocks):
    cfg = compose_config("train", tiny_overrides(tiny_corpus, tmp_path, *FROZEN,
                                                 f"model.trainable_blocks={trainable_blocks}"))
    ctx = distributed.setup("cpu")
    try:
        run = build_run(cfg, ctx)
    finally:
        distributed.cleanup(ctx)
    spotter, cached = run.spotter, run.validation
    assert cached is not None and len(cached.streams) == 1 and cached.seconds[0] > 10
    torch.manual_seed(3)
    with torch.no_grad():  # a head that is not at its initialisation, so scores spread
        for p in spotter.head.parameters():
            p.add_(0.5 * torch.randn_like(p))

    audio = evaluate_dataset(spotter, run.val_set, batch_size=16)
    metrics = cached.clip_metrics(batch_size=16)
    assert metrics["accuracy"] == audio["accuracy"]
    assert abs(metrics["loss"] - audio["loss"]) < 1e-5

    detector = Detector(spotter, threshold=0.3)
    on_audio = score_validation(detector, [validation_folder(cfg.data.root)])
    on_features = cached.scored(detector)
    assert on_features.scores.shape == on_audio.scores.shape
    assert on_features.scores.std() > 1e-3  # not a constant that any two paths would agree on
    torch.testing.assert_close(on_features.scores, on_audio.scores, atol=1e-5, rtol=0)
    assert (on_features.seconds, on_features.labels) == (on_audio.seconds, on_audio.labels)

    calls = []
    first_conv = next(m for m in spotter.body.backbone.modules() if isinstance(m, torch.nn.Conv2d))
    first_conv.register_forward_hook(lambda *_: calls.append(1))  # streaming too runs every convolution
    row = select(run, epoch=1)  # checkpoint check on the cached features
    assert calls == []
    live = trainer_config(cfg.trainer).live
    reference = validation_calibration(cfg.data.root, live, spotter, ctx.device)  # the same check on the audio
    assert calls  # the hook does see the audio path
    assert run.best_calibration.thresholds == reference.thresholds
    assert run.best_calibration.smoothing_s == reference.smoothing_s
    assert row == {"val_recall": reference.recall, "val_fa_per_hour": reference.point.fa_per_hour or 0.0}
    assert (tmp_path / "best.pt").is_file()

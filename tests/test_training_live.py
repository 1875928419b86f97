"""A training run for live streams ships thresholds calibrated on its validation streams, used by default."""

from __future__ import annotations

import json
import math

import pytest
import torch

from asr_cnn.config import compose_config
from asr_cnn.data.context import KeywordsInContext
from asr_cnn.data.labels import make_labels
from asr_cnn.data.negatives import FixedWindows, NegativeWindows
from asr_cnn.detect import Detector
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.training.live import build_live_data

from conftest import tiny_overrides

pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_checkpoint_carries_calibrated_thresholds_that_the_detector_uses(tiny_checkpoint):
    spotter = KeywordSpotter.load(tiny_checkpoint)
    keywords = [label for label in spotter.labels if not label.startswith("_")]
    thresholds = spotter.extra["thresholds"]
    assert set(thresholds) == set(keywords) and all(0.0 <= t <= 1.0 for t in thresholds.values())
    calibration = spotter.extra["calibration"]
    target = compose_config("train", ["experiment=tiny"]).trainer.live.target_fa_per_hour
    assert calibration["target_fa_per_hour"] == target and calibration["hours"] > 0
    assert Detector(spotter).thresholds == thresholds  # no threshold given: the calibrated ones
    assert Detector(spotter, thresholds={keywords[0]: 0.9}).thresholds[keywords[0]] == 0.9
    metrics = json.loads((tiny_checkpoint.parent / "metrics.json").read_text())
    assert metrics["calibration"]["thresholds"] == thresholds


def test_the_training_set_holds_clips_speech_windows_and_keywords_in_context(tiny_corpus, tmp_path):
    cfg = compose_config("train", tiny_overrides(tiny_corpus, tmp_path))
    labels = make_labels(list(cfg.data.keywords))
    live = build_live_data(cfg, labels, window=15_760)
    windows, in_context = live.parts
    assert isinstance(windows, NegativeWindows) and isinstance(in_context, KeywordsInContext)
    assert len(windows) == math.ceil(cfg.trainer.live.speech_windows * len(live.clips))
    dataset = live.dataset()
    assert len(dataset) == len(live.clips) + len(windows) + len(in_context)
    assert {dataset[i][1] for i in range(len(live.clips), len(live.clips) + len(windows))} == {labels.index("_unknown_")}
    live.mined = [windows.sources.draw(torch.Generator().manual_seed(0))]
    assert isinstance(live.dataset().parts[-1], FixedWindows) and len(live.dataset()) == len(dataset) + 1


@pytest.mark.parametrize("override, key", [
    ("trainer.live.speech_windows=-1", "speech_windows"), ("trainer.live.partial_fraction=2", "partial_fraction"),
    ("trainer.live.lead_speech=1.5", "lead_speech"),
    ("trainer.live.mining_rounds=1.5", "mining_rounds"), ("trainer.live.tail_s=[0.3,0.1]", "tail_s"),
    ("trainer.live.real_negatives=maybe", "real_negatives"), ("trainer.live.target_fa_per_hour=abc", "target"),
    ("trainer.live.tail_events=-1", "tail_events"),
    ("trainer.live.smoothing_s=[]", "smoothing_s"), ("trainer.live.smoothing_s=[0.5,-1]", "smoothing_s"),
])
def test_bad_live_settings_are_named_before_any_work(override, key, tmp_path):
    from asr_cnn.training.loop import train

    with pytest.raises(ValueError, match=f"trainer.live.{key}"):
        train(compose_config("train", ["experiment=tiny", f"data.root={tmp_path / 'none'}", f"run_dir={tmp_path}",
                                       override]))
    assert not (tmp_path / "none").exists()

"""A training run for live streams ships thresholds calibrated on its validation streams, used by default."""

from __future__ import annotations

import itertools
import json
import math
import re

import pytest
import torch

from asr_cnn.audio import load_audio
from asr_cnn.config import compose_config
from asr_cnn.data.corpus.config import corpus_config, data_config
from asr_cnn.data.corpus.labels import make_labels
from asr_cnn.data.datasets.context import KeywordsInContext
from asr_cnn.data.datasets.negatives import FixedWindows, NegativeWindows
from asr_cnn.data.datasets.real import real_material, real_speech, shipped_real
from asr_cnn.data.datasets.training_set import build_live_data
from asr_cnn.detect import Detector
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.training.config import trainer_config

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
    live = build_live_data(corpus_config(cfg.data), data_config(cfg.data).augment, trainer_config(cfg.trainer).live,
                           cfg.trainer.seed, labels, window=15_760)
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
    ("trainer.live.tail_s=[1]", "tail_s"),
    ("trainer.live.real_negatives=maybe", "real_negatives"), ("trainer.live.target_fa_per_hour=abc", "target"),
    ("trainer.live.tail_events=-1", "tail_events"),
    ("trainer.live.smoothing_s=[]", "smoothing_s"), ("trainer.live.smoothing_s=[0.5,-1]", "smoothing_s"),
    ("trainer.live.real_speech.calibrate=maybe", "real_speech"),
    ("trainer.live.real_speech.max_hours=0", "real_speech"), ("trainer.live.real_speech.max_hours=abc", "real_speech"),
    ("trainer.live.real_speech.splits={train: 0.5, validation: 0.6, test: 0.1}", "real_speech"),
    ("trainer.live.real_speech.splits={train: 0.5, validation: 0.5}", "real_speech"),
])
def test_bad_live_settings_are_named_before_any_work(override, key, tmp_path):
    from asr_cnn.training.loop import train

    with pytest.raises(ValueError, match=f"trainer.live.{key}"):
        train(compose_config("train", ["experiment=tiny", f"data.root={tmp_path / 'none'}", f"run_dir={tmp_path}",
                                       override]))
    assert not (tmp_path / "none").exists()


def test_real_speech_for_training_and_calibration_leaves_out_what_says_a_keyword(tmp_path):
    """Calibration takes the validation speakers' utterances, each keyword leaving out those that say it (and
    untranscribed LibriSpeech for a common word); training the train speakers' that say no keyword."""
    cfg = compose_config("train", ["experiment=tiny", f"data.root={tmp_path}", "trainer.live.real_speech.max_hours=0.25"])

    def first_hours(items: list) -> list:  # the prefix within max_hours
        seconds = list(itertools.accumulate(item.seconds for item in items))
        return [item for item, total in zip(items, seconds) if total <= 0.25 * 3600]

    def says(transcript: str | None, words: str) -> bool:
        return transcript is None or re.search(rf"\b({words})(s|es|'s)?\b", transcript) is not None

    corpus, real = corpus_config(cfg.data), trainer_config(cfg.trainer).live.real_speech
    items = shipped_real(corpus, real, "validation")
    assert {item.split for item in items} == {"validation"}
    waves, excluded = real_material(corpus, real, "validation", ["go", "hey jarvis"])  # a phrase nobody says: all kept
    kept = first_hours(items)
    assert [w.shape[-1] for w in waves] == [load_audio(item.path).shape[-1] for item in kept]
    assert excluded["hey jarvis"] == []
    assert excluded["go"] == [i for i, item in enumerate(kept) if says(item.transcript, "go")]
    assert 0 < len(excluded["go"]) < len(kept) and any(item.transcript is None for item in kept)
    train = real_speech(corpus, real, "train")  # yes, no, stop: untranscribed speech left out too
    usable = first_hours([item for item in shipped_real(corpus, real, "train")
                          if not says(item.transcript, "yes|no|stop")])
    assert [w.shape[-1] for w in train] == [load_audio(item.path).shape[-1] for item in usable] and usable

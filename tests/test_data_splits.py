"""Honest splits: training, validation and test never share a stretch of noise, a voice or running speech."""

from __future__ import annotations

import json

import pytest
import torch

from asr_cnn.audio import load_audio
from asr_cnn.config import compose_config
from asr_cnn.data.corpus.config import data_config
from asr_cnn.data.corpus.background import NOISE_DIR, NOISE_FILES, REGIONS, TRAIN_NOISE_DIR, read_noises, region
from asr_cnn.data.corpus.manifest import read_manifest
from asr_cnn.data.corpus.running import RUNNING_DIR
from asr_cnn.data.datasets.training_set import train_augment

from conftest import tiny_overrides

pytestmark = pytest.mark.usefixtures("one_thread")


def test_regions_of_a_noise_file_are_disjoint_and_cover_it():
    bounds = sorted(REGIONS.values())
    assert bounds[0][0] == 0.0 and bounds[-1][1] == 1.0
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    wave = torch.arange(1000.0)
    pieces = [region(wave, split) for split in REGIONS]
    assert sum(p.numel() for p in pieces) == 1000
    assert len(set(torch.cat(pieces).tolist())) == 1000  # no sample in two splits


def test_splits_share_no_noise(tiny_corpus, tmp_path):
    whole = read_noises(tiny_corpus)
    assert set(whole) == set(NOISE_FILES)  # babble and music too
    train = read_noises(tiny_corpus, "train")
    for kind, name in NOISE_FILES.items():  # what training mixes in is the train region, nothing more
        assert torch.equal(load_audio(tiny_corpus / TRAIN_NOISE_DIR / name), train[kind])
    data = data_config(compose_config("train", tiny_overrides(tiny_corpus, tmp_path)).data)
    augment = train_augment(data.augment, tiny_corpus, seed=0)
    assert sorted(n.shape[0] for n in augment.noises) == sorted(w.shape[0] for w in train.values())
    assert all(any(torch.equal(n, w) for w in train.values()) for n in augment.noises)
    for split in ("validation", "test"):  # the streams' beds and bursts come from their own region
        held = read_noises(tiny_corpus, split)
        for kind in NOISE_FILES:
            start = int(REGIONS[split][0] * whole[kind].shape[0])
            assert torch.equal(held[kind], whole[kind][start:start + held[kind].shape[0]])
            assert start >= int(REGIONS["train"][1] * whole[kind].shape[0])
    assert (tiny_corpus / NOISE_DIR).is_dir()


def test_splits_share_no_voice_in_running_speech(tiny_corpus):
    split_of = {(r.engine, r.voice): r.split for r in read_manifest(tiny_corpus)}
    for split, allowed in (("train", {"train"}), ("validation", {"validation"}), ("test", {"test", "test_engine"})):
        sentences = json.loads((tiny_corpus / RUNNING_DIR / f"{split}.json").read_text())
        assert sentences and {split_of[s["engine"], s["voice"]] for s in sentences} <= allowed

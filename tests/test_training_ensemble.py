"""Models trained on their own, combined: one backbone, their heads' posteriors averaged, calibrated anew."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from conftest import tiny_overrides
from streaming_helpers import randomize_batchnorm

from asr_cnn import KeywordSpotter
from asr_cnn.config import compose_config
from asr_cnn.data.corpus.labels import make_labels
from asr_cnn.detect.curves import curve_thresholds
from asr_cnn.models.tdnn_heads import TDNNHeads
from asr_cnn.streaming import naive_scan, scan
from asr_cnn.training.calibrate import recalibrate
from asr_cnn.training.ensemble import combine, ensemble_of
from asr_cnn.training.loop import train

FROZEN = ("model=speech_embedding_tdnn", "model.trainable_blocks=0")


def member(seed: int, *overrides: str, labels: list[str] = ("_silence_", "_unknown_", "a", "b")) -> KeywordSpotter:
    """An untrained ``experiment=pretrained`` spotter whose TDNN and head start from ``seed``."""
    torch.manual_seed(seed)
    cfg = compose_config("train", ["experiment=pretrained", f"+labels=[{','.join(labels)}]", *overrides])
    spotter = KeywordSpotter.from_config(cfg)
    randomize_batchnorm(spotter.body.tdnn, seed)
    return spotter.eval()


def test_the_ensemble_averages_its_members_posteriors_and_streams_exactly():
    members = [member(seed) for seed in range(3)]
    ensemble = ensemble_of(members)
    assert isinstance(ensemble.head, TDNNHeads) and len(ensemble.head.members) == 3
    assert (ensemble.window_samples, ensemble.hop_samples) == (members[0].window_samples, members[0].hop_samples)
    wave = 0.1 * torch.randn(2, members[0].window_samples + 6 * members[0].hop_samples,
                             generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        mean = torch.stack([m(wave).softmax(1) for m in members]).mean(0)  # (B, K, N)
        torch.testing.assert_close(ensemble(wave).softmax(1), mean, atol=1e-5, rtol=0)
    torch.testing.assert_close(scan(ensemble, wave[0]), naive_scan(ensemble, wave[0]), atol=1e-4, rtol=0)


def test_members_that_do_not_share_a_backbone_are_refused():
    with pytest.raises(ValueError, match="at least one member"):
        ensemble_of([])
    with pytest.raises(ValueError, match="member 1: only speech_embedding_tdnn models with a frozen backbone"):
        ensemble_of([member(0), member(1, "model.trainable_blocks=1")])
    with pytest.raises(ValueError, match=r"member 1 differs from member 0 in \['labels'\]"):
        ensemble_of([member(0), member(1, labels=["_silence_", "_unknown_", "a", "c"])])
    other = member(1)
    with torch.no_grad():
        next(other.body.backbone.parameters()).add_(1.0)
    with pytest.raises(ValueError, match="member 1: its backbone weights differ"):
        ensemble_of([member(0), other])


def test_combine_calibrates_and_saves_an_ordinary_checkpoint(tiny_corpus, tmp_path):
    keywords = list(compose_config("train", tiny_overrides(tiny_corpus, tmp_path)).data.keywords)
    paths = []
    for seed in range(2):
        paths.append(tmp_path / f"member{seed}.pt")
        member(seed, labels=make_labels(keywords)).save(paths[-1])
    cfg = compose_config("combine", [*tiny_overrides(tiny_corpus, tmp_path / "ensemble"),
                                     f"members=[{','.join(map(str, paths))}]"])
    result = combine(cfg)
    loaded = KeywordSpotter.load(result["model"])
    assert isinstance(loaded.head, TDNNHeads) and len(loaded.head.members) == 2
    assert set(loaded.extra["thresholds"]) == set(keywords)
    assert loaded.extra["calibration"]["target_fa_per_hour"] == cfg.trainer.live.target_fa_per_hour
    assert loaded.extra["members"] == [str(p) for p in paths]
    assert_calibrated_on_real_speech(loaded, result, keywords)
    with pytest.raises(FileNotFoundError, match="nothing.pt: no such checkpoint"):
        combine(compose_config("combine", [*tiny_overrides(tiny_corpus, tmp_path / "x"), f"members=[{tmp_path / 'nothing.pt'}]"]))


def test_one_run_trains_its_members_and_ships_their_ensemble(tiny_corpus, tmp_path):
    cfg = compose_config("train", tiny_overrides(tiny_corpus, tmp_path, *FROZEN, "trainer.ensemble=2", "trainer.seed=3"))
    result = train(cfg)
    paths = [tmp_path / "seed3" / "model.pt", tmp_path / "seed4" / "model.pt"]
    members = [KeywordSpotter.load(path) for path in paths]
    loaded = KeywordSpotter.load(result["model"])
    assert result["model"] == str(tmp_path / "model.pt") and loaded.extra["members"] == [str(p) for p in paths]
    assert isinstance(loaded.head, TDNNHeads) and len(loaded.head.members) == 2
    first, second = (member.body.tdnn.state_dict() for member in members)
    assert not all(torch.equal(first[name], second[name]) for name in first)  # each member its own seed
    for stack, member_ in zip(loaded.head.members.values(), members):
        for name, weight in member_.body.tdnn.state_dict().items():
            assert torch.equal(stack.tdnn.state_dict()[name], weight)
    assert set(result["metrics"]["splits"]) == set(cfg.trainer.eval_splits)
    assert_calibrated_on_real_speech(loaded, result["metrics"], list(cfg.data.keywords))
    stamps = [path.stat().st_mtime_ns for path in paths]
    train(cfg)  # run again: the members are found trained, only their ensemble is made anew
    assert [path.stat().st_mtime_ns for path in paths] == stamps


def test_an_ensemble_of_models_that_cannot_share_a_backbone_is_refused_before_any_training(tiny_corpus, tmp_path):
    with pytest.raises(ValueError, match="trainer.ensemble=2 combines speech_embedding_tdnn models with a frozen"):
        train(compose_config("train", tiny_overrides(tiny_corpus, tmp_path / "run", "trainer.ensemble=2")))
    assert not (tmp_path / "run").exists()


def assert_calibrated_on_real_speech(spotter: KeywordSpotter, result: dict, keywords: list[str]) -> None:
    """Thresholds from each keyword's curve on the real validation speakers, checked on the held-out ones."""
    assert set(spotter.extra["curves"]) == set(keywords)
    shipped = curve_thresholds(spotter.extra["curves"], spotter.extra["calibration"]["target_fa_per_hour"])
    assert shipped == spotter.extra["thresholds"]
    real = spotter.extra["calibration"]["real"]
    assert set(real) == set(keywords) and all(0 < r["hours"] <= 0.02 for r in real.values())  # 36 s and pauses
    heldout = result["real_heldout"]
    assert set(heldout["per_keyword"]) == set(keywords) and 0 < heldout["hours"] <= 0.02
    assert heldout["fa_per_hour"] == pytest.approx(sum(k["fa_per_hour"] for k in heldout["per_keyword"].values()))
    assert json.loads((Path(result["model"]).parent / "metrics.json").read_text())["real_heldout"] == heldout


def test_recalibrate_gives_a_trained_checkpoint_todays_calibration_and_keeps_its_weights(tiny_corpus, tmp_path):
    keywords = list(compose_config("train", tiny_overrides(tiny_corpus, tmp_path)).data.keywords)
    old = member(0, labels=make_labels(keywords))
    old.extra = {"thresholds": {k: 0.5 for k in keywords}}  # calibrated before curves were stored
    old.save(tmp_path / "old.pt")
    result = recalibrate(compose_config("calibrate", [*tiny_overrides(tiny_corpus, tmp_path / "new"),
                                                      f"checkpoint={tmp_path / 'old.pt'}"]))
    new = KeywordSpotter.load(result["model"])
    assert_calibrated_on_real_speech(new, result, keywords)
    for name, weight in old.state_dict().items():
        assert torch.equal(weight, new.state_dict()[name])

"""Several models on one backbone: each model's own events, named by model, the backbone run once per hop,
and models whose backbones (or hops) differ refused with the files named."""

from __future__ import annotations

import json

import pytest
import soundfile as sf
from detect_support import bursty_audio, experiment_spotter, gap_thresholds, tiny_spotter

from asr_cnn.config import compose_config
from asr_cnn.detect import Detector, Event
from asr_cnn.detect.files import detect
from asr_cnn.layers import TimeFreqConv2d
from asr_cnn.models.group import SpotterGroup
from asr_cnn.streaming.fast.blocks import Chain, Fork
from asr_cnn.streaming.fast.conv import TapConv

COMMANDS = ["_silence_", "_unknown_", "yes", "no"]
WAKE_WORDS = ["_silence_", "_unknown_", "athena", "computer"]
SECONDS = 8.0
REFRACTORY_S = 0.3


@pytest.fixture(scope="module")
def models():
    """Commands (experiment=pretrained, a 1 s window) and wake words (wakewords, 1.5 s and a wider TDNN), each
    its own TDNN and head over the one frozen speech_embedding backbone, with thresholds that fire on the audio."""
    commands = experiment_spotter("pretrained", COMMANDS, seed=1)
    wake = experiment_spotter("wakewords", WAKE_WORDS, seed=2)
    audio = bursty_audio(SECONDS, seed=3)
    thresholds = {}
    for spotter in (commands, wake):
        scores, _ = Detector(spotter, runtime="eager").step(audio)
        thresholds |= gap_thresholds(scores[0], spotter.labels)
    return commands, wake, audio, thresholds


def alone(spotter, audio, thresholds, runtime) -> list[Event]:
    keywords = {k: v for k, v in thresholds.items() if k in spotter.labels}
    return Detector(spotter, thresholds=keywords, refractory_s=REFRACTORY_S, runtime=runtime).push(audio)


@pytest.mark.parametrize("runtime", ["eager", "fast"])
def test_two_models_fire_the_events_each_fires_alone_each_named_by_its_model(models, runtime):
    commands, wake, audio, thresholds = models
    both = Detector({"commands.pt": commands, "wake.pt": wake}, thresholds=thresholds, refractory_s=REFRACTORY_S,
                    runtime=runtime)
    assert both.runtime == runtime and [track.name for track in both.tracks] == ["commands.pt", "wake.pt"]
    events = [event for chunk in audio.split(1_111) for event in both.push(chunk)]
    expected = [("commands.pt", e) for e in alone(commands, audio, thresholds, "eager")] + [
        ("wake.pt", e) for e in alone(wake, audio, thresholds, "eager")]
    assert {name for name, _ in expected} == {"commands.pt", "wake.pt"}  # both models fire
    key = lambda name, e: (name, e.keyword, e.start_s, e.end_s)  # noqa: E731
    assert sorted(key(e.model, e) for e in events) == sorted(key(name, e) for name, e in expected)
    assert [e.end_s for e in events] == sorted(e.end_s for e in events)  # in the order their windows ended
    ends = {e.model: e.end_s - e.start_s for e in events}
    assert ends == pytest.approx({"commands.pt": commands.window_samples / 16_000,
                                  "wake.pt": wake.window_samples / 16_000})  # each its own window


def test_the_backbone_runs_once_per_hop(models):
    commands, wake, audio, _ = models
    group = SpotterGroup([commands, wake], ["commands.pt", "wake.pt"])
    assert group.shared == ["frontend", "body.backbone"]
    calls = []
    first_conv = next(m for m in commands.body.backbone.modules() if isinstance(m, TimeFreqConv2d))
    hook = first_conv.register_forward_hook(lambda *_: calls.append(1))
    chunks = audio[:12 * commands.hop_samples].split(commands.hop_samples)
    try:
        detector = Detector([commands, wake], runtime="eager")
        for chunk in chunks:
            detector.push(chunk)
    finally:
        hook.remove()
    assert len(calls) == len(chunks)  # one per push of one hop, not one per model
    fast = Detector([commands, wake], runtime="fast").scanner.engine.step.kernel(1)  # the one-hop kernels
    backbone = sum(isinstance(m, TimeFreqConv2d) for m in commands.body.backbone.modules())
    own = [products(member) for member in next(k for k in fast.kernels if isinstance(k, Fork)).members]
    assert products(fast) == backbone + sum(own) and min(own) >= 1  # the backbone's products appear once


def products(kernel) -> int:
    """Matrix-product kernels in a compiled step."""
    if isinstance(kernel, Chain):
        return sum(products(k) for k in kernel.kernels)
    if isinstance(kernel, Fork):
        return sum(products(k) for k in kernel.members)
    return int(isinstance(kernel, TapConv))


def test_models_whose_backbones_differ_are_refused_naming_the_files(tmp_path):
    for seed, name in [(1, "a.pt"), (2, "b.pt")]:
        tiny_spotter(seed).save(tmp_path / name)
    sf.write(tmp_path / "clip.wav", bursty_audio(2.0).numpy(), 16_000)
    cfg = compose_config("detect", [f"checkpoint=[{tmp_path / 'a.pt'},{tmp_path / 'b.pt'}]",
                                    f"input={tmp_path / 'clip.wav'}"])
    with pytest.raises(ValueError, match=r"a\.pt, .*b\.pt: these models do not share a backbone"):
        detect(cfg)


def test_models_that_scan_with_different_hops_are_refused(models):
    commands = models[0]
    slower = experiment_spotter("pretrained", COMMANDS, seed=4, overrides=("model.strides=[2]",))
    with pytest.raises(ValueError, match="different hops"):
        Detector({"commands.pt": commands, "slower.pt": slower})


def test_a_threshold_for_a_keyword_no_model_has_is_refused(models):
    commands, wake, _, _ = models
    with pytest.raises(ValueError, match="maybe"):
        Detector([commands, wake], thresholds={"maybe": 0.5})


def test_detect_runs_two_checkpoints_and_names_the_model_of_every_event(models, tmp_path, capsys):
    commands, wake, audio, thresholds = models
    commands.save(tmp_path / "commands.pt")
    wake.save(tmp_path / "wake.pt")
    sf.write(tmp_path / "clip.wav", audio.numpy(), 16_000)
    paths = [str(tmp_path / "commands.pt"), str(tmp_path / "wake.pt")]
    shown = ", ".join(f"{keyword}: {value}" for keyword, value in thresholds.items())
    cfg = compose_config("detect", [f"checkpoint=[{','.join(paths)}]", f"input={tmp_path / 'clip.wav'}",
                                    f"detector.thresholds={{{shown}}}", f"detector.refractory_s={REFRACTORY_S}"])
    assert detect(cfg) == 0
    out, err = capsys.readouterr()
    events = [json.loads(line) for line in out.splitlines()]
    assert {event["model"] for event in events} == set(paths)
    assert all(list(event)[:2] == ["file", "model"] for event in events)
    assert all(f"{path}: operating point: " in err for path in paths) and "2 models on one backbone" in err


def test_an_event_of_one_model_keeps_its_json():
    assert "model" not in json.loads(Event("yes", 1.0, 2.0, 0.9).to_json(file="a.wav"))
    assert json.loads(Event("yes", 1.0, 2.0, 0.9, "m.pt").to_json())["model"] == "m.pt"

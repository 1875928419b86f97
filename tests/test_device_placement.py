"""Tensors made for a model follow it to its device and dtype: the GPU path, checked without a GPU.

Two stand-ins for "the model is not where torch puts new tensors": the model on the meta device
(shapes only, no data), and the model on the CPU while torch's default device is meta, so that any
tensor made without naming its device lands on meta and fails as soon as it meets the model's.
"""

from __future__ import annotations

import pytest
import torch
from detect_support import bursty_audio, tiny_spotter

from asr_cnn.config import CONF_DIR, compose_config
from asr_cnn.detect import Detector
from asr_cnn.detect.export import steady_state
from asr_cnn.layers.streaming import flatten_state
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.receptive_field import measure
from asr_cnn.streaming import StreamingScanner
from asr_cnn.summary import summarize
from asr_cnn.training import distributed
from asr_cnn.training.loop import build_run, train_step
from conftest import tiny_overrides

FAST_MODELS = ("tdnn", "res8")  # a 1-D and a 2-D body; the rest of the zoo runs with the slow tests
MODELS = [model if model in FAST_MODELS else pytest.param(model, marks=pytest.mark.slow)
          for model in sorted(path.stem for path in (CONF_DIR / "model").glob("*.yaml"))]


def spotter(model: str) -> KeywordSpotter:
    torch.manual_seed(0)
    return KeywordSpotter.from_config(compose_config("train", ["experiment=tiny", f"model={model}"]))


@pytest.mark.parametrize("model", MODELS)
def test_summary_follows_the_model_to_another_device_and_dtype(model):
    on_cpu = spotter(model)
    reference = summarize(on_cpu)
    assert summarize(spotter(model).to("meta")) == reference
    assert summarize(spotter(model).double()) == reference
    with torch.device("meta"):
        assert summarize(on_cpu) == reference


def test_one_training_step_makes_every_tensor_on_the_model_device(tiny_corpus, tmp_path):
    # SGD: Adam keeps its step count in a tensor it makes on the default device (torch's choice, fine on GPUs).
    cfg = compose_config("train", tiny_overrides(tiny_corpus, tmp_path, "trainer.device=cpu", "optimizer=sgd"))
    run = build_run(cfg, distributed.setup(cfg.trainer.device))
    wave, label = next(iter(run.loader))
    before = {name: value.clone() for name, value in run.spotter.state_dict().items()}
    with torch.device("meta"):  # as the loop does on a GPU: summary, then steps
        summarize(run.spotter)
        logits, loss = train_step(run, wave, label, step=0)
    assert logits.device.type == loss.device.type == "cpu" and torch.isfinite(loss)
    after = run.spotter.state_dict()
    changed = [name for name, value in before.items() if not torch.equal(value, after[name])]
    assert any(name.endswith("weight") for name in changed)  # the optimiser stepped
    assert all(torch.isfinite(value).all() for value in after.values() if value.is_floating_point())


@pytest.mark.parametrize("model", FAST_MODELS)
def test_streaming_state_and_receptive_field_follow_the_model(model):
    on_cpu = spotter(model).eval()
    reference = steady_state(on_cpu)
    with torch.device("meta"):
        assert_same_state(steady_state(on_cpu), reference)
    assert_same_state(steady_state(spotter(model).eval().to("meta")), reference, device="meta")
    with torch.device("meta"):  # no optimisation steps: Adam makes its step count on the default device
        result = measure(on_cpu, steps=0, trials=4)
    assert result.gradient.device.type == "cpu" and result.empirical is not None
    first, last = result.empirical  # the frames the gradient reached lie inside the analytic field
    assert result.analytic[0] <= first <= last <= result.analytic[1] and last > first


def assert_same_state(state: dict, reference: dict, device: str = "cpu") -> None:
    flat, expected = flatten_state(state), flatten_state(reference)
    assert flat.keys() == expected.keys()
    assert all(flat[name].shape == expected[name].shape and flat[name].device.type == device for name in flat)


def test_scanner_and_detector_follow_the_model():
    on_cpu, audio = tiny_spotter(), bursty_audio(3.0)
    chunks = audio.split(1_000)  # not a multiple of the hop: the scanner carries samples over
    detector = Detector(on_cpu, threshold=0.0)
    reference = [event for chunk in chunks for event in detector.push(chunk)]
    with torch.device("meta"):
        scanner = StreamingScanner(on_cpu, batch_size=2)
        rows = torch.cat([scanner.push(torch.stack([chunk, chunk])) for chunk in chunks], dim=1)  # (B, N, K)
        detector = Detector(on_cpu, threshold=0.0)
        events = [event for chunk in chunks for event in detector.push(chunk)]
    assert rows.device.type == "cpu" and rows.shape[1] > 0
    assert events == reference and events

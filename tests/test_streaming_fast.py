"""The fast runtime: the eager scanner's rows and the eager detector's events for every shipped experiment and
chunks of any size (a hop split, several hops at once in blocks of several sizes), every shipped layer with a
kernel of its own, and the fallbacks (a layer's own streaming inside the step, eager
streaming for a model that never settles)."""

from __future__ import annotations

import pytest
import torch
from detect_support import TINY_LABELS, bursty_audio, experiment_spotter, gap_thresholds, tiny_spotter

from asr_cnn import KeywordSpotter
from asr_cnn.config import CONF_DIR
from asr_cnn.detect import Detector
from asr_cnn.layers import AddChannel, FlattenFreq, SCells, StreamingLayer, StreamingSequential, TimeFreqConv2d
from asr_cnn.layers.head import WindowHead
from asr_cnn.layers.streaming import State
from asr_cnn.streaming import StreamingScanner
from asr_cnn.streaming.fast import FastStep, FastStepError
from asr_cnn.streaming.fast.step import MOST_ROWS
from asr_cnn.streaming.steady import MAX_WARM_UP_HOPS

EXPERIMENTS = sorted(path.stem for path in (CONF_DIR / "experiment").glob("*.yaml"))
PARITY = 1e-4
CHUNKS = {"a hop split": lambda hop: hop // 2 + 111, "three hops and a bit": lambda hop: 3 * hop + 17,
          "1 s": lambda hop: 16_000, "all at once": lambda hop: 10**9}
"""Chunk samples from the hop: pushes that split hops, that deliver several hops (in blocks of changing sizes:
a second is 12 or 13 hops of 80 ms), and 6 s at once (blocks of ``MOST_ROWS`` hops and a shorter one)."""


def run(detector: Detector, audio: torch.Tensor, size: int) -> tuple[torch.Tensor, list]:
    """Smoothed scores (N, K) and events of ``audio`` (S,) pushed ``size`` samples at a time."""
    scores, events = [], []
    for chunk in audio.split(size):
        smoothed, found = detector.step(chunk)
        scores.append(smoothed[0])
        events += found[0]
    return torch.cat(scores), events


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_takes_the_fast_path_and_fires_the_eager_events(experiment, chunk):
    spotter = experiment_spotter(experiment)
    audio = bursty_audio(6.0, seed=1)
    eager = Detector(spotter, refractory_s=0.2, runtime="eager")
    scores, _ = run(eager, audio, 16_000)
    thresholds = gap_thresholds(scores, spotter.labels)
    eager = Detector(spotter, thresholds=thresholds, refractory_s=0.2, runtime="eager")
    fast = Detector(spotter, thresholds=thresholds, refractory_s=0.2)
    assert fast.runtime == "fast" and fast.scanner.engine.step.eager == []  # every layer has a kernel of its own
    size = CHUNKS[chunk](spotter.hop_samples)
    (eager_scores, eager_events), (fast_scores, fast_events) = run(eager, audio, size), run(fast, audio, size)
    assert len(eager_events) >= 2
    torch.testing.assert_close(fast_scores, eager_scores, atol=PARITY, rtol=0, equal_nan=True)
    timed = [[(e.keyword, e.start_s, e.end_s) for e in events] for events in (fast_events, eager_events)]
    assert timed[0] == timed[1]


@pytest.mark.parametrize("batch_size", [1, 3])
@torch.inference_mode()  # as the scanner runs the step: its buffers are made in inference mode
def test_blocks_of_any_size_equal_one_hop_at_a_time(batch_size):
    """Blocks of every size up to the most, and longer chunks cut into blocks, carry the state on between sizes."""
    spotter = experiment_spotter("default")
    hop, step = spotter.hop_samples, FastStep(spotter, batch_size)
    assert step.block == MOST_ROWS // batch_size
    sizes = [1, step.block, 2 * step.block + 3, 2, 1, 5]  # hops per call
    audio = torch.stack([bursty_audio(5.0, seed=seed) for seed in range(batch_size)])[:, :sum(sizes) * hop]  # (B, S)
    one_by_one = FastStep(spotter, batch_size)
    expected = torch.cat([one_by_one(part)[0] for part in audio.split(hop, dim=-1)], dim=1)  # (B, hops, K)
    rows = [step(part)[0] for part in audio.split([size * hop for size in sizes], dim=-1)]
    assert {1, 2, 3, step.block} <= set(step.kernels)
    torch.testing.assert_close(torch.cat(rows, dim=1), expected, atol=PARITY, rtol=0)
    with pytest.raises(ValueError, match="whole hops"):
        step(audio[:, :hop + 1])
    with pytest.raises(ValueError, match="to look ahead"):
        step(audio[:, :(step.block + 1) * hop], commit=False)


def test_a_layer_without_a_kernel_runs_its_own_streaming_inside_the_step():
    """S-cells have no fast kernel: the step names them and runs them in their own layout, rows still equal."""
    frontend = tiny_spotter().frontend
    body = StreamingSequential(named={"image": AddChannel(), "conv": TimeFreqConv2d(1, 4, (3, 3)),
                                      "cells": SCells(4, 3, (3, 2)), "flatten": FlattenFreq()})
    torch.manual_seed(0)
    maps = body(torch.zeros(1, frontend.n_features, 30)).shape[1]
    spotter = KeywordSpotter(frontend, body, WindowHead(maps, len(TINY_LABELS), 5), TINY_LABELS).eval()
    assert FastStep(spotter).eager == ["SCells"]
    audio = torch.stack([bursty_audio(3.0, seed=seed) for seed in range(2)])  # (2, S)
    eager = StreamingScanner(spotter, batch_size=2, runtime="eager").push(audio)
    fast = StreamingScanner(spotter, batch_size=2, runtime="fast")
    rows = torch.cat([fast.push(chunk) for chunk in audio.split(1_001, dim=-1)], dim=1)
    assert rows.shape == eager.shape and rows.shape[1] > 20
    torch.testing.assert_close(rows, eager, atol=PARITY, rtol=0)


class Hoarder(StreamingLayer):
    """Passes frames on but keeps every frame it has seen: its state never settles to a fixed shape."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The frames as they are.

        Shape:
            x: (B, C, T). Output: the same.
        """
        return x

    def streaming_forward(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """The frames as they are; one more frame kept.

        Shape:
            x: (B, C, T). Output: the same.
        """
        buffer = state["buffer"] if state["buffer"].shape[-1] else x[..., :0]
        return x, {"buffer": torch.cat([buffer, x[..., -1:]], dim=-1)}  # one frame more every call


def test_a_model_that_never_settles_streams_eagerly_with_a_warning_or_refuses_the_fast_runtime():
    tiny = tiny_spotter()
    spotter = KeywordSpotter(tiny.frontend, StreamingSequential(Hoarder(), tiny.body), tiny.head, TINY_LABELS).eval()
    with pytest.raises(FastStepError, match=f"after {MAX_WARM_UP_HOPS} hops"):
        FastStep(spotter)
    with pytest.raises(ValueError, match="runtime='fast'"):
        StreamingScanner(spotter, runtime="fast").push(torch.zeros(100))  # the runtime is built on first use
    detector = Detector(spotter)
    with pytest.warns(RuntimeWarning, match="streaming eagerly"):
        assert detector.runtime == "eager"
    audio = bursty_audio(2.0)
    torch.testing.assert_close(detector.scanner.push(audio), StreamingScanner(tiny, runtime="eager").push(audio))


def test_an_unknown_runtime_is_refused():
    with pytest.raises(ValueError, match="runtime must be one of"):
        Detector(tiny_spotter(), runtime="turbo")

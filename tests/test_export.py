"""ONNX export of the streaming step: onnxruntime gives the scanner's scores over a 10 s stream."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch
from detect_support import bursty_audio, tiny_spotter

from asr_cnn import KeywordSpotter
from asr_cnn.config import CONF_DIR, compose_config
from asr_cnn.detect.export import OnnxStreamer, export, export_onnx, lag_rows, steady_state
from asr_cnn.layers.streaming import flatten_state
from asr_cnn.streaming import StreamingScanner
from asr_cnn.threads import torch_threads

SECONDS = 10.0
PARITY = 1e-4
EXPERIMENTS = sorted(path.stem for path in (CONF_DIR / "experiment").glob("*.yaml"))


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory):
    """The tiny spotter exported through the recipe's function, from a saved checkpoint."""
    root = tmp_path_factory.mktemp("export")
    tiny_spotter().save(root / "tiny.pt")
    with torch_threads(1):
        return export(compose_config("export", [f"checkpoint={root / 'tiny.pt'}", f"output={root / 'out' / 'kws.onnx'}"]))


def default_spotter(*overrides: str) -> KeywordSpotter:
    """An untrained spotter with the default body of ``conf/train.yaml`` (or as ``overrides`` change it)."""
    cfg = compose_config("train", list(overrides))
    config = {key: cfg[key] for key in ("frontend", "model", "head", "spotter")}
    return KeywordSpotter.from_config({**config, "labels": ["_silence_", "_unknown_", "yes", "no"]}).eval()


def assert_parity(spotter: KeywordSpotter, path) -> None:
    """Two 10 s streams in odd-sized chunks: onnxruntime rows == StreamingScanner rows."""
    audio = torch.stack([bursty_audio(SECONDS, seed=seed) for seed in range(2)])  # (2, S)
    expected = StreamingScanner(spotter, batch_size=2).push(audio).numpy()  # (2, N, K)
    streamer = OnnxStreamer(path, batch_size=2)
    got = np.concatenate([streamer.push(chunk) for chunk in audio.split(1_000, dim=-1)], axis=1)
    assert got.shape == expected.shape and expected.shape[1] > 100
    np.testing.assert_allclose(got, expected, atol=PARITY, rtol=0)


@pytest.mark.slow
def test_onnxruntime_matches_the_streaming_scanner(tiny_onnx):
    assert_parity(tiny_spotter(), tiny_onnx)


@pytest.mark.slow
def test_onnxruntime_matches_the_streaming_scanner_for_the_default_body(tmp_path):
    spotter = default_spotter()
    assert_parity(spotter, export_onnx(spotter, tmp_path / "step.onnx"))


@pytest.mark.slow
@pytest.mark.parametrize("experiment", [name for name in EXPERIMENTS if name != "default"])  # default: above
def test_onnxruntime_matches_the_streaming_scanner_for_every_shipped_experiment(tmp_path, experiment):
    torch.manual_seed(0)
    spotter = default_spotter(f"experiment={experiment}")
    assert_parity(spotter, export_onnx(spotter, tmp_path / "step.onnx"))


@pytest.mark.slow
def test_onnx_streamer_of_one_stream_cleans_bad_samples_and_starts_afresh_on_reset(tiny_onnx):
    dirty = bursty_audio(4.0, seed=3)[:-37]  # not whole hops: samples stay pending at the end
    dirty[5_000:5_050] = float("nan")
    dirty[9_000], dirty[20_000] = float("inf"), -float("inf")
    dirty[12_000:12_400] = 7.5  # far outside [-1, 1]
    cleaned = torch.where(dirty.isfinite(), dirty, 0.0).clamp(-1.0, 1.0)  # what both must score
    scanner, streamer = StreamingScanner(tiny_spotter()), OnnxStreamer(tiny_onnx)
    pushes = [(scanner.push(clean).numpy(), streamer.push(chunk))  # 1-D torch chunks that split hops
              for clean, chunk in zip(cleaned.split(777), dirty.split(777))]
    assert [got.shape for _, got in pushes] == [want.shape for want, _ in pushes]  # each row once its window is in
    expected, first = (np.concatenate(rows, axis=1) for rows in zip(*pushes))  # (1, N, K)
    assert expected.shape[1] > 50
    np.testing.assert_allclose(first, expected, atol=PARITY, rtol=0)
    streamer.reset()
    again = np.concatenate([streamer.push(chunk.numpy()) for chunk in dirty.split(1_600)], axis=1)  # 1-D numpy
    np.testing.assert_allclose(again, expected, atol=PARITY, rtol=0)


@pytest.mark.slow
def test_onnxruntime_matches_the_streaming_scanner_for_an_ensemble_head(tmp_path):
    torch.manual_seed(0)
    spotter = default_spotter("model=speech_embedding", "model.trainable_blocks=0", "head=tdnn_heads", "head.members=2")
    assert_parity(spotter, export_onnx(spotter, tmp_path / "step.onnx"))


@pytest.mark.slow
def test_exported_graph_names_its_state_and_documents_its_use(tiny_onnx):
    spotter = tiny_spotter()
    model = onnx.load(tiny_onnx)
    state = flatten_state(steady_state(spotter))
    assert [i.name for i in model.graph.input] == ["chunk", *(f"state_in.{name}" for name in state)]
    assert [o.name for o in model.graph.output] == ["posteriors", *(f"state_out.{name}" for name in state)]
    chunk_dims = [d.dim_value or d.dim_param for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert chunk_dims[1] == spotter.hop_samples and isinstance(chunk_dims[0], str)  # batch stays dynamic
    meta = {p.key: json.loads(p.value) for p in model.metadata_props}
    assert meta["labels"] == spotter.labels and meta["lag"] == lag_rows(spotter.window_samples, spotter.hop_samples)
    assert meta["state"] == {name: [None, *value.shape[1:]] for name, value in state.items()}
    assert not list(tiny_onnx.parent.glob(".*tmp"))  # written atomically

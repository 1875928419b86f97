"""The streaming contract for whole spotters: naive_scan == scan == StreamingScanner, on both runtimes.

Runs over a tiny test body (hand-checkable window arithmetic) and over every model in conf/model/; every
scanner test runs eager streaming and the fast runtime.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from asr_cnn import KeywordSpotter
from asr_cnn.streaming import StreamingScanner, naive_scan, num_windows, scan
from asr_cnn.config import CONF_DIR, compose_config

MODEL_NAMES = sorted(p.stem for p in (CONF_DIR / "model").glob("*.yaml"))
LABELS = ["_silence_", "_unknown_", "hello", "stop"]
TOL = dict(atol=1e-4, rtol=0)
RUNTIMES = ("eager", "fast")


def tiny_spotter(window_seconds: float = 0.5) -> KeywordSpotter:
    cfg = OmegaConf.create({
        "frontend": OmegaConf.load(CONF_DIR / "frontend" / "logmel.yaml"),
        "model": {"_target_": "tiny_body.TinyBody", "channels": 8},
        "head": OmegaConf.load(CONF_DIR / "head" / "default.yaml"),
        "spotter": {"window_seconds": window_seconds}, "labels": LABELS})
    torch.manual_seed(0)
    return KeywordSpotter.from_config(cfg).eval()


def model_spotter(name: str) -> KeywordSpotter:
    cfg = compose_config("train", ["~experiment", f"model={name}", f"+labels={LABELS}"])  # with its own front end
    torch.manual_seed(0)
    spotter = KeywordSpotter.from_config(cfg).eval()
    randomise_batch_norm(spotter)
    return spotter


def randomise_batch_norm(module: torch.nn.Module) -> None:
    """Give batch norms non-trivial running statistics so that streaming them is actually tested."""
    for bn in module.modules():
        if isinstance(bn, torch.nn.modules.batchnorm._BatchNorm):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)


def stream(spotter: KeywordSpotter, audio: torch.Tensor, sizes: list[int], runtime: str = "auto") -> torch.Tensor:
    """Push ``audio`` (B, S) in chunks cycling through ``sizes``; returns (B, N, K)."""
    scanner = StreamingScanner(spotter, batch_size=audio.shape[0], runtime=runtime)
    assert scanner.runtime == ("fast" if runtime == "auto" else runtime)  # auto on CPU: the fast runtime
    rows, start, i = [], 0, 0
    while start < audio.shape[-1]:
        size = sizes[i % len(sizes)]
        rows.append(scanner.push(audio[:, start:start + size]))
        start, i = start + size, i + 1
    return torch.cat(rows, dim=1)


@pytest.fixture(scope="module")
def audio() -> torch.Tensor:
    torch.manual_seed(1)
    return 0.1 * torch.randn(2, 3 * 16_000)


def test_window_and_hop_arithmetic_by_hand():
    spotter = tiny_spotter(0.5)
    # Body: conv k=4 s=2 then k=3 s=2 -> context 3 + 2*2 = 7 frames, stride 4.
    assert (spotter.body.context, spotter.body.stride) == (7, 4)
    # 0.5 s = 8000 samples = 1 + (8000 - 400) // 160 = 48 frames; head frames = (48 - 8) // 4 + 1 = 11.
    assert spotter.head.frames == 11
    # The window snaps to exactly what those 11 outputs read: 7 + 4 * 10 + 1 = 48 frames.
    assert spotter.window_samples == 400 + 160 * 47 == 7920
    assert spotter.hop_samples == 160 * 4
    assert num_windows(48_000, spotter) == 1 + (48_000 - 7920) // 640 == 63


def test_naive_rows_are_independent_windows(audio):
    spotter = tiny_spotter()
    rows = naive_scan(spotter, audio)
    for n in (0, 17, rows.shape[1] - 1):
        window = audio[:, n * spotter.hop_samples: n * spotter.hop_samples + spotter.window_samples]
        torch.testing.assert_close(rows[:, n], spotter(window)[..., 0].softmax(-1))


def check_all_agree(spotter: KeywordSpotter, audio: torch.Tensor, chunkings: list[list[int]], runtime: str) -> None:
    reference = naive_scan(spotter, audio)
    assert reference.shape == (audio.shape[0], num_windows(audio.shape[-1], spotter), len(spotter.labels))
    torch.testing.assert_close(scan(spotter, audio), reference, **TOL)
    for sizes in chunkings:
        torch.testing.assert_close(stream(spotter, audio, sizes, runtime), reference, **TOL, msg=f"chunks {sizes}")


@pytest.mark.slow
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_tiny_body_all_three_agree(audio, runtime):
    spotter = tiny_spotter()
    check_all_agree(spotter, audio, [[1], [spotter.hop_samples], [7], [1001, 33, 4000], [audio.shape[-1]]], runtime)


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_config_streams_exactly(name, runtime, audio):
    spotter = model_spotter(name)
    part = audio[:, : spotter.window_samples + 6 * spotter.hop_samples + 123]
    frame = spotter.frontend.hop_length
    hop = spotter.hop_samples
    check_all_agree(spotter, part, [[hop], [frame * 3 + 7], [777, 1], [3 * hop + 17], [part.shape[-1]]], runtime)


@pytest.mark.slow
@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_config_one_sample_chunks(name, runtime):
    spotter = model_spotter(name)
    torch.manual_seed(2)
    part = 0.1 * torch.randn(1, spotter.window_samples + spotter.hop_samples)
    torch.testing.assert_close(stream(spotter, part, [1], runtime), naive_scan(spotter, part), **TOL)


@pytest.mark.slow
@settings(max_examples=10, deadline=None)
@given(sizes=st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=8),
       runtime=st.sampled_from(RUNTIMES))
def test_random_chunkings(audio, sizes, runtime):
    spotter = tiny_spotter()
    torch.testing.assert_close(stream(spotter, audio, sizes, runtime), naive_scan(spotter, audio), **TOL)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_batch_equals_single_streams(audio, runtime):
    spotter = tiny_spotter()
    together = stream(spotter, audio, [999], runtime)
    for b in range(audio.shape[0]):
        torch.testing.assert_close(together[b:b + 1], stream(spotter, audio[b:b + 1], [999], runtime), **TOL)


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("reset_at, chunk", [(5003, 333), (1280, 640), (7, 1000), (2500, 9000)])
def test_streams_starting_at_different_times(audio, reset_at, chunk, runtime):
    spotter = tiny_spotter()
    scanner = StreamingScanner(spotter, batch_size=2, runtime=runtime)
    rows = [scanner.push(audio[:, :reset_at])]
    scanner.reset([1])  # called outside inference mode on state that push made inside it  # stream 1 starts again here; stream 0 carries on
    for start in range(reset_at, audio.shape[-1], chunk):
        rows.append(scanner.push(audio[:, start:start + chunk]))
    out = torch.cat(rows, dim=1)
    torch.testing.assert_close(out[0], naive_scan(spotter, audio[0])[0], **TOL)
    restarted = naive_scan(spotter, audio[1, reset_at:])[0]
    valid = out[1][~out[1].isnan().any(-1)]
    assert out[1].isnan().any(-1).sum() > 0, "rows from before the restart must be marked, not mixed"
    # The restart waits for the next row boundary, so at most one window is still pending.
    assert restarted.shape[0] - 1 <= valid.shape[0] <= restarted.shape[0]
    torch.testing.assert_close(valid, restarted[: valid.shape[0]], **TOL)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_reset_all_starts_over(audio, runtime):
    spotter = tiny_spotter()
    scanner = StreamingScanner(spotter, batch_size=2, runtime=runtime)
    scanner.push(audio[:, :3000])
    scanner.reset()
    torch.testing.assert_close(scanner.push(audio), naive_scan(spotter, audio), **TOL)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_bad_samples_do_not_poison_later_windows(audio, runtime):
    spotter = tiny_spotter()
    dirty = audio.clone()
    dirty[0, 100:110] = float("nan")
    dirty[0, 200] = 5.0
    scanner = StreamingScanner(spotter, batch_size=2, runtime=runtime)
    out = scanner.push(dirty)
    assert torch.isfinite(out).all()
    assert scanner.bad_samples.tolist() == [11, 0]
    clean_after = naive_scan(spotter, audio)[:, 1:]  # row 0 is the only window touching sample 200
    torch.testing.assert_close(out[:, 1:], clean_after, **TOL)


@pytest.mark.parametrize("streams, message", [([2], "indices"), (torch.ones(3, dtype=torch.bool), "mask")])
def test_bad_reset_arguments(streams, message):
    scanner = StreamingScanner(tiny_spotter(), batch_size=2)
    with pytest.raises(ValueError, match=message):
        scanner.reset(streams)


def test_wrong_batch_is_rejected():
    scanner = StreamingScanner(tiny_spotter(), batch_size=2)
    with pytest.raises(ValueError, match="2"):
        scanner.push(torch.zeros(3, 100))


def test_checkpoint_round_trip(tmp_path, audio):
    spotter = tiny_spotter()
    spotter.extra["thresholds"] = {"hello": 0.7}
    spotter.save(tmp_path / "m.pt")
    loaded = KeywordSpotter.load(tmp_path / "m.pt")
    assert loaded.labels == LABELS and loaded.extra == {"thresholds": {"hello": 0.7}}
    assert not loaded.training
    torch.testing.assert_close(scan(loaded, audio), scan(spotter, audio), atol=0, rtol=0)
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


@pytest.mark.parametrize("content, error", [(None, FileNotFoundError), (b"garbage", ValueError)])
def test_bad_checkpoint_names_the_file(tmp_path, content, error):
    path = tmp_path / "bad.pt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error, match="bad.pt"):
        KeywordSpotter.load(path)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_streaming_on_cuda_matches_cpu(audio, runtime):
    spotter = tiny_spotter()
    reference = naive_scan(spotter, audio)
    scanner = StreamingScanner(tiny_spotter(), batch_size=2, device="cuda", runtime=runtime)
    out = torch.cat([scanner.push(part) for part in audio.split(1280, dim=-1)], dim=1)
    torch.testing.assert_close(out.cpu(), reference, **TOL)


def test_layer_that_skips_frames_refuses_to_stream():
    from tiny_body import ValidConv1d

    layer = ValidConv1d(1, 1, kernel_size=2, stride=3)
    with pytest.raises(ValueError, match="stride 3 exceeds the receptive field of 2"):
        layer.streaming_forward(torch.zeros(1, 1, 10), layer.init_state(1))


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_repeated_partial_resets_between_pushes(audio, runtime):
    spotter = tiny_spotter()
    scanner = StreamingScanner(spotter, batch_size=2, runtime=runtime)
    rows = [scanner.push(audio[:, :3001])]
    scanner.reset([0])
    rows.append(scanner.push(audio[:, 3001:9002]))
    scanner.reset([0])  # the carry now comes from push (inference mode); resetting must still work
    rows.append(scanner.push(audio[:, 9002:]))
    out = torch.cat(rows, dim=1)
    torch.testing.assert_close(out[1], naive_scan(spotter, audio[1])[0], **TOL)
    valid = out[0][~out[0].isnan().any(-1)]
    restarted = naive_scan(spotter, audio[0, 9002:])[0]
    torch.testing.assert_close(valid, restarted[: valid.shape[0]], **TOL)
    assert valid.shape[0] >= restarted.shape[0] - 1

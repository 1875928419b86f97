"""speech_embedding rebuilt from our layers: equal to the ONNX graphs it came from, streams exactly, fails clearly."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import numpy_helper
from streaming_helpers import assert_streams_exactly, check_streaming_contract

from asr_cnn import KeywordSpotter
from asr_cnn.config import compose_config
from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.data.voices.engines.espeak import EspeakEngine
from asr_cnn.frontend import SpeechEmbeddingMel
from asr_cnn.frontend.speech_embedding_mel import centred_window, slaney_filterbank
from asr_cnn.layers import FlooredLeakyReLU
from asr_cnn.models import SpeechEmbedding, SpeechEmbeddingTDNN
from asr_cnn.models.speech_embedding import STAGES
from asr_cnn.models.speech_embedding_weights import (EMBEDDING_FILE, MEL_FILE, PACKAGE, VERSION, import_convolutions,
                                                     resource_path)
from asr_cnn.streaming import naive_scan, scan

TOL = dict(atol=1e-4, rtol=0)
WINDOW, STRIDE = 76, 8  # mel frames per embedding, frames between embeddings
SAMPLES = 512 + 160 * (WINDOW + 5 * STRIDE - 1)  # audio for 6 embeddings


def session(name: str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(resource_path(name)), options, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def speech() -> torch.Tensor:
    """Two different synthetic sentences at speech level, padded with low noise to SAMPLES. Shape (2, SAMPLES)."""
    engine, generator = EspeakEngine(), torch.Generator().manual_seed(0)
    waves = []
    for text, voice in [("the quick brown fox jumps over the lazy dog", "en-us+m3"),
                        ("she sells sea shells by the sea shore", "en-gb-scotland+f2")]:
        wave = 0.5 * engine.synthesize(text, voice, seed=1)[:SAMPLES]
        wave = torch.nn.functional.pad(wave, (0, SAMPLES - wave.shape[0]))
        waves.append(wave + 1e-3 * torch.randn(SAMPLES, generator=generator))
    return torch.stack(waves)


@pytest.fixture(scope="module")
def noise() -> torch.Tensor:
    """White noise at three levels. Shape (3, SAMPLES)."""
    generator = torch.Generator().manual_seed(1)
    return torch.randn(3, SAMPLES, generator=generator) * torch.tensor([[0.3], [0.01], [3e-4]])


@pytest.fixture(scope="module")
def backbone() -> SpeechEmbedding:
    return SpeechEmbedding(32, trainable_blocks=0).eval()


def onnx_mel(wave: torch.Tensor) -> torch.Tensor:
    """openWakeWord's features: melspectrogram.onnx on int16-scaled samples, one clip per call, then x / 10 + 2.

    Shape:
        wave: (B, S). Output: (B, F, T).
    """
    mel = session(MEL_FILE)
    rows = [mel.run(None, {"input": (clip[None] * 32768).numpy()})[0][0, 0] for clip in wave]  # each (T, F)
    return torch.from_numpy(np.stack(rows) / 10 + 2).transpose(1, 2)  # (B, T, F) -> (B, F, T)


def onnx_embeddings(features: torch.Tensor) -> torch.Tensor:
    """embedding_model.onnx on every 76-frame window, 8 frames apart, as openWakeWord runs it.

    Shape:
        features: (B, F, T). Output: (B, 96, N).
    """
    embed = session(EMBEDDING_FILE)
    starts = range(0, features.shape[-1] - WINDOW + 1, STRIDE)
    windows = torch.stack([features[..., s:s + WINDOW] for s in starts], dim=1)  # (B, N, F, 76)
    flat = windows.flatten(0, 1).transpose(1, 2)[..., None].numpy()  # (B * N, 76, F, 1) channels last
    out = embed.run(None, {"input_1": flat})[0]  # (B * N, 1, 1, 96)
    return torch.from_numpy(out).view(features.shape[0], len(starts), -1).transpose(1, 2)  # (B, 96, N)


def test_window_and_mel_matrix_equal_the_onnx_constants():
    constants = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(resource_path(MEL_FILE))).graph.initializer}
    np.testing.assert_allclose(slaney_filterbank().numpy(), constants["1.melW"], atol=1e-7, rtol=0)
    real = constants["0.stft.conv_real.weight"][:, 0]  # (257, 512): window x cos(2 pi k n / 512)
    np.testing.assert_allclose(centred_window(400, 512).numpy(), real[0], atol=1e-6, rtol=0)


@pytest.mark.parametrize("kind", ["speech", "noise"])
def test_mel_front_end_equals_onnx(kind, request):
    wave = request.getfixturevalue(kind)
    ours = SpeechEmbeddingMel(floor_db=-100.0, top_db=80.0)(wave)
    torch.testing.assert_close(ours, onnx_mel(wave), **TOL, check_dtype=False)


@pytest.mark.parametrize("kind", ["speech", "noise"])
def test_embedding_equals_onnx(kind, request, backbone):
    features = onnx_mel(request.getfixturevalue(kind)).float()
    with torch.no_grad():
        ours = backbone(features)
    assert ours.shape == (features.shape[0], 96, 6)
    torch.testing.assert_close(ours, onnx_embeddings(features), **TOL)


def test_shape_and_size(backbone):
    assert (backbone.context, backbone.stride, backbone.out_channels) == (WINDOW - 1, STRIDE, 96)
    assert sum(p.numel() for p in backbone.parameters()) == 328_128


@pytest.mark.slow
def test_backbone_streams_exactly_and_in_batches(backbone):
    features = onnx_mel(torch.randn(3, SAMPLES, generator=torch.Generator().manual_seed(2)) * 0.1).float()
    check_streaming_contract(backbone, features, atol=1e-4)


def test_front_end_streams_exactly_with_a_fixed_floor(speech):
    frontend = SpeechEmbeddingMel(floor_db=10.0, top_db=None)
    assert_streams_exactly(frontend, speech[:, :4000], atol=1e-4)
    check_streaming_contract(frontend, speech, atol=1e-4)


def test_per_call_clip_refuses_to_stream():
    with pytest.raises(ValueError, match="cannot stream"):
        SpeechEmbeddingMel(floor_db=-100.0, top_db=80.0).init_state(1)


@pytest.mark.parametrize("experiment", ["pretrained", "wakewords"])
def test_pretrained_experiment_scans_exactly(speech, experiment):
    cfg = compose_config("train", [f"experiment={experiment}", "+labels=[a,b,c]"])
    spotter = KeywordSpotter.from_config(cfg).eval()
    assert spotter.hop_samples == 160 * STRIDE
    audio = speech[:, : spotter.window_samples + 4 * spotter.hop_samples + 77]
    torch.testing.assert_close(scan(spotter, audio), naive_scan(spotter, audio), **TOL)


def test_the_long_wake_word_window_holds_its_tdnn():
    """wakewords' 7-tap TDNN needs its 1.5 s window: 1 s cannot hold it."""
    cfg = compose_config("train", ["experiment=wakewords", "+labels=[a,b,c]"])
    assert SAMPLE_RATE < KeywordSpotter.from_config(cfg).window_samples <= 1.5 * SAMPLE_RATE  # the longest that fits
    cfg.spotter.window_seconds = 1.0
    with pytest.raises(ValueError, match="needs 124 frames but a 1.0 s window has only 97"):
        KeywordSpotter.from_config(cfg)


@pytest.mark.parametrize("trainable", [0, 2, STAGES])
def test_trainable_blocks_freeze_the_rest(trainable):
    stages = SpeechEmbedding(32, trainable_blocks=trainable).stages()
    assert all(not p.requires_grad for stage in stages[: STAGES - trainable] for p in stage.parameters())
    assert all(p.requires_grad for stage in stages[STAGES - trainable:] for p in stage.parameters())


def test_frozen_backbone_does_not_move_while_its_top_trains():
    model = SpeechEmbeddingTDNN(32, 0, channels=[8], offsets=[[0]], strides=[1]).train()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model(torch.randn(4, 32, WINDOW + STRIDE) + 3).pow(2).mean().backward()
    optimizer.step()
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name]) == name.startswith("backbone."), name


def test_pretrained_checkpoint_round_trip(tmp_path, speech):
    spotter = KeywordSpotter.from_config(compose_config("train", ["experiment=pretrained", "+labels=[a,b]"])).eval()
    with torch.no_grad():
        spotter.body.tdnn.layer1.tdnn.conv.weight.normal_()  # trained weights, not the initial ones
    spotter.save(tmp_path / "model.pt")
    loaded = KeywordSpotter.load(tmp_path / "model.pt")
    window = speech[:, : spotter.window_samples]
    with torch.no_grad():
        torch.testing.assert_close(loaded(window), spotter(window), atol=0, rtol=0)


def test_wrong_band_count_is_named():
    with pytest.raises(ValueError, match="32 mel bands.*in_features=40"):
        SpeechEmbedding(40, trainable_blocks=0)


def test_missing_weights_file_is_named(tmp_path, backbone):
    missing = tmp_path / EMBEDDING_FILE
    with pytest.raises(FileNotFoundError, match=f"{missing}.*{PACKAGE}=={VERSION}"):
        import_convolutions(backbone.backbone_convolutions(), missing)


def test_corrupt_weights_file_is_named(tmp_path, backbone):
    damaged = tmp_path / EMBEDDING_FILE
    data = bytearray(resource_path(EMBEDDING_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=f"{damaged}: sha256 .* {PACKAGE}=={VERSION}"):
        import_convolutions(backbone.backbone_convolutions(), damaged)


def test_floored_leaky_relu():
    x = torch.tensor([-5.0, -2.0, -1.0, 0.0, 3.0])
    torch.testing.assert_close(FlooredLeakyReLU(0.2, -0.4)(x), torch.tensor([-0.4, -0.4, -0.2, 0.0, 3.0]))

"""asr_cnn.audio: loading, resampling, writing, and the bad-input matrix."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf
import torch

from asr_cnn.audio import AudioError, load_audio, load_audios, save_audio
from asr_cnn.constants import SAMPLE_RATE


def tone(freq: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * math.pi * freq * t)).astype(np.float32)


def dominant_frequency(wave: torch.Tensor, rate: int) -> float:
    spectrum = torch.fft.rfft(wave).abs()
    return float(spectrum.argmax()) * rate / wave.shape[0]


def test_load_mono_float32_shape_and_range(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, tone(440, 0.5, SAMPLE_RATE), SAMPLE_RATE, subtype="PCM_16")
    wave = load_audio(path)
    assert wave.dtype == torch.float32 and wave.shape == (SAMPLE_RATE // 2,)
    assert wave.abs().max() <= 1.0 and abs(float(wave.abs().max()) - 0.5) < 1e-3


def test_stereo_channels_are_averaged(tmp_path):
    left, right = tone(300, 0.2, SAMPLE_RATE), np.zeros(int(0.2 * SAMPLE_RATE), np.float32)
    path = tmp_path / "st.wav"
    sf.write(path, np.stack([left, right], axis=1), SAMPLE_RATE, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path).numpy(), (left + right) / 2, atol=1e-6)


def test_other_rate_is_resampled_keeping_pitch(tmp_path):
    path = tmp_path / "cd.flac"
    sf.write(path, tone(1000, 1.0, 44_100), 44_100)
    wave = load_audio(path)
    assert wave.shape == (SAMPLE_RATE,)
    assert abs(dominant_frequency(wave, SAMPLE_RATE) - 1000) <= 2


def test_save_then_load_round_trip(tmp_path):
    wave = torch.from_numpy(tone(500, 0.3, SAMPLE_RATE))
    path = tmp_path / "sub" / "x.wav"
    save_audio(path, wave, SAMPLE_RATE)
    assert torch.allclose(load_audio(path), wave, atol=1 / 2**15)
    assert [p.name for p in path.parent.iterdir()] == ["x.wav"]  # no temporary file left behind


def write_float_wav(path, samples):
    sf.write(path, np.asarray(samples, np.float32), SAMPLE_RATE, subtype="FLOAT")


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such file"),
    (lambda p: p.mkdir(), "not a regular file"),
    (lambda p: p.write_bytes(b"this is not a sound file at all" * 10), "not a readable audio file"),
    (lambda p: p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00"), "not a readable audio file"),
    (lambda p: write_float_wav(p, []), "zero samples"),
    (lambda p: write_float_wav(p, [0.1, float("nan"), 0.2]), "NaN or Inf"),
    (lambda p: write_float_wav(p, [0.1, float("inf"), 0.2]), "NaN or Inf"),
])
def test_bad_input_names_file_and_fault(tmp_path, make, message):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(AudioError, match=message) as info:
        load_audio(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_bad_sample_rate_rejected(tmp_path):
    with pytest.raises(AudioError, match="sample_rate"):
        load_audio(tmp_path / "x.wav", sample_rate=0)


@pytest.mark.parametrize("wave, message", [
    (torch.zeros(2, 10), "mono"),
    (torch.zeros(0), "zero samples"),
    (torch.tensor([0.0, float("nan")]), "NaN or Inf"),
])
def test_save_rejects_bad_waves(tmp_path, wave, message):
    with pytest.raises(AudioError, match=message):
        save_audio(tmp_path / "y.wav", wave)
    assert not list(tmp_path.iterdir())


def test_save_to_unwritable_place_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(AudioError, match="cannot write"):
        save_audio(blocker / "x.wav", torch.zeros(10))


def test_many_files_load_in_order_each_as_alone_and_a_bad_one_is_named(tmp_path):
    paths = []
    for i, seconds in enumerate([0.3, 1.1, 0.05, 0.7, 0.2]):
        paths.append(tmp_path / f"{i}.flac")
        sf.write(paths[-1], np.random.default_rng(i).uniform(-0.5, 0.5, round(seconds * 22_050)), 22_050)
    loaded = load_audios(paths)
    assert len(loaded) == len(paths)
    for path, wave in zip(paths, loaded):
        assert torch.equal(wave, load_audio(path))
    (tmp_path / "bad.flac").write_bytes(b"not audio")
    with pytest.raises(AudioError, match="bad.flac"):
        load_audios([*paths, tmp_path / "bad.flac"])

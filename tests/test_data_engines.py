"""Synthesis engines: each present engine speaks, voices differ, seeds fix the audio, errors are named."""

from __future__ import annotations

import shutil

import librosa
import numpy as np
import pytest
import torch

from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.data.clips import trim_silence
from asr_cnn.data.engines import ENGINES, EngineError, EngineUnavailable, Unpronounceable, engine_class, make_engine
from asr_cnn.data.engines.espeak import EspeakEngine
from asr_cnn.data.engines.flite import FliteEngine
from asr_cnn.data.engines.piper import PiperEngine


@pytest.fixture(scope="module")
def espeak():
    return EspeakEngine(variants=["m3", "f2", "klatt"])


@pytest.fixture(scope="module")
def piper():
    return PiperEngine(noise_scale=(0.4, 0.9), noise_w=(0.5, 1.0))


def dominant_pitch_hz(wave: torch.Tensor) -> float:
    """Median fundamental frequency (YIN) over the speech."""
    speech = trim_silence(wave).numpy()
    return float(np.median(librosa.yin(speech, fmin=60, fmax=500, sr=SAMPLE_RATE, frame_length=1024)))


def assert_speech(wave: torch.Tensor, low_s: float = 0.15, high_s: float = 1.5) -> None:
    assert wave.dtype == torch.float32 and wave.dim() == 1
    assert low_s <= wave.shape[0] / SAMPLE_RATE <= high_s
    assert float(wave.abs().max()) > 0.05 and float(wave.pow(2).mean().sqrt()) > 0.005


@pytest.mark.parametrize("name", ["espeak", "piper"])
def test_engine_speaks_16khz_of_plausible_length(name, espeak, piper):
    engine, voice = (espeak, "en-us+m3") if name == "espeak" else (piper, "joe")
    assert_speech(engine.synthesize("hello", voice))
    assert_speech(engine.synthesize("hey jarvis", voice), 0.3, 2.0)


@pytest.mark.parametrize("name", ["espeak", "piper"])
def test_same_seed_same_audio_whatever_came_before(name, espeak, piper):
    engine, voice = (espeak, "en-us+f2") if name == "espeak" else (piper, "joe")
    first = engine.synthesize("stop", voice, seed=7)
    engine.synthesize("something else entirely", voice, seed=3)
    assert torch.equal(first, engine.synthesize("stop", voice, seed=7))
    assert not torch.equal(first, engine.synthesize("stop", voice, seed=8))


def test_espeak_voices_differ(espeak):
    male, female = (espeak.synthesize("hello", v, seed=1) for v in ("en-us+m3", "en-us+f2"))
    assert dominant_pitch_hz(female) > 1.3 * dominant_pitch_hz(male)
    accents = [espeak.synthesize("go", v, seed=1) for v in ("en-us+klatt", "en+klatt")]
    assert not torch.equal(*accents)


@pytest.mark.parametrize("name", ["espeak", "piper"])
def test_speed_and_pitch_factors(name, espeak, piper):
    engine, voice = (espeak, "en-us+m3") if name == "espeak" else (piper, "joe")
    slow, fast = (engine.synthesize("yellow", voice, speed=s, seed=1).shape[0] for s in (0.8, 1.5))
    assert fast < 0.85 * slow
    low, high = (dominant_pitch_hz(engine.synthesize("hello", voice, pitch=p, seed=1)) for p in (0.8, 1.3))
    assert high > 1.2 * low


def test_unknown_voices_and_engines_are_named(espeak, piper):
    with pytest.raises(EngineError, match="'en-gb'"):
        espeak.synthesize("hello", "en-gb")
    with pytest.raises(EngineError, match="unknown variant 'nosuch'"):
        espeak.synthesize("hello", "en+nosuch")
    with pytest.raises(EngineError, match="unknown variant 'nosuch'"):
        EspeakEngine(variants=["nosuch"])
    with pytest.raises(EngineError, match="base_pitch"):
        EspeakEngine(base_pitch=[20, 120])
    with pytest.raises(EngineError, match="unknown voice 'amy'"):
        piper.synthesize("hello", "amy")
    with pytest.raises(EngineError, match="unknown engine 'festivox'"):
        make_engine("festivox")


@pytest.mark.parametrize("name", ["espeak", "piper"])
def test_text_without_audio_is_unpronounceable(name, espeak, piper):
    engine, voice = (espeak, "en") if name == "espeak" else (piper, "joe")
    with pytest.raises(Unpronounceable, match=r"'\.\.\.'"):
        engine.synthesize("...", voice)
    with pytest.raises(EngineError, match="non-empty"):
        engine.synthesize("  ", voice)


def test_missing_optional_engines_are_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no program found anywhere
    for name in ("flite", "festival", "mbrola"):
        problem = engine_class(name).available()
        assert problem and "not found" in problem
        with pytest.raises(EngineUnavailable, match=name):
            make_engine(name)
    assert EspeakEngine.available() is None and PiperEngine.available() is None
    assert set(ENGINES) == {"espeak", "piper", "flite", "festival", "mbrola"}


def test_espeak_phonemes(espeak):
    hello, know, no = espeak.phonemize(["hello", "know", "no"])
    assert hello and know == no


@pytest.mark.skipif(shutil.which("flite") is None, reason="flite is not installed (apt-get install flite)")
def test_flite_speaks_when_installed():
    engine = FliteEngine()
    assert_speech(engine.synthesize("hello", "slt"))
    assert not torch.equal(engine.synthesize("hello", "slt"), engine.synthesize("hello", "rms"))

"""Synthesis engines: each present engine speaks, voices differ, seeds fix the audio, errors are named."""

from __future__ import annotations

import shutil

import pytest
import torch

from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.data.voices.engines import (ENGINES, EngineError, EngineUnavailable, Unpronounceable, engine_class,
                                         make_engine)
from asr_cnn.data.voices.engines.espeak import EspeakEngine
from asr_cnn.data.voices.engines.flite import FliteEngine
from asr_cnn.data.voices.engines.hibari import HibariEngine
from asr_cnn.data.voices.engines.kokoro import KokoroEngine, blend_name
from asr_cnn.data.voices.engines.piper import PiperEngine
from voice_helpers import dominant_pitch_hz

SLOW = pytest.mark.slow  # Kokoro: ~2 s to load, ~0.5 s a word
NEURAL = ["piper", "hibari", pytest.param("kokoro", marks=SLOW)]
VOICE = {"espeak": "en-us+m3", "piper": "joe", "hibari": "heart", "kokoro": "jm_kumo"}


@pytest.fixture(scope="module")
def espeak():
    return EspeakEngine(variants=["m3", "f2", "klatt"])


@pytest.fixture(scope="module")
def piper():
    return PiperEngine(noise_scale=(0.4, 0.9), noise_w=(0.5, 1.0))


@pytest.fixture(scope="module")
def hibari():
    return HibariEngine()


@pytest.fixture(scope="module")
def kokoro():
    return KokoroEngine(blends=2)


@pytest.fixture
def engine(request, name):
    """The module's engine called ``name`` (the test's parameter)."""
    return request.getfixturevalue(name)


def assert_speech(wave: torch.Tensor, low_s: float = 0.15, high_s: float = 1.5) -> None:
    assert wave.dtype == torch.float32 and wave.dim() == 1
    assert low_s <= wave.shape[0] / SAMPLE_RATE <= high_s
    assert float(wave.abs().max()) > 0.05 and float(wave.pow(2).mean().sqrt()) > 0.005


@pytest.mark.parametrize("name", ["espeak", *NEURAL])
def test_engine_speaks_16khz_of_plausible_length(name, engine):
    assert_speech(engine.synthesize("hello", VOICE[name]))
    assert_speech(engine.synthesize("hey jarvis", VOICE[name]), 0.3, 2.0)


@pytest.mark.parametrize("name", ["espeak", "piper", "hibari"])
def test_same_seed_same_audio_whatever_came_before(name, engine):
    voice = "en-us+f2" if name == "espeak" else VOICE[name]  # f2 is breathy: it draws noise
    first = engine.synthesize("stop", voice, seed=7)
    engine.synthesize("something else entirely", voice, seed=3)
    assert torch.equal(first, engine.synthesize("stop", voice, seed=7))
    assert not torch.equal(first, engine.synthesize("stop", voice, seed=8))


@SLOW
def test_kokoro_is_deterministic_and_blends_are_new_speakers(kokoro):
    first = kokoro.synthesize("stop", "jf_alpha", seed=7)
    kokoro.synthesize("something else entirely", "jm_kumo")
    assert torch.equal(first, kokoro.synthesize("stop", "jf_alpha", seed=8))  # the model draws no noise
    voices = kokoro.expand_voices(["jf_alpha", "jm_kumo"])
    assert voices == ["jf_alpha", "jm_kumo", blend_name(0), blend_name(1)] and blend_name(0) != blend_name(1)
    assert "jm_kumo*" in blend_name(1)  # odd blends are led by the male pack
    male, female = (dominant_pitch_hz(kokoro.synthesize("hello", v)) for v in ("jm_kumo", "jf_alpha"))
    halfway = dominant_pitch_hz(kokoro.synthesize("hello", "jf_alpha*0.5+jm_kumo*0.5"))
    assert male < halfway < female


@pytest.mark.slow
def test_espeak_voices_differ(espeak):
    male, female = (espeak.synthesize("hello", v, seed=1) for v in ("en-us+m3", "en-us+f2"))
    assert dominant_pitch_hz(female) > 1.3 * dominant_pitch_hz(male)
    accents = [espeak.synthesize("go", v, seed=1) for v in ("en-us+klatt", "en+klatt")]
    assert not torch.equal(*accents)


@pytest.mark.parametrize("name", ["espeak", *NEURAL])
def test_speed_and_pitch_factors(name, engine):
    voice = VOICE[name]
    slow, fast = (engine.synthesize("yellow", voice, speed=s, seed=1).shape[0] for s in (0.8, 1.5))
    assert fast < 0.85 * slow
    low, high = (dominant_pitch_hz(engine.synthesize("hello", voice, pitch=p, seed=1)) for p in (0.8, 1.3))
    assert high > 1.2 * low


def test_unknown_voices_and_engines_are_named(espeak, piper, hibari):
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
    with pytest.raises(EngineError, match="'emma' is downloaded by hibari at run time"):
        hibari.synthesize("hello", "emma")
    with pytest.raises(EngineError, match="'amy' is unknown"):
        hibari.synthesize("hello", "amy")
    for voice in ("jf_alpha*0.5+nobody", "jf_alpha*x", "jf_alpha*0"):
        with pytest.raises(EngineError, match="kokoro"):
            KokoroEngine().check_voice(voice)  # checked without loading the model
    with pytest.raises(EngineError, match="blends"):
        KokoroEngine(blends=-1)
    with pytest.raises(EngineError, match="unknown engine 'festivox'"):
        make_engine("festivox")


@pytest.mark.parametrize("name", ["espeak", *NEURAL])
def test_text_without_audio_is_unpronounceable(name, engine):
    with pytest.raises(Unpronounceable, match=r"'\.\.\.'"):
        engine.synthesize("...", VOICE[name])
    with pytest.raises(EngineError, match="non-empty"):
        engine.synthesize("  ", VOICE[name])


def test_missing_optional_engines_are_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no program found anywhere
    for name in ("flite", "festival", "mbrola"):
        problem = engine_class(name).available()
        assert problem and "not found" in problem
        with pytest.raises(EngineUnavailable, match=name):
            make_engine(name)
    for wheel_engine in (EspeakEngine, PiperEngine, HibariEngine, KokoroEngine):
        assert wheel_engine.available() is None  # Python wheels, whatever PATH holds
    assert set(ENGINES) == {"espeak", "piper", "flite", "hibari", "kokoro", "festival", "mbrola"}


def test_espeak_phonemes(espeak):
    hello, know, no = espeak.phonemize(["hello", "know", "no"])
    assert hello and know == no


@pytest.mark.skipif(shutil.which("flite") is None, reason="flite is not installed (apt-get install flite)")
def test_flite_speaks_when_installed():
    engine = FliteEngine()
    for voice in ("slt", "rms", "awb", "kal16"):
        assert_speech(engine.synthesize("hello", voice))
    assert not torch.equal(engine.synthesize("hello", "slt"), engine.synthesize("hello", "rms"))
    slow, fast = (engine.synthesize("yellow", "awb", speed=s).shape[0] for s in (0.8, 1.5))
    assert fast < 0.85 * slow
    low, high = (dominant_pitch_hz(engine.synthesize("hello", "slt", pitch=p)) for p in (0.8, 1.3))
    assert high > 1.2 * low

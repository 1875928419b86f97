"""File scanning: JSON events per file, resampling on the fly, bad files reported, bounded memory."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio.functional as AF
from detect_support import bursty_audio, rss_mib, tiny_spotter

from asr_cnn.audio import AudioError, load_audio, save_audio
from asr_cnn.detect import Detector
from asr_cnn.detect.files import audio_files, detect, detect_file, read_blocks
from asr_cnn.streaming import num_windows
from asr_cnn.config import compose_config

SAMPLE_RATE = 16_000
LONG_MINUTES = 10
RSS_SLACK_MIB = 12.0  # the long file is 19 MB as PCM16 and 38 MB as float: reading it whole or keeping blocks shows


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    tiny_spotter().save(path)
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Two recordings of the same audio (16 kHz mono, 44.1 kHz stereo), a nested one, and a non-audio file."""
    root = tmp_path_factory.mktemp("audio")
    wave = bursty_audio(6.0)
    save_audio(root / "a.wav", wave)
    stereo = AF.resample(wave, SAMPLE_RATE, 44_100).clamp(-1, 1)
    sf.write(root / "b44k.flac", torch.stack([stereo, stereo], 1).numpy(), 44_100)
    (root / "sub").mkdir()
    save_audio(root / "sub" / "c.wav", bursty_audio(3.0, seed=1))
    (root / "notes.txt").write_text("not audio")
    return root


def test_read_blocks_equals_load_audio_for_resampled_stereo(folder):
    path = folder / "b44k.flac"
    streamed = torch.cat(list(read_blocks(path, SAMPLE_RATE, block_seconds=0.37)))
    torch.testing.assert_close(streamed, load_audio(path), atol=1e-4, rtol=0)


def test_audio_files_lists_sound_files_recursively(folder):
    assert [p.name for p in audio_files(folder)] == ["a.wav", "b44k.flac", "c.wav"]
    assert audio_files(folder / "a.wav") == [folder / "a.wav"]
    with pytest.raises(AudioError, match="no such file or folder"):
        audio_files(folder / "missing")


def test_detect_prints_one_json_object_per_event_per_file(folder, checkpoint, capsys):
    cfg = compose_config("detect", [f"checkpoint={checkpoint}", f"input={folder}", "detector.refractory_s=0.5"])
    assert detect(cfg) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_file = {}
    for line in lines:
        assert set(line) == {"file", "keyword", "start_s", "end_s", "score"}
        by_file.setdefault(line["file"], []).append(line)
    assert set(by_file) == {str(p) for p in audio_files(folder)}
    # The 44.1 kHz stereo copy, resampled while streaming, fires like the original.
    original = [(e["keyword"], e["start_s"]) for e in by_file[str(folder / "a.wav")]]
    assert [(e["keyword"], e["start_s"]) for e in by_file[str(folder / "b44k.flac")]] == original
    direct = Detector(tiny_spotter(), refractory_s=0.5).push(load_audio(folder / "a.wav"))
    assert original == [(e.keyword, e.start_s) for e in direct]


def test_one_keywords_threshold_set_on_the_command_line_and_the_operating_point_on_stderr(folder, checkpoint, capsys):
    """``detector.thresholds={<keyword>: 1.0}`` (the README's form) silences that keyword alone; detect says the
    operating point it runs at, and which files gave no event."""
    keywords = [k for k in tiny_spotter().labels if not k.startswith("_")]
    base = [f"checkpoint={checkpoint}", f"input={folder / 'a.wav'}", "detector.refractory_s=0.5"]
    assert detect(compose_config("detect", base)) == 0
    before = capsys.readouterr()
    fired = {json.loads(line)["keyword"] for line in before.out.splitlines()}
    assert before.err.startswith("operating point: uncalibrated thresholds; thresholds ")
    silenced = sorted(fired)[0]
    assert detect(compose_config("detect", [*base, f"detector.thresholds={{{silenced}: 1.0}}"])) == 0
    after = capsys.readouterr()
    assert {json.loads(line)["keyword"] for line in after.out.splitlines()} == fired - {silenced}
    assert f"set by hand: {silenced}" in after.err and f"{silenced} 1" in after.err
    everything = ", ".join(f"{k}: 1.0" for k in keywords)
    assert detect(compose_config("detect", [*base, f"detector.thresholds={{{everything}}}"])) == 0
    quiet = capsys.readouterr()
    assert quiet.out == "" and f"{folder / 'a.wav'}: no event at this operating point" in quiet.err


def test_detect_reports_bad_files_and_goes_on(folder, checkpoint, tmp_path, capsys):
    (tmp_path / "broken.wav").write_bytes(b"RIFF but not really a wave file")
    save_audio(tmp_path / "fine.wav", bursty_audio(3.0))
    cfg = compose_config("detect", [f"checkpoint={checkpoint}", f"input={tmp_path}"])
    assert detect(cfg) == 1
    out = capsys.readouterr()
    assert "broken.wav: not a readable audio file" in out.err
    assert all(json.loads(line)["file"].endswith("fine.wav") for line in out.out.splitlines())


def test_long_file_is_scanned_in_bounded_memory(tmp_path):
    """Ten minutes of audio: RSS never grows by more than a third of the file as float, from the first block on
    (after a short warm-up scan that pays the one-time caches), whatever else the machine is doing."""
    path = tmp_path / "long.wav"
    generator = np.random.default_rng(0)
    with sf.SoundFile(path, "w", SAMPLE_RATE, 1, "PCM_16") as handle:
        for _ in range(LONG_MINUTES):
            handle.write((generator.standard_normal(60 * SAMPLE_RATE) * 0.2).clip(-1, 1))
    save_audio(tmp_path / "short.wav", bursty_audio(3.0))
    for _ in detect_file(Detector(tiny_spotter(), threshold=0.0), tmp_path / "short.wav", block_seconds=1.0):
        pass
    detector = Detector(tiny_spotter(), threshold=0.0)
    start = rss_mib()
    rss = [rss_mib() for _ in detect_file(detector, path, block_seconds=1.0)]  # one sample per event
    assert len(rss) > LONG_MINUTES and detector.rows == num_windows(LONG_MINUTES * 60 * SAMPLE_RATE, detector.spotter)
    assert max(rss) - start < RSS_SLACK_MIB, f"RSS grew by {max(rss) - start:.1f} MiB"

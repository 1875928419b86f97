"""Microphone: a missing PortAudio is named, overflows are reported, Ctrl-C is clean, and a keyword
played into a private PulseAudio daemon's virtual microphone comes out as an event."""

from __future__ import annotations

import importlib.abc
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from detect_support import keyword_clip, tiny_spotter
from pulse import PrivatePulse, skip_unless_available

from asr_cnn import KeywordSpotter
from asr_cnn.audio import load_audio, save_audio
from asr_cnn.detect import Detector
from asr_cnn.detect import microphone
from asr_cnn.detect.microphone import MicrophoneError, import_sounddevice, stream_microphone

REPO = Path(__file__).resolve().parents[1]
SAMPLE_RATE = 16_000
STARTUP_TIMEOUT_S = 60.0  # the recipe imports torch and hydra before it listens


def sigint_by_default() -> None:
    """SIGINT back to its default, as at a terminal. A run started in the background by a non-interactive
    shell (`cmd &`, nohup) inherits it ignored, and Python then installs no KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def ctrl_c_raises():
    """SIGINT raises KeyboardInterrupt in this process during the test, whatever it inherited."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_missing_portaudio_names_the_debian_package(monkeypatch):
    class NoPortAudio(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "sounddevice":  # what sounddevice raises when libportaudio cannot be loaded
                raise OSError("PortAudio library not found")
            return None

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [NoPortAudio(), *sys.meta_path])
    with pytest.raises(MicrophoneError, match="apt-get install libportaudio2"):
        import_sounddevice()


class FakeInputStream:
    """Calls the callback from a thread like PortAudio, reporting an overflow on every third block,
    then sends SIGINT to the process as a user pressing Ctrl-C would."""

    def __init__(self, samplerate, blocksize, callback, **kwargs):
        self.samplerate, self.blocksize, self.callback, self.device = samplerate, blocksize, callback, 0
        self.thread = threading.Thread(target=self.run)

    def run(self):
        for i in range(30):
            status = SimpleNamespace(input_overflow=i % 3 == 2)
            self.callback(np.full((self.blocksize, 1), 0.25, np.float32), self.blocksize, None, status)
            time.sleep(0.005)
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGINT)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.thread.join()


def test_overflows_are_reported_and_ctrl_c_stops_cleanly(monkeypatch, ctrl_c_raises):
    fake = SimpleNamespace(InputStream=FakeInputStream, PortAudioError=type("PortAudioError", (Exception,), {}),
                           query_devices=lambda device=None, kind=None: {"name": "fake", "default_samplerate": 16_000})
    monkeypatch.setattr(microphone, "import_sounddevice", lambda: fake)
    out, err = io.StringIO(), io.StringIO()
    stats = stream_microphone(Detector(tiny_spotter(), threshold=0.0), out=out, err=err)  # returns on SIGINT
    assert stats.blocks == 30 and stats.overflows == 10 and stats.peak == pytest.approx(0.25)
    assert "warning: input overflow: 10 overflow(s)" in err.getvalue()
    assert "stopped after 2.4 s of audio" in err.getvalue()
    assert all(json.loads(line)["keyword"] in ("yes", "no") for line in out.getvalue().splitlines())


@pytest.fixture(scope="module")
def pulse(tmp_path_factory):
    skip_unless_available()
    daemon = PrivatePulse(tmp_path_factory.mktemp("pulse")).start()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def keyword(tiny_corpus, tiny_checkpoint, tmp_path_factory):
    """A keyword recording between silences as a WAV, the keyword, and thresholds that fire on it alone."""
    clip, word, thresholds = keyword_clip(tiny_corpus, KeywordSpotter.load(tiny_checkpoint))
    path = tmp_path_factory.mktemp("wav") / f"{word}.wav"
    save_audio(path, clip)
    return SimpleNamespace(path=path, word=word, thresholds=thresholds, seconds=clip.shape[-1] / SAMPLE_RATE,
                           peak=float(load_audio(path).abs().max()))


@pytest.mark.microphone
def test_a_keyword_played_into_the_virtual_microphone_fires(pulse, keyword, tiny_checkpoint, monkeypatch):
    pulse.use_in_this_process(monkeypatch)
    detector = Detector(KeywordSpotter.load(tiny_checkpoint), thresholds=keyword.thresholds, smoothing_s=0.0)
    out = io.StringIO()
    stats = stream_microphone(detector, device="pulse", seconds=keyword.seconds + 1.5, out=out, err=io.StringIO(),
                              on_open=lambda: pulse.play(keyword.path))
    assert stats.peak == pytest.approx(keyword.peak, abs=0.01)  # the recording came through at its level
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [event["keyword"] for event in events] == [keyword.word]  # fired once, on the keyword only


@pytest.mark.microphone
def test_listen_recipe_prints_the_event_and_exits_cleanly_on_sigint(pulse, keyword, tiny_checkpoint, tmp_path):
    thresholds = [f"+detector.thresholds.{word}={value}" for word, value in keyword.thresholds.items()]
    env = {**pulse.env, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    process = subprocess.Popen(
        [sys.executable, "recipes/listen.py", f"checkpoint={tiny_checkpoint}", "input_device=pulse",
         *thresholds, "detector.smoothing_s=0", f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=sigint_by_default)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        before = []
        for line in process.stderr:
            if line.startswith("listening on 'pulse'") or time.monotonic() > deadline:
                break
            before.append(line)
        assert line.startswith("listening on 'pulse' at 16000 Hz"), line
        point = [text for text in before if text.startswith("operating point: ")]
        assert len(point) == 1 and f"set by hand: {', '.join(sorted(keyword.thresholds))}" in point[0], before
        pulse.play(keyword.path).wait()
        time.sleep(1.0)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=STARTUP_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "stopped after" in err and "Traceback" not in err
    assert [json.loads(line)["keyword"] for line in out.splitlines()] == [keyword.word]

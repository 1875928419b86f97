"""Microphone: a missing PortAudio is named, overflows are reported, Ctrl-C is clean, and real audio
injected into a private PulseAudio daemon reaches the detector."""

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
import torch
from detect_support import single_thread, tiny_spotter
from pulse import PrivatePulse, skip_unless_available

from asr_cnn.audio import save_audio
from asr_cnn.detect import Detector
from asr_cnn.detect import microphone
from asr_cnn.detect.microphone import MicrophoneError, import_sounddevice, stream_microphone

REPO = Path(__file__).resolve().parents[1]
SAMPLE_RATE = 16_000
BURST_PEAK = 0.5
STARTUP_TIMEOUT_S = 60.0  # the recipe imports torch and hydra before it listens


@pytest.fixture(autouse=True)
def one_thread():
    with single_thread():
        yield


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


def test_overflows_are_reported_and_ctrl_c_stops_cleanly(monkeypatch):
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
def burst(tmp_path_factory) -> Path:
    """0.3 s of silence, then a 1 s noise burst peaking at BURST_PEAK, then silence."""
    noise = torch.randn(SAMPLE_RATE, generator=torch.Generator().manual_seed(0))
    noise = noise / noise.abs().max() * BURST_PEAK
    path = tmp_path_factory.mktemp("wav") / "burst.wav"
    save_audio(path, torch.cat([torch.zeros(SAMPLE_RATE * 3 // 10), noise, torch.zeros(SAMPLE_RATE // 2)]))
    return path


@pytest.mark.microphone
def test_injected_audio_reaches_the_detector(pulse, burst, monkeypatch):
    pulse.use_in_this_process(monkeypatch)
    detector = Detector(tiny_spotter())
    stats = stream_microphone(detector, device="pulse", seconds=2.5, out=io.StringIO(), err=io.StringIO(),
                              on_open=lambda: pulse.play(burst))
    assert stats.seconds > 1.5
    assert stats.peak == pytest.approx(BURST_PEAK, abs=0.05)  # the burst came through, at its level
    assert detector.rows > 0  # and the scanner scored windows of it


@pytest.mark.microphone
def test_listen_recipe_prints_events_and_exits_cleanly_on_sigint(pulse, burst, tmp_path):
    checkpoint = tmp_path / "tiny.pt"
    tiny_spotter().save(checkpoint)
    env = {**pulse.env, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    process = subprocess.Popen(
        [sys.executable, "recipes/listen.py", f"checkpoint={checkpoint}", "input_device=pulse",
         "detector.threshold=0.0", f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        for line in process.stderr:
            if line.startswith("listening on 'pulse'") or time.monotonic() > deadline:
                break
        assert line.startswith("listening on 'pulse' at 16000 Hz"), line
        pulse.play(burst).wait()
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=STARTUP_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "stopped after" in err and "Traceback" not in err
    events = [json.loads(line) for line in out.splitlines()]
    assert events and all(event["keyword"] in ("yes", "no") for event in events)  # threshold 0 fires each second

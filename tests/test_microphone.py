"""Microphone: a missing PortAudio is named, overflows are reported, Ctrl-C is clean, and a keyword
played into a private PulseAudio daemon's virtual microphone comes out as an event."""

from __future__ import annotations

import importlib.abc
import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO
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
from asr_cnn.streaming import num_windows

REPO = Path(__file__).resolve().parents[1]
SAMPLE_RATE = 16_000
STARTUP_TIMEOUT_S = 60.0  # the recipe imports torch and hydra before it listens
DRAIN_TIMEOUT_S = 60.0  # how long the listener may take to process what was played, on a loaded machine
FAKE_BLOCKS = 30
LISTEN_MARGIN_S = 6.0  # listening past the clip's end: playback starts late on a loaded machine; the rest is silence


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
    """Calls the callback from a thread like PortAudio, reporting an overflow on every third block, then,
    once the listener has processed them all (``drained()``; however long that takes on a loaded machine, up
    to ``DRAIN_TIMEOUT_S``), sends SIGINT to the process as a user pressing Ctrl-C would."""

    drained: Callable[[], bool] = staticmethod(lambda: True)

    def __init__(self, samplerate, blocksize, callback, **kwargs):
        self.samplerate, self.blocksize, self.callback, self.device = samplerate, blocksize, callback, 0
        self.thread = threading.Thread(target=self.run)

    def run(self):
        for i in range(FAKE_BLOCKS):
            status = SimpleNamespace(input_overflow=i % 3 == 2)
            self.callback(np.full((self.blocksize, 1), 0.25, np.float32), self.blocksize, None, status)
            time.sleep(0.005)
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while not self.drained() and time.monotonic() < deadline:
            time.sleep(0.01)
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
    detector = Detector(tiny_spotter(), threshold=0.0)
    rows = num_windows(FAKE_BLOCKS * round(microphone.DEFAULT_BLOCK_SECONDS * SAMPLE_RATE), detector.spotter)
    monkeypatch.setattr(FakeInputStream, "drained", staticmethod(lambda: detector.rows == rows))
    out, err = io.StringIO(), io.StringIO()
    stats = stream_microphone(detector, out=out, err=err)  # returns on SIGINT
    assert stats.blocks == FAKE_BLOCKS and stats.overflows == 10 and stats.peak == pytest.approx(0.25)
    assert "warning: input overflow: 10 overflow(s)" in err.getvalue()
    assert "stopped after 2.4 s of audio" in err.getvalue()
    assert all(json.loads(line)["keyword"] in ("yes", "no") for line in out.getvalue().splitlines())


class Lines:
    """The lines of a subprocess's pipe, read on a thread: waiting for one times out instead of hanging on a
    silent process."""

    def __init__(self, pipe: IO[str]) -> None:
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.ended = False
        threading.Thread(target=self.read, args=(pipe,), daemon=True).start()

    def read(self, pipe: IO[str]) -> None:
        for line in pipe:
            self.queue.put(line)
        self.queue.put(None)  # end of file

    def until(self, wanted: Callable[[str], bool], timeout_s: float) -> str | None:
        """The next line that is ``wanted`` (the lines before it go to ``seen`` as well); ``None`` when the
        pipe ends or ``timeout_s`` passes first."""
        deadline = time.monotonic() + timeout_s
        while not self.ended:
            try:
                line = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if line is None:
                self.ended = True
                return None
            self.seen.append(line)
            if wanted(line):
                return line
        return None

    def rest(self, timeout_s: float) -> str:
        """Every line, up to the end of the pipe (or ``timeout_s``)."""
        self.until(lambda line: False, timeout_s)
        return "".join(self.seen)


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
    stats = stream_microphone(detector, device="pulse", seconds=keyword.seconds + LISTEN_MARGIN_S, out=out,
                              err=io.StringIO(), on_open=lambda: pulse.play(keyword.path))
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
    err_lines, out_lines = Lines(process.stderr), Lines(process.stdout)
    try:
        line = err_lines.until(lambda text: text.startswith("listening on 'pulse'"), STARTUP_TIMEOUT_S)
        assert line is not None and line.startswith("listening on 'pulse' at 16000 Hz"), "".join(err_lines.seen)
        point = [text for text in err_lines.seen if text.startswith("operating point: ")]
        assert len(point) == 1 and f"set by hand: {', '.join(sorted(keyword.thresholds))}" in point[0], err_lines.seen
        pulse.play(keyword.path).wait(timeout=DRAIN_TIMEOUT_S)
        assert out_lines.until(lambda text: True, DRAIN_TIMEOUT_S), f"no event within {DRAIN_TIMEOUT_S} s"
        time.sleep(1.0)  # room for a second event, which must not come
        process.send_signal(signal.SIGINT)
        process.wait(timeout=STARTUP_TIMEOUT_S)
        out, err = out_lines.rest(STARTUP_TIMEOUT_S), err_lines.rest(STARTUP_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "stopped after" in err and "Traceback" not in err
    assert [json.loads(line)["keyword"] for line in out.splitlines()] == [keyword.word]

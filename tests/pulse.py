"""A private PulseAudio daemon whose null sink's monitor is the default source: a virtual microphone.

Whatever ``paplay`` plays into the sink ``kws`` comes out of the PortAudio device ``"pulse"``. The
daemon, its socket and its files live in a temporary folder; nothing touches the user's sound setup.
"""

from __future__ import annotations

import ctypes.util
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

PACKAGES = "pulseaudio pulseaudio-utils libportaudio2"
INSTALL_HINT = f"install them with: apt-get install {PACKAGES} (or, as root: make system-deps)"
TOOLS = ("pulseaudio", "pactl", "paplay", "pacat")
SINK = "kws"
SAMPLE_RATE = 16_000
START_TIMEOUT_S = 10.0
POLL_S = 0.1


def skip_unless_available() -> None:
    """Skip the calling test, naming the packages, when PulseAudio or PortAudio is missing."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if ctypes.util.find_library("portaudio") is None:
        missing.append("libportaudio")
    if missing:
        pytest.skip(f"microphone test needs {', '.join(missing)}: {INSTALL_HINT}")


class PrivatePulse:
    """Start, use and stop one private daemon.

    Args:
        root: An empty folder for the socket, HOME and runtime files.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "native"
        self.env = {**os.environ, "HOME": str(root), "XDG_RUNTIME_DIR": str(root),
                    "PULSE_SERVER": f"unix:{self.socket}"}
        self.daemon: subprocess.Popen | None = None
        self.keep_awake: subprocess.Popen | None = None

    def start(self) -> "PrivatePulse":
        """Start the daemon and wait until it answers; keep the sink running with a silent stream."""
        script = self.root / "default.pa"
        script.write_text(
            f"load-module module-native-protocol-unix socket={self.socket} auth-anonymous=1\n"
            f"load-module module-null-sink sink_name={SINK} rate={SAMPLE_RATE} channels=1 norewinds=1\n"
            f"set-default-source {SINK}.monitor\n"
            f"set-default-sink {SINK}\n")
        # -n: no default script; --system=false with root: a per-user daemon even when running as root.
        self.daemon = subprocess.Popen(
            ["pulseaudio", "-n", "-F", str(script), "--daemonize=no", "--exit-idle-time=-1", "--system=false"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=(self.root / "daemon.log").open("w"))
        deadline = time.monotonic() + START_TIMEOUT_S
        while self.pactl("info").returncode != 0:
            if self.daemon.poll() is not None or time.monotonic() > deadline:
                log = (self.root / "daemon.log").read_text()
                self.stop()
                pytest.skip(f"could not start a private PulseAudio daemon:\n{log}")
            time.sleep(POLL_S)
        # A silent stream keeps the null sink from suspending; one suspend/resume cycle starts it cleanly.
        self.keep_awake = subprocess.Popen(["pacat", "--playback", "--raw", "--volume=0", "/dev/zero"],
                                           env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pactl("suspend-sink", SINK, "1")
        self.pactl("suspend-sink", SINK, "0")
        return self

    def pactl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, timeout=START_TIMEOUT_S)

    def play(self, wav: Path) -> subprocess.Popen:
        """Play a sound file into the sink (so into the virtual microphone), without waiting."""
        return subprocess.Popen(["paplay", "--device", SINK, str(wav)], env=self.env)

    def use_in_this_process(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point this process's PortAudio at the daemon: set the environment, then re-initialise PortAudio.

        PortAudio lists devices once, when initialised (on sounddevice's import); it must look again now
        that the daemon is up, and the ALSA "pulse" device must be there.
        """
        import sounddevice as sd

        for key in ("HOME", "XDG_RUNTIME_DIR", "PULSE_SERVER"):
            monkeypatch.setenv(key, self.env[key])
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            sd._terminate()
            sd._initialize()
            if any(device["name"] == "pulse" for device in sd.query_devices()):
                return
            if time.monotonic() > deadline:
                pytest.skip(f"PortAudio lists no 'pulse' device (is libasound2-plugins installed?): {INSTALL_HINT}")
            time.sleep(POLL_S)

    def stop(self) -> None:
        """Stop the silent stream and the daemon (only the processes started here)."""
        for process in (self.keep_awake, self.daemon):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=START_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

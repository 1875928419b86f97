"""Live keyword detection from an audio input device through sounddevice (PortAudio)."""

from __future__ import annotations

import queue
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TextIO

import numpy as np
import torch
from omegaconf import DictConfig

from asr_cnn.detect.detector import Detector
from asr_cnn.detect.load import load_detector
from asr_cnn.detect.resample import StreamResampler
from asr_cnn.recipes.config import ListenRecipe
from asr_cnn.schema import typed
from asr_cnn.threads import torch_threads

PORTAUDIO_PACKAGE = "libportaudio2"
"""The Debian package that provides the PortAudio library sounddevice loads."""

DEFAULT_BLOCK_SECONDS = 0.08
"""Audio per callback: short enough for prompt events, long enough to keep the callback cheap."""

QUEUE_SECONDS = 10.0
"""Audio the device callback may queue ahead of detection; beyond it blocks are dropped (and counted)."""

POLL_SECONDS = 0.1
"""The main loop wakes this often when no audio arrives, to check the time limit."""


class MicrophoneError(RuntimeError):
    """The audio input cannot be used; the message says why and what to install or choose."""


def import_sounddevice() -> ModuleType:
    """Import sounddevice, which loads PortAudio, only when a microphone is really wanted.

    Raises:
        MicrophoneError: The PortAudio library is missing (sounddevice raises OSError on import).
    """
    try:
        import sounddevice
    except OSError as err:
        raise MicrophoneError(f"PortAudio is missing ({err}); install it with: apt-get install "
                              f"{PORTAUDIO_PACKAGE}") from err
    return sounddevice


@dataclass
class ListenStats:
    """What a listening session saw.

    Attributes:
        seconds: Audio received, in seconds at the device rate.
        blocks: Device blocks received.
        overflows: Callbacks that reported an input overflow (audio lost inside PortAudio).
        dropped: Blocks dropped because detection fell more than ``QUEUE_SECONDS`` behind.
        events: Events printed.
        peak: Largest absolute sample received (0 means the input was silent).
    """

    seconds: float = 0.0
    blocks: int = 0
    overflows: int = 0
    dropped: int = 0
    events: int = 0
    peak: float = 0.0


def open_input(sd: ModuleType, device: int | str | None, rate: int, block_seconds: float,
               callback: Callable) -> tuple:
    """An InputStream at ``rate`` mono, or at the device's default rate when it refuses ``rate``.

    Returns:
        The stream and its sample rate.

    Raises:
        MicrophoneError: The device cannot be opened at all.
    """
    try:
        default_rate = int(sd.query_devices(device, "input")["default_samplerate"])
    except (ValueError, sd.PortAudioError) as err:
        raise MicrophoneError(f"no audio input device {device!r} ({err}); available:\n{sd.query_devices()}") from err
    for candidate in dict.fromkeys((rate, default_rate)):  # the spotter's rate first, then the device's own
        try:
            stream = sd.InputStream(samplerate=candidate, channels=1, dtype="float32", device=device,
                                    blocksize=round(block_seconds * candidate), callback=callback)
            return stream, candidate
        except sd.PortAudioError as err:
            error = err
    raise MicrophoneError(f"cannot open audio input {device!r} at {rate} or {default_rate} Hz ({error})")


def stream_microphone(detector: Detector, device: int | str | None = None,
                      block_seconds: float = DEFAULT_BLOCK_SECONDS, seconds: float | None = None,
                      out: TextIO | None = None, err: TextIO | None = None,
                      on_open: Callable[[], object] | None = None) -> ListenStats:
    """Detect keywords in live audio, printing one JSON line per event as it happens.

    Runs until ``seconds`` of wall time have passed or Ctrl-C (SIGINT), which ends it cleanly. Input
    overflows and dropped blocks are reported on ``err`` as they happen, never fatal.

    Args:
        detector: A single-stream detector; reset at the start, so event times count from then.
        device: A sounddevice device (index or name, e.g. ``"pulse"``); ``None`` for the default input.
        block_seconds: Audio per device callback.
        seconds: Stop after this long; ``None`` listens until interrupted.
        out: Where events go (default: the current standard output).
        err: Where status goes (default: the current standard error).
        on_open: Called once the input stream runs (e.g. to start playing test audio).

    Raises:
        MicrophoneError: PortAudio or the device is missing.
    """
    out, err = out or sys.stdout, err or sys.stderr
    sd = import_sounddevice()
    stats = ListenStats()
    blocks: queue.Queue[np.ndarray] = queue.Queue(maxsize=max(1, round(QUEUE_SECONDS / block_seconds)))

    def callback(indata: np.ndarray, frames: int, time_info: object, status: object) -> None:
        # Runs on PortAudio's thread: copy and hand over, nothing slow.
        if status.input_overflow:
            stats.overflows += 1
        try:
            blocks.put_nowait(indata[:, 0].copy())
        except queue.Full:
            stats.dropped += 1

    rate = detector.sample_rate
    stream, device_rate = open_input(sd, device, rate, block_seconds, callback)
    resampler = None if device_rate == rate else StreamResampler(device_rate, rate)
    detector.reset()
    reported = (0, 0)
    try:
        with stream:
            print(f"listening on {sd.query_devices(stream.device)['name']!r} at {device_rate} Hz"
                  f"{'' if resampler is None else f' (resampled to {rate} Hz)'}; Ctrl-C to stop", file=err, flush=True)
            if on_open is not None:
                on_open()
            end = None if seconds is None else time.monotonic() + seconds
            while end is None or time.monotonic() < end:
                try:
                    block = blocks.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    continue
                stats.blocks += 1
                stats.seconds += block.shape[0] / device_rate
                stats.peak = max(stats.peak, float(np.abs(block).max(initial=0.0)))
                audio = torch.from_numpy(block)
                if resampler is not None:
                    audio = resampler.push(audio[None])[0]
                for event in detector.push(audio):
                    stats.events += 1
                    print(event.to_json(), file=out, flush=True)
                if (stats.overflows, stats.dropped) != reported:
                    reported = (stats.overflows, stats.dropped)
                    print(f"warning: input overflow: {stats.overflows} overflow(s), {stats.dropped} block(s) "
                          f"dropped so far; event times after this may run early", file=err, flush=True)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a live session ends
    print(f"stopped after {stats.seconds:.1f} s of audio: {stats.events} event(s), {stats.overflows} input "
          f"overflow(s), {stats.dropped} dropped block(s)", file=err, flush=True)
    return stats


def listen(cfg: DictConfig) -> int:
    """Entry point of ``recipes/listen.py``: events from the microphone until Ctrl-C.

    Args:
        cfg: Composed ``conf/listen.yaml`` (:class:`~asr_cnn.recipes.config.ListenRecipe`): ``checkpoint`` (one
            path, or a list of models on one backbone), ``detector``, ``input_device``, ``block_seconds``,
            ``seconds``, ``device``, ``threads``.

    Returns:
        Exit status: 0 after a clean stop (Ctrl-C included), 1 when the audio input cannot be used.

    Raises:
        ValueError: A setting out of range (one line naming the key).
    """
    recipe = typed(ListenRecipe, cfg, "")
    try:
        detector = load_detector(recipe.detector, recipe.checkpoint, recipe.device)
        print(detector.operating_point(), file=sys.stderr, flush=True)
        with torch_threads(recipe.threads):
            stream_microphone(detector, recipe.input_device, recipe.block_seconds, recipe.seconds)
    except MicrophoneError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C while loading: nothing to clean up
        print("stopped", file=sys.stderr)
    return 0

"""``python -m asr_cnn.bench runtime``: the fast CPU runtime beside eager streaming, every target of the fast
runtime in one run on one machine.

One stream, one thread, 80 ms chunks (what ``recipes/listen.py`` pushes), CPU time of this process. Each
repetition measures eager and fast one after the other, and the least time of the repetitions is kept, so
load from other processes slows both alike; the load average is printed before and after. Rows:

* scanner: ``StreamingScanner.push``, per 80 ms of audio;
* scanner in 1 s and 10 s chunks (what ``recipes/detect.py`` pushes from a file), per 80 ms of audio;
* detector: ``Detector.push`` (scanner, smoothing, thresholds: what ``listen`` runs), per 80 ms (target <= 0.5 ms);
* streaming / offline: the scanner at 80 ms over ``scan`` of the same audio (target <= 1.5);
* naive / streaming: ``naive_scan`` (every window on its own) over the scanner at 80 ms (target >= 20);
* two models / one: a detector of two models on one backbone over a detector of the first (target <= 1.1).

Defaults: untrained models of ``experiment=default`` and, as the second, ``experiment=wakewords`` (the same
frozen backbone, another window and TDNN); ``--checkpoint`` and ``--second`` take trained ones.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import torch

from asr_cnn import KeywordSpotter
from asr_cnn.bench.scan import PER_STREAM_CHUNK_MS, load_spotter
from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.detect import Detector
from asr_cnn.streaming import StreamingScanner, naive_scan, scan

RUNTIMES = ("eager", "fast")
LONG_CHUNKS_S = (1, 10)
TARGETS = {"detector": "<= 0.5 ms", "offline": "<= 1.5", "naive": ">= 20", "two": "<= 1.1"}


def cpu_seconds(run: Callable[[], object]) -> float:
    """CPU time of this process for one call (waiting for a core is not counted)."""
    start = time.process_time()
    run()
    return time.process_time() - start


def pushing(streamer: StreamingScanner | Detector, chunks: list[torch.Tensor]) -> Callable[[], None]:
    """A run of ``chunks`` through ``streamer``, started afresh."""
    def run() -> None:
        streamer.reset()
        for chunk in chunks:
            streamer.push(chunk)
    return run


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m asr_cnn.bench runtime", description=__doc__)
    parser.add_argument("--checkpoint", help="a trained model.pt (default: an untrained experiment=default)")
    parser.add_argument("--second", help="a second model.pt on the same backbone (default: untrained wakewords)")
    parser.add_argument("--seconds", type=float, default=30.0, help="audio length")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    first = load_spotter(args.checkpoint, None, "default")
    second = load_spotter(args.second, None, "wakewords")
    audio = 0.1 * torch.randn(int(args.seconds * SAMPLE_RATE), generator=torch.Generator().manual_seed(0))  # (S,)
    chunks = list(audio.split(SAMPLE_RATE * PER_STREAM_CHUNK_MS // 1000))
    hops = audio.shape[-1] / (SAMPLE_RATE * PER_STREAM_CHUNK_MS / 1000)  # 80 ms pieces of audio
    print(f"{describe(first)}; second model {describe(second)}; {args.seconds:g} s of noise in "
          f"{PER_STREAM_CHUNK_MS} ms chunks (and {', '.join(f'{s} s' for s in LONG_CHUNKS_S)}), 1 thread, CPU time, "
          f"least of {args.repeats} (eager and fast alternately)")
    print(f"load average before: {load_average()}")
    streamers = {(runtime, name): streamer for runtime in RUNTIMES for name, streamer in (
        ("scanner", StreamingScanner(first, runtime=runtime)), ("detector", Detector(first, runtime=runtime)),
        ("two", Detector({"first": first, "second": second}, runtime=runtime)))}
    assert all(streamer.runtime == runtime for (runtime, _), streamer in streamers.items())  # built before timing
    runs = {key: pushing(streamer, chunks) for key, streamer in streamers.items()}
    for seconds in LONG_CHUNKS_S:
        long_chunks = list(audio.split(seconds * SAMPLE_RATE))
        runs |= {(runtime, f"{seconds} s"): pushing(streamers[(runtime, "scanner")], long_chunks)
                 for runtime in RUNTIMES}
    best = {key: float("inf") for key in [*runs, "offline"]}
    for _ in range(args.repeats):
        for key, run in runs.items():
            best[key] = min(best[key], cpu_seconds(run))
        best["offline"] = min(best["offline"], cpu_seconds(lambda: scan(first, audio)))
    naive = cpu_seconds(lambda: naive_scan(first, audio))
    per_80ms = {key: seconds * 1e3 / hops for key, seconds in best.items()}
    print(f"{'':46s}{'eager':>10s}{'fast':>10s}   target")
    rows = {"scanner, ms per 80 ms": lambda r: f"{per_80ms[(r, 'scanner')]:.3f}",
            **{f"scanner in {seconds} s chunks, ms per 80 ms": lambda r, key=f"{seconds} s": f"{per_80ms[(r, key)]:.3f}"
               for seconds in LONG_CHUNKS_S},  # the key bound now, not when the row is printed
            "detector (what listen runs), ms per 80 ms": lambda r: f"{per_80ms[(r, 'detector')]:.3f}",
            "streaming / offline at 80 ms": lambda r: f"{best[(r, 'scanner')] / best['offline']:.2f}x",
            "naive / streaming at 80 ms": lambda r: f"{naive / best[(r, 'scanner')]:.1f}x",
            "two models on one backbone / one model": lambda r: f"{best[(r, 'two')] / best[(r, 'detector')]:.2f}x"}
    for (label, cell), target in zip(rows.items(), ["", *["fast <= eager"] * len(LONG_CHUNKS_S), *TARGETS.values()]):
        print(f"{label:46s}{cell('eager'):>10s}{cell('fast'):>10s}   {target}")
    print(f"offline scan {per_80ms['offline']:.3f} ms per 80 ms, naive scan {naive * 1e3 / hops:.3f} ms per 80 ms")
    print(f"load average after: {load_average()}")
    return 0


def describe(spotter: KeywordSpotter) -> str:
    """The model's body, window and hop, in one phrase."""
    body = spotter.config.get("model", {}).get("_target_", "?").rsplit(".", 1)[-1]
    return f"{body} ({len(spotter.labels)} classes, window {spotter.window_samples}, hop {spotter.hop_samples})"

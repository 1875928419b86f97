"""``python -m asr_cnn.bench streams``: how many independent streams one device detects in real time.

For batch sizes B = 1, 2, 4, ... a batched :class:`~asr_cnn.detect.Detector` (scanner, smoothing,
thresholds) of the default model is fed 80 ms chunks of every stream; B is real time while the wall time
stays below the audio time. ``--runtime auto`` (the default) runs the fast runtime on CPU and eager
streaming on CUDA. Doubling stops at the first B that is too slow, then a bisection narrows the largest real-time
B. Prints one line per B (real-time factor, front-end frames and score rows per second) and the result,
on CPU and, when present, CUDA (optionally under fp16/bf16 autocast). ``--soak-minutes`` also streams one
long stream and reports its memory.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time

import torch

from asr_cnn import KeywordSpotter
from asr_cnn.bench.scan import add_spotter_arguments, load_spotter
from asr_cnn.detect import Detector
from asr_cnn.streaming.engines import RUNTIMES, chosen_runtime

CHUNK_MS = 80
DEFAULT_SECONDS = {"cpu": 2.0, "cuda": 5.0}
"""Audio per stream per measurement: short on CPU to keep the default run under two minutes."""

WARM_UP_CHUNKS = 3
"""Chunks pushed before timing: buffers fill, kernels and allocator warm up."""

CHUNK_POOL = 4
"""Distinct random chunks cycled through, so a large B does not need seconds of audio in memory."""

BISECT_STEPS = 4
"""Bisection steps between the last real-time B and the first too-slow one."""

DEFAULT_THREADS = 1
"""80 ms chunks are small work: on a shared machine extra intra-op threads mostly wait (B=1 ran at x0.65
real time with 2 threads on this busy 2-core box, x140 with 1). Raise it for large B on an idle machine."""

MAX_BATCH = {"cpu": 1 << 14, "cuda": 1 << 16}
AUTOCAST = {"fp16": torch.float16, "bf16": torch.bfloat16}
SOAK_REPORTS = 10


def measure(spotter: KeywordSpotter, batch: int, device: str, seconds: float,
            autocast: torch.dtype | None, runtime: str = "auto") -> float:
    """Real-time factor (audio seconds per wall second) of ``batch`` streams for ``seconds`` of audio each."""
    detector = Detector(spotter, batch_size=batch, device=device, runtime=runtime)
    chunk = spotter.sample_rate * CHUNK_MS // 1000
    pool = [0.1 * torch.randn(batch, chunk, device=device) for _ in range(CHUNK_POOL)]
    n_chunks = max(1, round(seconds * 1000 / CHUNK_MS))
    context = torch.autocast("cuda", dtype=autocast) if autocast is not None else contextlib.nullcontext()
    with context:
        for i in range(WARM_UP_CHUNKS):
            detector.push_batch(pool[i % CHUNK_POOL])
        synchronize(device)
        start = time.perf_counter()
        for i in range(n_chunks):
            detector.push_batch(pool[i % CHUNK_POOL])
        synchronize(device)
    return n_chunks * CHUNK_MS / 1000 / (time.perf_counter() - start)


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def largest_real_time(spotter: KeywordSpotter, device: str, seconds: float, autocast: torch.dtype | None,
                      max_batch: int, runtime: str = "auto") -> int:
    """Print one line per measured B and return the largest B measured real time (0 if none)."""
    frames_per_s = spotter.sample_rate / spotter.frontend.hop_length
    rows_per_s = spotter.sample_rate / spotter.hop_samples

    def real_time(batch: int) -> bool:
        speed = measure(spotter, batch, device, seconds, autocast, runtime)
        print(f"  B={batch:6d}  x{speed:8.2f} real time  {batch * speed * frames_per_s:12,.0f} frames/s  "
              f"{batch * speed * rows_per_s:11,.0f} score rows/s  {'ok' if speed >= 1 else 'too slow'}", flush=True)
        return speed >= 1

    good, bad = 0, None
    batch = 1
    while batch <= max_batch:
        if not real_time(batch):
            bad = batch
            break
        good, batch = batch, batch * 2
    for _ in range(BISECT_STEPS):
        if bad is None or bad - good <= 1:
            break
        middle = (good + bad) // 2
        good, bad = (middle, bad) if real_time(middle) else (good, middle)
    return good


def soak(spotter: KeywordSpotter, minutes: float) -> None:
    """One stream for ``minutes`` of audio in 80 ms chunks: print resident memory along the way."""
    detector = Detector(spotter)
    chunk = spotter.sample_rate * CHUNK_MS // 1000
    n_chunks = round(minutes * 60_000 / CHUNK_MS)
    generator = torch.Generator().manual_seed(0)
    print(f"\nsoak: one stream, {minutes:g} min of audio in {CHUNK_MS} ms chunks")
    start = time.perf_counter()
    first = None
    for i in range(n_chunks):
        detector.push(0.1 * torch.randn(chunk, generator=generator))
        if (i + 1) % max(1, n_chunks // SOAK_REPORTS) == 0:
            rss = rss_mib()
            first = first or rss
            print(f"  {(i + 1) * CHUNK_MS / 60_000:7.1f} min  RSS {rss:8.1f} MiB  ({rss - first:+.1f} MiB)", flush=True)
    print(f"  {time.perf_counter() - start:.1f} s wall for {minutes:g} min of audio")


def rss_mib() -> float:
    """Resident memory of this process in MiB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m asr_cnn.bench streams", description=__doc__)
    add_spotter_arguments(parser, "default", "the frozen speech_embedding backbone and a TDNN")
    parser.add_argument("--devices", nargs="*", default=None,
                        help="default: cpu, and cuda when present; none (bare --devices) with --soak-minutes")
    parser.add_argument("--seconds", type=float, default=None, help="audio per stream per measurement")
    parser.add_argument("--autocast", choices=sorted(AUTOCAST), help="CUDA only: run under autocast")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help="CPU intra-op threads (0: torch's default)")
    parser.add_argument("--max-batch", type=int, default=None, help="stop doubling here")
    parser.add_argument("--soak-minutes", type=float, default=0.0, help="also stream one stream this long")
    parser.add_argument("--runtime", choices=RUNTIMES, default="auto", help="auto: fast on CPU, eager on CUDA")
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    spotter = load_spotter(args.checkpoint, args.model, args.experiment)
    devices = args.devices if args.devices is not None else ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]
    print(f"model {spotter.config.get('model', {}).get('_target_', '?')}: window {spotter.window_samples} samples, "
          f"hop {spotter.hop_samples} samples; {CHUNK_MS} ms chunks; {torch.get_num_threads()} CPU thread(s)")
    for device in devices:
        kind = device.split(":")[0]
        if kind == "cuda" and not torch.cuda.is_available():
            print("\ncuda: no CUDA device here, skipped")
            continue
        autocast = AUTOCAST[args.autocast] if args.autocast and kind == "cuda" else None
        name = torch.cuda.get_device_name(device) if kind == "cuda" else "CPU"
        seconds = args.seconds or DEFAULT_SECONDS[kind]
        runtime = chosen_runtime(args.runtime, device)
        print(f"\n{device} ({name}){f', autocast {args.autocast}' if autocast else ''}: {seconds:g} s per stream, "
              f"{runtime} runtime")
        best = largest_real_time(spotter.to(device), device, seconds, autocast, args.max_batch or MAX_BATCH[kind],
                                 runtime)
        print(f"{device}: largest real-time batch B = {best}")
    if args.soak_minutes > 0:
        soak(spotter.cpu(), args.soak_minutes)
    return 0

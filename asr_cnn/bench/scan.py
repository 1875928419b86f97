"""``python -m asr_cnn.bench scan``: offline scan vs streaming vs naive scan on the same audio and model.

Prints seconds for each path, the ratios issue #29 targets (streaming <= 1.5x offline at 80 ms chunks,
naive >= 20x streaming), CPU milliseconds per 80 ms of audio for one stream on one thread (target <= 0.5),
and, with CUDA present, how many streams stay real time per batch size. ``--runtime`` picks the scanner's
runtime (``python -m asr_cnn.bench runtime`` sets eager and fast side by side).
"""

from __future__ import annotations

import argparse
import time
from typing import Callable

import torch

from asr_cnn import KeywordSpotter
from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.streaming import StreamingScanner, naive_scan, scan
from asr_cnn.streaming.engines import RUNTIMES
from asr_cnn.config import compose_config

CHUNK_MS = (10, 20, 80, 1000, 10_000)
PER_STREAM_CHUNK_MS = 80
CUDA_BATCHES = (1, 16, 256, 1024, 4096, 16384)
CUDA_SECONDS = 10.0  # audio per CUDA batch measurement: long enough to amortise launch overheads


def best_of(repeats: int, fn: Callable[[], object], clock: Callable[[], float] = time.perf_counter) -> float:
    """Least time of ``repeats`` runs, in seconds (the least disturbed by other processes).

    ``clock`` is wall time by default; ``time.process_time`` counts this process's CPU time instead, so that
    on a shared machine waiting for a core is not counted as this code's cost.
    """
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return min(times)


def stream_all(scanner: StreamingScanner, audio: torch.Tensor, chunk: int) -> None:
    """Push ``audio`` (B, S) through ``scanner``, started afresh, in chunks of ``chunk`` samples."""
    scanner.reset()
    for part in audio.split(chunk, dim=-1):
        scanner.push(part)
    if scanner.device.type == "cuda":
        torch.cuda.synchronize()


def add_spotter_arguments(parser: argparse.ArgumentParser, experiment: str, experiment_help: str) -> None:
    """``--checkpoint``, ``--experiment`` and ``--model``: the spotter a bench measures (:func:`load_spotter`)."""
    parser.add_argument("--checkpoint", help="a trained model.pt (default: an untrained --model)")
    parser.add_argument("--experiment", default=experiment,
                        help=f"conf/experiment/<name> when no checkpoint is given ({experiment_help})")
    parser.add_argument("--model", help="conf/model/<name> instead of the experiment's")


def load_spotter(checkpoint: str | None, model: str | None, experiment: str) -> KeywordSpotter:
    """A trained checkpoint, or an untrained spotter of ``experiment`` (its own body unless ``model`` is given)."""
    if checkpoint:
        return KeywordSpotter.load(checkpoint)
    overrides = [f"experiment={experiment}"] + ([f"model={model}"] if model else [])
    return KeywordSpotter.from_config(compose_config("train", overrides)).eval()


def cuda_streams(spotter: KeywordSpotter, runtime: str) -> None:
    """Real-time factor per batch size on CUDA: B streams are real time while compute < audio time."""
    print(f"\nCUDA ({torch.cuda.get_device_name()}), {CUDA_SECONDS:.0f} s per stream, "
          f"{PER_STREAM_CHUNK_MS} ms chunks")
    chunk = SAMPLE_RATE * PER_STREAM_CHUNK_MS // 1000
    for batch in CUDA_BATCHES:
        audio = 0.1 * torch.randn(batch, int(CUDA_SECONDS * SAMPLE_RATE), device="cuda")
        scanner = StreamingScanner(spotter, batch_size=batch, device="cuda", runtime=runtime)
        stream_all(scanner, audio[:, :chunk * 4], chunk)  # warm-up: kernels, allocator
        seconds = best_of(1, lambda: stream_all(scanner, audio, chunk))
        speed = CUDA_SECONDS / seconds
        print(f"  B={batch:6d}  {seconds:7.3f} s  x{speed:8.1f} real time  "
              f"{'real time' if speed >= 1 else 'TOO SLOW'}  ({batch * speed:,.0f} stream-seconds/s)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m asr_cnn.bench scan", description=__doc__)
    add_spotter_arguments(parser, "default", "e.g. mfcc_tdnn: the small TDNN over MFCCs")
    parser.add_argument("--seconds", type=float, default=60.0, help="audio length (>= 60 for the contract)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--runtime", choices=RUNTIMES, default="auto", help="the scanner's runtime")
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    spotter = load_spotter(args.checkpoint, args.model, args.experiment)
    audio = 0.1 * torch.randn(1, int(args.seconds * SAMPLE_RATE))
    torch.set_num_threads(1)  # the per-stream figure is for one stream on one thread
    scanner = StreamingScanner(spotter, runtime=args.runtime)
    print(f"model {spotter.config.get('model', {}).get('_target_', '?')}: window {spotter.window_samples} samples, "
          f"hop {spotter.hop_samples} samples; {args.seconds:.0f} s of audio, 1 thread, best of {args.repeats}, "
          f"{scanner.runtime} runtime")  # naming the runtime builds it, before any timing

    offline = best_of(args.repeats, lambda: scan(spotter, audio))
    print(f"offline scan        {offline * 1e3:9.1f} ms")
    streaming = {}
    for ms in CHUNK_MS:
        chunk = SAMPLE_RATE * ms // 1000
        streaming[ms] = best_of(args.repeats, lambda: stream_all(scanner, audio, chunk))
        print(f"streaming {ms:5d} ms  {streaming[ms] * 1e3:9.1f} ms   x{streaming[ms] / offline:5.2f} offline")
    naive = best_of(1, lambda: naive_scan(spotter, audio))
    print(f"naive scan          {naive * 1e3:9.1f} ms")

    at_80 = streaming[PER_STREAM_CHUNK_MS]
    per_80ms = at_80 * 1e3 / (args.seconds * 1000 / PER_STREAM_CHUNK_MS)
    print(f"\nstreaming / offline at 80 ms: {at_80 / offline:.2f}   (target <= 1.5)")
    print(f"naive / streaming at 80 ms:   {naive / at_80:.1f}   (target >= 20)")
    print(f"CPU per 80 ms of audio:       {per_80ms:.3f} ms   (target <= 0.5; real-time factor x{80 / per_80ms:.0f})")
    if torch.cuda.is_available():
        cuda_streams(spotter.to("cuda"), args.runtime)
    else:
        print("\nno CUDA device: multi-stream GPU figures skipped")
    return 0

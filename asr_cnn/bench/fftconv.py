"""Direct versus FFT convolution over kernel lengths: ``python -m asr_cnn.bench.fftconv``.

Prints, for a fixed (B, C, T), the time of each method per kernel length, the measured crossover (the
shortest kernel from which the FFT stays faster), and the :data:`~asr_cnn.layers.fftconv.FFT_COST_SCALE`
that would make the cost model's crossover match this machine's.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch

from asr_cnn.fft import fft_size
from asr_cnn.layers.fftconv import FFT_COST_SCALE, FFTConv1d, direct_cost, fft_cost

KERNELS = (3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)


def time_call(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` in seconds, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def crossover(kernels: list[int], fft_faster: list[bool]) -> int | None:
    """Shortest kernel from which the FFT is faster for every longer kernel in the sweep (None if never)."""
    first = None
    for kernel, faster in zip(kernels, fft_faster):
        if faster and first is None:
            first = kernel
        elif not faster:
            first = None
    return first


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--channels", type=int, default=32, help="C_in = C_out")
    parser.add_argument("--frames", type=int, default=2048, help="T, input frames (10 ms each)")
    parser.add_argument("--kernels", type=int, nargs="+", default=list(KERNELS))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    kernels = [k for k in args.kernels if k < args.frames]
    b, c, t = args.batch, args.channels, args.frames
    torch.manual_seed(0)
    x = torch.randn(b, c, t)
    n_fft = fft_size(t)
    print(f"B={b} C={c} T={t} N_fft={n_fft} threads={torch.get_num_threads()} torch={torch.__version__}")
    print(f"{'kernel':>6} {'direct ms':>10} {'fft ms':>8} {'faster':>7} {'model':>7} {'scale fit':>10}")
    fft_faster, fits = [], []
    with torch.no_grad():
        for k in kernels:
            layer = FFTConv1d(c, c, k)
            times = {}
            for method in ("direct", "fft"):
                layer.method = method
                times[method] = time_call(lambda: layer(x), args.repeats)
            layer.method = "auto"
            # The scale at which the model would call this kernel a tie on this machine.
            per_madd = times["direct"] / direct_cost(b, c, c, k, t - k + 1)
            fit = times["fft"] / fft_cost(b, c, c, n_fft) / per_madd
            fft_faster.append(times["fft"] < times["direct"])
            fits.append(fit)
            print(f"{k:>6} {times['direct'] * 1e3:>10.2f} {times['fft'] * 1e3:>8.2f} "
                  f"{'fft' if fft_faster[-1] else 'direct':>7} {layer.choose_method(b, t):>7} {fit:>10.2f}")
    measured = crossover(kernels, fft_faster)
    print(f"measured crossover: FFT faster from kernel length {measured}")
    if measured is not None and kernels.index(measured) > 0:
        i = kernels.index(measured)
        # The tie lies between the last direct-faster kernel and the first FFT-faster one.
        print(f"calibrated FFT_COST_SCALE ~ {math.sqrt(fits[i - 1] * fits[i]):.2f} (in use: {FFT_COST_SCALE})")


if __name__ == "__main__":
    main()

"""Fast FFT sizes, shared by FFT convolution (layers) and FFT filtering (data augmentation)."""

from __future__ import annotations

from functools import cache

FFT_RADICES = (2, 3, 5)
"""Factors the FFT library handles fastest; transform sizes are products of these."""


@cache
def fft_size(n: int) -> int:
    """Smallest ``N >= max(n, 1)`` whose only prime factors are 2, 3 and 5 (a fast transform size).

    An FFT of an awkward length (a large prime factor, e.g. 31999) is ~10x slower, and the next power of
    two can be almost twice the work.
    """
    size = max(1, n)
    while True:
        rest = size
        for radix in FFT_RADICES:
            while rest % radix == 0:
                rest //= radix
        if rest == 1:
            return size
        size += 1

"""FFT lengths that are fast: filtering by FFT pads to one of these instead of the exact length."""

from __future__ import annotations

from functools import cache

_FACTORS = (2, 3, 5)


@cache
def fft_length(minimum: int) -> int:
    """The smallest length >= ``minimum`` whose only prime factors are 2, 3 and 5.

    An FFT of such a length is fast; an awkward one (a large prime factor, e.g. 31999) is 10x slower, and
    the next power of two can be almost twice the work.
    """
    length = max(1, minimum)
    while True:
        rest = length
        for factor in _FACTORS:
            while rest % factor == 0:
                rest //= factor
        if rest == 1:
            return length
        length += 1

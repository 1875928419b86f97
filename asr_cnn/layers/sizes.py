"""Output sizes of convolution and pooling, the "same" padding rule, and receptive fields.

Along one axis of N inputs, a kernel of M taps spaced D apart and moved S at a time, over an input
padded with P zeros in all, yields ``(N + P - D (M - 1) - 1) // S + 1`` outputs: the lecture's
``(N - M) / S + 1`` with dilation and padding folded in.
"""

from __future__ import annotations

from collections.abc import Iterable

from torch import nn

from asr_cnn.layers.sequential import compose_context


def conv_output_size(n: int, kernel_size: int, stride: int = 1, dilation: int = 1, padding: int = 0) -> int:
    """Outputs of a convolution along one axis.

    Args:
        n: Input length N.
        kernel_size: Taps M.
        stride: Step S between outputs.
        dilation: Spacing D between taps.
        padding: Total zeros added, PL + PR.

    Raises:
        ValueError: An argument is out of range, or the input is shorter than one receptive field.
    """
    if kernel_size < 1 or stride < 1 or dilation < 1 or padding < 0:
        raise ValueError(f"need kernel_size, stride, dilation >= 1 and padding >= 0, got kernel_size={kernel_size}, "
                         f"stride={stride}, dilation={dilation}, padding={padding}")
    size = (n + padding - dilation * (kernel_size - 1) - 1) // stride + 1
    if size < 1:
        raise ValueError(f"input of length {n} (padding {padding}) is shorter than the receptive field "
                         f"{dilation * (kernel_size - 1) + 1} (kernel_size={kernel_size}, dilation={dilation})")
    return size


def pool_output_size(n: int, kernel_size: int, stride: int | None = None, padding: int = 0) -> int:
    """Outputs of pooling along one axis; ``stride`` defaults to ``kernel_size`` (non-overlapping blocks).

    Raises:
        ValueError: As :func:`conv_output_size`.
    """
    return conv_output_size(n, kernel_size, kernel_size if stride is None else stride, 1, padding)


def same_padding(kernel_size: int, dilation: int = 1) -> tuple[int, int]:
    """Zeros ``(PL, PR)`` that keep the length at stride 1: PL + PR = D (M - 1), |PL - PR| <= 1.

    An even kernel cannot be centred, so the extra zero goes on the right (PyTorch's ``"same"``).

    Raises:
        ValueError: ``kernel_size`` or ``dilation`` is below 1.
    """
    if kernel_size < 1 or dilation < 1:
        raise ValueError(f"need kernel_size, dilation >= 1, got kernel_size={kernel_size}, dilation={dilation}")
    total = dilation * (kernel_size - 1)
    return total // 2, total - total // 2


def as_pair(value: int | tuple[int, int] | list[int], name: str) -> tuple[int, int]:
    """``(frequency, time)`` from one int (both axes) or a pair.

    Raises:
        ValueError: Not an int or a pair of ints, or an entry below 1.
    """
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v >= 1 for v in pair):
        raise ValueError(f"{name} must be a positive int or a (frequency, time) pair of them, got {value!r}")
    return pair


def check_time_stride(context: int, stride: int) -> None:
    """Reject a time stride longer than the receptive field (``stride > context + 1``).

    Such a layer never reads some input frames; streaming, whose buffer length is the stride phase,
    has no way to remember frames still to be skipped, so it would drift from ``forward``.

    Raises:
        ValueError: Naming both values.
    """
    if stride > context + 1:
        raise ValueError(f"time stride {stride} exceeds the receptive field of {context + 1} frames: "
                         "input frames would be skipped, which streaming cannot do; widen the kernel in time")


def receptive_field(layers: Iterable[nn.Module]) -> int:
    """Input frames one output of ``layers`` (applied in order) sees in time: context + 1."""
    return compose_context(layers)[0] + 1

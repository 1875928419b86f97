"""The fast CPU runtime: a model's streaming step for one scan hop as preallocated, time-major kernels.

Eager streaming spends its time on per-call overhead, not arithmetic: every layer concatenates its
carried frames, converts layouts and calls a convolution sized for a few frames. Here every layer's
work for one hop has fixed shapes (:mod:`asr_cnn.streaming.steady`), so its buffers are allocated once,
maps are kept time-major (a hop's frames are one block, channels last), and a convolution is one
matrix product of its taps' frames with its weight. :class:`FastStep` runs it,
:class:`~asr_cnn.streaming.hops.HopStepper` feeds it chunks of any size.
"""

from asr_cnn.streaming.fast.step import FastStep, FastStepError

__all__ = ["FastStep", "FastStepError"]

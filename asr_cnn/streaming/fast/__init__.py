"""The fast CPU runtime: a model's streaming step over blocks of scan hops as preallocated, time-major kernels.

Eager streaming spends its time on per-call overhead, not arithmetic: every layer concatenates its
carried frames, converts layouts and calls a convolution sized for a few frames. Here every layer's
work for a block of n hops has fixed shapes (:mod:`asr_cnn.streaming.steady`), so its buffers are allocated once,
maps are kept time-major (a hop's frames are one block, channels last), and a convolution is one
matrix product of its taps' frames with its weight, for all n hops at once. Since every tensor is fixed,
a block runs as one list of torch calls bound to them (:class:`~asr_cnn.streaming.fast.plan.Program`), without
a Python call per layer: what a single 80 ms hop pays beyond its arithmetic is the calls and the traffic
through the caches. :class:`FastStep` runs the kernels of each block size,
:class:`~asr_cnn.streaming.hops.HopStepper` feeds it chunks of any size.
"""

from asr_cnn.streaming.fast.step import FastStep, FastStepError

__all__ = ["FastStep", "FastStepError"]

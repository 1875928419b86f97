"""The runtimes that turn samples into logits for a scanner: eager streaming, or fixed-shape kernels."""

from __future__ import annotations

import warnings

import torch

from asr_cnn.layers.streaming import StreamingLayer, reset_streams
from asr_cnn.models.group import SpotterGroup
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.streaming.fast import FastStep, FastStepError
from asr_cnn.streaming.hops import HopStepper

RUNTIMES = ("auto", "fast", "eager")
"""``fast``: :mod:`asr_cnn.streaming.fast`; ``eager``: every layer's own ``streaming_forward``; ``auto``: fast
on CPU (eager on other devices, where the fast kernels are not measured yet, or when a model cannot step in
fixed shapes: a one-line warning says so)."""

Model = KeywordSpotter | SpotterGroup


def spotters_of(model: Model) -> list[KeywordSpotter]:
    """The spotters a scanner scores: the model itself, or every spotter of a group."""
    return model.spotters if isinstance(model, SpotterGroup) else [model]


class EagerEngine:
    """Every layer's own ``streaming_forward``, on chunks of any size.

    Args:
        model: A spotter or a group, on ``device``.
        batch_size: Streams B.
        device: Where the state lives.
        dtype: Its dtype.
    """

    name = "eager"

    def __init__(self, model: StreamingLayer, batch_size: int, device: torch.device, dtype: torch.dtype) -> None:
        self.model, self.batch_size, self.device, self.dtype = model, batch_size, device, dtype
        self.reset()

    def reset(self, streams: torch.Tensor | None = None) -> None:
        """Start every stream afresh (``None``), or zero the state of some (mask (B,))."""
        if streams is None:
            self.state = self.model.init_state(self.batch_size, self.device, self.dtype)
        else:
            self.state = reset_streams(self.state, streams)

    def push(self, chunk: torch.Tensor) -> list[torch.Tensor]:
        """Logits of the windows the chunk completes, per spotter.

        Shape:
            chunk: (B, S_chunk). Output: one (B, n_new_m, K_m) per spotter.
        """
        logits, self.state = self.model.streaming_forward(chunk, self.state)  # (B, K, n_new) or a list
        return [rows.transpose(1, 2) for rows in (logits if isinstance(logits, list) else [logits])]


class FastEngine:
    """A :class:`~asr_cnn.streaming.fast.FastStep` fed whole hops by a :class:`~asr_cnn.streaming.hops.HopStepper`.

    Args and raises: as :class:`EagerEngine`; :class:`~asr_cnn.streaming.fast.FastStepError` when the
    model cannot step in fixed shapes.
    """

    name = "fast"

    def __init__(self, model: Model, batch_size: int, device: torch.device, dtype: torch.dtype) -> None:
        self.step = FastStep(model, batch_size, device, dtype)
        spotters = spotters_of(model)
        self.hops = HopStepper(self.step, model.hop_samples, [s.window_samples for s in spotters],
                               [len(s.labels) for s in spotters], batch_size, device, dtype)

    def reset(self, streams: torch.Tensor | None = None) -> None:
        """Start every stream afresh (``None``), or zero the state of some (mask (B,))."""
        self.step.reset(streams)
        self.hops.reset(streams)

    def push(self, chunk: torch.Tensor) -> list[torch.Tensor]:
        """As :meth:`EagerEngine.push`."""
        return self.hops.push(chunk)


def chosen_runtime(runtime: str, device: torch.device | str) -> str:
    """``"fast"`` or ``"eager"``: what ``runtime`` means on ``device`` (before any fallback of ``"auto"``).

    Raises:
        ValueError: An unknown runtime.
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
    return "fast" if runtime == "fast" or (runtime == "auto" and torch.device(device).type == "cpu") else "eager"


def make_engine(model: Model, runtime: str, batch_size: int, device: torch.device,
                dtype: torch.dtype) -> EagerEngine | FastEngine:
    """The engine ``runtime`` asks for (see :data:`RUNTIMES`).

    Raises:
        ValueError: An unknown runtime, or ``"fast"`` for a model that cannot step in fixed shapes.
    """
    if chosen_runtime(runtime, device) == "eager":
        return EagerEngine(model, batch_size, device, dtype)
    try:
        return FastEngine(model, batch_size, device, dtype)
    except FastStepError as err:
        if runtime == "fast":
            raise ValueError(f"runtime='fast': {err}") from err
        warnings.warn(f"the fast runtime cannot step this model ({err}); streaming eagerly", RuntimeWarning,
                      stacklevel=3)
        return EagerEngine(model, batch_size, device, dtype)

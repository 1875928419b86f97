"""FastStep: one scan hop of a model as preallocated, time-major kernels."""

from __future__ import annotations

import torch

from asr_cnn.layers.streaming import StreamingLayer
from asr_cnn.streaming.fast.build import build
from asr_cnn.streaming.steady import steady_state


class FastStepError(RuntimeError):
    """The model cannot be stepped in fixed shapes; the message says why."""


class FastStep:
    """A model's streaming step for exactly one hop of samples, from the steady zero state.

    Each layer becomes a kernel with its buffers allocated once (see :mod:`asr_cnn.streaming.fast`); a call
    writes the hop into them, runs every kernel and returns one row of logits per model. Equal to the
    model's streaming to float tolerance (a matrix product sums in another order than a convolution).

    Args:
        model: A spotter, or several over one backbone (a layer whose streaming returns a list of logits).
        batch_size: Streams B.
        device: Where buffers and weights live (the model's device).
        dtype: Compute dtype.

    Attributes:
        eager: Names of the layers without a fast kernel, which run their own streaming inside the step.

    Raises:
        FastStepError: The model's state never settles to fixed shapes, or a hop does not yield one row.
    """

    def __init__(self, model: StreamingLayer, batch_size: int = 1, device: torch.device | str = "cpu",
                 dtype: torch.dtype = torch.float32) -> None:
        self.hop = model.hop_samples
        try:
            template = steady_state(model, batch_size)
        except RuntimeError as err:
            raise FastStepError(str(err)) from err
        with torch.inference_mode():
            example = torch.zeros(batch_size, self.hop, device=device, dtype=dtype)  # (B, hop)
            self.kernel, out, self.eager = build(model, template, example)
        self.single = not isinstance(out, list)
        rows = {o.shape[0] for o in ([out] if self.single else out)}
        if rows != {1}:
            raise FastStepError(f"one hop of {self.hop} samples gives {sorted(rows)} rows, not one per model")

    def __call__(self, chunk: torch.Tensor, commit: bool = True) -> list[torch.Tensor]:
        """Logits of the window each model completes with this hop; the state moves on only when ``commit``.

        Shape:
            chunk: (B, hop). Output: one (B, K_m) per model.
        """
        out = self.kernel(chunk, commit)
        return [row[0].clone() for row in ([out] if self.single else out)]  # the buffers are reused next hop

    def reset(self, streams: torch.Tensor | None = None) -> None:
        """Zero the state of some streams (boolean mask (B,)), or of all when ``None``."""
        self.kernel.reset(streams)

"""ONNX export of one streaming step, with the state as explicit inputs and outputs.

The exported graph maps ``(chunk, *state_in) -> (posteriors, *state_out)`` for a chunk of exactly
``spotter.hop_samples`` samples: one score row per step. State tensors carry the dotted names of
:func:`~asr_cnn.layers.streaming.flatten_state` (``state_in.body.layer1.tdnn.buffer``) and the shapes they
settle to once a stream runs (the PyTorch buffers start empty and grow; ONNX wants fixed shapes).

Starting a stream: feed zeros of those shapes as the first state. The first ``lag`` rows are then
windows that began before the stream (partly made of that zero state, not of audio) and must be
dropped; ``lag = ceil(window / hop) - 1`` is stored in the model's metadata, and :class:`OnnxStreamer`
drops them. From row ``lag`` on, the scores equal :class:`~asr_cnn.streaming.StreamingScanner`'s.

torch's TorchScript exporter (``dynamo=False``) cannot export the front end's ``torch.fft.rfft``, so the
dynamo exporter (``torch.export`` + onnxscript) is used; the batch axis stays dynamic.
"""

from __future__ import annotations

import copy
import json
import math
import os
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from omegaconf import DictConfig
from torch import nn

from asr_cnn.files import atomic_write
from asr_cnn.layers.streaming import State, flatten_state
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.placement import placement
from asr_cnn.streaming.scan import as_batch

OPSET = 18
"""ONNX opset: the dynamo exporter's DFT and the ops of every body."""

CHUNK, POSTERIORS = "chunk", "posteriors"
STATE_IN, STATE_OUT = "state_in.", "state_out."
EXAMPLE_BATCH = 2
"""Batch of the example inputs: torch.export specialises axes of size 1, which would fix the batch to 1."""

TORCH_EXPORT_NOTICES = (r".*isinstance\(treespec, LeafSpec\)", r"# The axis name: batch will not be used")

MAX_WARM_UP_HOPS = 10_000
"""Give up finding steady state shapes after this many hops (no real window needs minutes)."""


def lag_rows(spotter: KeywordSpotter) -> int:
    """Rows an exported stream emits before its first window that lies wholly inside the stream."""
    return math.ceil(spotter.window_samples / spotter.hop_samples) - 1


def steady_state(spotter: KeywordSpotter, batch_size: int = 1) -> State:
    """Zeros shaped like the state of a stream that has run long enough for every buffer to settle.

    Hop-sized chunks are pushed until a score row has come out and no state shape changes any more.

    Raises:
        RuntimeError: The shapes still change after ``MAX_WARM_UP_HOPS`` hops.
    """
    state = spotter.init_state(batch_size, **placement(spotter))
    silence = torch.zeros(batch_size, spotter.hop_samples, **placement(spotter))  # (B, hop)
    shapes = None
    with torch.inference_mode():
        for _ in range(MAX_WARM_UP_HOPS):
            rows, state = spotter.streaming_forward(silence, state)
            now = {name: value.shape for name, value in flatten_state(state).items()}
            if rows.shape[-1] and now == shapes:
                return zeros_like_state(state)
            shapes = now
    raise RuntimeError(f"state shapes still change after {MAX_WARM_UP_HOPS} hops; cannot export a fixed-shape step")


def zeros_like_state(state: State) -> State:
    """The same nesting (empty dicts of stateless layers included), every tensor replaced by normal zeros."""
    return {key: zeros_like_state(value) if isinstance(value, dict) else torch.zeros(value.shape, device=value.device)
            for key, value in state.items()}


def fill_state(template: State, flat: dict[str, torch.Tensor], prefix: str = "") -> State:
    """Nest flat dotted-name tensors like ``template`` (keeping the empty dicts that flattening drops)."""
    return {key: fill_state(value, flat, f"{prefix}{key}.") if isinstance(value, dict) else flat[f"{prefix}{key}"]
            for key, value in template.items()}


class StreamingStep(nn.Module):
    """One scan hop of a spotter as a pure function of explicit, flat state: the module that is exported.

    Args:
        spotter: The model (in eval mode).
        template: A state of the steady shapes, giving the nesting and the order of the names.
    """

    def __init__(self, spotter: KeywordSpotter, template: State) -> None:
        super().__init__()
        self.spotter, self.template = spotter, template
        self.names = list(flatten_state(template))

    def forward(self, chunk: torch.Tensor, *state: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Posteriors of the one window this hop completes, and the next state.

        Shape:
            chunk: (B, hop_samples). state: tensors shaped as ``template``. Output posteriors: (B, K).
        """
        logits, new_state = self.spotter.streaming_forward(chunk, fill_state(self.template, dict(zip(self.names, state))))
        flat = flatten_state(new_state)
        return (logits[..., 0].softmax(-1), *(flat[name] for name in self.names))  # (B, K, 1) -> (B, K)


def export_onnx(spotter: KeywordSpotter, path: str | os.PathLike, opset: int = OPSET) -> Path:
    """Write the streaming step of ``spotter`` as ONNX, with its use in the metadata.

    Metadata (JSON values): ``labels``, ``sample_rate``, ``hop_samples``, ``window_samples``, ``lag``,
    ``state`` (names and steady shapes, batch axis first).

    Returns:
        The written path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    spotter = copy.deepcopy(spotter).cpu().eval()  # the caller's model keeps its device and mode
    template = steady_state(spotter, EXAMPLE_BATCH)
    step = StreamingStep(spotter, template).eval()
    state = [flatten_state(template)[name] for name in step.names]
    batch = torch.export.Dim("batch")
    with warnings.catch_warnings():
        # torch's own notices (a deprecated pytree check; every input sharing the one "batch" axis): no action.
        for message in TORCH_EXPORT_NOTICES:
            warnings.filterwarnings("ignore", message=message)
        program = torch.onnx.export(
            step, (torch.zeros(EXAMPLE_BATCH, spotter.hop_samples), *state), dynamo=True, opset_version=opset,
            input_names=[CHUNK, *(STATE_IN + name for name in step.names)],
            output_names=[POSTERIORS, *(STATE_OUT + name for name in step.names)],
            dynamic_shapes=({0: batch}, tuple({0: batch} for _ in state)), verbose=False)
    model = program.model_proto
    metadata = {"labels": spotter.labels, "sample_rate": spotter.sample_rate, "hop_samples": spotter.hop_samples,
                "window_samples": spotter.window_samples, "lag": lag_rows(spotter),
                "state": {name: [None, *tensor.shape[1:]] for name, tensor in zip(step.names, state)}}
    onnx.helper.set_model_props(model, {key: json.dumps(value) for key, value in metadata.items()})
    with atomic_write(path) as tmp:  # never a half-written model at `path`
        onnx.save(model, tmp)
    return path


class OnnxStreamer:
    """Runs an exported step with onnxruntime, with the interface of a StreamingScanner.

    Buffers samples to whole hops, starts every stream from the zero state and drops the ``lag``
    rows that precede the first window, so ``push`` returns exactly the scanner's rows. A window that ends
    inside a hop (window not a multiple of the hop) is scored as soon as its samples are in, with zeros
    standing in for the rest of the hop, which its row does not read; the state moves on only with whole hops.
    Input is sanitised as the scanner does it (non-finite samples -> 0, then clipped to [-1, 1]).

    Args:
        path: An ONNX file written by :func:`export_onnx`.
        batch_size: Streams B.
        providers: onnxruntime execution providers (default: CPU).
    """

    def __init__(self, path: str | os.PathLike, batch_size: int = 1, providers: list[str] | None = None) -> None:
        import onnxruntime  # imported here: only users of exported models need it

        self.session = onnxruntime.InferenceSession(str(path), providers=providers or ["CPUExecutionProvider"])
        meta = {key: json.loads(value) for key, value in self.session.get_modelmeta().custom_metadata_map.items()}
        self.labels, self.hop, self.lag = meta["labels"], meta["hop_samples"], meta["lag"]
        self.ready = meta["window_samples"] % self.hop or self.hop  # samples into a hop that complete its window
        self.state_shapes = meta["state"]
        self.batch_size = batch_size
        self.reset()

    def reset(self) -> None:
        """Start every stream afresh."""
        self.state = {STATE_IN + name: np.zeros((self.batch_size, *shape[1:]), np.float32)
                      for name, shape in self.state_shapes.items()}
        self.pending = np.zeros((self.batch_size, 0), np.float32)
        self.to_drop = self.lag
        self.early = False  # the next hop's row was returned before the hop was whole

    def push(self, chunk: torch.Tensor | np.ndarray) -> np.ndarray:
        """Posteriors of the windows completed by the next samples.

        Shape:
            chunk: (B, S_chunk) or (S_chunk,) when B == 1. Output: (B, n_new, K).
        """
        chunk = as_batch(torch.as_tensor(chunk, dtype=torch.float32)).numpy()
        chunk = np.nan_to_num(chunk, nan=0.0, posinf=0.0, neginf=0.0).clip(-1.0, 1.0)  # as the scanner sanitises
        self.pending = np.concatenate([self.pending, chunk], axis=1)  # (B, S_pending)
        rows = []
        while self.pending.shape[1] >= self.hop:
            outputs = self.session.run(None, {CHUNK: self.pending[:, :self.hop], **self.state})
            self.state = {STATE_IN + name[len(STATE_OUT):]: value
                          for name, value in zip([o.name for o in self.session.get_outputs()][1:], outputs[1:])}
            self.pending = self.pending[:, self.hop:]
            if self.to_drop:
                self.to_drop -= 1
            elif self.early:
                self.early = False
            else:
                rows.append(outputs[0])
        if not self.to_drop and not self.early and self.pending.shape[1] >= self.ready:
            partial = np.pad(self.pending, ((0, 0), (0, self.hop - self.pending.shape[1])))  # (B, hop)
            rows.append(self.session.run([POSTERIORS], {CHUNK: partial, **self.state})[0])
            self.early = True
        return np.stack(rows, axis=1) if rows else np.zeros((self.batch_size, 0, len(self.labels)), np.float32)


def export(cfg: DictConfig) -> Path:
    """Entry point of ``recipes/export.py``: ``cfg.checkpoint`` -> ONNX at ``cfg.output``."""
    return export_onnx(KeywordSpotter.load(cfg.checkpoint), cfg.output, cfg.opset)

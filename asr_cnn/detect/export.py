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
from asr_cnn.recipes.config import ExportRecipe
from asr_cnn.schema import typed
from asr_cnn.streaming.hops import HopStepper
from asr_cnn.streaming.scan import as_batch
from asr_cnn.streaming.steady import fill_state, lag_rows, steady_state

OPSET = 18
"""ONNX opset: the dynamo exporter's DFT and the ops of every body."""

CHUNK, POSTERIORS = "chunk", "posteriors"
STATE_IN, STATE_OUT = "state_in.", "state_out."
EXAMPLE_BATCH = 2
"""Batch of the example inputs: torch.export specialises axes of size 1, which would fix the batch to 1."""

TORCH_EXPORT_NOTICES = (r".*isinstance\(treespec, LeafSpec\)", r"# The axis name: batch will not be used")

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
                "window_samples": spotter.window_samples,
                "lag": lag_rows(spotter.window_samples, spotter.hop_samples),
                "state": {name: [None, *tensor.shape[1:]] for name, tensor in zip(step.names, state)}}
    onnx.helper.set_model_props(model, {key: json.dumps(value) for key, value in metadata.items()})
    with atomic_write(path) as tmp:  # never a half-written model at `path`
        onnx.save(model, tmp)
    return path


class OnnxStreamer:
    """Runs an exported step with onnxruntime, with the interface of a StreamingScanner.

    A :class:`~asr_cnn.streaming.hops.HopStepper` buffers samples to whole hops, starts every stream from
    the zero state and drops the ``lag`` rows that precede the first window, so ``push`` returns exactly the
    scanner's rows. Input is sanitised as the scanner does it (non-finite samples -> 0, then clipped to [-1, 1]).

    Args:
        path: An ONNX file written by :func:`export_onnx`.
        batch_size: Streams B.
        providers: onnxruntime execution providers (default: CPU).
    """

    def __init__(self, path: str | os.PathLike, batch_size: int = 1, providers: list[str] | None = None) -> None:
        import onnxruntime  # imported here: only users of exported models need it

        self.session = onnxruntime.InferenceSession(str(path), providers=providers or ["CPUExecutionProvider"])
        meta = {key: json.loads(value) for key, value in self.session.get_modelmeta().custom_metadata_map.items()}
        self.labels, self.state_shapes, self.batch_size = meta["labels"], meta["state"], batch_size
        self.outputs = [output.name for output in self.session.get_outputs()]
        self.hops = HopStepper(self.step, meta["hop_samples"], [meta["window_samples"]], [len(self.labels)], batch_size)
        self.reset()

    def reset(self) -> None:
        """Start every stream afresh."""
        self.state = {STATE_IN + name: np.zeros((self.batch_size, *shape[1:]), np.float32)
                      for name, shape in self.state_shapes.items()}
        self.hops.reset()

    def step(self, chunk: torch.Tensor, commit: bool) -> list[torch.Tensor]:
        """Whole hops through the exported graph, one hop per run; the state moves on only when ``commit``.

        Shape:
            chunk: (B, n * hop_samples). Output: [posteriors (B, n, K)].
        """
        rows = []
        for hop in chunk.split(self.hops.hop, dim=1):
            outputs = self.session.run(None, {CHUNK: np.ascontiguousarray(hop.numpy()), **self.state})
            if commit:
                self.state = {STATE_IN + name[len(STATE_OUT):]: value
                              for name, value in zip(self.outputs[1:], outputs[1:])}
            rows.append(torch.from_numpy(outputs[0]))  # (B, K)
        return [torch.stack(rows, dim=1)]

    def push(self, chunk: torch.Tensor | np.ndarray) -> np.ndarray:
        """Posteriors of the windows completed by the next samples.

        Shape:
            chunk: (B, S_chunk) or (S_chunk,) when B == 1. Output: (B, n_new, K).
        """
        chunk = as_batch(torch.as_tensor(chunk, dtype=torch.float32))
        chunk = torch.nan_to_num(chunk, nan=0.0, posinf=0.0, neginf=0.0).clamp(-1.0, 1.0)  # as the scanner sanitises
        return self.hops.push(chunk)[0].numpy()


def export(cfg: DictConfig) -> Path:
    """Entry point of ``recipes/export.py``: ``cfg.checkpoint`` -> ONNX at ``cfg.output``.

    Args:
        cfg: Composed ``conf/export.yaml`` (:class:`~asr_cnn.recipes.config.ExportRecipe`).
    """
    recipe = typed(ExportRecipe, cfg, "")
    return export_onnx(KeywordSpotter.load(recipe.checkpoint), recipe.output, recipe.opset)

"""Model summary: per layer output shape, parameters, multiply-adds per window and per scan hop, receptive field.

    python -m asr_cnn.summary model=res8        # a model config on the primary (log-mel) front end
    python -m asr_cnn.summary experiment=default # the model an experiment trains

A *row* is a front end, a leaf streaming layer (a convolution, a pooling layer, the window head) or a
parametrised frame-wise module between them (batch norm). Its parameters are what it holds, which for a
convolution is K_l (K_{l-1} M_l^2 + 1) (2-D; K_l (K_{l-1} M_l + 1) in 1-D; K_{l-1} per group for grouped
and depthwise ones).

Multiply-adds count the weighted sums of convolutions and linear maps (batch norm folds into them at
inference; activations and max pooling are comparisons): per window, what classifying one window from
scratch costs; per hop, what streaming spends on each new score, every frame of every layer computed
once. The front end counts its mel (and DCT) matrices plus ~2 N log2 N for a real N-point FFT.

The receptive field of a row is measured in front-end frames from the valid-in-time sizes: its first
output needs ``context + 1`` frames and each later one ``stride`` more; in milliseconds it spans
``context * hop + win`` samples.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field

import torch
from torch import nn

from asr_cnn.layers.streaming import StreamingLayer
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.placement import placement

MS_PER_SECOND = 1000.0
FFT_MACS_PER_POINT_LOG2 = 2  # a real N-point FFT costs about 2 N log2 N multiply-adds


@dataclass
class LayerRow:
    """One line of the summary.

    Attributes:
        name: Dotted module name inside the spotter.
        kind: Class name.
        output_shape: Output for one window, batch dropped (C, [F,] T).
        params: Parameters held.
        macs_window: Multiply-adds to compute its outputs for one window.
        macs_hop: Multiply-adds per scan hop when streaming.
        rf_frames: Front-end frames one output sees (for the front end itself: 1).
        rf_ms: The same in milliseconds of audio.
        stride: Front-end frames between consecutive outputs.
    """

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    macs_window: int
    macs_hop: float
    rf_frames: int
    rf_ms: float
    stride: int


@dataclass
class ModelSummary:
    """All rows plus totals for one spotter."""

    rows: list[LayerRow]
    window_samples: int
    hop_samples: int
    sample_rate: int
    labels: list[str] = field(default_factory=list)

    @property
    def params(self) -> int:
        return sum(row.params for row in self.rows)

    @property
    def macs_window(self) -> int:
        return sum(row.macs_window for row in self.rows)

    @property
    def macs_hop(self) -> float:
        return sum(row.macs_hop for row in self.rows)


def summary_rows(spotter: KeywordSpotter) -> list[tuple[str, nn.Module]]:
    """The modules shown as rows, in registration (= execution) order."""
    rows: list[tuple[str, nn.Module]] = []

    def visit(name: str, module: nn.Module) -> None:
        leaf = not any(isinstance(m, StreamingLayer) for m in module.modules() if m is not module)
        if isinstance(module, StreamingLayer) and leaf:
            rows.append((name, module))
        elif isinstance(module, (StreamingLayer, nn.ModuleDict, nn.ModuleList)):  # a holder is never called itself
            for child_name, child in module.named_children():
                visit(f"{name}.{child_name}", child)
        elif any(True for _ in module.parameters()):
            rows.append((name, module))

    for name, child in spotter.named_children():
        visit(name, child)
    return rows


def frontend_macs_per_frame(frontend: nn.Module) -> int:
    """Mel/DCT matrix products plus the FFT of one frame."""
    matrices = sum(buffer.numel() for buffer in frontend.buffers() if buffer.dim() == 2)
    n_fft = frontend.n_fft
    return matrices + FFT_MACS_PER_POINT_LOG2 * n_fft * int(math.log2(n_fft))


@torch.no_grad()
def window_costs(spotter: KeywordSpotter, rows: list[tuple[str, nn.Module]]) -> tuple[dict, dict]:
    """Output shapes and multiply-adds per row for one window.

    Each module that holds a weight matrix or kernel adds ``output elements x weight[0].numel()`` (exact
    for convolutions, grouped ones included, and linear maps). A weight used functionally, whose module
    is never called (e.g. a TDNN with irregular offsets), is charged ``weight.numel()`` per output
    position of its row instead.
    """
    shapes: dict[str, tuple[int, ...]] = {}
    macs = {name: 0 for name, _ in rows}
    called: set[int] = set()
    hooks = []
    for name, row in rows:
        hooks.append(row.register_forward_hook(lambda m, i, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:]))))
        for module in row.modules():
            weight = module._parameters.get("weight")
            if weight is not None and weight.dim() >= 2:
                def count(m, i, out, name=name, weight=weight):
                    called.add(id(m))
                    macs[name] += out[0].numel() * weight[0].numel()
                hooks.append(module.register_forward_hook(count))
    try:
        spotter(torch.zeros(1, spotter.window_samples, **placement(spotter)))
    finally:
        for hook in hooks:
            hook.remove()
    for name, row in rows:
        positions = math.prod(shapes[name][1:])  # output positions per channel (F' x T', or T')
        for module in row.modules():
            weight = module._parameters.get("weight")
            if weight is not None and weight.dim() >= 2 and id(module) not in called:
                macs[name] += weight.numel() * positions
    return shapes, macs


@torch.no_grad()
def body_fields(spotter: KeywordSpotter, rows: list[tuple[str, nn.Module]]) -> dict[str, tuple[int, int]]:
    """``(context, stride)`` in front-end frames of every row after the front end, from its output lengths.

    Runs body and head on every input length from the shortest they accept (their context + 1 frames)
    to two scan hops longer. Valid in time, a row with context c and stride s gives (T - c - 1) // s + 1
    outputs for T >= c + 1 frames, so the lengths at which its output grows are s apart and the first
    one gives c. Exact whatever the topology (residual branches included); every probe is long enough
    for every row, so any error is a real fault and propagates.
    """
    names = [name for name, _ in rows if not name.startswith("frontend")]
    lengths: dict[str, dict[int, int]] = {name: {} for name in names}  # row -> {input frames: output frames}
    frontend = spotter.frontend
    shortest = (spotter.context - frontend.context) // frontend.stride + 1  # body + head, in frames
    hop_frames = spotter.stride // frontend.stride
    probe_lengths = range(shortest, shortest + 2 * hop_frames + 1)  # two growths of every row (s <= hop)
    frames = shortest  # read by the hooks when they fire: the length being probed
    hooks = [module.register_forward_hook(lambda m, i, out, name=name: lengths[name].__setitem__(frames, out.shape[-1]))
             for name, module in rows if name in lengths]
    try:
        for frames in probe_lengths:
            spotter.classify_features(torch.zeros(1, frontend.n_features, frames, **placement(spotter)))
    finally:
        for hook in hooks:
            hook.remove()
    fields = {}
    for name, outputs in lengths.items():
        grows = [t for t in probe_lengths[1:] if outputs[t] > outputs[t - 1]]
        stride = grows[1] - grows[0]
        fields[name] = (grows[0] - 1 - stride * (outputs[grows[0]] - 1), stride)
    return fields


def summarize(spotter: KeywordSpotter) -> ModelSummary:
    """Measure every row of a spotter (in eval mode; its training mode is restored)."""
    was_training = spotter.training
    spotter.eval()
    try:
        rows = summary_rows(spotter)
        shapes, macs = window_costs(spotter, rows)
        fields = body_fields(spotter, rows)
    finally:
        spotter.train(was_training)
    frontend = spotter.frontend
    hop_frames = spotter.hop_samples // frontend.hop_length  # front-end frames per scan hop
    ms_per_sample = MS_PER_SECOND / frontend.sample_rate
    result = []
    for name, module in rows:
        params = sum(p.numel() for p in module.parameters())
        if name == "frontend":
            per_frame = frontend_macs_per_frame(frontend)
            frames = shapes[name][-1]
            result.append(LayerRow(name, type(module).__name__, shapes[name], params, per_frame * frames,
                                   float(per_frame * hop_frames), 1, frontend.win_length * ms_per_sample, 1))
            continue
        context, stride = fields[name]
        per_output = macs[name] / shapes[name][-1]
        rf_ms = (context * frontend.hop_length + frontend.win_length) * ms_per_sample
        result.append(LayerRow(name, type(module).__name__, shapes[name], params, macs[name],
                               per_output * hop_frames / stride, context + 1, rf_ms, stride))
    return ModelSummary(result, spotter.window_samples, spotter.hop_samples, frontend.sample_rate, spotter.labels)


def format_summary(summary: ModelSummary) -> str:
    """A plain-text table with totals (also valid Markdown)."""
    ms = MS_PER_SECOND / summary.sample_rate
    header = ("layer", "type", "output", "params", "MACs/window", "MACs/hop", "RF frames", "RF ms", "stride")
    lines = [
        f"window {summary.window_samples} samples ({summary.window_samples * ms:.0f} ms), "
        f"scan hop {summary.hop_samples} samples ({summary.hop_samples * ms:.0f} ms), {len(summary.labels)} classes",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in summary.rows:
        shape = "x".join(str(n) for n in row.output_shape)
        lines.append(f"| {row.name} | {row.kind} | {shape} | {row.params:,} | {row.macs_window:,} | "
                     f"{row.macs_hop:,.0f} | {row.rf_frames} | {row.rf_ms:.0f} | {row.stride} |")
    lines.append(f"| total | | | {summary.params:,} | {summary.macs_window:,} | {summary.macs_hop:,.0f} | | | |")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    """Compose ``conf/train.yaml`` with the given overrides, build the untrained spotter, print its summary.

    Without an ``experiment=...`` override the experiment is left out, so ``model=<name>`` describes
    that model config on the primary front end rather than on the default experiment's.
    """
    from asr_cnn.config import compose_config

    chosen = any(arg.lstrip("~+").startswith("experiment") for arg in argv)
    spotter = KeywordSpotter.from_config(compose_config("train", argv if chosen else ["~experiment", *argv]))
    print(format_summary(summarize(spotter)))


if __name__ == "__main__":
    main(sys.argv[1:])

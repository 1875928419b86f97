"""Receptive fields of a trained body: analytic from the layers, empirical by back-propagation to the input.

    python -m asr_cnn.receptive_field checkpoint=<model.pt> [channel=0] [output=<png>]

Analytic: body output ``j`` reads input frames ``[j * stride, j * stride + context]`` (every layer is
valid in time). Empirical: the gradient of that one unit with respect to the input features, which is
non-zero only inside the analytic field, and an input optimised by gradient ascent to excite the unit
(with an L2 penalty so it stays bounded), plotted with the analytic edges.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from omegaconf import DictConfig

from asr_cnn.layers.streaming import StreamingLayer, available_outputs
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.training.plots import plot_receptive_field

MS_PER_SECOND = 1000.0
INIT_SCALE = 0.01  # gradient ascent starts from small noise, so no frame is favoured at the start


@dataclass
class FieldResult:
    """Analytic and measured field of one unit.

    Attributes:
        analytic: First and last input frame the unit reads, per the layers' context and stride.
        empirical: First and last input frame with a non-zero gradient.
        gradient: Mean absolute gradient per input frame, shape (T,).
        optimised: Input features after gradient ascent, shape (F, T).
    """

    analytic: tuple[int, int]
    empirical: tuple[int, int]
    gradient: torch.Tensor
    optimised: torch.Tensor


def analytic_field(body: StreamingLayer, output_frame: int) -> tuple[int, int]:
    """First and last input frame read by output ``output_frame``."""
    first = output_frame * body.stride
    return first, first + body.context


def unit(body: StreamingLayer, features: torch.Tensor, channel: int, output_frame: int) -> torch.Tensor:
    """One scalar of the body's output: ``channel`` at ``output_frame`` (middle frequency bin for 2-D maps).

    Shape:
        features: (B, F, T). Output: (B,).
    """
    maps = body(features)  # (B, C, T') or (B, C, F', T')
    if maps.dim() == 4:
        maps = maps[:, :, maps.shape[2] // 2]  # (B, C, T'): the middle frequency row
    return maps[:, channel, output_frame]


def gradient_profile(body: StreamingLayer, n_features: int, frames: int, channel: int, output_frame: int,
                     trials: int = 64, seed: int = 0) -> torch.Tensor:
    """Mean absolute gradient of one unit w.r.t. each input frame, over random inputs.

    Several random inputs make it unlikely that a ReLU or max-pool silences an edge of the field.

    Shape:
        Output: (T,) with T = ``frames``.
    """
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(trials, n_features, frames, generator=generator).requires_grad_()  # (trials, F, T)
    unit(body, features, channel, output_frame).sum().backward()
    return features.grad.abs().mean(dim=(0, 1))  # (T,)


def optimise_input(body: StreamingLayer, n_features: int, frames: int, channel: int, output_frame: int,
                   steps: int = 200, lr: float = 0.05, l2: float = 0.01, seed: int = 0) -> torch.Tensor:
    """Gradient ascent on an input to maximise one unit, minus ``l2`` times its squared norm.

    Shape:
        Output: (F, T).
    """
    generator = torch.Generator().manual_seed(seed)
    features = (INIT_SCALE * torch.randn(1, n_features, frames, generator=generator)).requires_grad_()  # (1, F, T)
    optimiser = torch.optim.Adam([features], lr=lr)
    for _ in range(steps):
        optimiser.zero_grad()
        loss = -unit(body, features, channel, output_frame).sum() + l2 * features.pow(2).sum()
        loss.backward()
        optimiser.step()
    return features.detach()[0]


def measure(spotter: KeywordSpotter, channel: int = 0, steps: int = 200, lr: float = 0.05, l2: float = 0.01,
            seed: int = 0) -> FieldResult:
    """Analytic and empirical field of body output ``channel`` at its middle frame over one window.

    Raises:
        ValueError: ``channel`` is out of range.
    """
    body, n_features = spotter.body, spotter.frontend.n_features
    if not 0 <= channel < body.out_channels:
        raise ValueError(f"channel must be in [0, {body.out_channels}), got {channel}")
    frames = (spotter.window_samples - spotter.frontend.win_length) // spotter.frontend.hop_length + 1
    output_frame = available_outputs(frames, body.context, body.stride) // 2
    was_training = spotter.training
    spotter.eval()
    try:
        gradient = gradient_profile(body, n_features, frames, channel, output_frame, seed=seed)
        optimised = optimise_input(body, n_features, frames, channel, output_frame, steps, lr, l2, seed)
    finally:
        spotter.train(was_training)
    reached = torch.nonzero(gradient).flatten()
    empirical = (int(reached[0]), int(reached[-1])) if reached.numel() else (-1, -1)
    return FieldResult(analytic_field(body, output_frame), empirical, gradient, optimised)


def receptive_field(cfg: DictConfig) -> dict:
    """Measure a checkpoint's field, write the PNG (``cfg.output``, default next to the checkpoint).

    Returns:
        Plain data: analytic and empirical first/last frame, field sizes in frames and ms, PNG path.
    """
    spotter = KeywordSpotter.load(cfg.checkpoint)
    result = measure(spotter, cfg.channel, cfg.steps, cfg.lr, cfg.l2, cfg.seed)
    output = Path(cfg.output) if cfg.get("output") else Path(cfg.checkpoint).with_name("receptive_field.png")
    frames = result.analytic[1] - result.analytic[0] + 1
    frontend = spotter.frontend
    ms = ((frames - 1) * frontend.hop_length + frontend.win_length) * MS_PER_SECOND / frontend.sample_rate
    plot_receptive_field(result.optimised, result.gradient, result.analytic, output,
                         f"body channel {cfg.channel}: analytic field {frames} frames ({ms:.0f} ms)")
    return {"analytic": list(result.analytic), "empirical": list(result.empirical), "frames": frames,
            "ms": ms, "inside": result.analytic[0] <= result.empirical[0] <= result.empirical[1] <= result.analytic[1],
            "png": str(output)}


def main(argv: list[str]) -> None:
    """Compose ``conf/receptive_field.yaml`` with the overrides, measure and print the result as JSON."""
    from asr_cnn.training.config import compose_config

    print(json.dumps(receptive_field(compose_config("receptive_field", argv)), indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])

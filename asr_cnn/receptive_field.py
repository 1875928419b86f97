"""Receptive fields of a trained body: analytic from the layers, empirical by back-propagation to the input.

    python -m asr_cnn.receptive_field checkpoint=<model.pt> [channel=<c>] [output=<png>]

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
from asr_cnn.modes import evaluating
from asr_cnn.placement import placement
from asr_cnn.recipes.config import ReceptiveFieldRecipe
from asr_cnn.schema import typed
from asr_cnn.training.plots import plot_receptive_field

MS_PER_SECOND = 1000.0
PROBE_DB = (-60.0, -10.0)  # probe noise levels in dBFS: from near silence to loud speech
DB_PER_DECADE = 20.0  # amplitude dB: a factor of 10 is 20 dB


@dataclass
class FieldResult:
    """Analytic and measured field of one unit.

    Attributes:
        channel: The body output channel measured.
        analytic: First and last input frame the unit reads, per the layers' context and stride.
        empirical: First and last input frame with a non-zero gradient (``None``: the unit never fired).
        gradient: Mean absolute gradient per input frame, shape (T,).
        pattern: What gradient ascent added to the quietest probe to excite the unit, shape (F, T).
    """

    channel: int
    analytic: tuple[int, int]
    empirical: tuple[int, int] | None
    gradient: torch.Tensor
    pattern: torch.Tensor


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


def probe_features(spotter: KeywordSpotter, trials: int, seed: int = 0) -> torch.Tensor:
    """Features of one window of white noise per trial, at levels spread over ``PROBE_DB``.

    Probes made by the front end sit in the range the body was trained on (its input normalisation
    and ReLUs see familiar values), unlike arbitrary tensors, which can leave a trained unit silent.

    Shape:
        Output: (trials, F, T).
    """
    generator = torch.Generator().manual_seed(seed)  # on the CPU: the same probes for a seed on any device
    levels = 10 ** (torch.linspace(*PROBE_DB, trials, device=generator.device) / DB_PER_DECADE)  # (trials,)
    wave = torch.randn(trials, spotter.window_samples, generator=generator, device=generator.device)  # (trials, W)
    with torch.no_grad():
        return spotter.features((wave * levels[:, None]).to(**placement(spotter)))


def gradient_profile(body: StreamingLayer, features: torch.Tensor, channel: int, output_frame: int) -> torch.Tensor:
    """Mean absolute gradient of one unit w.r.t. each input frame, over a batch of probe inputs.

    Many probes make it unlikely that a ReLU or max-pool silences an edge of the field.

    Shape:
        features: (B, F, T). Output: (T,).
    """
    features = features.clone().requires_grad_()
    unit(body, features, channel, output_frame).sum().backward()
    return features.grad.abs().mean(dim=(0, 1))  # (T,)


def optimise_input(body: StreamingLayer, start: torch.Tensor, channel: int, output_frame: int,
                   steps: int = 200, lr: float = 0.05, l2: float = 0.01) -> torch.Tensor:
    """Gradient ascent from ``start`` to maximise one unit, minus ``l2`` times the squared distance moved.

    Shape:
        start: (F, T). Output: (F, T).
    """
    features = start[None].clone().requires_grad_()  # (1, F, T)
    optimiser = torch.optim.Adam([features], lr=lr)
    for _ in range(steps):
        optimiser.zero_grad()
        loss = -unit(body, features, channel, output_frame).sum() + l2 * (features[0] - start).pow(2).sum()
        loss.backward()
        optimiser.step()
    return features.detach()[0]


def most_active_channel(body: StreamingLayer, features: torch.Tensor) -> int:
    """The body output channel with the largest mean response to the probes (a unit that fires on them).

    Shape:
        features: (B, F, T).
    """
    with torch.no_grad():
        maps = body(features)  # (B, C, T') or (B, C, F', T')
    return int(maps.transpose(0, 1).flatten(1).mean(1).argmax())  # (C, everything else) -> (C,)


def measure(spotter: KeywordSpotter, channel: int | None = None, steps: int = 200, lr: float = 0.05,
            l2: float = 0.01, seed: int = 0, trials: int = 64) -> FieldResult:
    """Analytic and empirical field of one body output unit (its middle frame over one window).

    Args:
        spotter: The model; its body is probed.
        channel: Body output channel; ``None`` picks the one most active on the probes (a trained
            ReLU unit can be silent on noise, and a silent unit has no gradient to measure).
        steps, lr, l2: Gradient ascent settings (:func:`optimise_input`).
        seed: Seeds the probes.
        trials: Number of probe inputs.

    Raises:
        ValueError: ``channel`` is out of range.
    """
    body = spotter.body
    if channel is not None and not 0 <= channel < body.out_channels:
        raise ValueError(f"channel must be in [0, {body.out_channels}), got {channel}")
    with evaluating(spotter):
        probes = probe_features(spotter, trials, seed)  # (trials, F, T)
        channel = most_active_channel(body, probes) if channel is None else channel
        output_frame = available_outputs(probes.shape[-1], body.context, body.stride) // 2
        gradient = gradient_profile(body, probes, channel, output_frame)
        pattern = optimise_input(body, probes[0], channel, output_frame, steps, lr, l2) - probes[0]  # (F, T)
    reached = torch.nonzero(gradient).flatten()
    empirical = (int(reached[0]), int(reached[-1])) if reached.numel() else None
    return FieldResult(channel, analytic_field(body, output_frame), empirical, gradient, pattern)


def receptive_field(cfg: DictConfig) -> dict:
    """Measure a checkpoint's field, write the PNG (``cfg.output``, default next to the checkpoint).

    Args:
        cfg: Composed ``conf/receptive_field.yaml`` (:class:`~asr_cnn.recipes.config.ReceptiveFieldRecipe`).

    Returns:
        Plain data: analytic and empirical first/last frame, field sizes in frames and ms, PNG path.
    """
    recipe = typed(ReceptiveFieldRecipe, cfg, "")
    spotter = KeywordSpotter.load(recipe.checkpoint)
    result = measure(spotter, recipe.channel, recipe.steps, recipe.lr, recipe.l2, recipe.seed)
    output = Path(recipe.output) if recipe.output else Path(recipe.checkpoint).with_name("receptive_field.png")
    frames = result.analytic[1] - result.analytic[0] + 1
    frontend = spotter.frontend
    ms = ((frames - 1) * frontend.hop_length + frontend.win_length) * MS_PER_SECOND / frontend.sample_rate
    plot_receptive_field(result.pattern, result.gradient, result.analytic, output,
                         f"body channel {result.channel}: analytic field {frames} frames ({ms:.0f} ms)")
    empirical = result.empirical
    inside = None if empirical is None else result.analytic[0] <= empirical[0] <= empirical[1] <= result.analytic[1]
    return {"channel": result.channel, "analytic": list(result.analytic), "empirical": None if empirical is None else list(empirical),
            "frames": frames, "ms": ms, "inside": inside, "png": str(output)}


def main(argv: list[str]) -> None:
    """Compose ``conf/receptive_field.yaml`` with the overrides, measure and print the result as JSON."""
    from asr_cnn.config import compose_config

    print(json.dumps(receptive_field(compose_config("receptive_field", argv)), indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])

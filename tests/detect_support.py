"""Helpers shared by the detection tests: a tiny untrained spotter with lively scores, and test audio."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import torch
from hydra import compose as compose_config
from hydra import initialize_config_dir
from omegaconf import DictConfig

from asr_cnn import KeywordSpotter

TINY_LABELS = ["_silence_", "_unknown_", "yes", "no"]
LOGIT_GAIN = 3.0  # sharpens an untrained head so its posteriors swing across thresholds

TINY_CONFIG = {
    "frontend": {"_target_": "asr_cnn.frontend.LogMel"},
    "model": {"_target_": "tiny_body.TinyBody"},
    "head": {"_target_": "asr_cnn.layers.head.WindowHead", "pool": "max", "hidden": 16},
    "spotter": {"window_seconds": 1.0},
    "labels": TINY_LABELS,
}


def tiny_spotter(seed: int = 4) -> KeywordSpotter:
    """An untrained tiny spotter (TinyBody) whose keyword posteriors exceed 0.5 about half the time on ``bursty_audio`` (seed 4: "yes")."""
    torch.manual_seed(seed)
    spotter = KeywordSpotter.from_config(TINY_CONFIG).eval()
    with torch.no_grad():
        spotter.head.mlp[-1].weight.mul_(LOGIT_GAIN)
    return spotter


def bursty_audio(seconds: float, seed: int = 0, sample_rate: int = 16_000) -> torch.Tensor:
    """Noise whose loudness changes every quarter second, so scores rise and fall.

    Shape:
        Output: (S,).
    """
    generator = torch.Generator().manual_seed(seed)
    n = int(seconds * sample_rate)
    segment = sample_rate // 4
    gains = torch.rand(n // segment + 1, generator=generator).repeat_interleave(segment)[:n]  # (S,)
    return (torch.randn(n, generator=generator) * 0.3 * gains).clamp(-1.0, 1.0)


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one intra-op thread: small streaming chunks only lose time to thread hand-offs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def rss_mib() -> float:
    """Resident memory of this process in MiB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


CONF_DIR = Path(__file__).resolve().parents[1] / "conf"


def compose(config_name: str, overrides: list[str]) -> DictConfig:
    """A recipe's config as Hydra composes it, without running the recipe."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose_config(config_name, overrides=overrides)

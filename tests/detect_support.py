"""Helpers shared by the detection tests: a tiny untrained spotter with lively scores, and test audio."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from asr_cnn import KeywordSpotter
from asr_cnn.audio import load_audio
from asr_cnn.config import compose_config
from asr_cnn.data.corpus.labels import label_folder
from asr_cnn.streaming import scan

TINY_LABELS = ["_silence_", "_unknown_", "yes", "no"]
LOGIT_GAIN = 3.0  # sharpens an untrained head so its posteriors swing across thresholds

EXPERIMENT_LOGIT_GAIN = 5.0  # sharpens an untrained experiment's head so its posteriors cross thresholds
SCORE_GAP = 1e-4
"""Thresholds sit in a gap of at least this between smoothed scores: the runtimes differ by ~1e-6, so float
noise cannot flip an event."""

CLIPS_PER_KEYWORD = 4  # corpus clips tried per keyword when looking for the clearest one
MIN_MARGIN = 1e-3  # keyword score above silence below which a live test could not tell them apart

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


def experiment_spotter(experiment: str, labels: list[str] = TINY_LABELS, seed: int = 0,
                       overrides: tuple[str, ...] = ()) -> KeywordSpotter:
    """An untrained spotter of a shipped experiment whose posteriors swing with the audio: its batch norms hold
    the statistics of test audio (as after training; fresh ones leave some bodies' output nearly constant)."""
    cfg = compose_config("train", [f"experiment={experiment}", *overrides])
    torch.manual_seed(seed)
    spotter = KeywordSpotter.from_config({**{key: cfg[key] for key in ("frontend", "model", "head", "spotter")},
                                          "labels": labels})
    for norm in spotter.modules():
        if isinstance(norm, torch.nn.modules.batchnorm._BatchNorm):
            norm.reset_running_stats()
            norm.momentum = None  # a plain average over the batches seen
    with torch.no_grad():
        spotter.train()(torch.stack([bursty_audio(4.0, seed=other) for other in range(10, 14)]))
        spotter.head.mlp[-1].weight.mul_(EXPERIMENT_LOGIT_GAIN)
    return spotter.eval()


def gap_thresholds(scores: torch.Tensor, labels: list[str]) -> dict[str, float]:
    """Per keyword, the middle of the widest gap between its smoothed scores in their upper half."""
    thresholds = {}
    for k, label in enumerate(labels):
        if label.startswith("_"):
            continue
        values = scores[:, k][scores[:, k].isfinite()].unique().sort().values  # ascending
        upper = values[values.shape[0] // 2:]
        gaps = upper[1:] - upper[:-1]
        widest = int(gaps.argmax())
        assert gaps[widest] > SCORE_GAP
        thresholds[label] = float(upper[widest] + upper[widest + 1]) / 2
    return thresholds


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


def rss_mib() -> float:
    """Resident memory of this process in MiB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def keyword_clip(corpus: Path, spotter: KeywordSpotter, silence_s: float = 0.5) -> tuple[torch.Tensor, str, dict]:
    """A keyword recording from the corpus between silences, the keyword it shows, and thresholds for it.

    Whatever the quality of the (quickly trained) checkpoint, the threshold sits halfway between the
    keyword's best score on silence and on the clip, and every other keyword's threshold is 1: offline,
    this clip fires that keyword and silence fires nothing, so a live path must do the same.

    Shape:
        Output clip: (S,).
    """
    silence = torch.zeros(round(silence_s * spotter.sample_rate))
    quiet = scan(spotter, torch.zeros(3 * spotter.window_samples))[0].amax(0)  # (K,) best score on silence
    best = None
    keywords = [label for label in spotter.labels if not label.startswith("_")]
    for keyword in keywords:
        k = spotter.labels.index(keyword)
        for path in sorted((corpus / label_folder(keyword)).glob("*.wav"))[:CLIPS_PER_KEYWORD]:
            clip = torch.cat([silence, load_audio(path), 2 * silence])
            margin = float(scan(spotter, clip)[0, :, k].max() - quiet[k])
            if best is None or margin > best[0]:
                best = (margin, clip, keyword, float(quiet[k]) + margin / 2)
    margin, clip, keyword, threshold = best
    assert margin > MIN_MARGIN, f"the checkpoint scores no keyword clip above silence (margin {margin})"
    return clip, keyword, {other: 1.0 for other in keywords} | {keyword: threshold}


def lowest_meeting(det: list[dict], fa_per_hour: float) -> dict | None:
    """The DET point (JSON, sorted by threshold) of the lowest threshold from which every higher one keeps
    false alarms at or below ``fa_per_hour``; ``None`` when the highest one does not."""
    meeting = [point["fa_per_hour"] is not None and point["fa_per_hour"] <= fa_per_hour for point in det]
    lowest = next((i for i in range(len(det)) if all(meeting[i:])), len(det))
    return det[lowest] if lowest < len(det) else None

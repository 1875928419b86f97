"""The two offline scans: the naive reference and the one-pass scan.

Both return posteriors (softmax over the K classes) for every window ending at a multiple of the hop:
window ``n`` covers samples ``[n * hop, n * hop + window)``, ``N = 1 + (S - window) // hop``.
"""

from __future__ import annotations

import torch

from asr_cnn.layers.streaming import available_outputs
from asr_cnn.models.spotter import KeywordSpotter

NAIVE_WINDOWS_PER_BATCH = 256  # bounds the naive scan's memory: windows classified per forward call


def as_batch(audio: torch.Tensor) -> torch.Tensor:
    """Accept (S,) or (B, S) audio and return (B, S).

    Raises:
        ValueError: Any other rank.
    """
    if audio.dim() == 1:
        return audio.unsqueeze(0)  # (1, S)
    if audio.dim() != 2:
        raise ValueError(f"audio must have shape (S,) or (B, S), got {tuple(audio.shape)}")
    return audio


def num_windows(n_samples: int, spotter: KeywordSpotter) -> int:
    """Windows (score rows) in ``n_samples`` of audio: ``1 + (S - window) // hop``, at least 0."""
    return available_outputs(n_samples, spotter.context, spotter.stride)


@torch.no_grad()
def naive_scan(spotter: KeywordSpotter, audio: torch.Tensor) -> torch.Tensor:
    """Reference scan: classify every window on its own, re-running the whole spotter each time.

    Shape:
        audio: (S,) or (B, S). Output: (B, N, K) posteriors.
    """
    audio = as_batch(audio)
    batch, n = audio.shape[0], num_windows(audio.shape[-1], spotter)
    if n == 0:
        return audio.new_zeros(batch, 0, len(spotter.labels))
    windows = audio.unfold(-1, spotter.window_samples, spotter.hop_samples)  # (B, N, W) view
    windows = windows.reshape(batch * n, spotter.window_samples)  # (B*N, W) every window a batch item
    logits = torch.cat([spotter(part) for part in windows.split(NAIVE_WINDOWS_PER_BATCH)])  # (B*N, K, 1)
    return logits.squeeze(-1).softmax(-1).reshape(batch, n, -1)  # (B, N, K)


@torch.no_grad()
def scan(spotter: KeywordSpotter, audio: torch.Tensor) -> torch.Tensor:
    """One offline pass: the front end and body run once over the whole signal, the head slides.

    Shape:
        audio: (S,) or (B, S). Output: (B, N, K) posteriors.
    """
    audio = as_batch(audio)
    if num_windows(audio.shape[-1], spotter) == 0:
        return audio.new_zeros(audio.shape[0], 0, len(spotter.labels))
    return spotter(audio).transpose(1, 2).softmax(-1)  # (B, K, N) -> (B, N, K)

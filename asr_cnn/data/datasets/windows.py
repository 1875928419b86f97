"""The window a model sees of a training item or a clip: random crops for training, the centred one for evaluation.

Clips are 1 s long; a spotter with a longer window trains on items of its window (silence, then the
clip, :func:`item_samples`). Training crops a random window from each item, which is a time-shift
augmentation for free; evaluation takes the centred window (:func:`window_of`), so scores never depend
on a random draw.
"""

from __future__ import annotations

import torch

from asr_cnn.constants import CLIP_SAMPLES


def item_samples(window: int) -> int:
    """Samples of a training item for a model window of ``window`` samples: a clip, or the window when longer."""
    return max(CLIP_SAMPLES, window)


def random_crop(wave: torch.Tensor, window: int, generator: torch.Generator) -> torch.Tensor:
    """A random window of each clip (time-shift augmentation).

    Raises:
        ValueError: The clips are shorter than the window.

    Shape:
        wave: (B, S). Output: (B, window).
    """
    batch, samples = check_window(wave, window)
    # Drawn on the generator's device, so the crops of a seed are the same wherever the clips are.
    offsets = torch.randint(0, samples - window + 1, (batch,), generator=generator, device=generator.device)  # (B,)
    index = offsets.to(wave.device)[:, None] + torch.arange(window, device=wave.device)[None, :]  # (B, window)
    return wave.gather(1, index)


def centre_crop(wave: torch.Tensor, window: int) -> torch.Tensor:
    """The centred window of each clip (evaluation; deterministic).

    Raises:
        ValueError: The clips are shorter than the window.

    Shape:
        wave: (B, S). Output: (B, window).
    """
    _, samples = check_window(wave, window)
    start = (samples - window) // 2
    return wave[:, start : start + window]


def window_of(wave: torch.Tensor, window: int) -> torch.Tensor:
    """The window a clip is evaluated on: its centred window, or the clip after silence when the window is
    longer (as :class:`~asr_cnn.data.datasets.speech_commands.SpeechCommands` pads training items).

    Shape:
        wave: (B, S). Output: (B, window).
    """
    if wave.shape[-1] < window:
        return torch.nn.functional.pad(wave, (window - wave.shape[-1], 0))
    return centre_crop(wave, window)


def check_window(wave: torch.Tensor, window: int) -> tuple[int, int]:
    """``(B, S)`` of a clip batch that holds at least one window.

    Raises:
        ValueError: Wrong rank, or clips shorter than ``window``.
    """
    if wave.dim() != 2 or wave.shape[1] < window:
        raise ValueError(f"expected clips (B, S) with S >= window_samples={window}, got shape {tuple(wave.shape)}")
    return wave.shape[0], wave.shape[1]

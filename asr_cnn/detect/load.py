"""The detector a recipe runs: its checkpoint (or several on one backbone) and its ``detector`` config."""

from __future__ import annotations

from hydra.utils import instantiate
from omegaconf import ListConfig

from asr_cnn.detect.config import DetectorConfig
from asr_cnn.detect.detector import Detector
from asr_cnn.models.spotter import KeywordSpotter


def checkpoint_paths(value: str | list | ListConfig) -> list[str]:
    """``checkpoint=a.pt`` or ``checkpoint=[a.pt,b.pt]`` as a list of paths.

    Raises:
        ValueError: An empty list, or a file named twice.
    """
    paths = [str(value)] if isinstance(value, str) else [str(path) for path in value]
    if not paths or len(set(paths)) != len(paths):
        raise ValueError(f"checkpoint: give one model.pt or a list of distinct ones, got {paths}")
    return paths


def load_detector(detector: DetectorConfig, checkpoint: str | list[str], device: str) -> Detector:
    """The detector of ``checkpoint`` (one path or a list: several models on one backbone, their events named by
    path) on ``device``, set up by ``detector``.

    Args:
        detector: The recipe's ``detector`` config, typed.
        checkpoint: A checkpoint path, or a list of them (:func:`checkpoint_paths`).
        device: The torch device the models run on.

    Raises:
        FileNotFoundError, ValueError: A checkpoint is missing or unreadable, or the models do not share a
            backbone (the message names the files).
    """
    paths = checkpoint_paths(checkpoint)
    spotters = {path: KeywordSpotter.load(path, map_location=device) for path in paths}
    return instantiate(detector)(spotters if len(paths) > 1 else spotters[paths[0]], device=device)

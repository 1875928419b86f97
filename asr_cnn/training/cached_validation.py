"""Validation on cached features: a frozen prefix's output for the validation clips and streams, computed once.

With a frozen backbone (``experiment=pretrained``) an epoch of training costs about a second, while
validating ran the whole spotter every epoch on the validation clips and, at each checkpoint check, on
an hour of validation streams. The prefix is a fixed function of that audio, so its features are
computed once (the streams streamed, every frame once) and each check runs only the trainable rest:

* per-epoch loss and accuracy: the rest on the centred window of every validation clip;
* checkpoint selection and calibration: the rest over each stream's feature sequence gives the
  posteriors of every window, which the detector's own moving average smooths into the rows
  :func:`~asr_cnn.evaluation.calibration.calibrate` replays. They equal the detector's rows on the audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from asr_cnn.audio import load_audio
from asr_cnn.data.datasets.windows import window_of
from asr_cnn.detect.detector import Detector
from asr_cnn.detect.smoothing import MovingAverage
from asr_cnn.evaluation.scoring import Scored, stored
from asr_cnn.evaluation.streams import load_streams
from asr_cnn.modes import evaluating
from asr_cnn.placement import placement
from asr_cnn.training.feature_cache import FrozenSplit, stream_features


@dataclass(frozen=True)
class CachedValidation:
    """The validation split's frozen features.

    Attributes:
        split: The spotter's frozen prefix and trainable rest (shared modules).
        clips: Features of each validation clip's centred window; ``targets`` their classes.
        streams: Features of each validation stream, ``seconds`` and ``labels`` (its spoken keywords) alongside.

    Shape:
        clips: (N, C, frames). targets: (N,). streams: each (C, J_i).
    """

    split: FrozenSplit
    clips: torch.Tensor
    targets: torch.Tensor
    streams: list[torch.Tensor]
    seconds: list[float]
    labels: list[list[dict[str, Any]]]

    @torch.no_grad()
    def clip_metrics(self, batch_size: int) -> dict[str, float]:
        """Loss and accuracy of the rest on the cached clips (what the loop logs each epoch)."""
        device = placement(self.split.rest)["device"]
        with evaluating(self.split.rest) as rest:
            logits = torch.cat([rest(part.to(device)).squeeze(-1).float().cpu()  # (b, K, 1) -> (b, K)
                                for part in self.clips.split(batch_size)])
        return {"loss": torch.nn.functional.cross_entropy(logits, self.targets).item(),
                "accuracy": (logits.argmax(-1) == self.targets).float().mean().item()}

    @torch.no_grad()
    def scored(self, detector: Detector) -> Scored:
        """The streams scored as ``detector`` scores their audio: posteriors of every window, smoothed."""
        device = placement(self.split.rest)["device"]
        rows = []
        with evaluating(self.split.rest) as rest:
            for sequence in self.streams:
                posteriors = rest(sequence[None].to(device)).transpose(1, 2).softmax(-1)  # (1, K, N) -> (1, N, K)
                smoother = MovingAverage(detector.smoother.span, 1, posteriors.shape[-1], device)
                rows.append(smoother.push(posteriors)[0].cpu())  # (N, K)
        return stored(detector, rows, self.seconds, self.labels)


@torch.no_grad()
def build_cached_validation(split: FrozenSplit, window: int, sample_rate: int, clips: Dataset,
                            stream_folder: Path | None, keywords: list[str], batch_size: int,
                            device: torch.device | str) -> CachedValidation:
    """Compute the prefix's features of the validation clips (centred windows) and streams once.

    Args:
        split: The spotter's frozen prefix and trainable rest.
        window: Samples of one spotter window.
        sample_rate: The spotter's sample rate (streams are read at it).
        clips: The validation clips, ``(wave, label)`` items.
        stream_folder: The validation streams' folder, or ``None`` when there are none.
        keywords: The spotter's keywords (every stream label must be one).
        batch_size: Clips per prefix call.
        device: Where the prefix runs.

    Shape:
        Output clips: (N, C, frames).
    """
    features, targets = [], []
    for wave, label in DataLoader(clips, batch_size=batch_size, shuffle=False):
        features.append(split.prefix(window_of(wave, window).to(device).float()).cpu())  # (b, C, frames)
        targets.append(label)
    streams, seconds, labels = [], [], []
    for stream in load_streams(stream_folder, keywords) if stream_folder is not None else []:
        audio = load_audio(stream.audio, sample_rate)  # (S,)
        streams.append(stream_features(split.prefix, audio, device))  # (C, J)
        seconds.append(audio.shape[0] / sample_rate)
        labels.append(stream.labels)
    return CachedValidation(split, torch.cat(features), torch.cat(targets).long(), streams, seconds, labels)

"""Training the top of a frozen backbone on cached features (``trainer.feature_cache``).

A frozen front end and backbone (``experiment=pretrained``: ~55M multiply-adds per 1 s window) are a
fixed function of the audio, so recomputing them every epoch wastes most of a CPU run. Instead:

* every training item (clips, negative windows, keywords in context) is augmented ``copies`` times
  (copy ``c`` seeded as epoch ``c``) and its frozen features computed once; epoch ``e`` trains on copy
  ``e % copies``, cropped at a random whole hop (the exact equivalent of cropping the audio there);
* the keyword-free running speech is *streamed* through the frozen part once (every frame computed
  once), and random windows are slices of that feature sequence: hours of negatives almost for free;
* mining scores the streamed sequences with the trainable rest alone.

A backbone fine-tuned only at the top (``model.trainable_blocks``) is cut where its frozen stages end:
the cache then holds the last frozen block's (C, F, E) maps, and each step trains the top blocks and the
head on them. Shapes below write (C, E) for a frame's features; read (C, F, E) for such a cut.

SpecAugment masks front-end features, which a cache of backbone outputs no longer has: it is skipped.
Validation clips and streams are cached the same way (:mod:`asr_cnn.training.cached_validation`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from asr_cnn.data.corpus.labels import SILENCE, UNKNOWN
from asr_cnn.data.datasets.mixture import Mixture
from asr_cnn.data.datasets.negatives import Window
from asr_cnn.data.datasets.training_set import LiveData
from asr_cnn.layers import StreamingSequential
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.modes import evaluating
from asr_cnn.training.batching import EpochItems, derive_seed
from asr_cnn.training.config import TrainerConfig
from asr_cnn.training.forward import window_logits
from asr_cnn.training.mining import MIN_GAP_S, top_windows

log = logging.getLogger(__name__)

SEGMENT_FRAMES = 125
"""Frames of a long source computed per call (10 s at an 80 ms hop): bounds memory on hour-long sources, and
measured cheapest per frame (64-500 frames: 0.19-0.21 ms; 32: 0.23; 1,500: 0.26)."""


@dataclass(frozen=True)
class FrozenSplit:
    """A spotter cut where its frozen part ends; ``rest(prefix(wave))`` equals ``spotter(wave)``.

    Attributes:
        prefix: Front end and the body's frozen leading children: audio to the features a cache stores.
        rest: The body's trainable children and the head: cached features to logits.
    """

    prefix: StreamingSequential
    rest: StreamingSequential

    @property
    def hop_samples(self) -> int:
        """Samples between consecutive cached feature frames."""
        return self.prefix.stride

    @property
    def frames(self) -> int:
        """Cached frames one window of the spotter reads."""
        return self.rest.context + 1


def frozen_split(spotter: KeywordSpotter) -> FrozenSplit | None:
    """Split ``spotter`` after its frozen prefix; ``None`` when its body declares none.

    A module declares one with ``frozen_children() -> int``: how many of its leading children compute a
    fixed function of their input (no trainable parameter, no batch statistics, no dropout). When the
    first child left out declares a frozen prefix of its own (a backbone fine-tuned only at the top), the
    cut goes inside it. The parts share the spotter's modules: training ``rest`` trains the spotter.
    """
    prefix, rest = _split_children(spotter.body)
    if not prefix:
        return None
    return FrozenSplit(StreamingSequential(named={"frontend": spotter.frontend, **prefix}),
                       StreamingSequential(named={**rest, "head": spotter.head}))


def _split_children(module: nn.Module) -> tuple[dict[str, nn.Module], dict[str, nn.Module]]:
    """``module``'s frozen leading children and the rest, by name; a child the cut falls in is split too."""
    declared = getattr(module, "frozen_children", None)
    frozen = declared() if declared is not None else 0
    children = list(module.named_children())
    prefix, rest = dict(children[:frozen]), dict(children[frozen:])
    if frozen < len(children):
        name, child = children[frozen]
        inner_prefix, inner_rest = _split_children(child)
        if inner_prefix:  # same key, same place in ``rest``: the child's trainable part
            prefix[name], rest[name] = StreamingSequential(named=inner_prefix), StreamingSequential(named=inner_rest)
    return prefix, rest


class CachedForward(nn.Module):
    """The training forward pass over cached features: the trainable rest of the spotter.

    Args:
        rest: :attr:`FrozenSplit.rest`.
    """

    def __init__(self, rest: StreamingSequential) -> None:
        super().__init__()
        self.rest = rest

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Logits of one window per item; in training mode, per member for an ensemble head.

        Shape:
            features: (B, C, frames), one window of cached frames. Output: (B, K), or (B, K, M)
            (:func:`~asr_cnn.training.forward.window_logits`).
        """
        *body, head = self.rest.children()
        for layer in body:
            features = layer(features)
        return window_logits(head, features, per_member=self.training)


@torch.no_grad()
def cache_items(prefix: StreamingSequential, dataset: Dataset, copies: int, batch_size: int, num_workers: int,
                device: torch.device | str) -> tuple[torch.Tensor, torch.Tensor]:
    """Frozen features of every item of ``dataset`` for ``copies`` augmentations (copy ``c`` = epoch ``c``).

    Returns:
        ``(features, labels)`` on the CPU.

    Shape:
        features: (copies, N, C, E). labels: (copies, N).
    """
    batches = [[(copy, i) for i in range(start, min(start + batch_size, len(dataset)))]
               for copy in range(copies) for start in range(0, len(dataset), batch_size)]
    loader = DataLoader(EpochItems(dataset), batch_sampler=batches, num_workers=num_workers)
    features, labels = [], []
    for wave, label in loader:
        features.append(prefix(wave.to(device).float()).cpu())  # (b, C, E)
        labels.append(label)
    features_all = torch.cat(features)  # (copies * N, C, E)
    return features_all.reshape(copies, len(dataset), *features_all.shape[1:]), torch.cat(labels).reshape(copies, -1)


@torch.no_grad()
def stream_features(prefix: StreamingSequential, audio: torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """The frozen features of a long signal, every frame computed once (a segment's first ``context`` samples
    pass the early layers twice: ~8% more work at :data:`SEGMENT_FRAMES`).

    Frame ``j`` is the prefix's output for samples ``[j * hop, j * hop + prefix.context]``: by the
    streaming contract, exactly what the prefix gives on that stretch of audio alone. So the signal is cut
    into segments of :data:`SEGMENT_FRAMES` frames, each with the ``context`` samples its first frame needs,
    and each segment runs through the whole-sequence forward: half the cost of streaming it in chunks
    (~0.19 against ~0.36 ms a frame for speech_embedding on one thread), the same frames.

    Raises:
        ValueError: The signal is shorter than one frame's ``context + 1`` samples.

    Shape:
        audio: (S,). Output: (C, J), ``J = 1 + (S - 1 - prefix.context) // hop``.
    """
    hop, context = prefix.stride, prefix.context
    if audio.shape[0] <= context:
        raise ValueError(f"{audio.shape[0]} samples hold no frame of the frozen features ({context + 1} needed)")
    count = 1 + (audio.shape[0] - 1 - context) // hop
    frames = []
    for first in range(0, count, SEGMENT_FRAMES):
        last = min(count, first + SEGMENT_FRAMES) - 1
        segment = audio[None, first * hop:last * hop + context + 1].to(device)
        frames.append(prefix(segment)[0].cpu())  # (1, C, last - first + 1) -> (C, ...)
    return torch.cat(frames, -1)


class CachedFeatures(Dataset):
    """One epoch of cached training windows: ``(features (C, frames), label)`` items.

    Items ``[0, N)`` are the cached items of copy ``epoch % copies``, each cropped at a random frame;
    then ``windows`` random slices of the streamed sequences (``unknown``); then the ``mined`` slices.
    Every draw is seeded by (seed, epoch, index).

    Args:
        items: Cached features of every item and copy, (copies, N, C, E).
        labels: Their classes, (copies, N).
        sequences: Streamed features of keyword-free sources, each (C, J_i).
        windows: Random slices of ``sequences`` per epoch.
        mined: ``(source, first frame)`` of mined slices.
        frames: Frames of one window.
        unknown: Class of the slices.
        seed: Training seed.
    """

    def __init__(self, items: torch.Tensor, labels: torch.Tensor, sequences: Sequence[torch.Tensor], windows: int,
                 mined: Sequence[tuple[int, int]], frames: int, unknown: int, seed: int) -> None:
        self.items, self.labels, self.mined = items, labels, list(mined)
        self.sequences = [s for s in sequences if s.shape[-1] >= frames]
        self.windows = windows if self.sequences else 0
        self.frames, self.unknown, self.seed, self.epoch = frames, unknown, seed, 0
        self.ends = torch.tensor([s.shape[-1] - frames + 1 for s in self.sequences], dtype=torch.long).cumsum(0)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.items.shape[1] + self.windows + len(self.mined)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items")
        generator = torch.Generator().manual_seed(derive_seed(self.seed, self.epoch, index))
        n_items = self.items.shape[1]
        if index < n_items:
            copy = self.epoch % self.items.shape[0]
            start = int(torch.randint(0, self.items.shape[-1] - self.frames + 1, (), generator=generator))
            return self.items[copy, index, ..., start:start + self.frames], int(self.labels[copy, index])
        if index < n_items + self.windows:
            position = int(torch.randint(0, int(self.ends[-1]), (), generator=generator))
            source = int(torch.searchsorted(self.ends, position, right=True))
            start = position - (int(self.ends[source - 1]) if source else 0)
        else:
            source, start = self.mined[index - n_items - self.windows]
        return self.sequences[source][..., start:start + self.frames], self.unknown


@dataclass
class FeatureCache:
    """The cached features of a run, and what the loop asks of them.

    Attributes:
        split: The spotter's frozen prefix and trainable rest.
        items: Cached training items, (copies, N, C, E); ``labels`` (copies, N).
        sequences: Streamed features of the live sources (their order: ``Window.source``).
        windows: Random sequence slices per epoch.
        unknown: Class of negatives.
        seed: Training seed.
    """

    split: FrozenSplit
    items: torch.Tensor
    labels: torch.Tensor
    sequences: list[torch.Tensor]
    windows: int
    unknown: int
    seed: int

    def dataset(self, mined: Sequence[Window]) -> CachedFeatures:
        """The cached training set, with the mined windows as slices of the sequences."""
        hop = self.split.hop_samples
        return CachedFeatures(self.items, self.labels, self.sequences, self.windows,
                              [(w.source, w.start // hop) for w in mined], self.split.frames, self.unknown, self.seed)

    @torch.no_grad()
    def mine(self, spotter: KeywordSpotter, live: LiveData, count: int) -> list[Window]:
        """Add to ``live.mined`` the ``count`` windows of the sequences the spotter scores highest as a keyword
        (local peaks at least ``MIN_GAP_S`` apart), scored by the trainable rest on the cached features."""
        if not self.sequences or count == 0:
            return []
        keywords = [i for i, label in enumerate(spotter.labels) if label not in (SILENCE, UNKNOWN)]
        device = next(spotter.parameters()).device
        scores = []
        with evaluating(self.split.rest) as rest:
            for sequence in self.sequences:
                posteriors = rest(sequence[None].to(device))[0].softmax(0)  # (1, K, N) -> (K, N)
                scores.append(posteriors[keywords].amax(0).cpu())  # (N,)
        hop = spotter.hop_samples
        known = {(w.source, w.start // hop) for w in live.mined}
        min_gap = max(1, round(MIN_GAP_S * spotter.sample_rate / hop))
        found = [Window(source, row * hop) for source, row in top_windows(scores, count, min_gap, known)]
        live.mined += found
        return found


def build_feature_cache(trainer: TrainerConfig, spotter: KeywordSpotter, live: LiveData,
                        device: torch.device) -> FeatureCache | None:
    """The cache that ``trainer.feature_cache`` describes; ``None`` when disabled or the spotter has no
    frozen prefix (then the loop trains on audio)."""
    settings = trainer.feature_cache
    split = frozen_split(spotter)
    if split is None or not settings.enabled:
        return None
    started = time.perf_counter()
    dataset = Mixture([live.clips, *live.parts])
    items, labels = cache_items(split.prefix, dataset, settings.copies, trainer.eval_batch_size,
                                trainer.num_workers, device)
    sources = live.sources.sources if live.sources is not None else []
    sequences = [stream_features(split.prefix, source, device) for source in sources]
    windows = math.ceil(settings.stream_windows * len(live.clips))
    log.info("feature cache: %d items x %d copies and %d streamed frames in %.0f s (%d frames a window, "
             "%d sliced windows an epoch)", items.shape[1], items.shape[0], sum(s.shape[-1] for s in sequences),
             time.perf_counter() - started, split.frames, windows if sequences else 0)
    return FeatureCache(split, items, labels, sequences, windows, live.unknown, trainer.seed)


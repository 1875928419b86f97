"""Negative windows read from long keyword-free audio: random ones, and fixed ones (mined hard negatives).

A live detector spends its life on speech that is not a keyword. These datasets cut windows of the
training split's running speech, real read speech and background beds, so every epoch trains on fresh
stretches of continuous speech besides the 1-s clips. Items are ``(wave, label)`` like
:class:`~asr_cnn.data.datasets.speech_commands.SpeechCommands`, augmented per (seed, epoch, item).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from asr_cnn.data.acoustics.augment import WaveAugment
from asr_cnn.data.datasets.epochs import EpochSeeded


@dataclass(frozen=True)
class Window:
    """One window of a source: ``sources[source][start:start + length]``."""

    source: int
    start: int


class WindowSources:
    """Long waveforms to cut windows from, drawn in proportion to their length.

    Args:
        sources: The waveforms (each at least one window long; shorter ones are left out).
        window: Samples per window.

    Raises:
        ValueError: No source holds a whole window.

    Shape:
        sources: each (S_i,).
    """

    def __init__(self, sources: Sequence[torch.Tensor], window: int) -> None:
        self.sources = [s for s in sources if s.shape[0] >= window]
        if not self.sources:
            raise ValueError(f"no negative audio of at least {window} samples to cut windows from")
        self.window = window
        self.ends = torch.tensor([s.shape[0] - window + 1 for s in self.sources]).cumsum(0).tolist()

    @property
    def positions(self) -> int:
        """Distinct windows at single-sample steps."""
        return self.ends[-1]

    def draw(self, generator: torch.Generator) -> Window:
        """A window at a uniformly random position over all sources."""
        position = int(torch.randint(self.positions, (), generator=generator))
        source = bisect.bisect_right(self.ends, position)
        return Window(source, position - (self.ends[source - 1] if source else 0))

    def cut(self, window: Window) -> torch.Tensor:
        """The samples of a window.

        Shape:
            Output: (window,).
        """
        return self.sources[window.source][window.start:window.start + self.window]


class NegativeWindows(EpochSeeded):
    """``count`` random windows per epoch, all of one label (``_unknown_``).

    Args:
        sources: Where windows come from.
        count: Items per epoch.
        label: Class index of every item.
        augment: Applied to every window.
        seed: Seeds the draws and the augmentation, with the epoch and the index.
    """

    def __init__(self, sources: WindowSources, count: int, label: int, augment: WaveAugment | None = None,
                 seed: int = 0) -> None:
        super().__init__(seed, "negative windows")
        self.sources, self.count, self.label, self.augment = sources, count, label, augment

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        """A fresh random window.

        Shape:
            Output: (window,) float32 and the label index.
        """
        generator = self.generator(index)
        wave = self.sources.cut(self.sources.draw(generator))
        if self.augment is not None:
            wave = self.augment(wave, generator)
        return wave.float(), self.label


class FixedWindows(EpochSeeded):
    """Given windows of the sources (e.g. mined hard negatives), all of one label, augmented afresh each epoch.

    Args:
        sources: Where the windows lie.
        windows: The windows.
        label: Class index of every item.
        augment: Applied to every window.
        seed: Seeds the augmentation, with the epoch and the index.
    """

    def __init__(self, sources: WindowSources, windows: Sequence[Window], label: int,
                 augment: WaveAugment | None = None, seed: int = 0) -> None:
        super().__init__(seed, "fixed windows")
        self.sources, self.windows, self.label, self.augment = sources, list(windows), label, augment

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        """Window ``index``.

        Shape:
            Output: (window,) float32 and the label index.
        """
        wave = self.sources.cut(self.windows[index])
        if self.augment is not None:
            wave = self.augment(wave, self.generator(index))
        return wave.float(), self.label

"""Keywords in context: keywords inside running speech, labelled by whether a window holds the whole keyword.

A live detector scores every window as the audio streams past. The window that first holds all of a
keyword is the one to fire on; windows that hold only its beginning ("ath" of "athena") or only its end
must not fire, or the detector fires early, twice, or on a word that merely starts the same way. So a
window is the keyword's class only when it holds the whole keyword (:func:`context_label`), and the
positives this dataset makes are *end-aligned*: the keyword ends at most ``tail_s`` before the window
ends, with running speech before it, as at the moment a live detector should fire. Partial windows,
cut through the keyword, are ``_unknown_``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from asr_cnn.audio import load_audio
from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.data.acoustics.augment import WaveAugment
from asr_cnn.data.acoustics.clips import trim_silence
from asr_cnn.data.corpus.manifest import Record
from asr_cnn.data.datasets.epochs import EpochSeeded
from asr_cnn.data.datasets.negatives import WindowSources

PARTIAL_CUT = (0.25, 0.7)
"""Range of the share of a keyword a partial window keeps (its beginning or its end)."""


def context_label(window_start: int, window_end: int, keyword_start: int, keyword_end: int) -> bool:
    """Whether the window ``[window_start, window_end)`` holds the whole keyword ``[keyword_start, keyword_end)``."""
    return window_start <= keyword_start and keyword_end <= window_end


def end_aligned_start(keyword_end: int, tail: int, window: int) -> int:
    """Start of the window that ends ``tail`` samples after the keyword's end."""
    return keyword_end + tail - window


class KeywordsInContext(EpochSeeded):
    """Keyword clips spoken inside running speech, cut as end-aligned positives or partial negatives.

    Each item places one training keyword (trimmed of silence) after a stretch of running speech and a
    short gap, with more speech after it. With probability ``1 - partial_fraction`` the window ends
    ``tail_s`` after the keyword (label: the keyword); otherwise it ends inside the keyword, or starts
    inside it, keeping a :data:`PARTIAL_CUT` share of it (label: ``unknown``).

    Items are ``clip`` samples long, like the corpus clips, and training crops one ``window`` from each
    at random; an item is the keyword's class only when *every* such crop holds the whole keyword.

    Args:
        keywords: Training clips of keywords (``record.label`` is the keyword).
        labels: Class labels; a record's class is ``labels.index(record.label)``.
        unknown: Class index of partial windows.
        speech: Running speech to surround keywords with (its windows at least ``clip`` long).
        count: Items per epoch.
        clip: Samples per item.
        window: Samples the spotter sees (at most ``clip``).
        partial_fraction: Share of partial (negative) items.
        tail_s: Range of audio after the keyword's end in a positive window, in seconds.
        gap_s: Range of the pause between the speech before and the keyword, in seconds.
        augment: Applied to every item; without time shift, which would move the keyword out of place.
        seed: Seeds every draw, with the epoch and the index.

    Raises:
        ValueError: No keyword clip, or bad fractions or ranges.
    """

    def __init__(self, keywords: Sequence[Record], labels: Sequence[str], unknown: int, speech: WindowSources,
                 count: int, clip: int, window: int, *, partial_fraction: float, tail_s: Sequence[float],
                 gap_s: Sequence[float], augment: WaveAugment | None = None, seed: int = 0) -> None:
        if not keywords:
            raise ValueError("keywords in context need at least one keyword clip")
        if not 0 < window <= clip <= speech.window:
            raise ValueError(f"need 0 < window ({window}) <= clip ({clip}) <= speech windows ({speech.window})")
        if not 0 <= partial_fraction <= 1:
            raise ValueError(f"partial_fraction must be in [0, 1], got {partial_fraction}")
        for name, (low, high) in (("tail_s", tail_s), ("gap_s", gap_s)):
            if not 0 <= low <= high:
                raise ValueError(f"{name} must be a range [low, high] of seconds >= 0, got {list((low, high))}")
        self.keywords, self.targets = list(keywords), [list(labels).index(r.label) for r in keywords]
        self.unknown, self.speech, self.count, self.clip, self.window = unknown, speech, count, clip, window
        self.longest = 2 * window - clip  # a keyword every crop of an item can hold whole
        self.partial_fraction = partial_fraction
        self.tail = tuple(int(s * SAMPLE_RATE) for s in tail_s)
        self.gap = tuple(int(s * SAMPLE_RATE) for s in gap_s)
        super().__init__(seed, "in context")
        self.augment = augment
        self._trimmed: dict[int, torch.Tensor] = {}

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        """One item of a keyword in running speech and its label.

        Shape:
            Output: (clip,) float32 and the label index.
        """
        generator = self.generator(index)

        def between(bounds: tuple[int, int]) -> int:
            return int(torch.randint(bounds[0], bounds[1] + 1, (), generator=generator))

        choice = int(torch.randint(len(self.keywords), (), generator=generator))
        keyword = self._keyword(choice)
        before, after = (self.speech.cut(self.speech.draw(generator)) for _ in range(2))
        # Layout: before (>= one clip) | gap | keyword | after (>= one clip).
        gap = between(self.gap)
        start = before.shape[0] + gap
        end = start + keyword.shape[0]
        audio = torch.cat([before, torch.zeros(gap), keyword, after])
        shift = self.clip - self.window  # crops start anywhere in [item_start, item_start + shift]
        partial = float(torch.rand((), generator=generator)) < self.partial_fraction
        if not partial:  # the earliest crop ends `tail` after the keyword; the latest starts before it
            tail = min(between(self.tail), self.longest - keyword.shape[0])
            item_start = end_aligned_start(end, tail, self.window)
        else:  # no crop holds the whole keyword: the item ends inside it, or starts inside it
            keep = int(keyword.shape[0] * (PARTIAL_CUT[0] + (PARTIAL_CUT[1] - PARTIAL_CUT[0])
                                           * float(torch.rand((), generator=generator))))
            beginning = bool(torch.randint(2, (), generator=generator))
            item_start = start + keep - self.clip if beginning else end - keep
        wave = audio[item_start:item_start + self.clip]
        whole = context_label(item_start + shift, item_start + self.window, start, end)  # in every crop
        label = self.targets[choice] if whole else self.unknown
        if self.augment is not None:
            wave = self.augment(wave, generator)
        return wave.float(), label

    def _keyword(self, choice: int) -> torch.Tensor:
        """The keyword's speech without leading and trailing silence, short enough for every crop to hold it.

        Shape:
            Output: (S,) with S <= 2 * window - clip.
        """
        if choice not in self._trimmed:
            self._trimmed[choice] = trim_silence(load_audio(self.keywords[choice].path))[:self.longest]
        return self._trimmed[choice]

"""The shipped real read speech a run trains and calibrates on, chosen by the run's config.

LibriSpeech's speakers are divided by ``data.real_negatives.splits`` (when ``data.real_negatives.enabled``),
speechocean762's by ``trainer.live.real_speech.splits``; an utterance serves the keywords it does not say
(:func:`~asr_cnn.data.corpus.realnegatives.usable`). Each function takes the run's corpus config, checked
(:func:`~asr_cnn.data.corpus.config.corpus_config`), for its seed, keywords and ``real_negatives``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from asr_cnn.audio import load_audios
from asr_cnn.data.corpus.config import SPLITS, CorpusConfig, split_fractions
from asr_cnn.data.corpus.realnegatives import SPEECHOCEAN_DIR, RealNegative, real_negatives, usable
from asr_cnn.schema import flag, setting

@dataclass
class RealSpeechConfig:
    """The schema of ``trainer.live.real_speech``: the shipped speechocean762 speech, beyond
    ``data.real_negatives``' LibriSpeech (values in ``conf/trainer/default.yaml``)."""

    splits: dict[str, float] = setting(f"be fractions of {list(SPLITS)}, each >= 0, that sum to 1",
                                       split_fractions)
    calibrate: bool = flag()
    max_hours: float | None = setting("be null or a number of hours > 0", lambda v: v is None or v > 0)


def shipped_real(corpus: CorpusConfig, real: RealSpeechConfig, split: str) -> list[RealNegative]:
    """The shipped real utterances of ``split``: LibriSpeech's speakers divided by ``data.real_negatives.splits``
    (when ``data.real_negatives.enabled``), speechocean762's by ``real.splits``."""
    librispeech = real_negatives(corpus.real_negatives.splits, corpus.seed) if corpus.real_negatives.enabled else []
    speechocean = real_negatives(real.splits, corpus.seed, SPEECHOCEAN_DIR)
    return [item for item in (*librispeech, *speechocean) if item.split == split]


def real_speech(corpus: CorpusConfig, real: RealSpeechConfig, split: str) -> list[torch.Tensor]:
    """The shipped real speech of ``split`` that says none of the keywords (:func:`usable`).

    Shape:
        Output: one (S_i,) waveform per utterance.
    """
    items = [item for item in shipped_real(corpus, real, split)
             if usable(item, corpus.keywords, corpus.real_negatives.common_words)]
    return load_audios([item.path for item in within_hours(items, real.max_hours)])


def within_hours(items: list[RealNegative], max_hours: float | None) -> list[RealNegative]:
    """The first of ``items`` that last ``max_hours`` together (all of them when ``None``)."""
    if max_hours is None:
        return items
    seconds = torch.tensor([item.seconds for item in items], dtype=torch.float64).cumsum(0)
    return items[:int((seconds <= max_hours * 3600).sum())]


def real_items(corpus: CorpusConfig, real: RealSpeechConfig, split: str, keywords: list[str]
               ) -> tuple[list[RealNegative], dict[str, list[int]]]:
    """The shipped real utterances of ``split`` for calibrating ``keywords``: those that are negatives of at
    least one of them (up to ``real.max_hours``) and, per keyword, the indices of those that may say it
    (:func:`usable`)."""
    common = corpus.real_negatives.common_words
    items = [item for item in shipped_real(corpus, real, split)
             if any(usable(item, [keyword], common) for keyword in keywords)]
    items = within_hours(items, real.max_hours)
    excluded = {keyword: [i for i, item in enumerate(items) if not usable(item, [keyword], common)]
                for keyword in keywords}
    return items, excluded


def real_material(corpus: CorpusConfig, real: RealSpeechConfig, split: str, keywords: list[str]
                  ) -> tuple[list[torch.Tensor], dict[str, list[int]]]:
    """:func:`real_items`, their audio loaded.

    Shape:
        Output waves: one (S_i,) per utterance.
    """
    items, excluded = real_items(corpus, real, split, keywords)
    return load_audios([item.path for item in items]), excluded

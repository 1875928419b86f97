"""Real read speech that ships with asr_cnn: keyword-free training audio and calibration material.

Two sets, each divided by speaker into train, validation and test:

* ``assets/realnegatives/``: 223 LibriSpeech utterances (CC BY 4.0, attribution in its ``NOTICE.md``), one
  per speaker, untranscribed. They are negatives only for keywords that read speech almost never says: a
  multi-word phrase, or one word of two or more syllables that is not a common English word.
  :func:`unsafe_keywords` names the others.
* ``assets/speechocean762/``: 5,245 utterances (5.98 h) of 250 speakers, children and adults with a
  Mandarin accent (its ``NOTICE.md``), transcribed but for 245. An utterance is a negative for every
  keyword its transcript does not say (:func:`says`).

:func:`usable` decides per utterance and keywords.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from asr_cnn.audio import load_audio
from asr_cnn.data.corpus.cache import seed_of
from asr_cnn.data.corpus.config import SPLITS
from asr_cnn.data.voices.wordlist import COMMON_WORDS, MIN_SYLLABLES, syllables

ASSETS = Path(__file__).parents[1] / "assets"
"""``asr_cnn/data/assets/``: the real speech that ships with the package."""

REAL_NEGATIVES_DIR = ASSETS / "realnegatives"
"""The shipped LibriSpeech folder: ``manifest.csv``, ``speech/*.opus`` and ``NOTICE.md``."""

SPEECHOCEAN_DIR = ASSETS / "speechocean762"
"""The shipped speechocean762 folder: ``manifest.csv``, ``speakers.csv``, ``speech/*/*.opus`` and ``NOTICE.md``."""

_WORDS = re.compile(r"[a-z0-9']+")
_SUFFIXES = ("", "s", "es", "'s")
"""Endings with which a transcript word still says a keyword's last word ("computers", "athena's")."""


@dataclass(frozen=True)
class RealNegative:
    """One shipped utterance.

    Attributes:
        path: The audio file.
        speaker: Speaker identity (splits never share one).
        seconds: Duration.
        split: ``train``, ``validation`` or ``test``.
        transcript: What is said, lower case; ``None`` when untranscribed.
    """

    path: Path
    speaker: str
    seconds: float
    split: str
    transcript: str | None = None


def unsafe_keywords(keywords: Iterable[str], common_words: Iterable[str] = ()) -> list[str]:
    """Keywords that untranscribed read speech may well contain, so it cannot be their negative.

    A multi-word phrase is safe (read speech rarely says the whole phrase); one word is unsafe when it
    has fewer than :data:`MIN_SYLLABLES` syllables or is a common word (the built-in word list plus
    ``common_words``, e.g. ``data.real_negatives.common_words``).
    """
    common = {w.lower() for w in (*COMMON_WORDS, *common_words)}
    unsafe = []
    for keyword in keywords:
        words = keyword.lower().split()
        if len(words) == 1 and (syllables(words[0]) < MIN_SYLLABLES or words[0] in common):
            unsafe.append(keyword)
    return unsafe


def says(transcript: str, keyword: str) -> bool:
    """Whether ``transcript`` says ``keyword``: its words in order, the last one maybe with a plural or
    possessive ending ("hey computers" says "hey computer"; "one" does not say "on")."""
    words, key = _WORDS.findall(transcript.lower()), keyword.lower().split()
    for start in range(len(words) - len(key) + 1):
        said = words[start:start + len(key)]
        if said[:-1] == key[:-1] and any(said[-1] == key[-1] + suffix for suffix in _SUFFIXES):
            return True
    return False


def usable(item: RealNegative, keywords: Iterable[str], common_words: Iterable[str] = ()) -> bool:
    """Whether ``item`` is keyword-free audio for all of ``keywords``: its transcript says none of them, or,
    untranscribed, none is a word that read speech may well say (:func:`unsafe_keywords`)."""
    keywords = list(keywords)
    if item.transcript is None:
        return not unsafe_keywords(keywords, common_words)
    return not any(says(item.transcript, keyword) for keyword in keywords)


def real_negatives(fractions: Mapping[str, float], seed: int, folder: Path = REAL_NEGATIVES_DIR
                   ) -> list[RealNegative]:
    """Every utterance of ``folder/manifest.csv`` with its split, speakers divided by ``fractions``.

    Speakers are ordered by a seeded hash and cut by the fractions, so a split's share is exact and
    each speaker's split depends only on the seed and the speaker.

    Raises:
        FileNotFoundError: No manifest in ``folder``.
        ValueError: A malformed manifest row, or fractions that do not name exactly the splits.
    """
    if set(fractions) != set(SPLITS):
        raise ValueError(f"real negative split fractions must name {list(SPLITS)}, got {dict(fractions)}")
    manifest = folder / "manifest.csv"
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest}: missing; the shipped real negatives are incomplete")
    with open(manifest, newline="", encoding="utf-8") as file:
        try:
            rows = [(folder / row["path"], row["speaker"], float(row["seconds"]), row.get("transcript") or None)
                    for row in csv.DictReader(file)]
        except (KeyError, ValueError) as err:
            raise ValueError(f"{manifest}: expected columns path, speaker, seconds ({err!r})") from err
    speakers = sorted({row[1] for row in rows}, key=lambda s: seed_of(seed, "real negatives", s))
    split_of, start = {}, 0.0
    for split in SPLITS:
        end = start + fractions[split] * len(speakers)
        split_of.update({s: split for s in speakers[round(start):round(end)]})
        start = end
    return [RealNegative(path, speaker, seconds, split_of.get(speaker, SPLITS[0]), transcript)
            for path, speaker, seconds, transcript in rows]


def load_split(items: Sequence[RealNegative], split: str) -> list[torch.Tensor]:
    """The waveforms of one split's utterances, in manifest order.

    Shape:
        Output: one (S_i,) waveform per utterance.
    """
    return [load_audio(item.path) for item in items if item.split == split]

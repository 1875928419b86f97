"""The shipped real negatives: complete, licensed, split by speaker; the rule for keywords they may contain."""

from __future__ import annotations

import csv

import pytest

from asr_cnn.data.corpus.realnegatives import REAL_NEGATIVES_DIR, real_negatives, unsafe_keywords
from asr_cnn.data.voices.wordlist import syllables

FRACTIONS = {"train": 0.6, "validation": 0.2, "test": 0.2}


def test_every_listed_file_ships_with_its_licence_notice():
    with open(REAL_NEGATIVES_DIR / "manifest.csv", newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 223
    assert all((REAL_NEGATIVES_DIR / row["path"]).is_file() for row in rows)
    assert {row["licence"] for row in rows} == {"CC-BY-4.0"}
    notice = (REAL_NEGATIVES_DIR / "NOTICE.md").read_text()
    assert "CC BY 4.0" in notice and "Panayotov" in notice and "LibriSpeech" in notice


def test_splits_divide_speakers_by_the_fractions():
    items = real_negatives(FRACTIONS, seed=0)
    speakers = {split: {i.speaker for i in items if i.split == split} for split in FRACTIONS}
    assert not speakers["train"] & speakers["validation"] and not speakers["train"] & speakers["test"]
    assert not speakers["validation"] & speakers["test"]
    assert {split: len(s) for split, s in speakers.items()} == {"train": 134, "validation": 44, "test": 45}
    assert real_negatives(FRACTIONS, seed=0) == items  # a function of the seed alone
    assert [i.split for i in real_negatives(FRACTIONS, seed=1)] != [i.split for i in items]


def test_fractions_must_name_the_splits():
    with pytest.raises(ValueError, match="validation"):
        real_negatives({"train": 1.0}, seed=0)


def test_one_syllable_and_common_words_are_unsafe_phrases_and_rare_long_words_safe():
    assert [syllables(w) for w in ("go", "stone", "hello", "athena", "computer", "android")] == [1, 1, 2, 3, 3, 2]
    keywords = ["yes", "stop", "left", "hello", "athena", "amelia", "computer", "hey jarvis", "water"]
    assert unsafe_keywords(keywords) == ["yes", "stop", "left", "water"]  # water: a common word
    assert unsafe_keywords(keywords, common_words=["hello"]) == ["yes", "stop", "left", "hello", "water"]

"""asr_cnn.data.voices.vocabulary: unknown words, near-misses, and no homophones of keywords."""

from __future__ import annotations

import pytest

from asr_cnn.data.voices.engines.espeak import EspeakEngine
from asr_cnn.data.voices.vocabulary import BUILTIN_NEAR_MISSES, build_vocabulary, edit_distance
from asr_cnn.data.voices.wordlist import COMMON_WORDS

DEFAULT_KEYWORDS = ["hello", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]


@pytest.fixture(scope="module")
def phonemize():
    return EspeakEngine().phonemize


def test_default_keywords_have_their_hand_picked_near_misses(phonemize):
    vocabulary = build_vocabulary(DEFAULT_KEYWORDS, phonemize)
    assert {"yellow", "hollow", "fellow"} <= set(vocabulary.near_misses["hello"])
    for keyword in DEFAULT_KEYWORDS:
        assert len(vocabulary.near_misses[keyword]) >= 5
        assert not set(vocabulary.near_misses[keyword]) & set(DEFAULT_KEYWORDS)
    assert len(vocabulary.general) > 300


def test_homophones_of_keywords_are_never_unknown_words(phonemize):
    vocabulary = build_vocabulary(["no", "right", "two"], phonemize)
    words = set(vocabulary.general).union(*vocabulary.near_misses.values())
    assert not {"know", "write", "too", "to", "no", "right", "two"} & words
    sounds = set(phonemize(["no", "right", "two"]))
    assert not sounds & set(phonemize(sorted(words)))


def test_arbitrary_keywords_get_derived_near_misses(phonemize):
    vocabulary = build_vocabulary(["hey jarvis", "computer", "marvin"], phonemize)
    phrase = vocabulary.near_misses["hey jarvis"]
    assert "hey" in phrase and "jarvis" in phrase  # the parts of a phrase are near-misses
    assert any(p.startswith("hey ") and p != "hey jarvis" for p in phrase)  # and one-word swaps
    assert len(vocabulary.near_misses["computer"]) >= 3
    assert "marvin" not in vocabulary.general  # a keyword is never an unknown word
    assert all(k not in BUILTIN_NEAR_MISSES for k in ("computer", "marvin"))


def test_edit_distance():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3 and edit_distance("same", "same") == 0


def test_word_list_is_plain_lowercase_words():
    assert len(COMMON_WORDS) == len(set(COMMON_WORDS)) and all(w.isalpha() and w.islower() for w in COMMON_WORDS)


def test_a_large_word_list_finds_closer_near_misses_but_no_word_holding_a_keyword(phonemize):
    everyday = build_vocabulary(["computer", "cat"], phonemize)
    large = build_vocabulary(["computer", "cat"], phonemize,
                             near_miss_words=["commuter", "compute", "computers", "minicomputer", "cats"])
    assert "commuter" not in everyday.near_misses["computer"]
    assert {"commuter", "compute"} <= set(large.near_misses["computer"])
    words = set(large.general).union(*large.near_misses.values())
    assert not {"computers", "minicomputer"} & words  # they say the keyword: not unknown words
    assert "cats" in large.near_misses["cat"] and "cats" not in everyday.near_misses["cat"]  # one syllable: kept
    assert set(large.general) == set(everyday.general)  # the extra list only serves near-misses

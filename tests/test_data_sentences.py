"""Keyword-free sentences: partial keywords, confusables, and never a keyword or a word that sounds like one."""

from __future__ import annotations

import random
import re

import pytest

from asr_cnn.data.voices.engines.espeak import EspeakEngine
from asr_cnn.data.voices.sentences import (build_lexicon, contains_keyword, make_sentence, partial_keywords,
                                           syllable_parts)
from asr_cnn.data.voices.vocabulary import build_vocabulary


def test_keywords_split_into_spelled_syllables():
    assert syllable_parts("jarvis") == ["jar", "vis"]
    assert syllable_parts("computer") == ["com", "pu", "ter"]
    assert syllable_parts("stop") == ["stop"]


def test_partial_keywords_are_words_of_a_phrase_and_first_and_last_syllables():
    assert partial_keywords("hey jarvis") == ["hey", "jarvis", "jar", "vis"]
    assert partial_keywords("athena") == ["at", "athe", "hena", "na"]
    assert partial_keywords("stop") == []


@pytest.mark.parametrize("keywords, banned, has_partials", [
    (["hey jarvis"], set(), True),
    (["computer", "athena"], {"computer", "computers", "computerization", "athena"}, True),  # holding one says it
    (["no", "right", "go"], {"no", "know", "right", "write", "rite", "go"}, False),  # homophones; one syllable
])
def test_sentences_never_say_a_keyword_or_a_homophone(keywords, banned, has_partials):
    espeak = EspeakEngine()
    vocabulary = build_vocabulary(keywords, espeak.phonemize)
    lexicon = build_lexicon(keywords, espeak.phonemize, vocabulary.general, vocabulary.near_misses)
    words = {*lexicon.nouns, *lexicon.verbs, *lexicon.adjectives, *lexicon.general, *lexicon.prepositions,
             *lexicon.determiners}
    assert len(words) > 8000 and not banned & words
    rng = random.Random(0)
    sentences = [make_sentence(rng, lexicon, partial_rate=1.0, confusable_rate=1.0) for _ in range(200)]
    assert not any(contains_keyword(s, [k.lower() for k in keywords]) for s in sentences)
    assert not any(banned & set(s.split()) for s in sentences)
    partials = set(lexicon.partials)
    assert bool(partials) == has_partials
    assert all(any(re.search(rf"\b{re.escape(p)}\b", s) for p in partials) for s in sentences) or not has_partials

"""Keyword-free sentences for running synthetic speech: a small grammar over large English word lists.

Nouns, verbs and adjectives come from the ``wonderwords`` package (MIT, about 8,700 words, offline),
everyday words from :mod:`asr_cnn.data.voices.wordlist`. Every word that is a keyword, sounds like one, or
contains a multi-syllable one is left out, and a sentence that still forms a keyword phrase across
words is redrawn. Into some sentences go *partial keywords* ("jar" and "vis" of "jarvis", "hey" of
"hey jarvis", first and last syllables) and *confusable phrases* (near-misses): the negatives a live
detector meets most.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from wonderwords import RandomWord, is_profanity

from asr_cnn.data.voices.vocabulary import Phonemizer, Vocabulary, build_vocabulary, plain_phonemes
from asr_cnn.data.voices.wordlist import MIN_SYLLABLES, syllables

PRONOUNS = ("i", "we", "they", "you")
DETERMINERS = ("the", "a", "this", "that", "every", "my", "your", "our", "their", "some", "one more")
AUXILIARIES = ("will", "can", "could", "should", "would", "might", "must", "did not", "cannot", "may", "want to")
ADVERBS = ("never", "often", "always", "slowly", "quickly", "really", "still", "already", "almost", "perhaps",
           "gently", "suddenly")
PREPOSITIONS = ("in", "at", "with", "from", "for", "by", "near", "under", "after", "before", "over", "into",
                "behind", "without", "across")
CONJUNCTIONS = ("and", "but", "because", "so", "while", "when", "although", "if", "until")

CLAUSES = (1, 2)
"""Range of clauses per sentence."""

_VOWEL_GROUP = re.compile(r"[aeiouy]+")


@dataclass(frozen=True)
class Lexicon:
    """Keyword-free words by part of speech, plus the partial keywords and confusables to mix in.

    Attributes:
        nouns, verbs, adjectives, general: Content words.
        pronouns, determiners, auxiliaries, adverbs, prepositions, conjunctions: Function words.
        partials: Parts of keywords that are not the keyword (syllables, words of a phrase).
        confusables: Near-misses of the keywords (words and phrases).
        keywords: The keywords the sentences must never contain.
    """

    nouns: tuple[str, ...]
    verbs: tuple[str, ...]
    adjectives: tuple[str, ...]
    general: tuple[str, ...]
    pronouns: tuple[str, ...]
    determiners: tuple[str, ...]
    auxiliaries: tuple[str, ...]
    adverbs: tuple[str, ...]
    prepositions: tuple[str, ...]
    conjunctions: tuple[str, ...]
    partials: tuple[str, ...]
    confusables: tuple[str, ...]
    keywords: tuple[str, ...]


def syllable_parts(word: str) -> list[str]:
    """A word cut into spelled syllables at vowel groups ("jarvis" -> ["jar", "vis"]).

    One consonant between two vowel groups starts the next syllable; of several, the first stays.
    """
    groups = [m.span() for m in _VOWEL_GROUP.finditer(word.lower())]
    if len(groups) < 2:
        return [word]
    cuts = []
    for (_, end), (start, _) in zip(groups, groups[1:]):
        cuts.append(end if start - end <= 1 else end + 1)
    bounds = [0, *cuts, len(word)]
    return [word[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


def partial_keywords(keyword: str) -> list[str]:
    """Proper parts of a keyword: each word of a phrase, and first and last syllables of long words."""
    words = keyword.lower().split()
    parts = list(words) if len(words) > 1 else []
    for word in words:
        if syllables(word) >= MIN_SYLLABLES:
            pieces = syllable_parts(word)
            parts += ["".join(pieces[:i]) for i in range(1, len(pieces))]  # "jar"
            parts += ["".join(pieces[i:]) for i in range(1, len(pieces))]  # "vis"
    return [p for p in dict.fromkeys(parts) if len(p) > 1 and p != keyword.lower()]


def content_words() -> dict[str, list[str]]:
    """The ``noun``, ``verb`` and ``adjective`` lists of ``wonderwords`` (single words only)."""
    source = RandomWord()
    return {name: source.filter(include_categories=[name], exclude_with_spaces=True)
            for name in ("noun", "verb", "adjective")}


def corpus_vocabulary(keywords: Sequence[str], phonemize: Phonemizer) -> Vocabulary:
    """The unknown words a corpus for ``keywords`` draws from: everyday words, with wonderwords' content
    words as candidate near-misses."""
    candidates = sorted({w.lower() for ws in content_words().values() for w in ws})
    return build_vocabulary(keywords, phonemize, near_miss_words=candidates)


def build_lexicon(keywords: Sequence[str], phonemize: Phonemizer, general: Sequence[str] = (),
                  confusables: Mapping[str, Sequence[str]] | None = None) -> Lexicon:
    """Word lists with every keyword, homophone and keyword-bearing word removed.

    Args:
        keywords: The corpus keywords.
        phonemize: Texts -> IPA, to find homophones of keywords.
        general: Everyday words (e.g. :attr:`asr_cnn.data.voices.vocabulary.Vocabulary.general`).
        confusables: Per keyword, near-misses (e.g. ``Vocabulary.near_misses``).
    """
    categories = content_words()
    function_words = (PRONOUNS, DETERMINERS, AUXILIARIES, ADVERBS, PREPOSITIONS, CONJUNCTIONS)
    candidates = sorted({w.lower() for words in (*categories.values(), general, *function_words) for w in words})
    allowed = keyword_filter(keywords, phonemize, candidates)

    def keep(words: Sequence[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w.lower() for w in words if allowed(w) and not is_profanity(w)))

    partials = [p for k in keywords for p in partial_keywords(k)]
    near = [c for k in keywords for c in (confusables or {}).get(k, ())]
    return Lexicon(nouns=keep(categories["noun"]), verbs=keep(categories["verb"]),
                   adjectives=keep(categories["adjective"]), general=keep(general), pronouns=keep(PRONOUNS),
                   determiners=keep(DETERMINERS), auxiliaries=keep(AUXILIARIES), adverbs=keep(ADVERBS),
                   prepositions=keep(PREPOSITIONS), conjunctions=keep(CONJUNCTIONS),
                   partials=tuple(p for p in dict.fromkeys(partials) if all(allowed(w) for w in p.split())),
                   confusables=tuple(dict.fromkeys(near)), keywords=tuple(k.lower() for k in keywords))


def keyword_filter(keywords: Sequence[str], phonemize: Phonemizer, candidates: Sequence[str] = ()
                   ) -> Callable[[str], bool]:
    """A test of one word: not a one-word keyword, nor its homophone, nor containing a long one.

    Args:
        keywords: The keywords.
        phonemize: Texts -> IPA.
        candidates: Words to phonemize in one call up front (others are phonemized when asked).
    """
    singles = [k.lower() for k in keywords if len(k.split()) == 1]
    long_ones = [k for k in singles if syllables(k) >= MIN_SYLLABLES]
    keyword_sounds = {plain_phonemes(p) for p in phonemize(singles)} if singles else set()
    sounds = dict(zip(candidates, (plain_phonemes(p) for p in phonemize(list(candidates))))) if candidates else {}

    def allowed(word: str) -> bool:
        word = word.lower()
        if word in singles or any(k in word for k in long_ones):
            return False
        return (sounds.get(word) or plain_phonemes(phonemize([word])[0])) not in keyword_sounds
    return allowed


def contains_keyword(text: str, keywords: Sequence[str]) -> bool:
    """Whether ``text`` says one of ``keywords`` as whole words."""
    return any(re.search(rf"\b{re.escape(k)}\b", text) for k in keywords)


def make_sentence(rng: random.Random, lexicon: Lexicon, partial_rate: float, confusable_rate: float) -> str:
    """One sentence of one or two clauses, with a partial keyword or confusable mixed in at random.

    Args:
        rng: Source of every choice.
        lexicon: From :func:`build_lexicon`.
        partial_rate: Chance of inserting a partial keyword.
        confusable_rate: Chance of inserting a confusable phrase.
    """
    while True:
        words = _clause(rng, lexicon)
        for _ in range(rng.randint(*CLAUSES) - 1):
            words += [_pick(rng, lexicon.conjunctions, "and"), *_clause(rng, lexicon)]
        for rate, pool in ((partial_rate, lexicon.partials), (confusable_rate, lexicon.confusables)):
            if pool and rng.random() < rate:
                words.insert(rng.randint(0, len(words)), rng.choice(pool))
        text = " ".join(words)
        if not contains_keyword(text, lexicon.keywords):  # a phrase keyword formed across words
            return text


def _clause(rng: random.Random, lex: Lexicon) -> list[str]:
    """Subject, (auxiliary,) verb, object, maybe a prepositional phrase; an everyday word now and then."""
    if lex.pronouns and rng.random() < 0.4:
        words = [rng.choice(lex.pronouns)]
        if lex.auxiliaries and rng.random() < 0.5:
            words.append(rng.choice(lex.auxiliaries))
    else:
        words = _noun_phrase(rng, lex) + ([rng.choice(lex.auxiliaries)] if lex.auxiliaries else [])
    if lex.adverbs and rng.random() < 0.2:
        words.append(rng.choice(lex.adverbs))
    words += [rng.choice(lex.verbs), *_noun_phrase(rng, lex)]
    if lex.prepositions and rng.random() < 0.5:
        words += [rng.choice(lex.prepositions), *_noun_phrase(rng, lex)]
    if lex.general and rng.random() < 0.3:
        words.insert(rng.randint(0, len(words)), rng.choice(lex.general))
    return words


def _noun_phrase(rng: random.Random, lex: Lexicon) -> list[str]:
    words = [rng.choice(lex.determiners)] if lex.determiners and rng.random() < 0.8 else []
    if lex.adjectives and rng.random() < 0.5:
        words.append(rng.choice(lex.adjectives))
    return [*words, rng.choice(lex.nouns)]


def _pick(rng: random.Random, pool: Sequence[str], default: str) -> str:
    return rng.choice(pool) if pool else default

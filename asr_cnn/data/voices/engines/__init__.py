"""Text-to-speech engines behind one interface, by name: ``make_engine("espeak", variants=[...])``."""

from __future__ import annotations

from asr_cnn.data.voices.engines.base import Engine, EngineError, EngineUnavailable, Unpronounceable
from asr_cnn.data.voices.engines.espeak import EspeakEngine
from asr_cnn.data.voices.engines.festival import FestivalEngine
from asr_cnn.data.voices.engines.flite import FliteEngine
from asr_cnn.data.voices.engines.hibari import HibariEngine
from asr_cnn.data.voices.engines.kokoro import KokoroEngine
from asr_cnn.data.voices.engines.mbrola import MbrolaEngine
from asr_cnn.data.voices.engines.piper import PiperEngine

ENGINES: dict[str, type[Engine]] = {e.name: e for e in (EspeakEngine, PiperEngine, FliteEngine, HibariEngine,
                                                        KokoroEngine, FestivalEngine, MbrolaEngine)}


def engine_class(name: str) -> type[Engine]:
    """The engine class called ``name``; :class:`EngineError` listing the known names otherwise."""
    if name not in ENGINES:
        raise EngineError(f"unknown engine {name!r}; known engines: {sorted(ENGINES)}")
    return ENGINES[name]


def make_engine(name: str, **options) -> Engine:
    """An engine instance; ``options`` go to its constructor (e.g. espeak ``variants``)."""
    return engine_class(name)(**options)


__all__ = ["ENGINES", "Engine", "EngineError", "EngineUnavailable", "Unpronounceable", "engine_class", "make_engine"]

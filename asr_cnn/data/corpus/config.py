"""The corpus configuration (``conf/data/*.yaml``), checked once into frozen dataclasses.

Every bad value becomes a :class:`CorpusError` naming the field and the value received.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from asr_cnn.data.corpus.labels import make_labels

SPLITS = ("train", "validation", "test")
"""Splits made by dividing an engine's speakers."""

HELD_OUT_SPLIT = "test_engine"
"""The split of the held-out engine or voice family, never seen in training."""

_ENGINE_KEYS = ("required", "voices", "speed", "pitch", "takes")
_SUM_TOLERANCE = 1e-6  # split fractions written as decimals need not add up exactly
_MIN_FACTOR = 1e-3  # speed and pitch factors must be positive


class CorpusError(ValueError):
    """A corpus that cannot be built or read as configured; the message names the value or path."""


@dataclass(frozen=True)
class EngineSpec:
    """One engine's part of the corpus.

    Attributes:
        name: Engine name (``espeak``, ``piper``, ``flite``, ``festival``, ``mbrola``).
        required: Whether a missing engine is an error (else it is reported and left out).
        voices: Voice names as configured (espeak pairs each with every variant).
        speed: Range of the speaking-rate factor drawn per utterance.
        pitch: Range of the pitch factor drawn per utterance.
        takes: How many times each voice says every keyword.
        options: Engine-specific constructor arguments (espeak ``variants``, piper ``noise_scale``).
    """

    name: str
    required: bool
    voices: tuple[str, ...]
    speed: tuple[float, float]
    pitch: tuple[float, float]
    takes: int
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NoiseSpec:
    """The ``_background_noise_`` files and the silence clips cut from them."""

    seconds: float
    babble_talkers: int
    silence_db: tuple[float, float]


@dataclass(frozen=True)
class RunningSpeechSpec:
    """Continuous keyword-free speech per split (see :mod:`asr_cnn.data.corpus.running`)."""

    minutes: dict[str, float]
    pause_s: tuple[float, float]
    partial_rate: dict[str, float]
    confusable_rate: dict[str, float]
    engine_weights: dict[str, float]


@dataclass(frozen=True)
class RealNegativesSpec:
    """The shipped real read speech (see :mod:`asr_cnn.data.corpus.realnegatives`)."""

    enabled: bool
    splits: dict[str, float]
    common_words: tuple[str, ...]


@dataclass(frozen=True)
class StreamSpec:
    """Long validation and test streams for detection (see :mod:`asr_cnn.data.corpus.streams`)."""

    count: int
    validation_count: int
    minutes: float
    keywords_per_minute: float
    noise_db: tuple[float, float]
    gap_s: tuple[float, float]


@dataclass(frozen=True)
class CorpusConfig:
    """Everything that decides a corpus's content (plus ``workers``, which does not)."""

    name: str
    root: Path
    keywords: tuple[str, ...]
    seed: int
    workers: int
    held_out: str
    splits: dict[str, float]
    unknown_per_take: int
    near_miss_fraction: float
    silence_ratio: float
    level_db: tuple[float, float]
    engines: tuple[EngineSpec, ...]
    noise: NoiseSpec
    streams: StreamSpec
    running_speech: RunningSpeechSpec
    real_negatives: RealNegativesSpec

    def content(self) -> dict[str, Any]:
        """The fields that decide the corpus's content, as plain data (keys the build cache)."""
        return _plain({k: v for k, v in self.__dict__.items() if k not in ("root", "workers")})


def corpus_config(cfg: DictConfig | Mapping[str, Any]) -> CorpusConfig:
    """Check a data config and turn it into a :class:`CorpusConfig`.

    Args:
        cfg: The ``data`` node of a Hydra config, or an equivalent mapping; ``root`` relative to the cwd.

    Raises:
        CorpusError: A missing field or a bad value, named.
    """
    data = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    keywords = _get(data, "keywords")
    if not isinstance(keywords, (str, bytes)) and any(isinstance(k, bool) for k in keywords):
        raise CorpusError(f"data.keywords holds a boolean ({list(keywords)}): YAML reads bare yes/no/on/off "
                          "as booleans, so quote them: ['yes', 'no']")
    try:
        make_labels(keywords)
    except ValueError as err:
        raise CorpusError(f"data.keywords: {err}") from err
    splits = _fractions("data.splits", _get(data, "splits"))
    # An engine set to null is left out: how a derived config (tiny.yaml, an override) drops one.
    engines = tuple(_engine(name, block) for name, block in dict(_get(data, "engines")).items() if block is not None)
    if not engines:
        raise CorpusError("data.engines is empty: configure at least one engine")
    noise, streams = _section(data, "noise"), _section(data, "streams")
    running, real = _section(data, "running_speech"), _section(data, "real_negatives")
    common_words = real("common_words")
    if isinstance(common_words, str) or not all(isinstance(w, str) for w in common_words):
        raise CorpusError(f"data.real_negatives.common_words must be a list of words, got {common_words!r}")
    config = CorpusConfig(
        name=str(_get(data, "name")), root=Path(str(_get(data, "root"))).absolute(),  # one meaning, whatever cwd later
        keywords=tuple(data["keywords"]), seed=int(_get(data, "seed")),
        workers=_count("data.workers", _get(data, "workers")), held_out=str(_get(data, "held_out")),
        splits=splits, unknown_per_take=_count("data.unknown_per_take", _get(data, "unknown_per_take")),
        near_miss_fraction=_fraction("data.near_miss_fraction", _get(data, "near_miss_fraction")),
        silence_ratio=_nonnegative("data.silence_ratio", _get(data, "silence_ratio")),
        level_db=_interval("data.level_db", _get(data, "level_db"), high=0.0),
        engines=engines,
        noise=NoiseSpec(seconds=_positive("data.noise.seconds", noise("seconds")),
                        babble_talkers=_count("data.noise.babble_talkers", noise("babble_talkers"), 1),
                        silence_db=_interval("data.noise.silence_db", noise("silence_db"), high=0.0)),
        streams=StreamSpec(count=_count("data.streams.count", streams("count")),
                           validation_count=_count("data.streams.validation_count", streams("validation_count")),
                           minutes=_positive("data.streams.minutes", streams("minutes")),
                           keywords_per_minute=_positive("data.streams.keywords_per_minute",
                                                         streams("keywords_per_minute")),
                           noise_db=_interval("data.streams.noise_db", streams("noise_db"), high=0.0),
                           gap_s=_interval("data.streams.gap_s", streams("gap_s"), low=0.0)),
        running_speech=RunningSpeechSpec(
            minutes=_per_split("data.running_speech.minutes", running("minutes"), _nonnegative),
            pause_s=_interval("data.running_speech.pause_s", running("pause_s"), low=0.0),
            partial_rate=_per_split("data.running_speech.partial_rate", running("partial_rate"), _fraction),
            confusable_rate=_per_split("data.running_speech.confusable_rate", running("confusable_rate"), _fraction),
            engine_weights={str(k): _nonnegative(f"data.running_speech.engine_weights.{k}", v)
                            for k, v in dict(running("engine_weights")).items()}),
        real_negatives=RealNegativesSpec(enabled=bool(real("enabled")),
                                         splits=_fractions("data.real_negatives.splits", real("splits")),
                                         common_words=tuple(common_words)),
    )
    if not config.name or "/" in config.name:
        raise CorpusError(f"data.name must be a plain folder name, got {config.name!r}")
    return config


def _fractions(name: str, value: Any) -> dict[str, float]:
    """Split -> fraction for exactly :data:`SPLITS`, non-negative, summing to 1, train > 0."""
    fractions = {str(k): _number(name, v) for k, v in dict(value).items()}
    if set(fractions) != set(SPLITS) or min(fractions.values()) < 0 or fractions["train"] <= 0 \
            or abs(sum(fractions.values()) - 1) > _SUM_TOLERANCE:
        raise CorpusError(f"{name} must give {list(SPLITS)} non-negative fractions summing to 1 "
                          f"with train > 0, got {fractions}")
    return fractions


def _per_split(name: str, value: Any, check: Callable[[str, Any], float]) -> dict[str, float]:
    """Split -> value for exactly :data:`SPLITS`, each passed through ``check``."""
    if not isinstance(value, Mapping) or set(value) != set(SPLITS):
        raise CorpusError(f"{name} must give a value for each of {list(SPLITS)}, got {value!r}")
    return {split: check(f"{name}.{split}", value[split]) for split in SPLITS}


def _engine(name: str, block: Mapping[str, Any]) -> EngineSpec:
    where = f"data.engines.{name}"
    block = dict(block)
    voices = _get(block, "voices", where)
    if isinstance(voices, str) or not voices or not all(isinstance(v, str) and v for v in voices):
        raise CorpusError(f"{where}.voices must be a non-empty list of voice names, got {voices!r}")
    return EngineSpec(name=name, required=bool(_get(block, "required", where)), voices=tuple(voices),
                      speed=_interval(f"{where}.speed", _get(block, "speed", where), low=_MIN_FACTOR),
                      pitch=_interval(f"{where}.pitch", _get(block, "pitch", where), low=_MIN_FACTOR),
                      takes=_count(f"{where}.takes", _get(block, "takes", where), 1),
                      options={k: v for k, v in block.items() if k not in _ENGINE_KEYS})


def _section(data: Mapping[str, Any], name: str) -> Callable[[str], Any]:
    """A getter of the keys of ``data[name]`` whose errors name ``data.<name>.<key>``."""
    section = dict(_get(data, name))
    return lambda key: _get(section, key, f"data.{name}")


def _get(data: Mapping[str, Any], key: str, where: str = "data") -> Any:
    if key not in data or data[key] is None:
        raise CorpusError(f"{where}.{key} is missing")
    return data[key]


def _count(name: str, value: Any, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise CorpusError(f"{name} must be an integer >= {low}, got {value!r}")
    return value


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CorpusError(f"{name} must be a number, got {value!r}")
    return float(value)


def _positive(name: str, value: Any) -> float:
    if _number(name, value) <= 0:
        raise CorpusError(f"{name} must be positive, got {value!r}")
    return float(value)


def _nonnegative(name: str, value: Any) -> float:
    if _number(name, value) < 0:
        raise CorpusError(f"{name} must be >= 0, got {value!r}")
    return float(value)


def _fraction(name: str, value: Any) -> float:
    if not 0 <= _number(name, value) <= 1:
        raise CorpusError(f"{name} must be in [0, 1], got {value!r}")
    return float(value)


def _interval(name: str, value: Any, low: float = float("-inf"), high: float = float("inf")) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise CorpusError(f"{name} must be a range [low, high], got {value!r}")
    a, b = (_number(name, v) for v in value)
    if not low <= a <= b <= high:
        raise CorpusError(f"{name} must be a range [low, high] within [{low}, {high}], got {list(value)}")
    return a, b


def _plain(value: Any) -> Any:
    """Dataclasses, tuples and paths as dicts, lists and strings."""
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(v) for k, v in value.__dict__.items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, Path) else value

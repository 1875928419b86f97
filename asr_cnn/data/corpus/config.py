"""The corpus configuration: the schema of ``conf/data`` (:class:`DataConfig`), and :class:`CorpusConfig`,
what a corpus is made from, checked once.

Hydra checks the types while composing; :func:`corpus_config` checks the rest. Every bad value becomes a
:class:`CorpusError` naming the field and the value received.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from omegaconf import MISSING, DictConfig

from asr_cnn.data.corpus.labels import make_labels
from asr_cnn.schema import flag, integer, interval, number, positive, setting, typed

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


PER_SPLIT = f"give a value for each of {list(SPLITS)}"


@dataclass
class NoiseSpec:
    """``data.noise``: the ``_background_noise_`` files and the silence clips cut from them."""

    seconds: float = positive()
    babble_talkers: int = integer(1)
    silence_db: list[float] = interval("be a range [low, high] of dBFS with low <= high <= 0", high=0.0)


@dataclass
class RunningSpeechSpec:
    """``data.running_speech``: continuous keyword-free speech per split (:mod:`asr_cnn.data.corpus.running`)."""

    minutes: dict[str, float] = setting(f"{PER_SPLIT}, each >= 0")
    pause_s: list[float] = interval("be a range [low, high] of seconds with 0 <= low <= high", low=0.0)
    partial_rate: dict[str, float] = setting(f"{PER_SPLIT}, each in [0, 1]")
    confusable_rate: dict[str, float] = setting(f"{PER_SPLIT}, each in [0, 1]")
    engine_weights: dict[str, float] = setting("map engine names to weights >= 0",
                                               lambda v: all(w >= 0 for w in v.values()))


@dataclass
class RealNegativesSpec:
    """``data.real_negatives``: the shipped real read speech (:mod:`asr_cnn.data.corpus.realnegatives`)."""

    enabled: bool = flag()
    splits: dict[str, float] = setting(f"{PER_SPLIT}: fractions >= 0 summing to 1 with train > 0")
    common_words: list[str] = setting("be a list of words")


@dataclass
class StreamSpec:
    """``data.streams``: long validation and test streams for detection (:mod:`asr_cnn.data.corpus.streams`)."""

    count: int = integer(0)
    validation_count: int = integer(0)
    minutes: float = positive()
    keywords_per_minute: float = positive()
    noise_db: list[float] = interval("be a range [low, high] of dBFS with low <= high <= 0", high=0.0)
    gap_s: list[float] = interval("be a range [low, high] of seconds with 0 <= low <= high", low=0.0)


@dataclass
class RoomSpec:
    """``data.augment.room``: simulated shoebox rooms (:mod:`asr_cnn.data.acoustics.rooms`)."""

    prob: float = number(0, 1)
    bank: int = integer(0)
    size_m: list[list[float]] = setting("be three ranges [low, high] of metres (length, width, height)")
    absorption: list[float] = setting("be a range [low, high]")
    distance_m: list[float] = setting("be a range [low, high] of metres")
    early_s: float = number(0)
    max_length_s: float = number(0)


@dataclass
class DeviceSpec:
    """``data.augment.device``: microphone, loudspeaker and link (:mod:`asr_cnn.data.acoustics.channel`)."""

    eq_prob: float = number(0, 1)
    eq_bands: int = integer(0)
    eq_hz: list[float] = setting("be a range [low, high] of Hz")
    eq_gain_db: list[float] = setting("be a range [low, high] of dB")
    eq_q: list[float] = setting("be a range [low, high]")
    telephone_prob: float = number(0, 1)
    narrowband_prob: float = number(0, 1)
    mu_law_prob: float = number(0, 1)
    opus_prob: float = number(0, 1)
    opus_compression: list[float] = setting("be a range [low, high] in [0, 1]")
    clip_prob: float = number(0, 1)
    clip_headroom_db: list[float] = setting("be a range [low, high] of dB")


@dataclass
class SpecAugmentSpec:
    """``data.augment.spec``: masking of features by the training loop (:class:`~asr_cnn.data.SpecAugment`)."""

    freq_masks: int = integer(0)
    freq_width: int = integer(0)
    time_masks: int = integer(0)
    time_width: int = integer(0)


@dataclass
class AugmentSpec:
    """``data.augment``: training's waveform augmentation (:meth:`~asr_cnn.data.WaveAugment.from_config`)."""

    shift_s: float = number(0)
    gain_db: list[float] = setting("be a range [low, high] of dB")
    noise_prob: float = number(0, 1)
    snr_db: list[float] = setting("be a range [low, high] of dB")
    speed: list[float] = setting("be a range [low, high] of speed factors")
    speed_prob: float = number(0, 1)
    room: RoomSpec | None = MISSING
    device: DeviceSpec | None = MISSING
    spec: SpecAugmentSpec | None = MISSING


@dataclass
class DataConfig:
    """The schema of ``conf/data``: a corpus built from text (values in ``conf/data/default.yaml``).

    Hydra checks the types while composing; :func:`corpus_config` checks the rest.
    """

    error: ClassVar[type[ValueError]] = CorpusError

    name: str = setting("be a plain folder name", lambda v: bool(v) and "/" not in v)
    root: str = setting("be a folder")
    keywords: list[Any] = setting("be a list of keywords")
    seed: int = setting("be an integer")
    workers: int = integer(0)
    held_out: str = setting("be an engine, or engine:voice-family")
    splits: dict[str, float] = setting(f"{PER_SPLIT}: fractions >= 0 summing to 1 with train > 0")
    unknown_per_take: int = integer(0)
    near_miss_fraction: float = number(0, 1)
    silence_ratio: float = number(0)
    level_db: list[float] = interval("be a range [low, high] of dBFS with low <= high <= 0", high=0.0)
    engines: dict[str, Any] = setting("map engine names to their settings (null leaves one out)")
    noise: NoiseSpec = MISSING
    augment: AugmentSpec | None = MISSING
    running_speech: RunningSpeechSpec = MISSING
    real_negatives: RealNegativesSpec = MISSING
    streams: StreamSpec = MISSING


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


def data_config(cfg: DictConfig | Mapping[str, Any]) -> DataConfig:
    """The ``data`` node of a Hydra config (or an equivalent mapping) as a :class:`DataConfig`, each field's
    own check made (:func:`corpus_config` checks the whole).

    Raises:
        CorpusError: A missing field or a bad value, named.
    """
    return typed(DataConfig, cfg, "data")


def corpus_config(cfg: DataConfig | DictConfig | Mapping[str, Any]) -> CorpusConfig:
    """Check a data config and turn it into a :class:`CorpusConfig`.

    Args:
        cfg: The ``data`` node of a Hydra config, an equivalent mapping, or its :class:`DataConfig`; ``root``
            relative to the cwd.

    Raises:
        CorpusError: A missing field or a bad value, named.
    """
    data = data_config(cfg)
    if any(isinstance(k, bool) for k in data.keywords):
        raise CorpusError(f"data.keywords holds a boolean ({data.keywords}): YAML reads bare yes/no/on/off "
                          "as booleans, so quote them: ['yes', 'no']")
    try:
        make_labels(data.keywords)
    except ValueError as err:
        raise CorpusError(f"data.keywords: {err}") from err
    # An engine set to null is left out: how a derived config (tiny.yaml, an override) drops one.
    engines = tuple(_engine(name, block) for name, block in data.engines.items() if block is not None)
    if not engines:
        raise CorpusError("data.engines is empty: configure at least one engine")
    running, real = data.running_speech, data.real_negatives
    return CorpusConfig(
        name=data.name, root=Path(data.root).absolute(),  # one meaning, whatever the cwd later
        keywords=tuple(data.keywords), seed=data.seed, workers=data.workers, held_out=data.held_out,
        splits=_fractions("data.splits", data.splits), unknown_per_take=data.unknown_per_take,
        near_miss_fraction=data.near_miss_fraction, silence_ratio=data.silence_ratio,
        level_db=tuple(data.level_db), engines=engines, noise=data.noise, streams=data.streams,
        running_speech=replace(
            running, minutes=_per_split("data.running_speech.minutes", running.minutes, _nonnegative),
            partial_rate=_per_split("data.running_speech.partial_rate", running.partial_rate, _fraction),
            confusable_rate=_per_split("data.running_speech.confusable_rate", running.confusable_rate, _fraction)),
        real_negatives=replace(real, splits=_fractions("data.real_negatives.splits", real.splits)),
    )


def split_fractions(fractions: Mapping[str, float]) -> bool:
    """Whether ``fractions`` gives each of :data:`SPLITS` (and nothing else) a fraction >= 0, summing to 1."""
    return set(fractions) == set(SPLITS) and min(fractions.values()) >= 0 \
        and abs(sum(fractions.values()) - 1) <= _SUM_TOLERANCE


def _fractions(name: str, value: Any) -> dict[str, float]:
    """Split -> fraction for exactly :data:`SPLITS`, non-negative, summing to 1, train > 0."""
    fractions = {str(k): _number(name, v) for k, v in dict(value).items()}
    if not split_fractions(fractions) or fractions["train"] <= 0:
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

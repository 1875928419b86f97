"""The schema of ``conf/detector``: how a recipe's detector runs, typed; the values are in
``conf/detector/default.yaml``.

The recipes build the detector with ``instantiate(cfg.detector)(spotter, ...)``; Hydra checks the types while
composing, and :class:`~asr_cnn.detect.Detector` checks the ranges (a threshold outside [0, 1], a negative
duration) when it is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from asr_cnn.schema import Partial, number, setting


class Runtime(str, Enum):
    """``detector.runtime``: what the scanner runs (:data:`~asr_cnn.streaming.engines.RUNTIMES`). A member is
    the string it names, so the detector receives ``"auto"``, ``"fast"`` or ``"eager"``."""

    auto = "auto"
    fast = "fast"
    eager = "eager"

    __str__ = str.__str__
    __format__ = str.__format__


@dataclass
class DetectorConfig(Partial):
    """``detector``: the arguments of :class:`~asr_cnn.detect.Detector` a recipe sets, as a partial."""

    _convert_: str = setting("be none, partial, object or all")
    threshold: float = number(0, 1)
    # Any, not dict | None: OmegaConf cannot merge an override's mapping into a typed optional mapping that is null.
    thresholds: Any = setting("map keywords to thresholds in [0, 1] (or be null)")
    fa_per_hour: float | None = number(0, optional=True)
    smoothing_s: float | None = number(0, optional=True)
    refractory_s: float | None = number(0, optional=True)
    runtime: Runtime = setting("be auto, fast or eager")

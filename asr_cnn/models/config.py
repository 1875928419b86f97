"""The schema of ``spotter`` in ``conf/train.yaml``: the spotter's own settings beyond its modules' configs."""

from __future__ import annotations

from dataclasses import dataclass

from asr_cnn.schema import positive


@dataclass
class SpotterConfig:
    """``spotter``: read by :meth:`~asr_cnn.models.spotter.KeywordSpotter.from_config` (values in ``conf/train.yaml``)."""

    window_seconds: float = positive()

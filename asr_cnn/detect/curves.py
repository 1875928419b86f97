"""Operating curves: what each threshold of a keyword costs and buys, measured at calibration.

A checkpoint calibrated on real speech carries one curve per keyword in ``extra["curves"]``: thresholds,
the false alarms per hour of real keyword-free speech each raises (counted, and extrapolated by the tail
fit where the counts are few) and the validation recall it keeps. A :class:`~asr_cnn.detect.Detector` built
with ``fa_per_hour=X`` reads each keyword's threshold off its curve for a share of ``X``, the same rule by
which calibration chose the shipped thresholds for its target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class OperatingCurve:
    """One keyword's thresholds and what each does.

    Attributes:
        thresholds: Ascending.
        fa_per_hour: False alarms per hour of real speech at each, non-increasing.
        recall: Share of the validation keywords detected at each (``None`` where none was spoken).
        hours: Real speech the false alarms were measured on.
    """

    thresholds: Sequence[float]
    fa_per_hour: Sequence[float]
    recall: Sequence[float | None]
    hours: float

    def __post_init__(self) -> None:
        sizes = {len(self.thresholds), len(self.fa_per_hour), len(self.recall)}
        if len(sizes) != 1 or not self.thresholds:
            raise ValueError(f"an operating curve needs equally many thresholds, false-alarm rates and recalls, "
                             f"at least one, got {sorted(sizes)}")
        if any(b < a for a, b in zip(self.thresholds, self.thresholds[1:])):
            raise ValueError(f"an operating curve's thresholds must ascend, got {list(self.thresholds)}")

    def index_for(self, fa_per_hour: float) -> int:
        """The lowest threshold from which on every higher one raises at most ``fa_per_hour``; the highest
        threshold when even that raises more.

        Raises:
            ValueError: A negative ``fa_per_hour``.
        """
        if fa_per_hour < 0:
            raise ValueError(f"fa_per_hour must be >= 0, got {fa_per_hour}")
        index = len(self.thresholds)
        while index > 0 and self.fa_per_hour[index - 1] <= fa_per_hour:
            index -= 1
        return min(index, len(self.thresholds) - 1)

    def threshold_for(self, fa_per_hour: float) -> float:
        """The threshold of :meth:`index_for`."""
        return float(self.thresholds[self.index_for(fa_per_hour)])

    def to_dict(self) -> dict[str, Any]:
        """Plain lists for the checkpoint (``weights_only`` loading reads them back)."""
        return {key: list(value) if isinstance(value, Sequence) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "OperatingCurve":
        """The curve :meth:`to_dict` wrote.

        Raises:
            ValueError: A key is missing or the lists do not make a curve.
        """
        try:
            return cls([float(t) for t in data["thresholds"]], [float(f) for f in data["fa_per_hour"]],
                       [None if r is None else float(r) for r in data["recall"]], float(data["hours"]))
        except (KeyError, TypeError) as err:
            raise ValueError(f"not an operating curve ({err!r}): {dict(data)}") from err


def curve_thresholds(curves: Mapping[str, Mapping[str, Any]], fa_per_hour: float) -> dict[str, float]:
    """Each keyword's threshold for an equal share of ``fa_per_hour``, the whole model's false alarms per hour.

    Args:
        curves: Per keyword, an :meth:`OperatingCurve.to_dict` (a checkpoint's ``extra["curves"]``).
        fa_per_hour: False alarms per hour of real speech allowed for all keywords together.
    """
    share = fa_per_hour / max(len(curves), 1)
    return {keyword: OperatingCurve.from_dict(curve).threshold_for(share) for keyword, curve in curves.items()}

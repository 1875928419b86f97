"""Calibration picks, per keyword, the lowest threshold that meets its share of the false-alarm target."""

from __future__ import annotations

import pytest
import torch

from asr_cnn.evaluation.calibration import calibrate, calibrate_smoothing
from asr_cnn.evaluation.scoring import Scored

HOP_S, ROWS_PER_HOUR = 0.04, 90_000
CLASSES = ["_silence_", "_unknown_", "athena", "amelia"]


def synthetic_hour(spoken: dict[str, list[float]], alarms: dict[str, list[float]], alarm_rows: int = 5) -> Scored:
    """One hour of scores: each spoken keyword holds 0.9 for 5 rows on its label; false alarms peak
    elsewhere for ``alarm_rows`` rows."""
    scores = torch.zeros(1, ROWS_PER_HOUR, len(CLASSES))
    labels, row = [], 1000
    for keyword, peaks in spoken.items():
        for _ in peaks:
            scores[0, row:row + 5, CLASSES.index(keyword)] = 0.9
            labels.append({"keyword": keyword, "start_s": row * HOP_S + 0.2, "end_s": row * HOP_S + 0.8})
            row += 1000
    for keyword, peaks in alarms.items():
        for peak in peaks:  # far from every label
            scores[0, row:row + alarm_rows, CLASSES.index(keyword)] = peak
            row += 1000
    return Scored(scores, [3600.0], [labels], CLASSES, HOP_S, 1.0, refractory_rows=25, smoothing_rows=1,
                  thresholds=torch.tensor([float("inf"), float("inf"), 0.5, 0.5]))


def test_each_keyword_gets_the_lowest_threshold_within_its_share_of_the_target():
    scored = synthetic_hour({"athena": [0.9] * 6, "amelia": [0.9] * 4},
                            {"athena": [0.6, 0.7, 0.8], "amelia": [0.3, 0.95]})
    calibration = calibrate(scored, target_fa_per_hour=2.0)  # one false alarm per hour for each keyword
    assert calibration.thresholds["athena"] == pytest.approx(0.71)  # above 0.6 and 0.7, 0.8 is the one left
    assert calibration.thresholds["amelia"] == pytest.approx(0.31)  # above 0.3; 0.95 cannot be helped
    assert calibration.met == {"athena": True, "amelia": True}
    assert calibration.point.fa_per_hour == pytest.approx(2.0) and calibration.recall == 1.0
    assert calibration.point.per_keyword["athena"].false_alarms == 1


def test_a_target_no_threshold_meets_is_reported_and_gets_the_highest_threshold():
    scored = synthetic_hour({"athena": [0.9], "amelia": [0.9]}, {"athena": [0.999999], "amelia": [0.4]})
    calibration = calibrate(scored, target_fa_per_hour=0.5)  # a share of 0.25 per hour: none allowed
    assert calibration.met == {"athena": False, "amelia": True}
    assert calibration.thresholds["athena"] == pytest.approx(1 - 1e-6)
    assert calibration.thresholds["amelia"] == pytest.approx(0.41)
    assert calibration.point.per_keyword["amelia"].hits == 1 and calibration.point.per_keyword["athena"].hits == 0
    with pytest.raises(ValueError, match="target"):
        calibrate(scored, target_fa_per_hour=-1.0)


def test_calibration_keeps_the_smoothing_span_whose_thresholds_detect_the_most():
    """Spoken keywords hold their posterior for 5 rows, false alarms are one-row spikes above them: without
    smoothing no threshold separates them, a 5-row average does, and so does 10 (a tie: the shorter stays)."""
    scored = synthetic_hour({"athena": [0.9] * 4, "amelia": [0.9] * 2}, {"athena": [0.97], "amelia": [0.95]},
                            alarm_rows=1)
    alone = calibrate_smoothing(scored, target_fa_per_hour=0.5, spans=[1])
    assert alone.recall == 0.0 and alone.smoothing_s == pytest.approx(HOP_S)
    chosen = calibrate_smoothing(scored, target_fa_per_hour=0.5, spans=[10, 1, 5])
    assert chosen.recall == 1.0 and chosen.point.fa_per_hour == 0.0
    assert chosen.smoothing_s == pytest.approx(5 * HOP_S)
    assert chosen.thresholds["athena"] == pytest.approx(0.97 / 5 + 0.01, abs=0.01)  # just above the averaged spike
    assert chosen.summary()["smoothing_s"] == chosen.smoothing_s
    assert chosen.refractory_s == pytest.approx(25 * HOP_S)
    with pytest.raises(ValueError, match="span"):
        calibrate_smoothing(scored, target_fa_per_hour=0.5, spans=[])

"""Calibration picks, per keyword, the lowest threshold that meets its share of the false-alarm target, and
no lower than where a fit of its false alarms' tail falls to that share."""

from __future__ import annotations

import math

import pytest
import torch

from asr_cnn.evaluation.calibration import CALIBRATION_GRID, calibrate, calibrate_smoothing, tail_threshold
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
    calibration = calibrate(scored, target_fa_per_hour=2.0, tail_events=0)  # one false alarm per hour for each keyword
    assert calibration.thresholds["athena"] == pytest.approx(0.71)  # above 0.6 and 0.7, 0.8 is the one left
    assert calibration.thresholds["amelia"] == pytest.approx(0.31)  # above 0.3; 0.95 cannot be helped
    assert calibration.met == {"athena": True, "amelia": True}
    assert calibration.point.fa_per_hour == pytest.approx(2.0) and calibration.recall == 1.0
    assert calibration.point.per_keyword["athena"].false_alarms == 1


def test_a_target_no_threshold_meets_is_reported_and_gets_the_highest_threshold():
    scored = synthetic_hour({"athena": [0.9], "amelia": [0.9]}, {"athena": [0.999999], "amelia": [0.4]})
    calibration = calibrate(scored, target_fa_per_hour=0.5, tail_events=0)  # a share of 0.25 per hour: none allowed
    assert calibration.met == {"athena": False, "amelia": True}
    assert calibration.thresholds["athena"] == pytest.approx(1 - 1e-6)
    assert calibration.thresholds["amelia"] == pytest.approx(0.41)
    assert calibration.point.per_keyword["amelia"].hits == 1 and calibration.point.per_keyword["athena"].hits == 0
    with pytest.raises(ValueError, match="target"):
        calibrate(scored, target_fa_per_hour=-1.0, tail_events=0)


def test_calibration_keeps_the_smoothing_span_whose_thresholds_detect_the_most():
    """Spoken keywords hold their posterior for 5 rows, false alarms are one-row spikes above them: without
    smoothing no threshold separates them, a 5-row average does, and so does 10 (a tie: the shorter stays)."""
    scored = synthetic_hour({"athena": [0.9] * 4, "amelia": [0.9] * 2}, {"athena": [0.97], "amelia": [0.95]},
                            alarm_rows=1)
    alone = calibrate_smoothing(scored, target_fa_per_hour=0.5, tail_events=0, spans=[1])
    assert alone.recall == 0.0 and alone.smoothing_s == pytest.approx(HOP_S)
    chosen = calibrate_smoothing(scored, target_fa_per_hour=0.5, tail_events=0, spans=[10, 1, 5])
    assert chosen.recall == 1.0 and chosen.point.fa_per_hour == 0.0
    assert chosen.smoothing_s == pytest.approx(5 * HOP_S)
    assert chosen.thresholds["athena"] == pytest.approx(0.97 / 5 + 0.01, abs=0.01)  # just above the averaged spike
    assert chosen.summary()["smoothing_s"] == chosen.smoothing_s
    assert chosen.refractory_s == pytest.approx(25 * HOP_S)
    with pytest.raises(ValueError, match="span"):
        calibrate_smoothing(scored, target_fa_per_hour=0.5, tail_events=0, spans=[])


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_the_tail_fit_finds_where_exponential_counts_fall_to_the_allowed_number():
    """Counts N(t) = 200 exp(-(logit t - logit 0.1) / 0.4) reach 0.5 at logit t = logit 0.1 + 0.4 ln 400."""
    logits = torch.logit(CALIBRATION_GRID)
    counts = (200 * torch.exp(-(logits - logit(0.1)) / 0.4)).clamp(max=200)
    expected = sigmoid(logit(0.1) + 0.4 * math.log(400))
    assert tail_threshold(CALIBRATION_GRID, counts, allowed=0.5, tail_events=20) == pytest.approx(expected, abs=0.005)
    assert tail_threshold(CALIBRATION_GRID, counts, allowed=0.0, tail_events=20) == 1.0
    assert tail_threshold(CALIBRATION_GRID, counts, allowed=0.5, tail_events=201) is None  # too few to fit


def test_a_heavy_tail_raises_the_threshold_above_the_loudest_false_alarm():
    """40 athena false alarms peaking where 40 draws of an exponential in logit (scale 0.3 above 0.2) are
    expected to: counting puts the threshold just above the loudest (0.47); the fit, where 0.25 of them per
    hour would remain (0.53)."""
    peaks = [sigmoid(logit(0.2) + 0.3 * sum(1 / i for i in range(j, 41))) for j in range(1, 41)]
    scored = synthetic_hour({"athena": [0.9] * 3, "amelia": [0.9] * 3}, {"athena": peaks, "amelia": [0.3, 0.4]})
    counted = calibrate(scored, target_fa_per_hour=0.5, tail_events=0)
    fitted = calibrate(scored, target_fa_per_hour=0.5, tail_events=10)
    assert counted.thresholds["athena"] == pytest.approx(0.48)
    assert fitted.thresholds["athena"] == pytest.approx(sigmoid(logit(0.2) + 0.3 * math.log(40 / 0.25)), abs=0.015)
    assert fitted.thresholds["amelia"] == counted.thresholds["amelia"] == pytest.approx(0.41)  # 2 < 10: counted
    assert fitted.met == counted.met == {"athena": True, "amelia": True} and fitted.recall == 1.0
    with pytest.raises(ValueError, match="tail_events"):
        calibrate(scored, target_fa_per_hour=0.5, tail_events=-1)

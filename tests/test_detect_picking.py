"""The event picker against small hand-made score matrices: which class fires, at which row, and when not."""

from __future__ import annotations

import pytest
import torch

from asr_cnn.detect.picking import EventPicker, Pick

NAN = float("nan")


def picks(rows: list[list[float]], thresholds: list[float], refractory_rows: int = 1,
          first_row: int = 0) -> list[tuple[int, int, float]]:
    """(row, label, score) of every pick of one stream whose score rows (n, K) are pushed at once."""
    picker = EventPicker(torch.tensor(thresholds), refractory_rows, batch_size=1)
    return [(p.row, p.label, round(p.score, 6)) for p in picker.push(torch.tensor([rows]), first_row)]


def test_the_highest_scoring_of_the_classes_that_cross_together_fires():
    rows = [[0.1, 0.2, 0.1], [0.6, 0.9, 0.7], [0.1, 0.1, 0.1], [0.8, 0.6, 0.95]]
    assert picks(rows, [0.5, 0.5, 0.5]) == [(1, 1, 0.9), (3, 2, 0.95)]


def test_an_event_fires_at_the_first_crossing_not_at_the_peak():
    rows = [[0.2], [0.55], [0.8], [0.99], [0.7], [0.3]]
    assert picks(rows, [0.5], refractory_rows=10) == [(1, 0, 0.55)]


def test_a_score_equal_to_its_threshold_fires():
    assert picks([[0.25], [0.5], [0.25]], [0.5]) == [(1, 0, 0.5)]


@pytest.mark.parametrize("refractory_rows", [1, 2, 3, 5])
def test_the_refractory_period_is_exactly_its_rows(refractory_rows):
    rows = [[0.9]] * 12  # above the threshold throughout: it fires as often as the refractory period lets it
    expected = [(row, 0, 0.9) for row in range(0, 12, refractory_rows)]
    assert picks(rows, [0.5], refractory_rows) == expected


def test_the_refractory_period_silences_every_class_and_then_lifts():
    rows = [[0.9, 0.0], [0.0, 0.9], [0.0, 0.9], [0.0, 0.9]]  # a second class crossing during it stays quiet
    assert picks(rows, [0.5, 0.5], refractory_rows=3) == [(0, 0, 0.9), (3, 1, 0.9)]


def test_the_refractory_period_carries_over_from_one_push_to_the_next():
    picker = EventPicker(torch.tensor([0.5]), refractory_rows=4, batch_size=1)
    assert picker.push(torch.tensor([[[0.1], [0.9]]]), first_row=0) == [Pick(0, 1, 0, pytest.approx(0.9))]
    assert picker.push(torch.tensor([[[0.9], [0.9], [0.9], [0.9]]]), first_row=2) == [Pick(0, 5, 0, pytest.approx(0.9))]
    picker.reset()
    assert picker.push(torch.tensor([[[0.9]]]), first_row=6) == [Pick(0, 6, 0, pytest.approx(0.9))]


def test_nan_never_fires_and_does_not_hide_a_class_that_crosses():
    assert picks([[NAN, NAN], [NAN, NAN], [NAN, NAN]], [0.0, 0.0]) == []
    assert picks([[NAN, 0.6], [0.7, NAN], [NAN, 0.1]], [0.5, 0.5], refractory_rows=1) == [(0, 1, 0.6), (1, 0, 0.7)]


def test_thresholds_apply_per_class():
    rows = [[0.8, 0.1], [0.95, 0.35], [0.5, 0.5]]  # class 0 needs 0.9, class 1 only 0.3
    assert picks(rows, [0.9, 0.3], refractory_rows=1) == [(1, 0, 0.95), (2, 1, 0.5)]
    assert picks([[0.6, 0.4]], [0.9, 0.3]) == [(0, 1, 0.4)]  # the class over its own threshold, not the top score


def test_a_class_whose_threshold_is_inf_never_fires():
    assert picks([[1.0, 0.2], [1.0, 0.9]], [float("inf"), 0.5]) == [(1, 1, 0.9)]


def test_streams_fire_and_rest_independently_with_global_rows():
    scores = torch.tensor([[[0.9], [0.9], [0.1], [0.9]],
                           [[0.1], [0.1], [0.9], [0.9]]])  # (B=2, n=4, K=1)
    picker = EventPicker(torch.tensor([0.5]), refractory_rows=3, batch_size=2)
    assert [(p.stream, p.row) for p in picker.push(scores, first_row=100)] == [(0, 100), (1, 102), (0, 103)]
    picker.reset(torch.tensor([False, True]))  # stream 1 may fire again at once, stream 0 still rests
    assert [(p.stream, p.row) for p in picker.push(scores[:, :1].clone().fill_(0.9), first_row=104)] == [(1, 104)]


def test_a_refractory_period_below_one_row_is_refused():
    with pytest.raises(ValueError, match="refractory_rows must be >= 1"):
        EventPicker(torch.tensor([0.5]), refractory_rows=0, batch_size=1)

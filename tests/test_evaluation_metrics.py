"""Clip metrics against a hand-computed example: accuracy, per class, per engine, the confusion matrix."""

from __future__ import annotations

import json

import pytest
import torch

from asr_cnn.evaluation.metrics import accuracy, classification_report, confusion_matrix, grouped_accuracy

LABELS = ["yes", "no", "_unknown_", "_silence_"]  # no clip of _silence_: its accuracy is unknown, not 0 or 1
TARGETS = torch.tensor([0, 0, 0, 1, 1, 2])
PREDICTIONS = torch.tensor([0, 1, 0, 1, 2, 2])
ENGINES = ["piper", "piper", "kokoro", "kokoro", "piper", "kokoro"]
CONFUSION = [  # rows true class, columns predicted, counted by hand from the pairs above
    [2, 1, 0, 0],  # yes: twice right, once heard as no
    [0, 1, 1, 0],  # no: once right, once heard as _unknown_
    [0, 0, 1, 0],  # _unknown_: right
    [0, 0, 0, 0],
]


def test_the_confusion_matrix_counts_true_classes_in_rows():
    assert confusion_matrix(PREDICTIONS, TARGETS, len(LABELS)).tolist() == CONFUSION


def test_accuracy_is_the_fraction_of_clips_right_and_none_without_clips():
    assert accuracy(PREDICTIONS, TARGETS) == pytest.approx(4 / 6)
    assert accuracy(torch.tensor([], dtype=torch.long), torch.tensor([], dtype=torch.long)) is None


def test_grouped_accuracy_counts_each_group_apart_sorted_by_name():
    groups = grouped_accuracy(PREDICTIONS, TARGETS, ENGINES)
    assert list(groups) == ["kokoro", "piper"]
    assert groups["kokoro"] == {"accuracy": pytest.approx(3 / 3), "n": 3}
    assert groups["piper"] == {"accuracy": pytest.approx(1 / 3), "n": 3}


def test_the_report_of_a_split():
    report = classification_report(PREDICTIONS, TARGETS, LABELS, ENGINES)
    assert report["accuracy"] == pytest.approx(4 / 6) and report["n"] == 6
    assert list(report["per_class"]) == LABELS  # in label order, every label present
    assert report["per_class"] == {
        "yes": {"accuracy": pytest.approx(2 / 3), "n": 3},
        "no": {"accuracy": pytest.approx(1 / 2), "n": 2},
        "_unknown_": {"accuracy": pytest.approx(1.0), "n": 1},
        "_silence_": {"accuracy": None, "n": 0},
    }
    assert report["per_engine"] == {"kokoro": {"accuracy": pytest.approx(1.0), "n": 3},
                                    "piper": {"accuracy": pytest.approx(1 / 3), "n": 3}}
    assert report["confusion"] == CONFUSION
    assert json.loads(json.dumps(report))["confusion"] == CONFUSION  # plain data


def test_the_report_without_engines_has_no_per_engine_figures():
    assert classification_report(PREDICTIONS, TARGETS, LABELS)["per_engine"] == {}

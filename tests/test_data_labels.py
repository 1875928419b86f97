"""asr_cnn.data.corpus.labels: the label list and its validation."""

from __future__ import annotations

import pytest

from asr_cnn.data.corpus.labels import SILENCE, UNKNOWN, label_folder, make_labels


def test_labels_are_silence_unknown_then_keywords_as_given():
    assert make_labels(["hello", "hey jarvis", "Stop"]) == ["_silence_", "_unknown_", "hello", "hey jarvis", "Stop"]
    assert (SILENCE, UNKNOWN) == ("_silence_", "_unknown_")


@pytest.mark.parametrize("keywords, match", [
    ([], "empty"),
    (["yes", ""], "non-empty"),
    (["  "], "non-empty"),
    (["yes", None], "non-empty"),
    (["yes", "no", "yes"], "duplicate"),
    (["_unknown_"], "reserved"),
    ("yes", "single string"),
    (["hey jarvis", "hey_jarvis"], "same folder"),
])
def test_bad_keywords_are_named(keywords, match):
    with pytest.raises(ValueError, match=match):
        make_labels(keywords)


def test_label_folders():
    assert label_folder("hey jarvis") == "hey_jarvis"
    assert label_folder("Don't stop!") == "don't_stop"
    assert label_folder(SILENCE) == SILENCE and label_folder(UNKNOWN) == UNKNOWN

"""The main job's code path (``make demo``), run on the tiny corpus so it takes seconds."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import soundfile as sf

from asr_cnn.demo import run_demo
from asr_cnn.evaluation.manifest import COLUMNS


def tiny_real_set(corpus: Path, folder: Path) -> Path:
    """A stand-in for ``../shared/realspeech``: three "yes" clips as wake words, three other words as speech."""
    rows = [{"path": str(path), "kind": kind, "keyword": keyword, "transcript": transcript, "speaker": "s",
             "seconds": f"{sf.info(path).duration:.3f}", "source": "tiny corpus", "licence": "test"}
            for kind, keyword, transcript, paths in (
                ("wake_word", "yes", "yes", sorted((corpus / "yes").glob("*.wav"))[:3]),
                ("speech", "", "some other words", sorted((corpus / "_unknown_").glob("*.wav"))[:3]))
            for path in paths]
    folder.mkdir()
    with (folder / "manifest.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return folder


@pytest.mark.slow
def test_demo_trains_evaluates_scans_and_reports(tiny_corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the demo writes under ./outputs/demo/
    real_set = tiny_real_set(tiny_corpus, tmp_path / "real")
    result = run_demo(["experiment=tiny", f"data.root={tiny_corpus}"], real_set=real_set)
    printed = capsys.readouterr().out
    paths = result["paths"]
    assert paths["run directory"].is_relative_to("outputs/demo")
    for name in ("checkpoint", "report", "metrics", "detections"):
        assert (tmp_path / paths[name]).is_file(), name
    scan = json.loads((tmp_path / paths["detections"]).read_text())
    assert scan["labels"] > 0 and scan["hits"] + scan["misses"] == scan["labels"]
    streams = result["streams"]["detector_thresholds"]
    assert streams["hits"] + streams["misses"] >= scan["labels"]  # every test stream, the listed one included
    real = result["real"]
    assert real["wake_word_clips"] == {"yes": 3, "no": 0, "stop": 0} and real["speech"]["clips"] == 3
    assert (tmp_path / paths["run directory"] / "real" / "real_eval.json").is_file()
    report = (tmp_path / paths["report"]).read_text()
    assert "## Real speech" in report and "false alarms per hour of real speech" in report
    assert "Detections on long test streams" in report and "test_engine" in report and "](det.png)" in report
    for text in ("test_engine", "thresholds as shipped", "false alarms per hour", "real speech", str(paths["report"])):
        assert text in printed, text
    steps = result["step_seconds"]  # where the minutes go, each step printed as it ends
    assert list(steps) == ["corpus", "training, calibration and checks", "test streams", "real speech", "command words"]
    assert 0 < sum(steps.values()) <= result["seconds"]
    assert all(f"({step}: {seconds:.0f} s)" in printed for step, seconds in steps.items())


@pytest.mark.slow
def test_demo_says_when_the_real_set_is_missing(tiny_corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    result = run_demo(["experiment=tiny", f"data.root={tiny_corpus}"], real_set=tmp_path / "absent")
    assert result["real"] is None
    assert "is not there, skipped" in capsys.readouterr().out
    assert "no real-speech figures" in (tmp_path / result["paths"]["report"]).read_text()

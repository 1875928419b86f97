"""The main job's code path (``make demo``), run on the tiny corpus so it takes seconds."""

from __future__ import annotations

import json

import pytest

from asr_cnn.demo import run_demo


@pytest.mark.slow
def test_demo_trains_evaluates_scans_and_reports(tiny_corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the demo writes under ./outputs/demo/
    result = run_demo(["experiment=tiny", f"data.root={tiny_corpus}"])
    printed = capsys.readouterr().out
    paths = result["paths"]
    assert paths["run directory"].is_relative_to("outputs/demo")
    for name in ("checkpoint", "report", "metrics", "detections"):
        assert (tmp_path / paths[name]).is_file(), name
    scan = json.loads((tmp_path / paths["detections"]).read_text())
    assert scan["labels"] > 0 and scan["hits"] + scan["misses"] == scan["labels"]
    report = (tmp_path / paths["report"]).read_text()
    assert "Detections on a long test stream" in report and "test_engine" in report and "](det.png)" in report
    for split in ("test", "test_engine"):
        assert split in printed
    assert str(paths["report"]) in printed

"""``python -m asr_cnn.bench streams`` and ``runtime`` run end to end (smoke tests with tiny settings, not timings)."""

from __future__ import annotations

from asr_cnn.bench import runtime, streams


def test_bench_streams_reports_the_largest_real_time_batch(capsys):
    assert streams.main(["--devices", "cpu", "cuda", "--max-batch", "1", "--seconds", "0.16", "--threads", "0",
                         "--soak-minutes", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "cpu: largest real-time batch B = " in out and "fast runtime" in out
    assert "frames/s" in out and "RSS" in out
    assert "cuda: largest real-time batch B = " in out or "cuda: no CUDA device here, skipped" in out


def test_bench_runtime_prints_every_target_for_eager_and_fast_side_by_side(capsys):
    assert runtime.main(["--seconds", "1", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.strip().startswith("eager"))
    assert header.split()[:2] == ["eager", "fast"]
    for row, target in [("detector (what listen runs), ms per 80 ms", "<= 0.5 ms"), ("streaming / offline at 80 ms", "<= 1.5"),
                        ("naive / streaming at 80 ms", ">= 20"), ("two models on one backbone / one model", "<= 1.1")]:
        line = next(line for line in out.splitlines() if line.startswith(row))
        assert line.endswith(target) and len(line[len(row):].split()) == 2 + len(target.split())  # eager, fast, target
    assert "load average before: " in out and "load average after: " in out

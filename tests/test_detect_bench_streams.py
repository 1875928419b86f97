"""``python -m asr_cnn.bench streams`` runs end to end (a smoke test with tiny settings, not a timing)."""

from __future__ import annotations

from asr_cnn.bench import streams


def test_bench_streams_reports_the_largest_real_time_batch(capsys):
    assert streams.main(["--devices", "cpu", "cuda", "--max-batch", "1", "--seconds", "0.16", "--threads", "0",
                         "--soak-minutes", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "cpu: largest real-time batch B = " in out
    assert "frames/s" in out and "RSS" in out
    assert "cuda: largest real-time batch B = " in out or "cuda: no CUDA device here, skipped" in out

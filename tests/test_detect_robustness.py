"""Robustness of streaming detection: bad samples do not poison the stream; memory stays flat."""

from __future__ import annotations

import math
import tracemalloc

import pytest
import torch
from detect_support import bursty_audio, rss_mib, tiny_spotter

from asr_cnn.detect import Detector
from asr_cnn.detect.detector import rows_for

SECONDS = 12.0
CHUNK = 1_280  # 80 ms at 16 kHz
MEMORY_MINUTES = 3.0
RSS_SLACK_MIB = 4.0  # allocator noise; a leak of one score row per chunk would be far above it over minutes
TRACED_SLACK_BYTES = 100_000


def test_nan_and_clipped_samples_do_not_poison_the_rest_of_the_stream():
    spotter = tiny_spotter()
    clean = bursty_audio(SECONDS)
    dirty = clean.clone()
    first, last = 40_000, 40_100  # the damaged stretch [first, last]
    dirty[first:first + 50] = float("nan")
    dirty[first + 60] = float("inf")
    dirty[last - 20:last] = 7.5  # far outside [-1, 1]
    dirty[last] = -float("inf")

    def run(audio):
        detector = Detector(spotter, smoothing_s=0.2, refractory_s=0.3)
        scores, events = zip(*(detector.step(chunk) for chunk in audio.split(CHUNK)))
        return detector, torch.cat(scores, dim=1)[0], [e for found in events for e in found[0]]

    detector, dirty_scores, dirty_events = run(dirty)
    _, clean_scores, clean_events = run(clean)
    assert int(detector.bad_samples.sum()) == 50 + 1 + 20 + 1
    assert torch.isfinite(dirty_scores).all()
    hop, window = spotter.hop_samples, spotter.window_samples
    before = (first - window) // hop + 1  # rows whose window ends before the damage
    clean_row = math.ceil((last + 1) / hop) + rows_for(0.2, spotter) - 1  # first row whose average is all clean
    torch.testing.assert_close(dirty_scores[:before], clean_scores[:before], atol=1e-5, rtol=0)
    torch.testing.assert_close(dirty_scores[clean_row:], clean_scores[clean_row:], atol=1e-5, rtol=0)
    assert not torch.allclose(dirty_scores[before:clean_row], clean_scores[before:clean_row], atol=1e-5)
    # One refractory period after the scores agree, both pickers are free, so the events agree from then on.
    resync_s = (clean_row + rows_for(0.3, spotter)) * hop / spotter.sample_rate
    assert [e for e in dirty_events if e.start_s >= resync_s] == [e for e in clean_events if e.start_s >= resync_s]


@pytest.mark.slow
def test_memory_stays_flat_over_minutes_of_80ms_chunks():
    """Minutes of audio in 80 ms chunks: neither RSS nor traced Python memory grows after warm-up."""
    detector = Detector(tiny_spotter(), threshold=0.0, refractory_s=0.5)  # fires often: events are made too
    generator = torch.Generator().manual_seed(0)
    chunks = int(MEMORY_MINUTES * 60 * detector.spotter.sample_rate / CHUNK)
    warm_up = chunks // 10
    tracemalloc.start()
    try:
        for i in range(chunks):
            if i == warm_up:
                rss_start, traced_start = rss_mib(), tracemalloc.get_traced_memory()[0]
            assert len(detector.push(torch.randn(CHUNK, generator=generator) * 0.3)) <= 1
        rss_end, traced_end = rss_mib(), tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert rss_end - rss_start < RSS_SLACK_MIB
    assert traced_end - traced_start < TRACED_SLACK_BYTES

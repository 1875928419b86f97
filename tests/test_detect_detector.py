"""Detector: smoothing, thresholds, refractory period, exact re-chunking, batches, bad input, memory, on both runtimes."""

from __future__ import annotations

import pytest
import torch
from detect_support import bursty_audio, tiny_spotter
from hypothesis import given, settings
from hypothesis import strategies as st

from asr_cnn.detect import Detector
from asr_cnn.detect.detector import DEFAULT_REFRACTORY_S, DEFAULT_SMOOTHING_S, NON_KEYWORDS, rows_for
from asr_cnn.streaming import scan

SECONDS = 8.0
TOLERANCE = 1e-5
RUNTIMES = ("eager", "fast")


@pytest.fixture(scope="module")
def spotter():
    return tiny_spotter()


@pytest.fixture(scope="module")
def audio():
    return bursty_audio(SECONDS)


def run(detector: Detector, audio: torch.Tensor, cuts: list[int] = ()) -> tuple[torch.Tensor, list]:
    """Push ``audio`` cut at the sample indices ``cuts``; return all smoothed scores (N, K) and events."""
    detector.reset()
    bounds = sorted({0, audio.shape[-1], *cuts})
    scores, events = [], []
    for start, end in zip(bounds, bounds[1:]):
        smoothed, found = detector.step(audio[start:end])
        scores.append(smoothed[0])
        events += found[0]
    return torch.cat(scores), events


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_smoothing_is_the_moving_average_of_offline_posteriors(spotter, audio, runtime):
    detector = Detector(spotter, smoothing_s=0.2, runtime=runtime)
    span = rows_for(0.2, spotter)
    posteriors = scan(spotter, audio)[0]  # (N, K)
    expected = torch.stack([posteriors[max(0, n - span + 1):n + 1].mean(0) for n in range(posteriors.shape[0])])
    scores, _ = run(detector, audio, range(0, audio.shape[-1], 1234))
    assert span > 1
    torch.testing.assert_close(scores, expected, atol=TOLERANCE, rtol=0)


def test_smoothing_and_refractory_default_to_what_the_thresholds_were_calibrated_with(spotter):
    uncalibrated = Detector(spotter)
    assert uncalibrated.smoother.span == rows_for(DEFAULT_SMOOTHING_S, spotter)
    assert uncalibrated.picker.refractory_rows == rows_for(DEFAULT_REFRACTORY_S, spotter)
    calibrated = tiny_spotter()
    calibrated.extra = {"thresholds": {"yes": 0.7}, "calibration": {"smoothing_s": 0.6, "refractory_s": 2.0}}
    detector = Detector(calibrated)
    assert (detector.smoother.span, detector.picker.refractory_rows) == (rows_for(0.6, spotter), rows_for(2.0, spotter))
    assert rows_for(0.6, spotter) != rows_for(DEFAULT_SMOOTHING_S, spotter)
    told = Detector(calibrated, smoothing_s=0.2, refractory_s=0.5)  # the caller's spans win
    assert (told.smoother.span, told.picker.refractory_rows) == (rows_for(0.2, spotter), rows_for(0.5, spotter))


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=int(SECONDS * 16_000) - 1), max_size=60),
       runtime=st.sampled_from(RUNTIMES))
def test_any_chunking_gives_the_same_events(spotter, audio, cuts, runtime):
    """Random cut points: chunks from 1 sample to the whole clip, in any mix."""
    detector = Detector(spotter, refractory_s=0.3, runtime=runtime)
    whole_scores, whole_events = run(detector, audio)
    cuts += [cut + 1 for cut in cuts[:5]]  # a few one-sample chunks
    scores, events = run(detector, audio, cuts)
    assert len(whole_events) > 5  # the test audio does fire
    torch.testing.assert_close(scores, whole_scores, atol=TOLERANCE, rtol=0)
    assert [(e.keyword, e.start_s, e.end_s) for e in events] == [(e.keyword, e.start_s, e.end_s) for e in whole_events]


def test_the_fast_runtime_fires_the_eager_events_with_the_same_scores(spotter, audio):
    cuts = list(range(0, audio.shape[-1], 777))  # chunks that split hops: rows come out as soon as due
    eager = run(Detector(spotter, refractory_s=0.3, runtime="eager"), audio, cuts)
    fast_detector = Detector(spotter, refractory_s=0.3)  # auto: the fast runtime on CPU
    fast = run(fast_detector, audio, cuts)
    assert fast_detector.runtime == "fast" and "fast runtime" in fast_detector.operating_point()
    assert len(eager[1]) > 5
    torch.testing.assert_close(fast[0], eager[0], atol=TOLERANCE, rtol=0)
    assert [(e.keyword, e.start_s, e.end_s) for e in fast[1]] == [(e.keyword, e.start_s, e.end_s) for e in eager[1]]
    assert [e.score for e in fast[1]] == pytest.approx([e.score for e in eager[1]], abs=TOLERANCE)


def test_events_carry_window_times_and_respect_the_refractory_period(spotter, audio):
    detector = Detector(spotter, refractory_s=0.5)
    events = detector.push(audio)
    assert events
    for event in events:
        assert event.end_s - event.start_s == pytest.approx(spotter.window_samples / spotter.sample_rate)
        assert event.score >= 0.5
    starts = [event.start_s for event in events]
    assert min(b - a for a, b in zip(starts, starts[1:])) >= 0.5 - 1e-9


def test_silence_and_unknown_never_fire(spotter, audio):
    events = Detector(spotter, threshold=0.0, refractory_s=0.1).push(audio)
    assert len(events) >= SECONDS / 0.2  # threshold 0: a keyword fires after every refractory period
    assert not {event.keyword for event in events} & set(NON_KEYWORDS)


def test_thresholds_come_from_the_checkpoint_then_the_caller(spotter):
    spotter.extra["thresholds"] = {"yes": 0.9}
    try:
        assert Detector(spotter).thresholds == {"yes": 0.9, "no": 0.5}
        assert Detector(spotter, thresholds={"yes": 0.2}, threshold=0.7).thresholds == {"yes": 0.2, "no": 0.7}
    finally:
        del spotter.extra["thresholds"]
    for bad in ({"maybe": 0.5}, {"_silence_": 0.5}, {"yes": 1.5}):
        with pytest.raises(ValueError, match="maybe|not a keyword|\\[0, 1\\]"):
            Detector(spotter, thresholds=bad)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_batch_of_streams_starting_at_different_times(spotter, runtime):
    """Each stream of a batch gives the events of a single-stream detector on its own audio, in its own time."""
    clips = [bursty_audio(SECONDS, seed=seed) for seed in range(3)]
    starts = [0, 7_777, 20_000]  # samples of the shared clock at which each stream (re)starts
    total = starts[-1] + clips[-1].shape[-1] + 2_000  # a little past the last clip, so its last window is scored
    bounds = sorted({*range(0, total, 1_000), *starts, total})
    detector = Detector(spotter, batch_size=3, refractory_s=0.3, runtime=runtime)
    events = [[] for _ in clips]
    for begin, end in zip(bounds, bounds[1:]):
        restart = [b for b, start in enumerate(starts) if start == begin and start > 0]
        if restart:
            detector.reset(restart)
        block = torch.stack([clip_at(clip, start, begin, end) for clip, start in zip(clips, starts)])  # (3, S)
        for b, found in enumerate(detector.push_batch(block)):
            events[b] += found
    for b, clip in enumerate(clips):
        single = Detector(spotter, refractory_s=0.3, runtime="eager").push(clip)
        got = [e for e in events[b] if e.end_s <= clip.shape[-1] / spotter.sample_rate]
        assert len(single) > 3
        assert [(e.keyword, e.start_s) for e in got] == [(e.keyword, e.start_s) for e in single]
        assert [e.score for e in got] == pytest.approx([e.score for e in single], abs=TOLERANCE)


def clip_at(clip: torch.Tensor, start: int, begin: int, end: int) -> torch.Tensor:
    """Samples [begin, end) of the shared clock for a stream whose audio starts at ``start`` (zeros elsewhere)."""
    out = torch.zeros(end - begin)
    lo, hi = max(begin, start), min(end, start + clip.shape[-1])
    if hi > lo:
        out[lo - begin:hi - begin] = clip[lo - start:hi - start]
    return out


def test_push_is_for_one_stream(spotter):
    with pytest.raises(ValueError, match="push_batch"):
        Detector(spotter, batch_size=2).push(torch.zeros(2, 100))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_batched_detection_on_cuda_matches_cpu(spotter, audio, runtime):
    batch = torch.stack([audio, audio.flip(0)])  # (2, S)
    on_cpu = Detector(spotter, batch_size=2, refractory_s=0.3, runtime="eager").push_batch(batch)
    on_cuda = Detector(spotter, batch_size=2, refractory_s=0.3, device="cuda", runtime=runtime).push_batch(batch.cuda())
    spotter.cpu()  # the module-scoped spotter moved with the detector
    assert [[(e.keyword, e.start_s) for e in s] for s in on_cuda] == [[(e.keyword, e.start_s) for e in s] for s in on_cpu]

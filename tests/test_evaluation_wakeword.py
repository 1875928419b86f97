"""Wake-word evaluation: matching, operating points, the DET sweep, and thresholds written back."""

from __future__ import annotations

import json

import pytest
import torch
from detect_support import bursty_audio, lowest_meeting, tiny_spotter

from asr_cnn import KeywordSpotter
from asr_cnn.audio import AudioError, save_audio
from asr_cnn.detect import Detector, Event
from asr_cnn.config import compose_config
from asr_cnn.evaluation.matching import hit_flags, match
from asr_cnn.evaluation.operating import OperatingPoint, threshold_for
from asr_cnn.evaluation.scoring import smoothed, stored, stream_scores
from asr_cnn.evaluation.streams import load_streams
from asr_cnn.evaluation.sweep import events_at
from asr_cnn.evaluation.wakeword import DET_FILENAME, METRICS_FILENAME, evaluate_streams

LABELS = [{"keyword": "yes", "start_s": 2.0, "end_s": 2.5}, {"keyword": "no", "start_s": 6.0, "end_s": 6.4}]


@pytest.fixture
def streams(tmp_path):
    folder = tmp_path / "streams"
    folder.mkdir()
    for seed in range(2):
        save_audio(folder / f"s{seed}.wav", bursty_audio(10.0, seed=seed))
        (folder / f"s{seed}.json").write_text(json.dumps(LABELS))
    return folder


def test_match_counts_hits_misses_and_false_alarms():
    events = [Event("yes", 1.6, 2.575, 0.9),   # overlaps the "yes" label: hit
              Event("yes", 2.2, 3.175, 0.8),   # the label is taken: false alarm
              Event("yes", 5.8, 6.775, 0.7),   # wrong keyword over "no": false alarm
              Event("no", 8.0, 8.975, 0.9)]    # nothing there: false alarm
    assert match(events, LABELS) == (1, 1, 3)
    assert match([], LABELS) == (0, 2, 0)


def test_threshold_for_takes_the_lowest_threshold_from_which_the_target_holds():
    points = [OperatingPoint(t, 0, 0, 0, 0.0, fa) for t, fa in [(0.1, 9.0), (0.2, 0.5), (0.3, 2.0), (0.4, 1.0), (0.5, 0.0)]]
    assert threshold_for(points, 1.0).threshold == 0.4  # 0.2 meets it, but 0.3 above it does not
    assert threshold_for(points, 10.0).threshold == 0.1
    assert threshold_for(points[:1], 1.0) is None


def test_stored_posteriors_smoothed_afterwards_equal_the_detectors_own_smoothing():
    """Calibration scores once without smoothing and tries spans afterwards; each must be what a detector
    with that span scores, also for the shorter of two streams, whose rows end early."""
    waves = [bursty_audio(10.0, seed=0), bursty_audio(7.0, seed=1)]

    def scored_with(smoothing_s: float):
        detector = Detector(tiny_spotter(), smoothing_s=smoothing_s)
        rows = []
        for wave in waves:
            detector.reset()
            rows.append(detector.step(wave)[0][0])  # (N, K) of the single stream
        return stored(detector, rows, [10.0, 7.0], [[], []]), detector.smoother.span

    raw, one = scored_with(0.0)
    assert one == 1 and raw.smoothing_rows == 1
    reference, span = scored_with(0.3)
    assert span > 1 and reference.smoothing_rows == span
    again = smoothed(raw, span)
    assert again.smoothing_rows == span
    torch.testing.assert_close(again.scores, reference.scores, equal_nan=True)
    assert again.scores[1, -1].isnan().all() and not again.scores[1, 0].isnan().any()
    assert (again.scores - raw.scores).abs().nan_to_num().max() > 1e-3  # smoothing did change the rows
    with pytest.raises(ValueError, match="unsmoothed"):
        smoothed(reference, 2)


def test_sweep_events_are_the_detector_events(streams):
    """The threshold sweep replays the detector's own smoothing and refractory logic on stored scores."""
    detector = Detector(tiny_spotter(), threshold=0.55, refractory_s=0.4)
    for wav in sorted(streams.glob("*.wav")):
        scores, seconds = stream_scores(detector, wav, block_seconds=0.3)
        assert seconds == pytest.approx(10.0)
        replayed = events_at(stored(detector, [scores], [seconds], [[]]))[0]
        live = Detector(tiny_spotter(), threshold=0.55, refractory_s=0.4).push(bursty_audio(10.0, seed=int(wav.stem[1:])))
        assert [(e.keyword, e.start_s) for e in replayed] == [(e.keyword, e.start_s) for e in live]
        assert replayed


def test_load_streams_names_the_bad_label_file(streams):
    (streams / "s0.json").write_text(json.dumps([{"keyword": "maybe", "start_s": 1, "end_s": 2}]))
    with pytest.raises(AudioError, match=r"s0\.json.*maybe"):
        load_streams(streams, ["yes", "no"])
    (streams / "s0.json").unlink()
    with pytest.raises(AudioError, match=r"s0\.json"):
        load_streams(streams, ["yes", "no"])


def test_evaluate_streams_reports_plots_and_writes_the_threshold(streams, tmp_path):
    checkpoint = tmp_path / "tiny.pt"
    tiny_spotter().save(checkpoint)
    out = tmp_path / "eval"
    cfg = compose_config("evaluate_stream", [f"checkpoint={checkpoint}", f"streams={streams}", f"output_dir={out}",
                                      "target_fa_per_hour=100", "write_threshold=true"])
    metrics = evaluate_streams(cfg)
    assert (out / DET_FILENAME).stat().st_size > 0
    assert json.loads((out / METRICS_FILENAME).read_text())["streams"] == 2
    at_half = metrics["at_threshold_0.5"]
    assert at_half["hits"] + at_half["misses"] == 2 * len(LABELS)
    assert at_half["fa_per_hour"] == pytest.approx(at_half["false_alarms"] / (20.0 / 3600))
    reference = lowest_meeting(metrics["det"], 1.0)
    assert reference is not None and metrics["frr_at_1_fa_per_hour"] == reference["frr"]
    target = metrics["target"]
    assert target["fa_per_hour"] <= 100
    written = KeywordSpotter.load(checkpoint).extra["thresholds"]
    assert written == {"yes": target["threshold"], "no": target["threshold"]}
    # A detector built from the updated checkpoint runs at that operating point.
    again = evaluate_streams(compose_config("evaluate_stream", [f"checkpoint={checkpoint}", f"streams={streams}",
                                                        f"output_dir={out}"]))
    assert again["detector_thresholds"]["false_alarms"] == target["false_alarms"]


def test_evaluate_the_tiny_checkpoint_on_the_tiny_corpus_stream(tiny_corpus, tiny_checkpoint, tmp_path):
    """End to end on the corpus's own long stream: every labelled keyword is counted as a hit or a miss."""
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(tiny_checkpoint.read_bytes())  # the shared checkpoint stays untouched
    streams = tiny_corpus / "streams"
    labels = sum(len(json.loads(path.read_text())) for path in streams.glob("*.json"))
    metrics = evaluate_streams(compose_config("evaluate_stream", [
        f"checkpoint={checkpoint}", f"streams={streams}", f"output_dir={tmp_path / 'eval'}",
        "target_fa_per_hour=1000000", "write_threshold=true"]))
    assert labels > 0
    for point in metrics["det"]:
        assert point["hits"] + point["misses"] == labels
    assert metrics["det"][0]["misses"] <= metrics["det"][-1]["misses"]  # a higher threshold never hits more
    assert KeywordSpotter.load(checkpoint).extra["thresholds"]


def test_a_repeat_detection_is_a_false_alarm_in_the_flags_and_the_counts():
    labels = [{"keyword": "yes", "start_s": 1.0, "end_s": 2.0}]
    events = [Event("yes", 1.2, 2.2, 0.9), Event("yes", 1.5, 2.5, 0.8), Event("no", 1.2, 2.2, 0.7)]
    assert hit_flags(events, labels) == [True, False, False]
    assert match(events, labels) == (1, 0, 2)

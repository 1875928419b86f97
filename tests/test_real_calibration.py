"""Thresholds chosen on real speech: each keyword's share of the target spent on its own negatives, the
utterances that say it left out, an operating curve stored in the checkpoint and read back by the detector."""

from __future__ import annotations

import math

import pytest
import torch
from detect_support import bursty_audio, tiny_spotter

from asr_cnn.data.corpus.realnegatives import RealNegative, says, usable
from asr_cnn.detect import Detector
from asr_cnn.detect.curves import OperatingCurve, curve_thresholds
from asr_cnn.detect.detector import NON_KEYWORDS
from asr_cnn.evaluation.calibration import Calibration, calibrate, write_calibration
from asr_cnn.evaluation.operating import point
from asr_cnn.evaluation.real_calibration import RealSpeech, calibrate_at, calibrate_real, keyword_alarms, score_real
from asr_cnn.evaluation.scoring import Scored
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.streaming import scan

HOP, WINDOW, RATE = 640, 16_000, 16_000  # samples: 40 ms hop, 1 s window
HOP_S, ROWS_PER_HOUR = HOP / RATE, 90_000
CLASSES = ["_silence_", "_unknown_", "athena", "amelia"]
NEVER = float("inf")


def scored(scores: torch.Tensor, seconds: float, labels: list) -> Scored:
    return Scored(scores, [seconds], [labels], CLASSES, HOP_S, WINDOW / RATE, refractory_rows=25, smoothing_rows=1,
                  thresholds=torch.tensor([NEVER, NEVER, 0.5, 0.5]))


def real_hour(alarms: dict[str, list[float]], said: dict[str, list[float]] = {}) -> RealSpeech:
    """One hour of real speech as 90 utterances of 40 s (no pause): false alarms peak for 5 rows in their own
    utterances; an utterance in ``said`` says its keyword (excluded for it) and peaks there."""
    scores = torch.zeros(1, ROWS_PER_HOUR, len(CLASSES))
    utterance_rows = 1000
    spans = [(0, i * utterance_rows * HOP, (i + 1) * utterance_rows * HOP) for i in range(90)]
    excluded, index = {"athena": [], "amelia": []}, 0
    for kind, peaks_of in (("alarm", alarms), ("said", said)):
        for keyword, peaks in peaks_of.items():
            for peak in peaks:
                row = index * utterance_rows + 500  # the middle of utterance ``index``
                scores[0, row:row + 5, CLASSES.index(keyword)] = peak
                if kind == "said":
                    excluded[keyword].append(index)
                index += 1
    return RealSpeech(scored(scores, 3600.0, []), spans, excluded, HOP, WINDOW)


def validation_hour(spoken: dict[str, int]) -> Scored:
    """Synthetic validation streams: each spoken keyword holds 0.9 for 5 rows on its label."""
    scores = torch.zeros(1, ROWS_PER_HOUR, len(CLASSES))
    labels, row = [], 1000
    for keyword, count in spoken.items():
        for _ in range(count):
            scores[0, row:row + 5, CLASSES.index(keyword)] = 0.9
            labels.append({"keyword": keyword, "start_s": row * HOP_S + 0.2, "end_s": row * HOP_S + 0.8})
            row += 1000
    return scored(scores, 3600.0, labels)


def test_each_keyword_spends_its_share_of_the_target_on_real_speech():
    real = real_hour({"athena": [0.6, 0.7, 0.8], "amelia": [0.3, 0.95]})
    calibration = calibrate_at(real, validation_hour({"athena": 4, "amelia": 2}), target_fa_per_hour=2.0,
                               tail_events=0, rows=1)
    assert calibration.thresholds == pytest.approx({"athena": 0.71, "amelia": 0.31})  # one false alarm each left
    assert calibration.met == {"athena": True, "amelia": True}
    assert calibration.real["athena"] == pytest.approx({"hours": 1.0, "fa_per_hour": 1.0})
    assert calibration.recall == 1.0 and calibration.hours == pytest.approx(1.0)
    strict = calibrate_at(real, validation_hour({"athena": 4, "amelia": 2}), target_fa_per_hour=0.5,
                          tail_events=0, rows=1)
    assert strict.thresholds == pytest.approx({"athena": 0.81, "amelia": 0.96})  # 0.25 per hour each: none
    assert strict.point.per_keyword["amelia"].hits == 0 and strict.met["amelia"]  # 0.9 < 0.96


def test_utterances_that_say_a_keyword_do_not_count_against_it():
    """Amelia is said (and scores 0.99) in two utterances: left out for amelia, they do not raise its
    threshold, and its hours lose their rows alone; athena's hours keep them."""
    real = real_hour({"athena": [0.6], "amelia": [0.3]}, said={"amelia": [0.99, 0.99]})
    calibration = calibrate_at(real, validation_hour({"athena": 1, "amelia": 1}), target_fa_per_hour=2.2,
                               tail_events=0, rows=1)
    assert calibration.thresholds["amelia"] == pytest.approx(0.05)  # its one false alarm (0.3) is within 1.1 per hour
    alarms = keyword_alarms(real, real.scored, "amelia")
    # the two excluded utterances (the 3rd and 4th) block their 2000 rows and the 24 whose window reaches into them
    assert alarms.hours == pytest.approx((ROWS_PER_HOUR - 2024) * HOP_S / 3600)
    assert alarms.scores[0, 2 * 1000 + 500, CLASSES.index("amelia")].isnan()
    assert alarms.scores[0, 2 * 1000 + 500, CLASSES.index("athena")] == 0.0
    assert keyword_alarms(real, real.scored, "athena").hours == pytest.approx(1.0)
    smoothed = calibrate_at(real, validation_hour({"athena": 1, "amelia": 1}), 2.2, 0, rows=10)
    # and a 10-row average blocks the 9 rows after them too, whose average still reaches into them
    assert smoothed.real["amelia"]["hours"] == pytest.approx((ROWS_PER_HOUR - 2033) * HOP_S / 3600)


def test_transcripts_exclude_whole_words_and_phrases():
    assert says("i said computer twice", "computer") and says("two computers", "computer")
    assert says("hey computer's on", "hey computer") and not says("hey there computer", "hey computer")
    assert not says("one two three", "on") and not says("gone", "go") and says("go on", "on")
    assert not says("athenian history", "athena")
    heard = RealNegative(path=None, speaker="s", seconds=1.0, split="validation", transcript="turn it off now")
    untranscribed = RealNegative(path=None, speaker="s", seconds=1.0, split="validation")
    assert not usable(heard, ["off"]) and usable(heard, ["on", "stop"])
    assert usable(untranscribed, ["hey jarvis", "athena"]) and not usable(untranscribed, ["off"])


def test_the_curve_picks_what_calibration_picked_and_the_tail_fit_agrees_with_streams_calibration():
    """With the tail fit, the real calibration's threshold for its share is the streams calibration's on the
    same scores (the same fit, the same rule), and reading the curve at the target gives it back."""
    peaks = [1 / (1 + math.exp(-(math.log(0.25) + 0.3 * sum(1 / i for i in range(j, 41))))) for j in range(1, 41)]
    real = real_hour({"athena": peaks, "amelia": [0.3, 0.4]})
    validation = validation_hour({"athena": 3, "amelia": 3})
    ours = calibrate_real(real, validation, target_fa_per_hour=0.5, tail_events=10, spans=[1])
    streams = calibrate(real.scored, target_fa_per_hour=0.5, tail_events=10)
    assert ours.thresholds == pytest.approx(streams.thresholds)
    assert curve_thresholds({k: c.to_dict() for k, c in ours.curves.items()}, 0.5) == ours.thresholds
    athena = ours.curves["athena"]
    assert athena.fa_per_hour[0] >= 10 and list(athena.fa_per_hour) == sorted(athena.fa_per_hour, reverse=True)
    assert athena.recall[athena.index_for(0.25)] == 1.0 and athena.recall[-1] == 0.0  # 0.9 held, 1 - 1e-6 not


def test_a_curve_reads_the_lowest_threshold_whose_rate_and_every_higher_ones_fit():
    curve = OperatingCurve([0.5, 0.6, 0.7, 0.8], [4.0, 2.0, 2.5, 0.1], [0.9, 0.8, 0.7, 0.2], hours=2.0)
    assert curve.threshold_for(2.0) == 0.8  # 0.6 raises 2.0 but 0.7 above it 2.5
    assert curve.threshold_for(3.0) == 0.6 and curve.threshold_for(10.0) == 0.5 and curve.threshold_for(0.0) == 0.8
    assert OperatingCurve.from_dict(curve.to_dict()) == curve
    with pytest.raises(ValueError, match="ascend"):
        OperatingCurve([0.5, 0.4], [1.0, 0.5], [None, None], hours=1.0)
    with pytest.raises(ValueError, match="fa_per_hour"):
        curve.threshold_for(-1.0)


def curve_of(keywords: list[str]) -> dict[str, OperatingCurve]:
    """Hand-made curves: 0.5 raises 3, 6, 9 ... per hour by keyword, 0.7 raises 1.0 and 0.9 raises 0.2."""
    return {k: OperatingCurve([0.5, 0.7, 0.9], [3.0 * (i + 1), 1.0, 0.2], [0.9, 0.8, 0.5], 2.0)
            for i, k in enumerate(keywords)}


@pytest.fixture
def calibrated(tmp_path) -> tuple[KeywordSpotter, dict[str, OperatingCurve]]:
    """A tiny spotter saved with shipped thresholds (0.9) and curves, loaded back."""
    spotter = tiny_spotter()
    keywords = [label for label in spotter.labels if label not in NON_KEYWORDS]
    curves = curve_of(keywords)
    write_calibration(spotter.extra, Calibration({k: 0.9 for k in keywords}, 0.5, {k: True for k in keywords}, 2.0,
                                                 point(None, 0, 0, 0, 1.0), 0.25, 1.0, curves))
    spotter.save(tmp_path / "model.pt")
    return KeywordSpotter.load(tmp_path / "model.pt"), curves


def test_the_curve_round_trips_and_fa_per_hour_picks_its_thresholds(calibrated):
    spotter, curves = calibrated
    assert {k: OperatingCurve.from_dict(c) for k, c in spotter.extra["curves"].items()} == curves
    keywords = list(curves)
    assert Detector(spotter).thresholds == {k: 0.9 for k in keywords}  # as shipped
    share_of_two = Detector(spotter, fa_per_hour=1.0 * len(keywords)).thresholds  # 1.0 per hour each
    assert share_of_two == {k: 0.7 for k in keywords}
    loose = Detector(spotter, fa_per_hour=3.0 * len(keywords)).thresholds  # 3 per hour each: only the first at 0.5
    assert loose == {k: (0.5 if i == 0 else 0.7) for i, k in enumerate(keywords)}
    hand = Detector(spotter, fa_per_hour=1.0 * len(keywords), thresholds={keywords[0]: 0.33})
    assert hand.thresholds == {k: (0.33 if i == 0 else 0.7) for i, k in enumerate(keywords)}
    line = hand.operating_point()
    assert f"{len(keywords):g} false alarms per hour" in line and f"set by hand: {keywords[0]}" in line
    assert "real speech (as calibrated)" not in line


def test_a_checkpoint_without_curves_loads_with_its_thresholds_and_refuses_an_operating_point(tmp_path):
    spotter = tiny_spotter()
    keywords = [label for label in spotter.labels if label not in NON_KEYWORDS]
    spotter.extra = {"thresholds": {k: 0.77 for k in keywords}, "calibration": {"target_fa_per_hour": 0.5}}
    spotter.save(tmp_path / "old.pt")
    old = KeywordSpotter.load(tmp_path / "old.pt")
    detector = Detector(old)
    assert detector.thresholds == {k: 0.77 for k in keywords}
    assert "synthetic validation streams (as calibrated)" in detector.operating_point()
    with pytest.raises(ValueError, match="no operating curves"):
        Detector(old, fa_per_hour=1.0)


def test_real_utterances_are_scored_in_streams_side_by_side_exactly_as_each_stream_alone():
    """Five utterances over two streams: each sits once at its span, the streams end together, and every
    stream's rows are those of its audio scanned alone."""
    spotter = tiny_spotter()
    waves = [bursty_audio(seconds, seed=i) for i, seconds in enumerate([3.0, 1.5, 2.5, 1.0, 2.0])]
    keywords = [label for label in spotter.labels if label not in NON_KEYWORDS]
    real = score_real(Detector(spotter, smoothing_s=0.0, batch_size=2), waves, {k: [] for k in keywords},
                      pause_s=0.5)
    pause = 8000
    by_stream: dict[int, list[tuple[int, int, int]]] = {}
    for index, (stream, start, end) in enumerate(real.spans):
        assert end - start == waves[index].shape[-1]
        by_stream.setdefault(stream, []).append((start, end, index))
    assert sorted(by_stream) == [0, 1]
    for stream, spans in by_stream.items():
        audio = torch.cat([torch.cat([waves[i], torch.zeros(pause)]) for _, _, i in sorted(spans)])
        assert [s for s, _, _ in sorted(spans)] == [0, *[e + pause for _, e, _ in sorted(spans)[:-1]]]
        alone = scan(spotter, audio[None])[0]  # (N, K)
        torch.testing.assert_close(real.scored.scores[stream, :alone.shape[0]], alone, atol=1e-5, rtol=0)
        assert real.scored.scores[stream, alone.shape[0]:].isnan().all()
        assert real.scored.seconds[stream] == pytest.approx(audio.shape[-1] / 16_000)
    lengths = [sum(waves[i].shape[-1] + pause for _, _, i in spans) for spans in by_stream.values()]
    assert max(lengths) - min(lengths) <= max(w.shape[-1] for w in waves) + pause
    with pytest.raises(ValueError, match="exclusions must name"):
        score_real(Detector(spotter, smoothing_s=0.0), waves, {})


def test_bench_calibration_tail_lists_each_keywords_highest_real_scores_under_its_threshold(tiny_checkpoint, capsys):
    from asr_cnn.bench import calibration_tail

    spotter = KeywordSpotter.load(tiny_checkpoint)
    overrides = ["experiment=tiny"]  # its real speech: 36 s of each split, as the checkpoint was calibrated on
    thresholds, found = calibration_tail.highest(tiny_checkpoint, "validation", overrides)
    assert thresholds == spotter.extra["thresholds"] and set(found) == set(thresholds)
    for keyword, peaks in found.items():
        assert peaks and [p for p, _, _ in peaks] == sorted((p for p, _, _ in peaks), reverse=True)
        assert all(0.0 <= p <= 1.0 for p, _, _ in peaks)
        assert not any(says(transcript, keyword) for _, transcript, _ in peaks)  # its own words are not its alarms
    assert calibration_tail.main(["--checkpoint", str(tiny_checkpoint), "--top", "1", *overrides]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["keyword", "threshold", "highest", "reaching", "utterances"]
    for keyword, peaks in found.items():
        row = next(line.split() for line in lines if line.startswith(keyword + " "))
        assert float(row[2]) == pytest.approx(peaks[0][0], abs=1e-3)
        assert int(row[3]) == sum(p >= thresholds[keyword] for p, _, _ in peaks) and int(row[4]) == len(peaks)

"""Scores stored once and the picking replayed: the same events as a live detector, at every threshold."""

from __future__ import annotations

import pytest
import torch
from detect_support import bursty_audio, tiny_spotter

from asr_cnn.detect import Detector
from asr_cnn.evaluation import sweep as sweeping
from asr_cnn.evaluation.scoring import score_clips, score_concatenation
from asr_cnn.evaluation.sweep import SWEEP_THRESHOLDS, busy_blocks, events_at, keyword_sweeps, sweep, sweep_events

LENGTHS_S = (2.5, 4.0, 1.6)  # unequal clips: one batch pads the shorter ones


def clips() -> list[torch.Tensor]:
    return [bursty_audio(seconds, seed=seed) for seed, seconds in enumerate(LENGTHS_S)]


def labelled() -> list[tuple[torch.Tensor, list[dict]]]:
    return [(clip, [{"keyword": "yes", "start_s": 0.5, "end_s": 1.5}]) for clip in clips()]


def key(events):
    return [(e.keyword, round(e.start_s, 6), round(e.score, 5)) for e in events]  # chunking moves scores by ~1e-7


def test_clips_scored_in_one_batch_equal_each_clip_scored_alone():
    scored = score_clips(Detector(tiny_spotter(), batch_size=2), labelled())
    assert scored.scores.shape[0] == len(LENGTHS_S) and scored.seconds == pytest.approx(list(LENGTHS_S))
    for b, clip in enumerate(clips()):
        alone = Detector(tiny_spotter()).step(clip)[0][0]  # (N, K)
        n = alone.shape[0]
        torch.testing.assert_close(scored.scores[b, :n], alone)
        assert scored.scores[b, n:].isnan().all()  # rows past the clip's end never fire


def test_a_concatenation_on_one_stream_is_the_clips_played_live_with_pauses_longest_first():
    detector = Detector(tiny_spotter(), threshold=0.55)
    scored, spans = score_concatenation(detector, clips(), pause_s=0.3)
    pause = torch.zeros(round(0.3 * 16_000))
    in_order = sorted(clips(), key=lambda clip: -clip.shape[-1])
    live = Detector(tiny_spotter(), threshold=0.55).push(torch.cat([torch.cat([c, pause]) for c in in_order]))
    assert scored.seconds == pytest.approx([sum(LENGTHS_S) + 3 * 0.3])
    assert key(events_at(scored)[0]) == key(live) and live
    assert spans == [(0, 4 * 16_000 + 4800, 4 * 16_000 + 4800 + 40_000), (0, 0, 4 * 16_000),
                     (0, 6.5 * 16_000 + 9600, 6.5 * 16_000 + 9600 + 25_600)]


@pytest.mark.parametrize("elements", [2**22, 2**9])  # one call, or calls split by threshold, stream and rows
def test_a_sweep_replays_the_picker_at_every_threshold(monkeypatch, elements):
    monkeypatch.setattr(sweeping, "SWEEP_BLOCK_ELEMENTS", elements)
    monkeypatch.setattr(sweeping, "SWEEP_BLOCK_ROWS", 16)
    scored = score_clips(Detector(tiny_spotter(), refractory_s=0.3, batch_size=3), labelled())
    grid = SWEEP_THRESHOLDS[::9]
    for keywords in (["yes", "no"], ["no"]):
        swept = sweep_events(scored, grid, keywords)
        for t, events in zip(grid.tolist(), swept):
            thresholds = torch.tensor([t if name in keywords else float("inf") for name in scored.classes])
            assert [key(e) for e in events] == [key(e) for e in events_at(scored, thresholds)]
    assert sum(map(len, swept[0])) > 0 and sum(map(len, swept[-1])) < sum(map(len, swept[0]))


def test_a_sweep_replays_only_the_blocks_where_the_lowest_threshold_can_fire():
    scores = torch.full((2, 10, 3), 0.2, dtype=torch.float64)  # (B, N, K)
    scores[1, 4, 2] = 0.7  # block 1 of 4-row blocks, in the second stream
    scores[0, 9, 0] = 0.5  # the last, partial block, reached exactly
    scores[0, 0, 1] = float("nan")  # never fires
    assert busy_blocks(scores, 0.5, 4) == [4, 8]
    assert busy_blocks(scores, 0.6, 4) == [4]
    assert busy_blocks(scores, 0.2, 4) == [0, 4, 8]
    assert busy_blocks(scores, 0.8, 4) == []


def test_operating_points_count_recall_on_one_set_and_false_alarms_on_another():
    detector = Detector(tiny_spotter(), batch_size=3)
    recall = score_clips(detector, labelled())
    alarms, _ = score_concatenation(Detector(tiny_spotter()), clips(), pause_s=0.0)
    points = sweep(recall, alarms, grid=torch.tensor([0.0, 0.5], dtype=torch.float64))
    alone = keyword_sweeps(recall, alarms, grid=torch.tensor([0.0], dtype=torch.float64))
    events = events_at(alarms, torch.tensor([float("inf"), float("inf"), 0.5, 0.5]))[0]
    assert points[1].false_alarms == len(events)
    assert points[1].fa_per_hour == pytest.approx(len(events) / (sum(LENGTHS_S) / 3600))
    assert alone["yes"][0].recall == 1.0 and alone["yes"][0].per_keyword.keys() == {"yes"}
    assert points[0].per_keyword["no"].recall is None  # no clip says "no"
    assert points[0].hits + points[0].misses == len(LENGTHS_S)

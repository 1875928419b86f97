"""Hard-negative mining adds the windows the current model scores highest as a keyword."""

from __future__ import annotations

import pytest
import torch

from asr_cnn.config import compose_config
from asr_cnn.constants import CLIP_SAMPLES
from asr_cnn.data.datasets.mixture import Mixture
from asr_cnn.data.datasets.negatives import FixedWindows, Window, WindowSources
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.streaming import naive_scan
from asr_cnn.training.live import mining_epochs
from asr_cnn.training.mining import keyword_scores, mine, top_windows

pytestmark = pytest.mark.usefixtures("one_thread")


def test_top_windows_are_the_highest_local_peaks():
    scores = [torch.tensor([0.1, 0.9, 0.8, 0.2, 0.3, 0.7, 0.1]), torch.tensor([0.95, 0.2, 0.85])]
    assert top_windows(scores, 3, min_gap=1) == [(1, 0), (0, 1), (1, 2)]  # 0.8 is next to 0.9: not a peak
    assert top_windows(scores, 10, min_gap=1) == [(1, 0), (0, 1), (1, 2), (0, 5)]
    assert top_windows(scores, 2, min_gap=1, exclude=[(1, 0)]) == [(0, 1), (1, 2)]
    assert top_windows(scores, 5, min_gap=3) == [(1, 0), (0, 1)]  # 0.7 and 0.85 lie within 3 of higher rows


@pytest.fixture(scope="module")
def spotter() -> KeywordSpotter:
    torch.manual_seed(0)
    return KeywordSpotter.from_config(compose_config("train", ["experiment=tiny"])).eval()


def test_scores_are_those_of_every_window_scanned_on_its_own(spotter, monkeypatch):
    audio = torch.randn(3 * CLIP_SAMPLES) * 0.1
    monkeypatch.setattr("asr_cnn.training.mining.BLOCK_WINDOWS", 7)  # many blocks: their seams must not show
    expected = naive_scan(spotter, audio)[0, :, 2:].amax(-1)  # keyword classes follow _silence_, _unknown_
    torch.testing.assert_close(keyword_scores(spotter, audio), expected, rtol=1e-4, atol=1e-5)


def test_mining_adds_the_top_scoring_windows(spotter):
    generator = torch.Generator().manual_seed(1)
    sources = WindowSources([torch.randn(4 * CLIP_SAMPLES, generator=generator) * 0.2,
                             torch.randn(3 * CLIP_SAMPLES, generator=generator) * 0.05], CLIP_SAMPLES)
    found = mine(spotter, sources, 4, min_gap=5)
    hop, extra = spotter.hop_samples, CLIP_SAMPLES - spotter.window_samples
    scores = [naive_scan(spotter, s[:s.shape[0] - extra])[0, :, 2:].amax(-1) for s in sources.sources]
    flat = sorted(((float(s[r]), i, r) for i, s in enumerate(scores) for r in range(s.shape[0])), reverse=True)
    assert found[0] == Window(flat[0][1], flat[0][2] * hop)  # the single worst window comes first
    picked = [float(scores[w.source][w.start // hop]) for w in found]
    assert picked == sorted(picked, reverse=True) and len(found) == 4
    for w in found:  # each is the highest of its neighbourhood
        rows = scores[w.source]
        row = w.start // hop
        assert rows[row] == rows[max(0, row - 5):row + 6].max()
    again = mine(spotter, sources, 4, min_gap=5, exclude=found)
    assert not set(again) & set(found)
    mined = FixedWindows(sources, found, label=1)
    assert len(Mixture([mined])) == 4 and torch.equal(mined[0][0], sources.cut(found[0]))
    assert mined[0][0].shape == (CLIP_SAMPLES,)


def test_mining_rounds_are_spread_through_training():
    assert mining_epochs(50, 2) == [16, 33]
    assert mining_epochs(3, 1) == [1]
    assert mining_epochs(10, 0) == []

"""Keywords in context: a window is the keyword only when it holds all of it, and positives are end-aligned."""

from __future__ import annotations

import pytest
import torch

from asr_cnn.audio import save_audio
from asr_cnn.constants import CLIP_SAMPLES
from asr_cnn.data.corpus.manifest import Record
from asr_cnn.data.datasets.context import context_label, end_aligned_start, KeywordsInContext
from asr_cnn.data.datasets.mixture import Mixture
from asr_cnn.data.datasets.negatives import NegativeWindows, WindowSources

LABELS = ["_silence_", "_unknown_", "athena"]
WINDOW = CLIP_SAMPLES - 240  # crops of a clip start anywhere in its first 240 samples
KEYWORD = 6000


def test_windows_sliding_past_a_keyword_turn_positive_once_it_is_whole():
    keyword_start, keyword_end, window, hop = 20_000, 28_000, 16_000, 640
    labels = [context_label(start, start + window, keyword_start, keyword_end)
              for start in range(0, 40_000 - window, hop)]
    first = labels.index(True)
    assert first * hop + window >= keyword_end > (first - 1) * hop + window  # the first window that ends after it
    assert not any(labels[:first])  # windows that hold only its beginning are negatives
    last = len(labels) - 1 - labels[::-1].index(True)
    assert last * hop <= keyword_start < (last + 1) * hop  # and those that lost its beginning again
    assert end_aligned_start(keyword_end, 0, window) + window == keyword_end


@pytest.fixture()
def in_context(tmp_path) -> KeywordsInContext:
    """A keyword that is a 6,000-sample tone burst, placed in silent 'speech', half the items partial."""
    clip = torch.zeros(CLIP_SAMPLES)
    clip[3000:3000 + KEYWORD] = 0.5
    save_audio(tmp_path / "athena.wav", clip)
    record = Record(path=tmp_path / "athena.wav", label="athena", engine="espeak", voice="en-us", split="train")
    speech = WindowSources([torch.zeros(5 * CLIP_SAMPLES)], CLIP_SAMPLES)
    return KeywordsInContext([record], LABELS, 1, speech, 400, CLIP_SAMPLES, WINDOW, partial_fraction=0.5,
                             tail_s=(0.0, 0.2), gap_s=(0.05, 0.3), seed=3)


def test_positives_hold_the_whole_keyword_near_their_end_in_every_crop(in_context):
    items = [in_context[i] for i in range(len(in_context))]
    positives = [wave for wave, label in items if label == 2]
    partials = [wave for wave, label in items if label == 1]
    assert 150 < len(positives) < 250 and len(positives) + len(partials) == 400
    for wave in positives:
        loud = (wave.abs() > 0.25).nonzero().flatten()
        start, end = int(loud[0]), int(loud[-1]) + 1
        assert end - start == KEYWORD and start >= CLIP_SAMPLES - WINDOW  # whole, also in the latest crop
        assert WINDOW - end <= 0.2 * 16000 + 160  # ends at most tail_s (+ a trimming frame) before the crop ends
    for wave in partials:
        assert 0 < int((wave.abs() > 0.25).sum()) < KEYWORD  # only a part of it
    assert [in_context[7][1] for _ in range(2)] == [items[7][1]] * 2  # seeded per (epoch, index)
    in_context.set_epoch(1)
    assert not torch.equal(in_context[7][0], items[7][0])


def test_a_mixture_serves_its_parts_in_order_and_passes_the_epoch_on(in_context):
    negatives = NegativeWindows(WindowSources([torch.randn(3 * CLIP_SAMPLES)], CLIP_SAMPLES), 5, label=1, seed=0)
    mixture = Mixture([negatives, in_context])
    assert len(mixture) == 405
    assert torch.equal(mixture[4][0], negatives[4][0]) and torch.equal(mixture[5][0], in_context[0][0])
    mixture.set_epoch(2)
    assert negatives.epoch == in_context.epoch == 2
    with pytest.raises(IndexError):
        mixture[405]

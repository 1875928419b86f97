"""Hard-negative mining: score long keyword-free audio with the current model and keep the worst windows.

Between rounds of training, every window of the negative audio (running speech, real read speech,
background beds) is scored in one offline scan; the windows whose highest keyword posterior is largest
are the false alarms the model would raise next, and they join the training set as ``_unknown_``.
Neighbouring windows overlap almost entirely, so only local peaks of the score count: two mined windows
of one source are at least ``min_gap`` windows apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F

from asr_cnn.data.corpus.labels import SILENCE, UNKNOWN
from asr_cnn.data.datasets.negatives import Window, WindowSources
from asr_cnn.data.datasets.training_set import LiveData
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.modes import evaluating
from asr_cnn.streaming.scan import scan

BLOCK_WINDOWS = 4096
"""Windows scored per scan call: bounds the memory of scanning an hour-long source."""

MIN_GAP_S = 0.5
"""Smallest distance between two mined windows of one source."""


@torch.no_grad()
def keyword_scores(spotter: KeywordSpotter, audio: torch.Tensor, device: torch.device | str = "cpu") -> torch.Tensor:
    """The highest keyword posterior of every window of ``audio`` (window ``n`` starts at ``n * hop``).

    The audio is scanned in overlapping blocks, which gives the same windows as one scan of the whole.

    Shape:
        audio: (S,). Output: (N,), ``N = 1 + (S - window) // hop``.
    """
    keywords = [i for i, label in enumerate(spotter.labels) if label not in (SILENCE, UNKNOWN)]
    hop, window = spotter.hop_samples, spotter.window_samples
    rows = []
    step = BLOCK_WINDOWS * hop
    with evaluating(spotter):
        for start in range(0, max(audio.shape[0] - window, 0) + 1, step):
            block = audio[start:start + step - hop + window].to(device)  # BLOCK_WINDOWS windows at most
            rows.append(scan(spotter, block)[0, :, keywords].amax(-1).cpu())  # (1, n, K) -> (n,)
    return torch.cat(rows) if rows else torch.zeros(0)


def top_windows(scores: Sequence[torch.Tensor], count: int, min_gap: int,
                exclude: Iterable[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """The ``count`` highest local peaks over all sources, as (source, row), highest first.

    A row is a peak when no row of its source within ``min_gap`` rows scores higher; rows in ``exclude``
    (already mined) are skipped.

    Shape:
        scores: each (N_i,).
    """
    excluded = set(exclude)
    candidates = []
    for source, rows in enumerate(scores):
        if rows.numel() == 0:
            continue
        neighbourhood = F.max_pool1d(rows[None, None], 2 * min_gap + 1, stride=1, padding=min_gap)[0, 0]  # (N,)
        peaks = (rows >= neighbourhood).nonzero().flatten()
        candidates += [(float(rows[r]), source, int(r)) for r in peaks if (source, int(r)) not in excluded]
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    return [(source, row) for _, source, row in candidates[:count]]


def mine(spotter: KeywordSpotter, sources: WindowSources, count: int, *, min_gap: int,
         exclude: Iterable[Window] = (), device: torch.device | str = "cpu") -> list[Window]:
    """The ``count`` windows of ``sources`` the spotter mistakes most for a keyword (local peaks only).

    Args:
        spotter: The current model.
        sources: Keyword-free audio, cut into items of at least ``spotter.window_samples``.
        count: Windows to return.
        min_gap: Smallest distance in windows (scan hops) between two windows of one source.
        exclude: Windows mined before, not returned again.
        device: Where to scan.

    Raises:
        ValueError: The sources' windows are not the spotter's.
    """
    if sources.window < spotter.window_samples:
        raise ValueError(f"negative items of {sources.window} samples are shorter than the spotter's window "
                         f"({spotter.window_samples})")
    hop = spotter.hop_samples
    # Only windows whose item fits in the source: an item runs past its window by the difference.
    usable = [keyword_scores(spotter, source[:source.shape[0] - sources.window + spotter.window_samples], device)
              for source in sources.sources]
    known = {(w.source, w.start // hop) for w in exclude}
    return [Window(source, row * hop) for source, row in top_windows(usable, count, min_gap, known)]


def mine_round(live: LiveData, spotter: KeywordSpotter, count: int, device: torch.device) -> list[Window]:
    """Add to ``live.mined`` the ``count`` windows of its sources the spotter scores highest as a keyword."""
    if live.sources is None or count == 0:
        return []
    found = mine(spotter, live.sources, count, min_gap=max(1, round(MIN_GAP_S * spotter.sample_rate
                                                                    / spotter.hop_samples)),
                 exclude=live.mined, device=device)
    live.mined += found
    return found

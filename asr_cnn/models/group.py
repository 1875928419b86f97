"""Several keyword spotters over one front end and backbone, streamed together: the shared layers run once."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from asr_cnn.layers.ensemble import Branches
from asr_cnn.layers.sequential import StreamingSequential
from asr_cnn.layers.streaming import streams_as
from asr_cnn.models.spotter import KeywordSpotter


def spotter_chain(spotter: KeywordSpotter) -> list[tuple[str, nn.Module]]:
    """The spotter's layers in order: the front end, the body's parts (the body itself unless it is a plain
    chain), the head."""
    body = spotter.body
    parts = list(body.named_children()) if streams_as(body, StreamingSequential) else [("", body)]
    return [("frontend", spotter.frontend), *((f"body.{name}".rstrip("."), part) for name, part in parts),
            ("head", spotter.head)]


def same_layer(a: nn.Module, b: nn.Module) -> bool:
    """The same computation: one class, the same settings (as printed) and equal weights and buffers."""
    if type(a) is not type(b) or repr(a) != repr(b):
        return False
    mine, theirs = a.state_dict(), b.state_dict()
    return mine.keys() == theirs.keys() and all(torch.equal(mine[key], theirs[key].to(mine[key])) for key in mine)


class SpotterGroup(StreamingSequential):
    """Keyword spotters that share their front end and backbone (trained apart on the same frozen one).

    The leading layers that every spotter has alike (same class, settings and weights: the front end and
    the frozen backbone) run once as ``trunk``; each spotter's own layers (its TDNN and head, say) follow as
    one member of :class:`~asr_cnn.layers.ensemble.Branches`. Streaming returns every spotter's logits, a
    list, each with its own window: row ``n`` of each covers ``[n * hop, n * hop + window)`` of that spotter.

    Args:
        spotters: Two or more spotters (in evaluation mode).
        names: One name per spotter, e.g. its checkpoint's path: errors name them.

    Raises:
        ValueError: Fewer than two spotters, names not one per spotter or not unique, spotters whose front
            ends or backbones differ, or whose scan hops differ.
    """

    def __init__(self, spotters: Sequence[KeywordSpotter], names: Sequence[str]) -> None:
        if len(spotters) < 2 or len(names) != len(spotters) or len(set(names)) != len(names):
            raise ValueError(f"a group needs two or more spotters with one distinct name each, got "
                             f"{len(spotters)} spotter(s) named {list(names)}")
        chains = [spotter_chain(spotter) for spotter in spotters]
        shared = 0
        while shared < min(map(len, chains)) - 1 and all(
                name == chains[0][shared][0] and same_layer(layer, chains[0][shared][1])
                for chain in chains[1:] for name, layer in [chain[shared]]):
            shared += 1
        if shared < 2:  # the front end alone is no backbone
            differing = chains[0][shared][0]
            raise ValueError(f"{', '.join(names)}: these models do not share a backbone: their {differing!r} "
                             "differ (class, settings or weights); only models trained on one frozen front end "
                             "and backbone run together")
        hops = {spotter.hop_samples for spotter in spotters}
        if len(hops) != 1:
            raise ValueError(f"{', '.join(names)}: these models scan with different hops ({sorted(hops)} samples); "
                             "models that run together must share the hop")
        trunk = StreamingSequential(named={name.replace(".", "_"): layer for name, layer in chains[0][:shared]})
        own = [StreamingSequential(named={name.replace(".", "_"): layer for name, layer in chain[shared:]})
               for chain in chains]
        super().__init__(named={"trunk": trunk, "branches": Branches(own)})
        self.spotters, self.names = list(spotters), list(names)
        self.shared = [name for name, _ in chains[0][:shared]]

    @property
    def hop_samples(self) -> int:
        """Samples between consecutive rows, the same for every spotter."""
        return self.spotters[0].hop_samples

    @property
    def sample_rate(self) -> int:
        return self.spotters[0].sample_rate

    def extra_repr(self) -> str:
        return f"names={self.names}, shared={self.shared}"

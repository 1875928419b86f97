"""Shared checks of the streaming contract, for the tests of every layer and model.

    from streaming_helpers import assert_streams_exactly, check_streaming_contract, random_chunkings

``check_streaming_contract(layer, x)`` runs all of them: streaming equals ``forward`` for the standard
chunkings, a batch equals its streams run alone, and resetting one stream touches only its state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from hypothesis import strategies as st
from torch import nn

from asr_cnn.layers import StreamingLayer, available_outputs, flatten_state, reset_streams

ATOL = 1e-5
ODD_CHUNK = 7

random_chunkings = st.lists(st.integers(1, 2 * ODD_CHUNK), min_size=1, max_size=24)
"""Hypothesis strategy: chunk sizes in frames; the frames left after them go in one last chunk."""


def split(n_frames: int, chunks: int | Sequence[int]) -> list[tuple[int, int]]:
    """``(start, stop)`` of each chunk: a fixed size, or the given sizes and then the rest in one chunk."""
    sizes = [chunks] * (n_frames // chunks + 1) if isinstance(chunks, int) else list(chunks) + [n_frames]
    bounds, start = [], 0
    for size in sizes:
        stop = min(start + size, n_frames)
        bounds.append((start, stop))
        start = stop
        if start == n_frames:
            break
    return bounds


def stream(layer: StreamingLayer, x: torch.Tensor, chunks: int | Sequence[int],
           state: dict | None = None) -> tuple[torch.Tensor, dict]:
    """Push ``x`` through ``layer.streaming_forward`` chunk by chunk; the outputs joined along time.

    Shape:
        x: (B, ..., T). Output: (B, ..., T_out) and the final state.
    """
    if state is None:
        state = layer.init_state(x.shape[0], x.device, x.dtype)
    outputs = []
    for start, stop in split(x.shape[-1], chunks):
        y, state = layer.streaming_forward(x[..., start:stop], state)
        outputs.append(y)
    return torch.cat(outputs, dim=-1), state


def standard_chunkings(layer: StreamingLayer, n_frames: int) -> list[int]:
    """The contract's chunk sizes: one frame, the stride, an odd size, the whole sequence."""
    return [1, layer.stride, ODD_CHUNK, n_frames]


@torch.no_grad()
def assert_streams_exactly(layer: StreamingLayer, x: torch.Tensor,
                           chunk_sizes: Iterable[int | Sequence[int]] | None = None, atol: float = ATOL) -> torch.Tensor:
    """Streaming equals ``forward`` (every output frame, within ``atol``) for each chunking.

    Also checks that ``forward`` yields as many frames as ``context`` and ``stride`` promise.

    Args:
        layer: In eval mode.
        x: Input, time last, longer than the layer's context.
        chunk_sizes: Each an int (fixed chunk size) or a list of sizes (then the rest as one chunk);
            ``None`` for :func:`standard_chunkings`.

    Returns:
        The offline output.
    """
    expected = layer(x)
    n_out = available_outputs(x.shape[-1], layer.context, layer.stride)
    assert expected.shape[-1] == n_out, (f"{type(layer).__name__}: forward gave {expected.shape[-1]} frames, "
                                         f"context={layer.context}, stride={layer.stride} promise {n_out}")
    for chunks in chunk_sizes if chunk_sizes is not None else standard_chunkings(layer, x.shape[-1]):
        got, _ = stream(layer, x, chunks)
        assert got.shape == expected.shape, f"chunks {chunks}: streamed {tuple(got.shape)} != offline {tuple(expected.shape)}"
        torch.testing.assert_close(got, expected, atol=atol, rtol=0, msg=lambda m: f"chunks {chunks}: {m}")
    return expected


@torch.no_grad()
def assert_batch_consistent(layer: StreamingLayer, x: torch.Tensor, chunks: int = ODD_CHUNK, atol: float = ATOL) -> None:
    """A batch of B gives, offline and streaming, what B runs of one stream give."""
    batch, _ = stream(layer, x, chunks)
    torch.testing.assert_close(layer(x), torch.cat([layer(x[b:b + 1]) for b in range(x.shape[0])]), atol=atol, rtol=0)
    singles = torch.cat([stream(layer, x[b:b + 1], chunks)[0] for b in range(x.shape[0])])
    torch.testing.assert_close(batch, singles, atol=atol, rtol=0)


@torch.no_grad()
def assert_reset_isolates(layer: StreamingLayer, x: torch.Tensor, chunks: int = ODD_CHUNK, atol: float = ATOL) -> None:
    """``reset_streams`` on stream 0 zeroes all of its state and none of the others' (needs B >= 2).

    After the reset, the other streams go on exactly as if nothing had happened.
    """
    assert x.shape[0] >= 2, "need a batch of at least two streams"
    half = x.shape[-1] // 2
    _, state = stream(layer, x[..., :half], chunks)
    mask = torch.zeros(x.shape[0], dtype=torch.bool)
    mask[0] = True
    reset = reset_streams(state, mask)
    flat, flat_reset = flatten_state(state), flatten_state(reset)
    assert flat.keys() == flat_reset.keys()
    for name, value in flat_reset.items():
        assert value.shape[0] == x.shape[0], f"state {name!r} {tuple(value.shape)} does not have the batch first"
        assert not value[0].any(), f"state {name!r} of the reset stream is not zero"
        torch.testing.assert_close(value[1:], flat[name][1:], atol=0, rtol=0)
    after_reset, _ = stream(layer, x[..., half:], chunks, reset)
    untouched, _ = stream(layer, x[..., half:], chunks, state)
    torch.testing.assert_close(after_reset[1:], untouched[1:], atol=atol, rtol=0)


def check_streaming_contract(layer: StreamingLayer, x: torch.Tensor, atol: float = ATOL) -> torch.Tensor:
    """All of the above on a batch ``x`` (B >= 2, time last); returns the offline output."""
    layer.eval()
    expected = assert_streams_exactly(layer, x, atol=atol)
    assert_batch_consistent(layer, x, atol=atol)
    assert_reset_isolates(layer, x, atol=atol)
    return expected


def randomize_batchnorm(module: nn.Module, seed: int = 0) -> nn.Module:
    """Random running statistics and affine parameters in every batch norm, so eval mode is not identity."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=generator) * 0.5)
                m.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                    m.bias.copy_(torch.randn(n, generator=generator) * 0.1)
    return module

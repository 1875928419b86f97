"""Model summary: parameters, multiply-adds and receptive fields checked against hand computation."""

from __future__ import annotations

import torch
from torch import nn

from asr_cnn.frontend import LogMel
from asr_cnn.layers import AddChannel, GlobalFreqPool, Residual, StreamingSequential, TimeFreqConv2d
from asr_cnn.layers.head import WindowHead
from asr_cnn.layers.streaming import available_outputs
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.summary import format_summary, summarize
from tiny_body import TinyBody

N_MELS = 8
LABELS = ["_silence_", "_unknown_", "yes"]
WINDOW_FRAMES = 20  # front-end frames in the test window: (20 - 1) * 160 + 400 samples


def conv_params(k_out: int, k_in: int, m: int) -> int:
    """The lecture's count for a square M x M kernel: K_l (K_{l-1} M_l^2 + 1)."""
    return k_out * (k_in * m * m + 1)


def small_2d_spotter() -> KeywordSpotter:
    """Conv 3x3 (1 -> 4), then a residual block of two 3x3 convs (4 -> 4), frequency pooled, mean head."""
    torch.manual_seed(0)
    body = StreamingSequential(
        AddChannel(), TimeFreqConv2d(1, 4, 3), nn.ReLU(),
        Residual(StreamingSequential(TimeFreqConv2d(4, 4, 3), nn.ReLU(), TimeFreqConv2d(4, 4, 3))),
        GlobalFreqPool("mean"))
    head_frames = available_outputs(WINDOW_FRAMES, body.context, body.stride)
    head = WindowHead(4, len(LABELS), head_frames, pool="mean", hidden=0)
    return KeywordSpotter(LogMel(n_mels=N_MELS), body, head, LABELS)


def test_2d_conv_params_macs_and_fields_match_hand_computation():
    summary = summarize(small_2d_spotter())
    rows = {row.name: row for row in summary.rows}
    conv1, inner1, inner2 = rows["body.1"], rows["body.3.body.0"], rows["body.3.body.2"]
    assert conv1.params == conv_params(4, 1, 3) == 40
    assert inner1.params == inner2.params == conv_params(4, 4, 3) == 148
    assert rows["head"].params == 4 * len(LABELS) + len(LABELS)
    assert summary.params == sum(p.numel() for p in small_2d_spotter().parameters())
    # One window: 20 frames; every conv is valid in time (3 taps) and "same" in frequency.
    assert conv1.output_shape == (4, N_MELS, 18) and inner2.output_shape == (4, N_MELS, 14)
    assert conv1.macs_window == 4 * N_MELS * 18 * (1 * 9)
    assert inner1.macs_window == 4 * N_MELS * 16 * (4 * 9)
    # Streaming: one new frame per hop (stride 1), so a hop costs one output frame of every layer.
    assert conv1.macs_hop == 4 * N_MELS * 9
    assert (conv1.rf_frames, inner1.rf_frames, inner2.rf_frames, rows["head"].rf_frames) == (3, 5, 7, WINDOW_FRAMES)
    assert inner2.rf_ms == (6 * 160 + 400) / 16  # 6 hops plus one 25 ms window, in ms
    assert summary.window_samples == (WINDOW_FRAMES - 1) * 160 + 400


def test_1d_strided_body_counts_per_hop_and_stride():
    torch.manual_seed(0)
    body = TinyBody(N_MELS, channels=8)  # conv k=4 s=2, then conv k=3 s=2
    head = WindowHead(8, len(LABELS), available_outputs(96, body.context, body.stride), hidden=16)
    summary = summarize(KeywordSpotter(LogMel(n_mels=N_MELS), body, head, LABELS))
    rows = {row.name: row for row in summary.rows}
    first, second = rows["body.0"], rows["body.1"]
    assert first.params == 8 * (N_MELS * 4 + 1) and second.params == 8 * (8 * 3 + 1)
    assert (first.rf_frames, first.stride, second.rf_frames, second.stride) == (4, 2, 8, 4)
    frames = first.output_shape[-1]
    assert first.macs_window == 8 * frames * N_MELS * 4
    # A hop is 4 front-end frames: two outputs of the first conv, one of the second, one head output.
    assert first.macs_hop == 2 * 8 * N_MELS * 4 and second.macs_hop == 8 * 8 * 3
    assert rows["head"].macs_hop == 8 * 16 + 16 * len(LABELS)
    assert summary.hop_samples == 4 * 160


def test_format_has_every_row_and_totals():
    summary = summarize(small_2d_spotter())
    text = format_summary(summary)
    assert all(row.name in text for row in summary.rows)
    assert f"| total | | | {summary.params:,} |" in text

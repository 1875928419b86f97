"""Receptive field: the gradient of one unit reaches exactly the analytic field, never beyond it."""

from __future__ import annotations

import torch

from asr_cnn.frontend import LogMel
from asr_cnn.layers.head import WindowHead
from asr_cnn.layers.streaming import available_outputs
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.receptive_field import measure, receptive_field
from asr_cnn.config import compose_config
from tiny_body import TinyBody

LABELS = ["_silence_", "_unknown_", "yes"]
N_MELS = 8


def tiny_spotter() -> KeywordSpotter:
    torch.manual_seed(0)
    body = TinyBody(N_MELS, channels=4)
    head = WindowHead(4, len(LABELS), available_outputs(96, body.context, body.stride), hidden=0)
    return KeywordSpotter(LogMel(n_mels=N_MELS), body, head, LABELS)


def test_gradient_fills_the_analytic_field_and_nothing_else():
    result = measure(tiny_spotter(), steps=5)
    first, last = result.analytic
    assert last - first == TinyBody(N_MELS).context  # 8 frames: 4 taps, then 3 taps at stride 2
    assert result.empirical == result.analytic
    assert result.gradient[:first].eq(0).all() and result.gradient[last + 1:].eq(0).all()
    assert result.pattern.shape[0] == N_MELS and result.pattern.abs().sum() > 0  # ascent moved the input


def test_command_writes_png_and_reports_field(tmp_path):
    spotter = tiny_spotter()
    spotter.config = {"frontend": {"_target_": "asr_cnn.frontend.LogMel", "n_mels": N_MELS},
                      "model": {"_target_": "tiny_body.TinyBody", "channels": 4},
                      "head": {"_target_": "asr_cnn.layers.head.WindowHead", "hidden": 0},
                      "spotter": {"window_seconds": 1.0}, "labels": LABELS}
    spotter.save(tmp_path / "model.pt")
    cfg = compose_config("receptive_field", [f"checkpoint={tmp_path / 'model.pt'}", "steps=5"])
    result = receptive_field(cfg)
    assert result["inside"] and result["frames"] == 8
    assert (tmp_path / "receptive_field.png").stat().st_size > 0

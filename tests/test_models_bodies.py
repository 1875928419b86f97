"""Every model body in conf/model: builds from its config, fits the window, trains, and streams exactly."""


import pytest
import torch
from hydra.utils import instantiate
from hypothesis import given, settings
from omegaconf import OmegaConf
from streaming_helpers import assert_streams_exactly, check_streaming_contract, random_chunkings, randomize_batchnorm

from asr_cnn.constants import N_MELS, N_MFCC
from asr_cnn.layers import StreamingLayer
from asr_cnn.config import CONF_DIR

BODIES = ("tdnn", "cnn2d", "res8", "tc_resnet8", "ds_cnn")
WINDOW_FRAMES = 98  # one second of 10 ms causal frames
MAX_CONTEXT = 80  # leaves the window head a few body frames to pool
MAX_PARAMS = 150_000
FRAMES = 120


def build(name: str, in_features: int = N_MELS, seed: int = 0) -> StreamingLayer:
    torch.manual_seed(seed)
    body = instantiate(OmegaConf.load(CONF_DIR / "model" / f"{name}.yaml"), in_features=in_features)
    return randomize_batchnorm(body, seed).eval()


@pytest.mark.parametrize("name", BODIES)
def test_config_builds_a_small_body_that_fits_the_window(name):
    body = build(name)
    assert sum(p.numel() for p in body.parameters()) < MAX_PARAMS
    assert body.context < MAX_CONTEXT and body.stride in (1, 2, 4, 8)
    y = body(torch.randn(2, N_MELS, WINDOW_FRAMES))
    assert y.shape == (2, body.out_channels, (WINDOW_FRAMES - body.context - 1) // body.stride + 1)


@pytest.mark.parametrize("name", BODIES)
@pytest.mark.parametrize("in_features", [N_MELS, N_MFCC])
def test_streams_exactly(name, in_features):
    check_streaming_contract(build(name, in_features), torch.randn(3, in_features, FRAMES))


@pytest.mark.parametrize("name", BODIES)
def test_streams_exactly_random_chunks(name):
    body = build(name)
    x = torch.randn(2, N_MELS, FRAMES)

    @settings(max_examples=3, deadline=None)
    @given(chunks=random_chunkings)
    def check(chunks):
        assert_streams_exactly(body, x, [chunks])

    check()


@pytest.mark.parametrize("name", BODIES)
def test_trains_one_batch(name):
    body = build(name).train()
    optimizer = torch.optim.SGD(body.parameters(), lr=0.1)
    x = torch.randn(8, N_MELS, WINDOW_FRAMES)
    loss = body(x).pow(2).mean()
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in body.parameters())
    optimizer.step()
    assert body(x).pow(2).mean() < loss

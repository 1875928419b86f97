"""Front end: librosa parity, causal frame count, streaming under random chunkings, batches."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from asr_cnn.constants import N_FFT, WIN_LENGTH
from asr_cnn.frontend import MFCC, LogMel

HALF_PAD = (N_FFT - WIN_LENGTH) // 2  # librosa centres the window inside its n_fft-long frame


@pytest.fixture(scope="module")
def wave() -> torch.Tensor:
    torch.manual_seed(0)
    t = torch.arange(12_345) / 16_000
    return 0.3 * torch.sin(2 * torch.pi * 700 * t) + 0.05 * torch.randn(t.shape)


@pytest.mark.parametrize("f_max", [None, 7000.0])
def test_mel_power_matches_librosa(wave, f_max):
    frontend = LogMel(f_max=f_max)
    ours = frontend.mel_power(wave[None])[0].double().numpy()
    # librosa frames are n_fft long with the window centred; padding by half the difference on both
    # sides puts its window on exactly our causal frames [t*hop, t*hop + win).
    padded = np.pad(wave.double().numpy(), (HALF_PAD, HALF_PAD))
    reference = librosa.feature.melspectrogram(
        y=padded, sr=16_000, n_fft=N_FFT, hop_length=160, win_length=WIN_LENGTH, center=False, htk=True,
        norm=None, power=2.0, fmin=20.0, fmax=f_max, n_mels=40)
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-4 * reference.max() * 1e-3)


def test_log_mel_is_log_of_power_plus_floor(wave):
    frontend = LogMel()
    torch.testing.assert_close(frontend(wave[None]), torch.log(frontend.mel_power(wave[None]) + 1e-6))


@pytest.mark.parametrize("n_samples, expected", [(399, 0), (400, 1), (559, 1), (560, 2), (16_000, 98)])
def test_causal_frame_count(n_samples, expected):
    assert LogMel()(torch.zeros(1, n_samples)).shape == (1, 40, expected)


def test_frame_t_depends_only_on_its_samples(wave):
    frontend = LogMel()
    base = frontend(wave[None])
    changed = wave.clone()
    changed[5 * 160 + 400:] += 0.5  # everything after frame 5 ends
    assert torch.equal(frontend(changed[None])[..., :6], base[..., :6])
    assert not torch.allclose(frontend(changed[None])[..., 6], base[..., 6])


def test_mfcc_is_orthonormal_dct_of_log_mel(wave):
    mfcc = MFCC(n_mfcc=13)(wave[None])
    assert mfcc.is_contiguous()  # a transposed view makes every later streaming layer copy
    log_mel = LogMel()(wave[None])[0].double().numpy()
    reference = librosa.feature.mfcc(S=log_mel, n_mfcc=13, dct_type=2, norm="ortho")
    np.testing.assert_allclose(mfcc[0].double().numpy(), reference, rtol=1e-4, atol=1e-3)


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=3000), min_size=1, max_size=40),
       use_mfcc=st.booleans())
def test_streaming_equals_offline_for_any_chunking(wave, cuts, use_mfcc):
    frontend = MFCC() if use_mfcc else LogMel()
    state, outs, start = frontend.init_state(2), [], 0
    batch = torch.stack([wave, wave.flip(0)])
    for size in cuts + [batch.shape[-1]]:
        out, state = frontend.streaming_forward(batch[:, start:start + size], state)
        outs.append(out)
        start += size
        if start >= batch.shape[-1]:
            break
    torch.testing.assert_close(torch.cat(outs, -1), frontend(batch), atol=1e-5, rtol=1e-5)


def test_one_sample_chunks_stream_exactly(wave):
    frontend, part = LogMel(), wave[:2000][None]
    state, outs = frontend.init_state(1), []
    for i in range(part.shape[-1]):
        out, state = frontend.streaming_forward(part[:, i:i + 1], state)
        outs.append(out)
    torch.testing.assert_close(torch.cat(outs, -1), frontend(part), atol=1e-5, rtol=1e-5)


def test_batch_equals_single_runs(wave):
    frontend = LogMel()
    batch = torch.stack([wave, 0.5 * wave, wave.roll(100)])
    together = frontend(batch)
    for b in range(3):
        torch.testing.assert_close(together[b], frontend(batch[b:b + 1])[0])


@pytest.mark.parametrize("kwargs, message", [
    (dict(win_length=600), "win_length"),
    (dict(hop_length=0), "hop_length"),
    (dict(n_mels=0), "n_mels"),
    (dict(f_min=9000.0), "f_min"),
    (dict(f_max=9000.0), "f_max"),
    (dict(sample_rate=0), "sample_rate"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LogMel(**kwargs)


def test_mfcc_rejects_too_many_coefficients():
    with pytest.raises(ValueError, match="n_mfcc"):
        MFCC(n_mfcc=41)


def test_wrong_rank_is_rejected():
    with pytest.raises(ValueError, match=r"\(B, S\)"):
        LogMel()(torch.zeros(16_000))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu_and_streams(wave):
    frontend = LogMel()
    cpu = frontend(wave[None])
    gpu = frontend.to("cuda")
    torch.testing.assert_close(gpu(wave[None].cuda()).cpu(), cpu, atol=1e-4, rtol=1e-4)
    state, outs = gpu.init_state(1, "cuda"), []
    for part in wave[None].cuda().split(777, dim=-1):
        out, state = gpu.streaming_forward(part, state)
        outs.append(out)
    torch.testing.assert_close(torch.cat(outs, -1).cpu(), cpu, atol=1e-4, rtol=1e-4)

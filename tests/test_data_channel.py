"""Devices and links: band limits remove what they should, codecs round-trip with bounded error, seeding."""

from __future__ import annotations

import math

import pytest
import torch

from asr_cnn.config import compose_config
from asr_cnn.constants import CLIP_SAMPLES, SAMPLE_RATE
from asr_cnn.data.acoustics.channel import (DeviceChannel, band_limit, equalize, hard_clip, mu_law, opus,
                                            resample_through)


def tone(freq: float, amplitude: float = 0.3) -> torch.Tensor:
    return amplitude * torch.sin(2 * math.pi * freq * torch.arange(CLIP_SAMPLES) / SAMPLE_RATE)


def gain_db(after: torch.Tensor, before: torch.Tensor) -> float:
    return 10 * math.log10(float(after.pow(2).mean()) / float(before.pow(2).mean()) + 1e-30)


def speechlike() -> torch.Tensor:
    """Harmonics of 150 Hz under a syllable-rate envelope, plus a little noise."""
    t = torch.arange(CLIP_SAMPLES) / SAMPLE_RATE
    voice = sum(torch.sin(2 * math.pi * 150 * h * t) / h for h in range(1, 20))
    noise = 0.02 * torch.randn(CLIP_SAMPLES, generator=torch.Generator().manual_seed(0))
    return 0.3 * voice * (0.5 + 0.5 * torch.sin(2 * math.pi * 4 * t)) / 2 + noise


@pytest.mark.parametrize("freq", [100.0, 200.0, 4000.0, 6000.0])
def test_telephone_band_removes_what_lies_outside(freq):
    assert gain_db(band_limit(tone(freq), 300.0, 3400.0), tone(freq)) < -60


@pytest.mark.parametrize("freq", [500.0, 1000.0, 3000.0])
def test_telephone_band_keeps_what_lies_inside(freq):
    assert abs(gain_db(band_limit(tone(freq), 300.0, 3400.0), tone(freq))) < 0.01


def test_narrowband_link_keeps_nothing_above_4_khz():
    assert gain_db(resample_through(tone(6000.0), 8000), tone(6000.0)) < -40
    assert abs(gain_db(resample_through(tone(1000.0), 8000), tone(1000.0))) < 0.1
    assert resample_through(tone(1000.0), 8000).shape == (CLIP_SAMPLES,)


def test_mu_law_round_trip_error_is_bounded_and_finer_near_zero():
    x = torch.linspace(-1, 1, 20001)
    error = (mu_law(x) - x).abs()
    assert float(error.max()) < 0.025  # the widest 8-bit mu-law step, at full scale
    assert float(error[x.abs() < 0.01].max()) < 5e-4  # companding: quiet samples are kept finely


def test_opus_round_trip_keeps_length_and_bounded_error():
    clean = speechlike()
    high, low = opus(clean, 0.0), opus(clean, 1.0)
    assert high.shape == low.shape == (CLIP_SAMPLES,)
    assert gain_db(clean, high - clean) > 25  # ~270 kbit/s: nearly transparent, and time-aligned
    assert gain_db(clean, low - clean) < gain_db(clean, high - clean)  # ~14 kbit/s loses more
    assert torch.equal(low, opus(clean, 1.0))  # the encoder is deterministic
    with pytest.raises(ValueError, match="compression"):
        opus(clean, 1.5)


def test_peaking_filter_boosts_its_band_only():
    bands = [(1000.0, 6.0, 2.0)]
    assert gain_db(equalize(tone(1000.0), bands)[4000:], tone(1000.0)[4000:]) == pytest.approx(6.0, abs=0.2)
    for freq in (100.0, 6000.0):
        assert abs(gain_db(equalize(tone(freq), bands)[4000:], tone(freq)[4000:])) < 0.5


def test_frequency_domain_eq_equals_the_cookbook_biquads():
    import torchaudio.functional as AF

    wave = speechlike()
    bands = [(150.0, 8.0, 2.5), (1500.0, -5.0, 1.0), (4000.0, 3.0, 2.0)]
    reference = wave
    for centre, gain, q in bands:
        reference = AF.equalizer_biquad(reference, SAMPLE_RATE, centre, gain, q)
    assert torch.allclose(equalize(wave, bands), reference, atol=1e-4)


def test_clipping_caps_the_peak_below_its_level():
    wave = tone(440.0, 0.5)
    clipped = hard_clip(wave, 6.0)
    assert float(clipped.abs().max()) == pytest.approx(0.5 * 10 ** (-6 / 20), rel=1e-5)
    quiet = wave.abs() < 0.2
    assert torch.equal(clipped[quiet], wave[quiet])


def test_device_channel_is_seeded_and_validated():
    cfg = dict(compose_config("train", []).data.augment.device)
    every = DeviceChannel(**{**cfg, **{k: 1.0 for k in cfg if k.endswith("_prob")}})
    wave = speechlike()
    runs = [every(wave, torch.Generator().manual_seed(s)) for s in (1, 1, 2)]
    assert torch.equal(runs[0], runs[1]) and not torch.equal(runs[0], runs[2])
    assert runs[0].shape == (CLIP_SAMPLES,)
    assert gain_db(band_limit(runs[0], 0.0, 250.0), runs[0]) < -30  # the telephone band was applied
    nothing = DeviceChannel(**{**cfg, **{k: 0.0 for k in cfg if k.endswith("_prob")}})
    assert torch.equal(nothing(wave, torch.Generator().manual_seed(1)), wave)
    with pytest.raises(ValueError, match="clip_prob"):
        DeviceChannel(**{**cfg, "clip_prob": 2.0})
    with pytest.raises(ValueError, match="eq_hz"):
        DeviceChannel(**{**cfg, "eq_hz": [100.0, 9000.0]})

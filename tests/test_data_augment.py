"""Augmentation, SpecAugment, noise and clip helpers: shapes, seeding, and what each step does."""

from __future__ import annotations

import math
import random

import pytest
import soundfile as sf
import torch

from asr_cnn.config import compose_config
from asr_cnn.constants import CLIP_SAMPLES, SAMPLE_RATE
from asr_cnn.data.acoustics.augment import WaveAugment, add_noise, apply_gain, change_speed, reverberate, time_shift
from asr_cnn.data.acoustics.channel import DeviceChannel
from asr_cnn.data.acoustics.clips import fit, place, set_peak, trim_silence
from asr_cnn.data.acoustics.noise import BABBLE_EVENT_S, babble, babble_event, colored_noise, random_stretch
from asr_cnn.data.acoustics.spec_augment import SpecAugment, mask_along


def tone(freq: float, samples: int = CLIP_SAMPLES) -> torch.Tensor:
    return 0.3 * torch.sin(2 * math.pi * freq * torch.arange(samples) / SAMPLE_RATE)


def peak_hz(wave: torch.Tensor) -> float:
    return float(torch.fft.rfft(wave).abs().argmax()) * SAMPLE_RATE / wave.shape[0]


def power_db(wave: torch.Tensor) -> float:
    return 10 * math.log10(float(wave.pow(2).mean()))


def augment_config(**changes) -> dict:
    """``data.augment`` of the default corpus config (the one source of its values), with ``changes``."""
    cfg = dict(compose_config("train", []).data.augment)
    return {**cfg, **changes}


def test_wave_augment_is_seeded_and_keeps_shape():
    cfg = augment_config(noise_prob=1.0, speed_prob=1.0, room={**augment_config()["room"], "prob": 1.0, "bank": 4},
                         device={**augment_config()["device"], "eq_prob": 1.0, "mu_law_prob": 1.0})
    augment = WaveAugment.from_config(cfg, seed=3)
    assert len(augment.rooms) == 4 and isinstance(augment.device, DeviceChannel)
    wave = place(tone(300, 4000), 6000)
    runs = [augment(wave, torch.Generator().manual_seed(s)) for s in (1, 1, 2)]
    assert torch.equal(runs[0], runs[1]) and not torch.equal(runs[0], runs[2])
    assert all(r.shape == (CLIP_SAMPLES,) and r.abs().max() <= 1 for r in runs)
    again = WaveAugment.from_config(cfg, seed=3)  # the same rooms from the same seed
    assert all(torch.equal(a, b) for a, b in zip(augment.rooms, again.rooms))
    assert torch.equal(runs[0], again(wave, torch.Generator().manual_seed(1)))


def test_every_stage_can_be_switched_off():
    cfg = augment_config(shift_s=0.0, gain_db=[0.0, 0.0], noise_prob=0.0, speed_prob=0.0,
                         room={**augment_config()["room"], "prob": 0.0}, device=None)
    augment = WaveAugment.from_config(cfg)
    assert augment.rooms == [] and augment.device is None  # no bank simulated when it would go unused
    wave = place(tone(300, 4000), 6000)
    assert torch.equal(augment(wave, torch.Generator().manual_seed(0)), wave)


@pytest.mark.slow
def test_wave_augment_from_config_with_and_without_noise_folder(tmp_path):
    cfg = augment_config(shift_s=0.05, noise_prob=1.0, snr_db=[5, 5])
    sf.write(tmp_path / "hum.wav", tone(50, 3 * SAMPLE_RATE).numpy(), SAMPLE_RATE)
    from_folder = WaveAugment.from_config(cfg, tmp_path)
    assert len(from_folder.noises) == 1 and from_folder.noises[0].shape == (3 * SAMPLE_RATE,)
    synthesized = WaveAugment.from_config(cfg, tmp_path / "missing")
    assert len(synthesized.noises) == 3  # white, pink, brown
    out = from_folder(tone(1000), torch.Generator().manual_seed(0))
    assert out.shape == (CLIP_SAMPLES,)
    with pytest.raises(ValueError, match="noise"):
        WaveAugment([], **{k: v for k, v in cfg.items() if k not in ("room", "device", "spec")})
    with pytest.raises(ValueError, match="room"):
        WaveAugment.from_config(augment_config(room={**cfg["room"], "bank": 0}))


def test_time_shift_and_gain():
    wave = torch.arange(1.0, 6.0)
    assert time_shift(wave, 2).tolist() == [0, 0, 1, 2, 3] and time_shift(wave, -2).tolist() == [3, 4, 5, 0, 0]
    assert torch.allclose(apply_gain(wave, 20.0), 10 * wave)


def test_noise_is_added_at_the_asked_snr():
    wave, noise = tone(440), colored_noise(CLIP_SAMPLES, 0.0, torch.Generator().manual_seed(0))
    mixed = add_noise(wave, noise, 10.0)
    assert abs(power_db(wave) - power_db(mixed - wave) - 10.0) < 1e-3


def test_change_speed_raises_frequency_and_keeps_length():
    faster = change_speed(tone(500), 1.1)
    assert faster.shape == (CLIP_SAMPLES,) and abs(peak_hz(faster) - 550) < 5
    assert change_speed(tone(500), 0.9).shape == (CLIP_SAMPLES,)


def test_reverb_keeps_length_and_level_and_rings_on():
    rir = torch.zeros(4000)
    rir[0], rir[1600] = 1.0, 0.5  # the direct sound and one echo 100 ms later
    dry = place(tone(300, 2000), 1000)
    wet = reverberate(dry, rir)
    assert wet.shape == (CLIP_SAMPLES,) and abs(power_db(wet) - power_db(dry)) < 1e-3
    assert wet[3000:4600].abs().max() > 0.1 * wet.abs().max()  # the echo after the tone ends
    assert torch.allclose(wet / wet.abs().max(), (dry + 0.5 * time_shift(dry, 1600)).div(1.5 * 0.3), atol=1e-3)


def test_spec_augment_masks_in_training_and_is_identity_in_eval():
    features = torch.randn(4, 40, 98)
    spec = SpecAugment(freq_masks=2, freq_width=8, time_masks=2, time_width=10)
    torch.manual_seed(0)
    masked = spec(features)
    assert masked.shape == features.shape and not torch.equal(masked, features)
    changed = masked != features
    assert changed.any(dim=(1, 2)).all()  # every example is masked somewhere
    assert changed.all(dim=2).sum(dim=1).max() <= 2 * 8  # at most 2 bands of 8 bins
    spec.eval()
    assert spec(features) is features
    assert torch.equal(SpecAugment(0, 8, 0, 10).train()(features), features)
    with pytest.raises(ValueError):
        mask_along(features, 0, 1, 1)


def test_colored_noise_slopes_and_babble():
    generator = torch.Generator().manual_seed(0)
    spectra = {e: torch.fft.rfft(colored_noise(SAMPLE_RATE, e, generator)).abs().pow(2) for e in (0.0, 1.0, 2.0)}
    low_share = {e: float(s[1:500].sum() / s[1:].sum()) for e, s in spectra.items()}  # below 500 Hz
    assert low_share[0.0] < low_share[1.0] < low_share[2.0]
    mix = babble([tone(200, 8000), tone(300, 12000)], 3 * SAMPLE_RATE, talkers=3, generator=generator)
    assert mix.shape == (3 * SAMPLE_RATE,) and abs(float(mix.pow(2).mean()) - 1) < 1e-4


def test_babble_events_are_seeded_mixes_of_stretches_of_the_speech():
    speech = torch.cat([tone(f, SAMPLE_RATE) for f in (200, 300, 450, 700, 900, 1200)] * 2)  # 12 s
    event = babble_event(speech, random.Random(1))
    assert torch.equal(event, babble_event(speech, random.Random(1)))
    low, high = (s * SAMPLE_RATE for s in BABBLE_EVENT_S)
    assert low <= event.shape[0] <= high and abs(float(event.pow(2).mean()) - 1) < 1e-4
    assert not babble_event(torch.zeros(5 * SAMPLE_RATE), random.Random(0)).any()  # made of the speech alone
    ramp = torch.arange(5.0 * SAMPLE_RATE)
    stretch = random_stretch(ramp, (2.0, 3.0), random.Random(3))
    start = int(stretch[0])
    assert 2 * SAMPLE_RATE <= stretch.shape[0] <= 3 * SAMPLE_RATE
    assert torch.equal(stretch, ramp[start:start + stretch.shape[0]])  # one piece of the source


def test_clip_helpers():
    wave = torch.cat([torch.zeros(1600), tone(300, 3200), torch.zeros(800)])
    trimmed = trim_silence(wave)
    assert 3200 <= trimmed.shape[0] <= 3200 + 160 and trim_silence(torch.zeros(500)).numel() == 0
    assert abs(float(set_peak(trimmed, -6.0).abs().max()) - 10 ** (-6 / 20)) < 1e-6
    assert place(trimmed, 100).shape == (CLIP_SAMPLES,)
    with pytest.raises(ValueError, match="do not fit"):
        place(torch.ones(CLIP_SAMPLES), 1)
    assert fit(torch.ones(10)).shape == (CLIP_SAMPLES,) and fit(torch.ones(20000)).shape == (CLIP_SAMPLES,)

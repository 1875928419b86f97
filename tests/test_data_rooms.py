"""Simulated rooms: direct path and first echoes where geometry puts them, the tail's decay, seeding."""

from __future__ import annotations

import math

import pytest
import torch

from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.data.acoustics.rooms import (SINC_HALF, SPEED_OF_SOUND, Room, aligned_rir, image_source_rir, random_room,
                                          room_bank)

# 3.43 m apart: the direct sound arrives after exactly 10 ms, 160 samples.
ROOM = Room(size=(6.0, 4.0, 3.0), source=(1.0, 1.5, 1.2), mic=(4.43, 1.5, 1.2), absorption=0.36)


def samples(metres: float) -> float:
    return metres / SPEED_OF_SOUND * SAMPLE_RATE


def test_direct_path_arrives_at_distance_over_speed_of_sound_with_spherical_loss():
    rir = image_source_rir(ROOM, early_s=0.05, length_s=0.05)
    assert rir.shape == (800,) and samples(ROOM.distance) == pytest.approx(160)
    direct = 1 / (4 * math.pi * ROOM.distance)
    assert float(rir[160]) == pytest.approx(direct, rel=1e-4)
    assert float(rir[:160].abs().max()) < 1e-4 * direct  # nothing before the direct sound


def test_first_echoes_arrive_from_the_mirrored_sources():
    rir = image_source_rir(ROOM, early_s=0.05, length_s=0.05)
    beta = math.sqrt(1 - ROOM.absorption)
    (sx, sy, sz), mic = ROOM.source, ROOM.mic
    floor = math.dist((sx, sy, -sz), mic)  # the source mirrored in the floor (z = 0)
    near_wall = math.dist((sx, -sy, sz), mic)  # ... and in the wall y = 0
    for distance in (floor, near_wall):  # 17 samples apart, so their windowed sincs barely overlap
        at = round(samples(distance))
        assert int(rir[at - 4:at + 5].abs().argmax()) == 4  # the echo peaks where its path length says
        # A fractional delay spreads the impulse over neighbouring samples but keeps its energy.
        energy = rir[at - SINC_HALF:at + SINC_HALF + 1].pow(2).sum()
        assert float(energy.sqrt()) == pytest.approx(beta / (4 * math.pi * distance), rel=0.1)


def test_tail_decays_at_the_rooms_reverberation_time():
    room = Room(size=(6.0, 4.0, 3.0), source=(1.3, 1.1, 1.4), mic=(4.2, 2.9, 1.2), absorption=0.2)
    rir = image_source_rir(room, early_s=0.08, length_s=0.8, generator=torch.Generator().manual_seed(0))
    energy = rir.pow(2).flip(0).cumsum(0).flip(0)  # Schroeder's backward integral
    decay_db = 10 * torch.log10(energy / energy[0])
    t5, t25 = (int((decay_db < -level).nonzero()[0]) for level in (5, 25))
    assert 3 * (t25 - t5) / SAMPLE_RATE == pytest.approx(room.rt60, rel=0.15)  # T20 extrapolated to 60 dB
    seam = round(0.08 * SAMPLE_RATE)
    before, after = (rir[a:b].pow(2).mean() for a, b in ((seam - 320, seam), (seam + 16, seam + 336)))
    assert 0.5 < float(after / before) < 2  # the tail continues the images' level


def test_more_absorption_is_a_shorter_reverberation():
    times = [Room(ROOM.size, ROOM.source, ROOM.mic, a).rt60 for a in (0.1, 0.3, 0.7)]
    assert times[0] > times[1] > times[2] > 0
    assert Room(ROOM.size, ROOM.source, ROOM.mic, 1.0).rt60 == 0


def test_aligned_response_starts_at_the_direct_sound():
    rir = aligned_rir(ROOM, early_s=0.05, max_length_s=1.0, generator=torch.Generator().manual_seed(0))
    assert int(rir.abs().argmax()) == SINC_HALF  # 160 samples of travel removed, the sinc's lead kept
    assert rir.shape[0] == pytest.approx(SINC_HALF + ROOM.rt60 * SAMPLE_RATE, abs=2)


def test_random_rooms_respect_their_ranges_and_seed():
    ranges = dict(size_m=[[3.0, 10.0], [2.5, 8.0], [2.3, 4.0]], absorption=[0.1, 0.7], distance_m=[0.3, 3.0])
    generator = torch.Generator().manual_seed(0)
    for _ in range(50):
        room = random_room(generator=generator, **ranges)
        assert all(lo <= s <= hi for s, (lo, hi) in zip(room.size, ranges["size_m"]))
        assert 0.1 <= room.absorption <= 0.7 and room.distance <= 3.0 + 1e-9
    first, second = (room_bank(3, early_s=0.05, max_length_s=0.5, generator=torch.Generator().manual_seed(7),
                               **ranges) for _ in range(2))
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert not torch.equal(first[0][:100], first[1][:100])


def test_bad_rooms_are_named():
    with pytest.raises(ValueError, match="outside the room"):
        Room(size=(3.0, 3.0, 3.0), source=(1.0, 1.0, 1.0), mic=(4.0, 1.0, 1.0), absorption=0.3)
    with pytest.raises(ValueError, match="absorption"):
        Room(size=(3.0, 3.0, 3.0), source=(1.0, 1.0, 1.0), mic=(2.0, 1.0, 1.0), absorption=0.0)
    with pytest.raises(ValueError, match="room sizes"):
        random_room([[0.2, 0.3], [3, 4], [3, 4]], [0.2, 0.3], [1, 2])

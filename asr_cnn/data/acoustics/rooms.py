"""Room impulse responses of shoebox rooms: image-source early reflections plus a diffuse tail.

The image-source method (Allen & Berkley, 1979) mirrors the source in the walls: each image is one
path of sound, delayed by its distance over the speed of sound, attenuated by spherical spreading and
by the reflection coefficient of every wall it bounced off. Images are summed exactly for the first
``early_s`` seconds, where reflections are sparse and their pattern depends on the geometry; after
that, echoes are so dense that an exponentially decaying noise with the room's reverberation time
(Eyring's formula) is the usual and far cheaper model. The tail starts at the energy the images
reach at ``early_s``, so the response has no seam.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.data.acoustics.clips import EPS

SPEED_OF_SOUND = 343.0
"""Metres per second, in air at 20 C."""

DECAY_60_DB = math.log(1000.0)
"""Natural-log amplitude decay over RT60 (60 dB)."""

SINC_HALF = 8
"""Half-width in samples of the windowed sinc that places each image at its fractional delay."""

MATCH_S = 0.02
"""Stretch of the image part, before its end, whose energy the tail starts from."""

WALL_MARGIN_M = 0.25
"""Nearest a source or microphone may be to a wall."""

PLACEMENT_TRIES = 100
"""Random directions tried to fit a source at the drawn distance before the distance is shortened."""


@dataclass(frozen=True)
class Room:
    """A shoebox room with one source and one microphone (metres, axes x, y, z from a corner).

    Attributes:
        size: Room length, width and height.
        source: Position of the talker's mouth.
        mic: Position of the microphone.
        absorption: Energy fraction every wall absorbs per bounce, in (0, 1].
    """

    size: tuple[float, float, float]
    source: tuple[float, float, float]
    mic: tuple[float, float, float]
    absorption: float

    def __post_init__(self) -> None:
        if min(self.size) <= 0 or not 0 < self.absorption <= 1:
            raise ValueError(f"a room needs positive sizes and absorption in (0, 1], got size={self.size}, "
                             f"absorption={self.absorption}")
        for name, point in (("source", self.source), ("mic", self.mic)):
            if not all(0 <= p <= s for p, s in zip(point, self.size)):
                raise ValueError(f"the {name} {point} is outside the room {self.size}")

    @property
    def distance(self) -> float:
        """Metres from source to microphone."""
        return math.dist(self.source, self.mic)

    @property
    def rt60(self) -> float:
        """Reverberation time in seconds by Eyring's formula, 0.161 V / (-S ln(1 - a))."""
        x, y, z = self.size
        surface = 2 * (x * y + x * z + y * z)
        if self.absorption >= 1:
            return 0.0
        return 0.161 * x * y * z / (-surface * math.log(1 - self.absorption))


def image_source_rir(room: Room, early_s: float, length_s: float,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """The impulse response from ``room.source`` to ``room.mic``, unnormalised (the direct path has gain
    ``1 / (4 pi distance)`` at delay ``distance / SPEED_OF_SOUND``).

    Args:
        room: Geometry and absorption.
        early_s: Time up to which every image is summed; the diffuse tail follows.
        length_s: Length of the response.
        generator: Source of the tail's noise.

    Shape:
        Output: (length_s * SAMPLE_RATE,).
    """
    length = max(1, round(length_s * SAMPLE_RATE))
    early = min(length, round(early_s * SAMPLE_RATE))
    delays, gains = _images(room, early / SAMPLE_RATE)
    rir = _place(delays * SAMPLE_RATE, gains, length)
    rt60 = room.rt60
    start = early + SINC_HALF  # past the last image's sinc
    if start < length and rt60 > 0:
        window = rir[max(0, early - round(MATCH_S * SAMPLE_RATE)):early]
        level = window.pow(2).mean().sqrt() if window.numel() else torch.tensor(0.0)
        t = torch.arange(length - start) / SAMPLE_RATE
        tail = torch.randn(length - start, generator=generator) * torch.exp(-DECAY_60_DB * t / rt60)
        rir[start:] += level * tail
    return rir


def _images(room: Room, max_delay_s: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Delay in seconds and gain of every image that arrives by ``max_delay_s``.

    Along each axis an image is ``(-1)**p * source + 2 n L`` for parity p in {0, 1} and integer n; it
    has bounced ``|n - p|`` times off the wall at 0 and ``|n|`` times off the wall at L.

    Shape:
        Output: (I,) and (I,).
    """
    reach = SPEED_OF_SOUND * max_delay_s
    beta = math.sqrt(1.0 - room.absorption)  # pressure reflection coefficient
    offsets, bounces = [], []
    for axis in range(3):
        size, src, mic = room.size[axis], room.source[axis], room.mic[axis]
        n = torch.arange(-math.ceil(reach / (2 * size)) - 1, math.ceil(reach / (2 * size)) + 2)
        p = torch.tensor([0, 1])
        n, p = n.repeat_interleave(2), p.repeat(n.numel())  # every (n, p) pair of this axis
        offsets.append((1 - 2 * p) * src + 2 * n * size - mic)
        bounces.append((n - p).abs() + n.abs())
    dx, dy, dz = torch.meshgrid(*offsets, indexing="ij")  # (Nx, Ny, Nz) each
    bx, by, bz = torch.meshgrid(*bounces, indexing="ij")
    distance = (dx.square() + dy.square() + dz.square()).sqrt().reshape(-1)  # (Nx, Ny, Nz) -> (I,)
    order = (bx + by + bz).reshape(-1)
    keep = distance <= reach
    distance, order = distance[keep].double(), order[keep]
    return distance / SPEED_OF_SOUND, beta ** order.double() / (4 * math.pi * distance.clamp_min(EPS))


def _place(delays: torch.Tensor, gains: torch.Tensor, length: int) -> torch.Tensor:
    """Sum of impulses at fractional sample positions, each a Hann-windowed sinc.

    Shape:
        delays: (I,) in samples. gains: (I,). Output: (length,).
    """
    taps = torch.arange(-SINC_HALF + 1, SINC_HALF + 1)  # (K,)
    whole = delays.floor().long()
    position = whole[:, None] + taps  # (I, K)
    offset = position - delays[:, None]  # (I, K) distance of each tap from the true delay
    window = 0.5 * (1 + torch.cos(math.pi * offset / SINC_HALF))
    values = (gains[:, None] * torch.sinc(offset) * window).float()
    inside = (position >= 0) & (position < length)
    rir = torch.zeros(length)
    rir.index_add_(0, position[inside], values[inside])
    return rir


def random_room(size_m: Sequence[Sequence[float]], absorption: Sequence[float], distance_m: Sequence[float],
                generator: torch.Generator | None = None) -> Room:
    """A room with sizes, absorption and talker distance drawn uniformly from the given ranges.

    The microphone is anywhere at least ``WALL_MARGIN_M`` from the walls; the talker is at the drawn
    distance in a random direction, shortened when no direction fits.

    Args:
        size_m: Ranges of length, width and height, ``[[low, high], [low, high], [low, high]]``.
        absorption: Range of the walls' energy absorption.
        distance_m: Range of the talker's distance from the microphone.
        generator: Source of every draw.
    """
    def uniform(low: float, high: float) -> float:
        return low + (high - low) * float(torch.rand((), generator=generator))

    size = tuple(uniform(*bounds) for bounds in size_m)
    if min(size) <= 2 * WALL_MARGIN_M:
        raise ValueError(f"room sizes must exceed {2 * WALL_MARGIN_M} m, got ranges {list(size_m)}")
    mic = tuple(uniform(WALL_MARGIN_M, s - WALL_MARGIN_M) for s in size)
    distance = uniform(*distance_m)
    for attempt in range(PLACEMENT_TRIES):
        direction = torch.randn(3, generator=generator)
        direction = direction / direction.norm().clamp_min(EPS)
        reach = distance * (1 - attempt / PLACEMENT_TRIES)  # shrink slowly until a direction fits
        source = tuple(m + reach * float(d) for m, d in zip(mic, direction))
        if all(WALL_MARGIN_M <= p <= s - WALL_MARGIN_M for p, s in zip(source, size)):
            break
    else:
        source = mic  # unreachable in practice: the last tries are within a few cm of the microphone
    return Room(size=size, source=source, mic=mic, absorption=uniform(*absorption))


def aligned_rir(room: Room, early_s: float, max_length_s: float,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """The response of ``room`` from just before its direct sound, so convolving does not delay speech,
    and ``max_length_s`` or the room's RT60 long, whichever is shorter.

    Shape:
        Output: (R,).
    """
    lead = room.distance / SPEED_OF_SOUND
    length = lead + min(max(room.rt60, early_s), max_length_s)
    rir = image_source_rir(room, lead + early_s, length, generator)
    first = max(0, round(lead * SAMPLE_RATE) - SINC_HALF)
    return rir[first:]


def room_bank(count: int, size_m: Sequence[Sequence[float]], absorption: Sequence[float],
              distance_m: Sequence[float], early_s: float, max_length_s: float,
              generator: torch.Generator | None = None) -> list[torch.Tensor]:
    """``count`` aligned responses of random rooms (:func:`random_room`, :func:`aligned_rir`).

    Training draws from such a bank instead of simulating a room per clip: a room costs milliseconds,
    a clip's other augmentation a fraction of that.

    Shape:
        Output: ``count`` tensors (R_i,).
    """
    return [aligned_rir(random_room(size_m, absorption, distance_m, generator), early_s, max_length_s, generator)
            for _ in range(count)]

"""Neocognitron S-cells and C-cells: forward, exact streaming, and winner-take-all Hebbian learning."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from streaming_helpers import assert_streams_exactly, check_streaming_contract, random_chunkings

from asr_cnn.layers import StreamingSequential, same_padding
from asr_cnn.layers.neocognitron import CCells, SCells

SEGMENT = 5  # line segments and S-cell receptive fields are SEGMENT x SEGMENT
IMAGE = 20
ORIENTATIONS = ("vertical", "horizontal", "diagonal", "anti-diagonal")


def test_scells_forward_is_thresholded_same_in_frequency_valid_in_time():
    torch.manual_seed(0)
    layer = SCells(2, 3, (4, 3), threshold=0.5)
    x = torch.rand(2, 2, 7, 10)
    left, right = same_padding(4)
    expected = (F.conv2d(F.pad(x, (0, 0, left, right)), layer.weight) - 0.5).clamp_min(0)
    assert layer(x).shape == (2, 3, 7, 8) and layer.context == 2
    torch.testing.assert_close(layer(x), expected)
    assert (layer.weight >= 0).all()
    torch.testing.assert_close(layer.weight.flatten(1).norm(dim=1), torch.ones(3))


@pytest.mark.parametrize("kind, reduce", [("max", torch.amax), ("mean", torch.mean)])
def test_ccells_pool_real_bins_only(kind, reduce):
    torch.manual_seed(0)
    x = torch.randn(1, 2, 5, 7)
    layer = CCells(kind, (3, 2), (2, 2))
    y = layer(x)
    assert y.shape == (1, 2, 3, 3)  # ceil(5 / 2) bins, (7 - 2) // 2 + 1 frames
    left = same_padding(3)[0]
    for i in range(3):
        for j in range(3):
            lo, hi = max(0, 2 * i - left), min(5, 2 * i - left + 3)  # the window's real bins
            torch.testing.assert_close(y[0, :, i, j], reduce(x[0, :, lo:hi, 2 * j:2 * j + 2], dim=(1, 2)))


@pytest.mark.parametrize("make", [
    lambda: SCells(2, 3, (3, 4)), lambda: SCells(2, 2, (2, 1), threshold=0.1),
    lambda: CCells("max", (3, 3), (2, 2)), lambda: CCells("mean", (2, 1)), lambda: CCells("mean", (1, 4), (1, 3)),
])
def test_streams_exactly(make):
    # Chunks of 1, the stride, 7 and the whole clip; batch consistency; resetting one stream.
    torch.manual_seed(0)
    check_streaming_contract(make(), torch.rand(3, 2, 6, 29))


@settings(max_examples=10, deadline=None)
@given(chunks=random_chunkings)
def test_neocognitron_stack_streams_random_chunks(chunks):
    torch.manual_seed(0)
    stack = StreamingSequential(SCells(1, 4, (3, 3)), CCells("max", (2, 2), (2, 2)),
                                SCells(4, 6, (3, 2)), CCells("mean", (2, 3), (1, 2)))
    assert_streams_exactly(stack, torch.rand(2, 1, 8, 60), [1, 7, chunks, 60])


def reference_step(layer: SCells, x: torch.Tensor) -> tuple[torch.Tensor, set[int]]:
    """The Hebbian rule written out with loops: expected new weights and the planes that learn."""
    weight, (k_f, k_t), (c_f, c_t) = layer.weight.detach().clone(), layer.kernel_size, layer.column
    with torch.no_grad():
        y = layer(x)  # (B, P, F, T')
    padded = F.pad(x, (0, 0, *same_padding(k_f)))
    (left_f, right_f), (left_t, right_t) = same_padding(c_f), same_padding(c_t)
    delta, learned = torch.zeros_like(weight), set()
    for b in range(y.shape[0]):
        best: dict[int, tuple[float, int, int]] = {}
        for f in range(y.shape[2]):
            for t in range(y.shape[3]):
                top, plane = y[b, :, f, t].max().item(), int(y[b, :, f, t].argmax())
                column = y[b, :, max(0, f - left_f):f + right_f + 1, max(0, t - left_t):t + right_t + 1]
                if top > 0 and top >= column.max() and (plane not in best or top > best[plane][0]):
                    best[plane] = (top, f, t)
        for plane, (value, f, t) in best.items():
            delta[plane] += layer.lr * value * padded[b, :, f:f + k_f, t:t + k_t]
            learned.add(plane)
    for plane in learned:
        weight[plane] = (weight[plane] + delta[plane]) / (weight[plane] + delta[plane]).norm()
    return weight, learned


@pytest.mark.parametrize("column", [(1, 1), (3, 3), (2, 4)])
def test_hebbian_step_matches_reference_and_only_winners_change(column):
    torch.manual_seed(0)
    layer = SCells(2, 4, (3, 2), column=column, lr=0.3)
    with torch.no_grad():
        layer.weight[3] = layer.weight[0]  # plane 3 always ties with plane 0 and loses: it must not learn
    x = torch.rand(2, 2, 6, 9)
    before = layer.weight.detach().clone()
    expected, learned = reference_step(layer, x)
    stats = layer.hebbian_step(x)
    assert learned and 3 not in learned
    assert stats["updated"].tolist() == [p in learned for p in range(4)]
    torch.testing.assert_close(layer.weight.detach(), expected)
    for plane in range(4):
        changed = not torch.equal(layer.weight[plane], before[plane])
        assert changed == (plane in learned) == bool(stats["change"][plane] > 0)
    assert stats["win_rate"][3] == 0


def test_hebbian_step_is_deterministic_and_gradient_free():
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        layer = SCells(1, 3, (3, 3))
        stats = [layer.hebbian_step(torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(i)))
                 for i in range(5)]
        assert layer.weight.grad is None and layer.weight.requires_grad
        assert all(not value.requires_grad for s in stats for value in s.values())
        runs.append((layer.weight.detach(), stats))
    assert torch.equal(runs[0][0], runs[1][0])
    for a, b in zip(runs[0][1], runs[1][1]):
        assert all(torch.equal(a[key], b[key]) for key in a)


def segment_templates() -> torch.Tensor:
    """One SEGMENT-pixel line per orientation, centred in a SEGMENT x SEGMENT patch. (4, S, S)."""
    templates, centre = torch.zeros(len(ORIENTATIONS), SEGMENT, SEGMENT), SEGMENT // 2
    templates[0, :, centre] = templates[1, centre, :] = 1
    templates[2] = torch.eye(SEGMENT)
    templates[3] = torch.eye(SEGMENT).flip(1)
    return templates


def segment_images(n: int, generator: torch.Generator, segments: int = 4) -> torch.Tensor:
    """Images of short line segments of random orientations at random places. (n, 1, IMAGE, IMAGE)."""
    images, templates = torch.zeros(n, 1, IMAGE, IMAGE), segment_templates()
    for image in images:
        for _ in range(segments):
            orientation = int(torch.randint(len(ORIENTATIONS), (1,), generator=generator))
            i, j = torch.randint(IMAGE - SEGMENT + 1, (2,), generator=generator).tolist()
            window = image[0, i:i + SEGMENT, j:j + SEGMENT]
            torch.maximum(window, templates[orientation], out=window)
    return images


def orientation_selectivity(layer: SCells) -> torch.Tensor:
    """For each orientation, the best ratio (its response / the next orientation's) among the planes
    that prefer it (0 if none does). Responses are to a line across the whole image, so shifts do not matter.
    """
    lines, centre = torch.zeros(len(ORIENTATIONS), 1, IMAGE, IMAGE), IMAGE // 2
    lines[0, 0, :, centre] = lines[1, 0, centre, :] = 1
    lines[2, 0] = torch.eye(IMAGE)
    lines[3, 0] = torch.eye(IMAGE).flip(1)
    with torch.no_grad():
        response = layer(lines).amax(dim=(2, 3)).T  # (P, orientations)
    top = response.topk(2, dim=1)
    ratio, preferred = top.values[:, 0] / top.values[:, 1], top.indices[:, 0]
    return torch.stack([torch.where(preferred == o, ratio, 0).max() for o in range(len(ORIENTATIONS))])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planes_learn_different_orientations(seed):
    # A plane is "tuned" to an orientation when it answers it at least twice as strongly as any other.
    tuned = 2.0
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    layer = SCells(1, 6, (SEGMENT, SEGMENT), lr=0.2)
    assert (orientation_selectivity(layer) < tuned).all()  # random excitatory weights: untuned
    for _ in range(60):
        layer.hebbian_step(segment_images(8, generator))
    # Every orientation has its own tuned plane: the planes split the features between them.
    assert (orientation_selectivity(layer) >= tuned).all(), orientation_selectivity(layer)


@pytest.mark.parametrize("make, needle", [
    (lambda: SCells(0, 3), "planes must be >= 1, got in_channels=0"),
    (lambda: SCells(1, 3, threshold=-0.5), "threshold must be >= 0, got -0.5"),
    (lambda: SCells(1, 3, lr=0), "lr must be > 0, got 0"),
    (lambda: SCells(1, 3, kernel_size=(0, 3)), r"kernel_size .* got \(0, 3\)"),
    (lambda: SCells(1, 3, column=(2, 0)), r"column .* got \(2, 0\)"),
    (lambda: CCells("median"), "'median'"),
    (lambda: CCells("max", (2, 2), (1, 3)), "time stride 3"),
    (lambda: SCells(2, 3, (3, 4))(torch.zeros(1, 1, 5, 9)), r"\(B, 2, F, T >= 4\), got shape \(1, 1, 5, 9\)"),
    (lambda: CCells("max", (2, 2))(torch.zeros(5, 9)), r"\(B, C, F, T >= 2\), got shape \(5, 9\)"),
])
def test_bad_arguments(make, needle):
    with pytest.raises(ValueError, match=needle):
        make()

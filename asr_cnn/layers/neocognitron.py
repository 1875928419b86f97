"""Neocognitron layers over time-frequency maps: S-cells (feature detectors) and C-cells (pooling).

Fukushima's S-cells are shared-weight detectors with excitatory (non-negative) weights and a rectifying
threshold; they learn without labels by winner-take-all Hebbian updates. C-cells are fixed pooling that
tolerates small shifts of the detected feature. Both work on (B, C, F, T), are valid in time and pad
frequency by the "same" rule, so they stream like every other layer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from asr_cnn.layers.pooling import MODES
from asr_cnn.layers.sizes import as_pair, check_time_stride, same_padding
from asr_cnn.layers.streaming import StreamingLayer


def _check_input(x: torch.Tensor, min_frames: int, channels: int | None = None) -> None:
    """Raise a ValueError unless ``x`` is (B, C, F, T) with the given C and at least ``min_frames`` frames."""
    expected = f"(B, {'C' if channels is None else channels}, F, T >= {min_frames})"
    if x.dim() != 4 or (channels is not None and x.shape[1] != channels) or x.shape[-1] < min_frames:
        raise ValueError(f"expected input {expected}, got shape {tuple(x.shape)}")


class SCells(StreamingLayer):
    """S-cell planes: a shared-weight detector per plane, then a rectifying threshold.

    ``y = relu(w * x - threshold)``, with each plane's weights non-negative at initialisation and of unit
    L2 norm. :meth:`hebbian_step` trains them without labels; with non-negative inputs (a retina, or
    the C-cells below) the weights stay non-negative, since every update is output x input.

    Args:
        in_channels: C, input planes.
        planes: P, S-cell planes (features learned).
        kernel_size: (kF, kT), the receptive field in frequency bins and frames.
        threshold: Responses at or below it are silenced (the S-cell's inhibition); >= 0.
        lr: Hebbian learning rate, > 0.
        column: (cF, cT), the S-column: the neighbourhood of positions whose cells compete in
            :meth:`hebbian_step`. Defaults to ``kernel_size``, Fukushima's choice (cells whose receptive
            fields nearly coincide); ``(1, 1)`` is competition across planes at single positions only,
            which lets planes learn shifted copies of one feature.

    Raises:
        ValueError: A size (``column`` included) is below 1, ``threshold`` is negative or ``lr`` is not positive.
    """

    def __init__(self, in_channels: int, planes: int, kernel_size: int | tuple[int, int] = (3, 3),
                 threshold: float = 0.0, lr: float = 0.1, column: int | tuple[int, int] | None = None) -> None:
        super().__init__()
        if in_channels < 1 or planes < 1:
            raise ValueError(f"in_channels and planes must be >= 1, got in_channels={in_channels}, planes={planes}")
        if threshold < 0:
            raise ValueError(f"threshold must be >= 0, got {threshold}")
        if lr <= 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        self.in_channels, self.planes = in_channels, planes
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.column = as_pair(column if column is not None else kernel_size, "column")
        self.threshold, self.lr = threshold, lr
        self.context, self.stride = self.kernel_size[1] - 1, 1
        weight = torch.rand(planes, in_channels, *self.kernel_size)  # (P, C, kF, kT), excitatory
        self.weight = nn.Parameter(weight / _plane_norms(weight))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Responses of every plane at every frequency and complete time window.

        Shape:
            x: (B, C, F, T) with T >= kT. Output: (B, P, F, T - kT + 1).
        """
        _check_input(x, self.kernel_size[1], self.in_channels)
        return F.relu(F.conv2d(self._pad(x), self.weight) - self.threshold)

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, (0, 0, *same_padding(self.kernel_size[0])))  # frequency only; time stays valid

    @torch.no_grad()
    def hebbian_step(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """One unsupervised winner-take-all Hebbian update from a batch; deterministic given ``x``.

        Each example is a separate presentation. At every position (f, t) the planes compete: only the
        one responding most (first on ties, and only if it responds at all) may learn there, and only if
        no cell of any plane responds more within the S-column centred there. Each plane then learns from
        the strongest of the positions it won, ``dw = lr * y * patch``, one update for the whole plane
        because its cells share one weight tensor; updates of the batch's examples add.
        Updated planes are renormalised to unit norm; the others are left exactly as they were.

        Args:
            x: Input batch.

        Returns:
            ``win_rate`` (P,): fraction of positions each plane won; ``updated`` (P,): bool, planes that
            learned; ``change`` (P,): L2 norm of each plane's weight change.

        Shape:
            x: (B, C, F, T) with T >= kT.
        """
        y = self(x)  # (B, P, F, T')
        planes, frames = y.shape[1], y.shape[-1]
        winner = y.argmax(dim=1, keepdim=True)  # (B, 1, F, T'), the competition across planes
        top = y.amax(dim=1, keepdim=True)  # (B, 1, F, T')
        # Time is padded here, unlike in forward: learning is offline and sees the whole input.
        pad = (*same_padding(self.column[1]), *same_padding(self.column[0]))
        column_top = F.max_pool2d(F.pad(top, pad, value=float("-inf")), self.column, stride=1)  # (B, 1, F, T')
        won = ((torch.arange(planes, device=y.device).view(1, -1, 1, 1) == winner)
               & (y > 0) & (top >= column_top))  # (B, P, F, T')
        best, where = (y * won).flatten(2).max(dim=2)  # (B, P), over each plane's won positions
        b, p = best.nonzero(as_tuple=True)  # (example, plane) pairs that learn
        k_f, k_t = self.kernel_size
        patches = self._pad(x).unfold(2, k_f, 1).unfold(3, k_t, 1)  # view (B, C, F, T', kF, kT)
        patch = patches[b, :, where[b, p] // frames, where[b, p] % frames]  # (n, C, kF, kT)
        delta = torch.zeros_like(self.weight).index_add_(0, p, self.lr * best[b, p].view(-1, 1, 1, 1) * patch)
        updated = torch.zeros(planes, dtype=torch.bool, device=y.device)
        updated[p] = True
        new = self.weight[updated] + delta[updated]
        new = new / _plane_norms(new)
        change = torch.zeros(planes, dtype=y.dtype, device=y.device)
        change[updated] = (new - self.weight[updated]).flatten(1).norm(dim=1)
        self.weight[updated] = new
        return {"win_rate": won.float().mean(dim=(0, 2, 3)), "updated": updated, "change": change}

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.planes}, kernel_size={self.kernel_size}, "
                f"threshold={self.threshold}, lr={self.lr}, column={self.column}")


def _plane_norms(weight: torch.Tensor) -> torch.Tensor:
    """L2 norm of each plane's weights, shaped to divide them. (P, C, kF, kT) -> (P, 1, 1, 1)."""
    return weight.flatten(1).norm(dim=1).clamp_min(torch.finfo(weight.dtype).tiny).view(-1, 1, 1, 1)


class CCells(StreamingLayer):
    """C-cell planes: fixed max or mean pooling of each S-plane, "same" in frequency, valid in time.

    Args:
        kind: ``"max"`` or ``"mean"``.
        kernel_size: (pF, pT), pooled bins and frames.
        stride: (dF, dT); the time stride decimates the output frame rate.

    Raises:
        ValueError: ``kind`` is unknown, a size is below 1, or the time stride exceeds ``pT`` (frames
            would be skipped, which cannot stream).
    """

    def __init__(self, kind: str = "max", kernel_size: int | tuple[int, int] = (2, 2),
                 stride: int | tuple[int, int] = (1, 1)) -> None:
        super().__init__()
        if kind not in MODES:
            raise ValueError(f"kind must be one of {MODES}, got {kind!r}")
        self.kind = kind
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.stride_ft = as_pair(stride, "stride")
        self.context, self.stride = self.kernel_size[1] - 1, self.stride_ft[1]
        check_time_stride(self.context, self.stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pool every plane; frequency padding never enters a max or a mean.

        Shape:
            x: (B, C, F, T) with T >= pT. Output: (B, C, ceil(F / dF), (T - pT) // dT + 1).
        """
        _check_input(x, self.kernel_size[1])
        pad = (0, 0, *same_padding(self.kernel_size[0]))
        if self.kind == "max":
            return F.max_pool2d(F.pad(x, pad, value=float("-inf")), self.kernel_size, self.stride_ft)
        # Mean over the real bins only: sum over the zero-padded window divided by its count of real bins.
        real = F.pad(x.new_ones(1, 1, x.shape[2], self.kernel_size[1]), pad)  # (1, 1, F + pF - 1, pT)
        count = F.avg_pool2d(real, self.kernel_size, self.stride_ft)  # (1, 1, F', 1)
        return F.avg_pool2d(F.pad(x, pad), self.kernel_size, self.stride_ft) / count

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, kernel_size={self.kernel_size}, stride={self.stride_ft}"

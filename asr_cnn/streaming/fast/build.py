"""Turning a model into kernels, each sized by a dry run of one step (a block of hops) from the steady state.

Plain chains are flattened, so that a batch norm that follows a product (or precedes one that pads
nothing) folds into its weights and an activation runs in place on the buffer its product wrote. A layer
without a fast kernel runs its own streaming inside the chain
(:class:`~asr_cnn.streaming.fast.blocks.EagerLayer`): every model takes the fast path, at the speed of
its slowest parts, and :func:`build` names those parts.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from asr_cnn.layers import (TDNN, AddChannel, Conv1x1, FlattenFreq, FlooredLeakyReLU, GlobalFreqPool, Pool1d, Pool2d,
                            Residual, StreamingLayer, StreamingSequential, TimeFreqConv2d)
from asr_cnn.layers.ensemble import Branches, Ensemble, combine_members
from asr_cnn.layers.head import WindowHead
from asr_cnn.layers.streaming import State, streams_as
from asr_cnn.streaming.fast.blocks import Chain, EagerLayer, Fork, Function, ResidualBlock
from asr_cnn.streaming.fast.conv import Pool, Producer, TapConv
from asr_cnn.streaming.fast.kernel import Affine, Elementwise, Kernel, batch_norm_affine
from asr_cnn.streaming.fast.spectral import SPECTRAL_FRONTENDS, Spectral

SKIPPED = (nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d)
"""Modules that leave a frame as it is in evaluation mode: no kernel at all."""

ELEMENTWISE = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh, nn.Hardswish,
               FlooredLeakyReLU)
"""Modules that act on every number alone, whatever the layout."""

ONE_TAP = (1, 1, 1, 1)
"""The grid of a frame-wise product."""

Items = Iterable[tuple[nn.Module, "State | None"]]
Built = tuple[Kernel, "torch.Tensor | list[torch.Tensor]", list[str]]
"""A kernel, its output for the example step, and the layers in it left to their own streaming."""


def carried(state: State) -> int:
    """Frames (or samples) a leaf layer keeps between hops: its steady buffer's length."""
    return state["buffer"].shape[-1]


def leaves(module: nn.Module, state: State | None) -> list[tuple[nn.Module, State | None]]:
    """The layers of nested plain chains in order, each with its state (``None`` for torch modules)."""
    if not streams_as(module, StreamingSequential):
        return [(module, state)]
    found = []
    for name, child in module.named_children():
        found += leaves(child, state[name]) if isinstance(child, StreamingLayer) else [(child, None)]
    return found


def build(module: nn.Module, state: State | None, example: torch.Tensor, owned: bool = False) -> Built:
    """The kernel of a layer (of any kind: a plain chain is flattened first).

    Args:
        module: A streaming layer, or a frame-wise torch module (``state`` ``None``).
        state: The layer's steady-state zeros.
        example: One step's input, time-major (samples (B, n * hop) for a front end).
        owned: ``example`` is a buffer of the chain, which the first kernel may overwrite.
    """
    return build_chain(leaves(module, state), example, owned)


def build_chain(items: Items, example: torch.Tensor, owned: bool = False) -> Built:
    """Kernels of layers applied in order, batch norms folded into neighbouring products where exact."""
    kernels: list[Kernel] = []
    eager: list[str] = []
    waiting: Affine | None = None  # a batch norm that may fold into the next product
    x = example
    for layer, state in items:
        if isinstance(layer, SKIPPED):
            continue
        if isinstance(layer, nn.modules.batchnorm._BatchNorm) and layer.track_running_stats:
            affine = batch_norm_affine(layer, x)
            if waiting is None and kernels and isinstance(kernels[-1], TapConv):
                kernels[-1].fold_after(affine)
                continue
            if waiting is not None:
                kernels.append(waiting)
                x, owned = waiting(x, False), True
            waiting = affine
            continue
        kernel, inside = single(layer, state, x, owned)
        if waiting is not None:
            if isinstance(kernel, TapConv) and kernel.can_fold_before():
                kernel.fold_before(waiting)
            else:
                kernels.append(waiting)
                x, owned = waiting(x, False), True
                kernel, inside = single(layer, state, x, owned)
            waiting = None
        kernels.append(kernel)
        eager += inside
        x, owned = kernel(x, False), kernel.fresh
    if waiting is not None:
        kernels.append(waiting)
        x = waiting(x, False)
    kernels = fuse(kernels)
    return (kernels[0] if len(kernels) == 1 else Chain(kernels)), x, eager


def fuse(kernels: list[Kernel]) -> list[Kernel]:
    """The chain with each product's or pooling's in-place activations run inside it, and its output written
    straight into the next kernel's carry buffer where that kernel would otherwise copy it there."""
    fused: list[Kernel] = []
    for kernel in kernels:
        if isinstance(kernel, Elementwise) and kernel.in_place and fused and isinstance(fused[-1], Producer):
            fused[-1].epilogue.append(kernel)
            continue
        fused.append(kernel)
    defer_floors(fused)
    for kernel, after in zip(fused, fused[1:]):
        carry = after.carry if isinstance(after, Producer) else None
        if isinstance(kernel, Producer) and carry is not None and carry.buffer is not None and (
                carry.inbox.is_contiguous() and carry.inbox.shape == kernel.out.shape):
            kernel.deliver_to(carry.inbox)
    return fused


def defer_floors(kernels: list[Kernel]) -> None:
    """Move the clamp from below that ends a kernel's activations (a ReLU's, a floored leaky ReLU's floor) into
    the copies of the next product that lays its frames out, saving an op: exact where only max poolings lie
    between (a clamp commutes with a maximum) and the clamp keeps the product's zero padding at zero."""
    for k, kernel in enumerate(kernels):
        last = kernel.epilogue[-1] if isinstance(kernel, Producer) and kernel.epilogue else None
        if last is None or last.floor is None or last.floor > 0:
            continue
        after = next((later for later in kernels[k + 1:]
                      if not (isinstance(later, Pool) and later.mode == "max" and not later.epilogue)), None)
        if isinstance(after, TapConv) and not after.direct and after.floor is None:
            after.floor = last.floor
            kernel.epilogue[-1:] = [rest for rest in [last.without_floor()] if rest is not None]


def single(layer: nn.Module, state: State | None, x: torch.Tensor, owned: bool) -> tuple[Kernel, list[str]]:
    """The kernel of one layer that is not a plain chain, and the layers in it left to their own streaming."""
    kind = type(layer)
    if isinstance(layer, ELEMENTWISE):
        return Elementwise(layer, in_place=owned), []
    if kind in SPECTRAL_FRONTENDS and getattr(layer, "top_db", None) is None:
        return Spectral(layer, carried(state), x), []
    groups = layer.conv.groups if kind is TimeFreqConv2d else 0
    if kind is TimeFreqConv2d and (groups == 1 or groups == layer.in_channels == layer.out_channels):
        return time_freq_conv(layer, state, x), []
    if kind is TDNN:
        weight = layer.conv.weight.permute(2, 1, 0).flatten(0, 1)  # (taps * C_in, C_out), tap-major
        grid = None if layer.dilation is None else (len(layer.taps), layer.dilation, 1, 1)  # irregular offsets: no grid
        return TapConv(weight, layer.conv.bias, [(t, 0) for t in layer.taps], (layer.stride, 1), carried(state), x,
                       grid=grid), []
    if kind is Conv1x1:
        return TapConv(layer.conv.weight[:, :, 0].T, layer.conv.bias, [(0, 0)], (1, 1), 0, x, grid=ONE_TAP), []
    if kind is nn.Linear:
        return TapConv(layer.weight.T, layer.bias, [(0, 0)], (1, 1), 0, x, grid=ONE_TAP), []
    if kind is Pool1d:
        return Pool(layer.mode, (layer.kernel_size, 1), (layer.stride, 1), carried(state), x), []
    if kind is Pool2d:
        (p_f, p_t), (s_f, s_t) = layer.kernel_size, layer.stride_ft
        return Pool(layer.mode, (p_t, p_f), (s_t, s_f), carried(state), x), []
    if kind is GlobalFreqPool:
        return Function(lambda maps: maps.amax(2) if layer.mode == "max" else maps.mean(2), fresh=True), []  # over F
    if kind is AddChannel:
        return Function(lambda features: features.unsqueeze(-1), fresh=False), []  # (T, B, F) -> (T, B, F, 1)
    if kind is FlattenFreq:  # (T, B, F, C) -> (T, B, C * F), map-major as the layer flattens
        return Function(lambda maps: maps.transpose(2, 3).flatten(2), fresh=True), []
    if kind is WindowHead:
        return window_head(layer, state, x)
    if streams_as(layer, Branches) or streams_as(layer, Ensemble):
        return fork(layer, state, x)
    if kind is Residual:
        return residual(layer, state, x)
    return EagerLayer(layer, state or {}, x), [kind.__name__]


def time_freq_conv(layer: TimeFreqConv2d, state: State, x: torch.Tensor) -> TapConv:
    """A :class:`~asr_cnn.layers.TimeFreqConv2d` (dense or depthwise) as taps over frames and bins."""
    (k_f, k_t), (s_f, s_t), (d_f, d_t) = layer.kernel_size, layer.stride_ft, layer.dilation
    taps = [(t * d_t, f * d_f) for t in range(k_t) for f in range(k_f)]
    weight = layer.conv.weight.permute(3, 2, 1, 0).flatten(0, 2)  # (kT * kF * C_in, C_out), tap-major
    return TapConv(weight, layer.conv.bias, taps, (s_t, s_f), carried(state), x, layer.freq_pad,
                   depthwise=layer.conv.groups > 1, grid=(k_t, d_t, k_f, d_f))


def window_head(head: WindowHead, state: State, x: torch.Tensor) -> tuple[Kernel, list[str]]:
    """The window's pooling over its frames (nothing to pool in a one-frame window), then the MLP."""
    kernels: list[Kernel] = []
    if head.pool == "learned":
        weight = head.weights.weight[:, 0, :].T  # (frames, C): each channel's weight per window position
        kernels.append(TapConv(weight, None, [(t, 0) for t in range(head.frames)], (1, 1), carried(state), x,
                               depthwise=True, grid=(head.frames, 1, 1, 1)))
    elif head.frames > 1:
        kernels.append(Pool(head.pool, (head.frames, 1), (1, 1), carried(state), x))
    pooled = kernels[0](x, False) if kernels else x
    mlp, _, eager = build_chain([(module, None) for module in head.mlp], pooled, owned=bool(kernels))
    return Chain([*kernels, mlp]), eager


def fork(layer: Branches, state: State, x: torch.Tensor) -> tuple[Kernel, list[str]]:
    """Every member on the same input; an :class:`~asr_cnn.layers.ensemble.Ensemble` averages their posteriors."""
    members, eager = [], []
    for name, member in layer.members.items():
        kernel, _, inside = build(member, state[name], x)
        members.append(kernel)
        eager += inside
    if not isinstance(layer, Ensemble):
        return Fork(members), eager

    def combine(outputs: list[torch.Tensor]) -> torch.Tensor:
        stacked = torch.stack(outputs, dim=-1).movedim(2, 1)  # (T, K, B, M): classes second, members last
        return combine_members(stacked).movedim(1, 2)  # (T, B, K)
    return Fork(members, combine), eager


def residual(layer: Residual, state: State, x: torch.Tensor) -> tuple[Kernel, list[str]]:
    """The body, and the shortcut on the right-aligned identity frames."""
    body, y, eager = build(layer.body, state["body"], x)
    block = ResidualBlock(body, None, layer.context, layer.stride, state["delay"].shape[-1], x, y.shape[0])
    if not isinstance(layer.shortcut, nn.Identity):
        identity = block.identity(x)  # (T_out, B, ..., C)
        shortcut_state = None
        if isinstance(layer.shortcut, StreamingLayer):  # frame-wise: its state holds no frame
            shortcut_state = layer.shortcut.init_state(x.shape[1], x.device, x.dtype)
        block.shortcut, _, inside = build(layer.shortcut, shortcut_state, identity)
        eager += inside
    return block, eager

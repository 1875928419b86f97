"""Process-group set-up for DistributedDataParallel under ``torchrun`` (NCCL on GPUs, gloo on CPU).

Without ``torchrun`` (no ``WORLD_SIZE`` in the environment, or 1) everything here is a no-op, so the
same loop runs on one CPU, one GPU, several GPUs or several nodes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    """Where this process sits in the job.

    Attributes:
        rank: Global rank (0 writes files and logs).
        world_size: Number of processes in the job.
        local_rank: Rank on this node (chooses the GPU).
        local_world_size: Processes on this node (share its CPU cores).
        device: The device this process trains on.
    """

    rank: int
    world_size: int
    local_rank: int
    local_world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def resolve_device(preference: str, local_rank: int = 0) -> torch.device:
    """``auto`` picks CUDA when present, else CPU; ``cuda`` becomes ``cuda:<local_rank>``.

    Raises:
        ValueError: CUDA was asked for but is not available.
    """
    if preference == "auto":
        preference = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(preference)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"trainer.device={preference!r} but CUDA is not available; use cpu or auto")
        if device.index is None:
            device = torch.device("cuda", local_rank)
    return device


def env_rank() -> int:
    """This process's rank as ``torchrun`` sets it in the environment (0 without ``torchrun``)."""
    return int(os.environ.get("RANK", "0"))


def setup(preference: str = "auto") -> DistContext:
    """Join the process group that ``torchrun`` describes in the environment, if any."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = env_rank(), int(os.environ.get("LOCAL_RANK", "0"))
    local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", str(world_size)))
    device = resolve_device(preference, local_rank)
    if world_size > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistContext(rank, world_size, local_rank, local_world_size, device)


def barrier(ctx: DistContext) -> None:
    """Wait for every process (e.g. while rank 0 builds the corpus or evaluates)."""
    if ctx.distributed:
        dist.barrier()


def all_reduce_sum(ctx: DistContext, values: torch.Tensor) -> torch.Tensor:
    """Sum a tensor over all processes (a copy; the input is left alone)."""
    values = values.clone()
    if ctx.distributed:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def cleanup(ctx: DistContext) -> None:
    """Leave the process group."""
    if ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()

"""torchrun / DistributedDataParallel set-up: NCCL on GPUs, gloo on CPUs; rank 0 writes files.

`torchrun --nproc_per_node=N -m bgmcli train ...` sets WORLD_SIZE, RANK and LOCAL_RANK.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from bgmcli.devices import resolve_device


@dataclass(frozen=True)
class Dist:
    rank: int
    world: int
    device: torch.device

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: str | torch.device = "auto") -> Dist:
    """One process per device when launched by torchrun; a plain single process otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    resolved = resolve_device(device)
    if world <= 1:
        return Dist(rank=0, world=1, device=resolved)
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if resolved.type == "cuda":
        resolved = torch.device("cuda", local)
        torch.cuda.set_device(resolved)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if resolved.type == "cuda" else "gloo")
    return Dist(rank=rank, world=world, device=resolved)


def shutdown(d: Dist) -> None:
    if d.enabled and dist.is_initialized():
        dist.destroy_process_group()


def wrap(module: nn.Module, d: Dist, find_unused: bool = False) -> nn.Module:
    """DDP around `module`; `find_unused` for steps that may skip parameters (no patch chosen)."""
    if not d.enabled:
        return module
    ids = [d.device.index] if d.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids, find_unused_parameters=find_unused)


def shard(indices: list[int], d: Dist) -> list[int]:
    """This rank's share of a global batch (every rank sees the same global indices)."""
    return indices[d.rank :: d.world]


def barrier(d: Dist) -> None:
    if d.enabled:
        dist.barrier()

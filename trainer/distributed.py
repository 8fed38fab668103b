"""torch.distributed setup from the torchrun environment (gloo on CPU, nccl on GPU), model wrapping (DDP, or
FSDP2 ``fully_shard``), and the few collectives the loop needs. One process without torchrun needs no group."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn as nn


@dataclass
class Dist:
    """Where this process sits: rank, world size, local rank and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    backend: str | None = None  # None: single process, no process group

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.backend is not None


def pick_device(preference: str) -> str:
    """``auto`` -> cuda when available, else cpu; ``cuda`` without a GPU is an error."""
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device=cuda but torch sees no GPU; use device=cpu (or auto)")
    if preference == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return preference


def init_distributed(device_preference: str = "auto") -> Dist:
    """Join the process group torchrun describes (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT), if any."""
    kind = pick_device(device_preference)
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        device = torch.device("cuda", 0) if kind == "cuda" else torch.device("cpu")
        if kind == "cuda":
            torch.cuda.set_device(device)
        return Dist(device=device)
    rank, world, local = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0))
    if kind == "cuda":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
        backend = "nccl"
        dist.init_process_group(backend, device_id=device)
    else:
        device, backend = torch.device("cpu"), "gloo"
        dist.init_process_group(backend)
    return Dist(rank=rank, world_size=world, local_rank=local, device=device, backend=backend)


def shutdown(d: Dist, wait: bool = False) -> None:
    """Leave the process group; with ``wait`` (a run that ended normally), first wait for every rank to get here:
    a gloo rank tearing down its groups (the model-parallel subgroups too) while a peer still talks on them can
    abort the process."""
    if d.enabled and dist.is_initialized():
        try:
            if wait:
                dist.barrier()
        finally:
            dist.destroy_process_group()


def wrap_model(model: nn.Module, d: Dist, parallel: str, layout=None, mesh=None, sequence_parallel: bool = True,
               ) -> nn.Module:
    """DDP (every rank holds the model; gradients all-reduced) or FSDP2 (each block and the root sharded); with
    a tensor-parallel ``layout`` (:mod:`trainer.parallel`), the model is first split over the mesh's "tp"
    dimension, then FSDP2 shards it over the "dp" dimension (2D) when there is one."""
    if not d.enabled:
        return model
    if layout is not None and layout.tp > 1:
        from trainer.parallel import apply_tensor_parallel

        apply_tensor_parallel(model, mesh["tp"], sequence_parallel)
        if layout.dp == 1:
            return model
        return _fully_shard(model, mesh["dp"])
    if parallel == "fsdp":
        return _fully_shard(model, None)
    from torch.nn.parallel import DistributedDataParallel as DDP

    return DDP(model, device_ids=[d.local_rank] if d.device.type == "cuda" else None)


def _fully_shard(model: nn.Module, mesh) -> nn.Module:
    """FSDP2 over ``mesh`` (None: every rank): each block, then the root (embeddings, final norm)."""
    from torch.distributed.fsdp import fully_shard

    for block in model.blocks:
        fully_shard(block, mesh=mesh)
    fully_shard(model, mesh=mesh)
    return model


def set_grad_sync(model: nn.Module, sync: bool) -> None:
    """Skip the gradient all-reduce on all but the last micro-step of an accumulation."""
    if hasattr(model, "require_backward_grad_sync"):  # DDP
        model.require_backward_grad_sync = sync
    elif hasattr(model, "set_requires_gradient_sync"):  # FSDP2
        model.set_requires_gradient_sync(sync)


def all_reduce_mean(value: torch.Tensor, d: Dist) -> torch.Tensor:
    """The mean of ``value`` over ranks (in place on a copy); unchanged with one process."""
    value = value.detach().clone()
    if d.enabled:
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
        value /= d.world_size
    return value


def all_reduce_sum(value: torch.Tensor, d: Dist, group=None) -> torch.Tensor:
    """The sum of ``value`` over the ranks of ``group`` (None: all; e.g. the data-parallel ranks only, whose
    batches differ) on a copy; unchanged with one process."""
    value = value.detach().clone()
    if d.enabled:
        dist.all_reduce(value, op=dist.ReduceOp.SUM, group=group)
    return value


def all_gather_objects(obj, d: Dist) -> list:
    """Every rank's ``obj`` (small, picklable between our own processes), in rank order."""
    if not d.enabled:
        return [obj]
    out: list = [None] * d.world_size
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj, d: Dist):
    """Rank 0's ``obj`` on every rank."""
    if not d.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(d: Dist) -> None:
    if d.enabled:
        dist.barrier()

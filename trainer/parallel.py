"""Model-parallel layout: the tensor x pipeline x data degrees of a run, checked before any work, the DeviceMesh
they name, and Megatron-style tensor parallelism of the GPT on it (DTensor, ``torch.distributed.tensor.parallel``).

Tensor parallelism (Shoeybi et al., 2019) splits each block in two parallel regions: attention (the fused qkv
projection column-parallel, so each rank holds whole heads; the output projection row-parallel) and the MLP (first
layer column-parallel, second row-parallel). With sequence parallelism (Korthikanti et al., 2022) the LayerNorm
and dropout regions between them hold a 1/tp slice of the sequence, and each region's forward all-reduce becomes
an all-gather before it and a reduce-scatter after it (the same bytes). The tied embedding / LM head is split over
the vocabulary, and the cross-entropy is computed vocabulary-parallel (``loss_parallel``): no rank ever holds the
full-vocabulary logits. Pipeline parallelism over the mesh's "pp" dimension is :mod:`trainer.pipeline`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import torch.nn as nn


class LayoutError(ValueError):
    """The parallel layout does not fit the model or the processes; the message names the fix."""


@dataclass(frozen=True)
class Layout:
    """Degrees of parallelism: ``tp`` (tensor), ``pp`` (pipeline) and ``dp`` (data); world size = tp * pp * dp."""

    tp: int = 1
    pp: int = 1
    dp: int = 1

    @property
    def world_size(self) -> int:
        return self.tp * self.pp * self.dp

    def describe(self) -> str:
        """``tp=2 x pp=1 x dp=2`` - how the per-step log names the layout."""
        return f"tp={self.tp} x pp={self.pp} x dp={self.dp}"


def make_layout(world_size: int, tensor_parallel: int, pipeline_parallel: int, *, n_head: int, n_layer: int,
                vocab_size: int, seq_len: int, sequence_parallel: bool, parallel: str, micro_batches: int = 1,
                virtual_stages: int = 1) -> Layout:
    """The layout for ``world_size`` processes, or :class:`LayoutError` with the fix, before any work starts."""
    tp, pp = tensor_parallel, pipeline_parallel
    if tp < 1 or pp < 1:
        raise LayoutError(f"tensor_parallel={tp} and pipeline_parallel={pp} must be at least 1")
    if world_size % (tp * pp):
        raise LayoutError(f"{world_size} process(es) is not a multiple of tensor_parallel x pipeline_parallel = "
                          f"{tp} x {pp} = {tp * pp}; start a multiple of {tp * pp} processes (torchrun "
                          f"--nproc_per_node), or change the degrees so their product divides {world_size}")
    if n_head % tp:
        raise LayoutError(f"n_head={n_head} is not divisible by tensor_parallel={tp}: each rank must hold whole "
                          f"attention heads; choose tensor_parallel among {', '.join(map(str, divisors(n_head)))}")
    if vocab_size % tp:
        raise LayoutError(f"vocab_size={vocab_size} is not divisible by tensor_parallel={tp}: the embedding and LM "
                          f"head are split over the vocabulary; set vocab_size to a multiple of {tp} (e.g. "
                          f"{-(-vocab_size // (64 * tp)) * 64 * tp})")
    if tp > 1 and sequence_parallel and seq_len % tp:
        raise LayoutError(f"seq_len={seq_len} is not divisible by tensor_parallel={tp}: sequence parallelism "
                          f"splits the sequence; choose a seq_len that is a multiple of {tp}, or "
                          f"sequence_parallel=false")
    if pp > n_layer:
        raise LayoutError(f"pipeline_parallel={pp} is more stages than the model's n_layer={n_layer} layers; use "
                          f"pipeline_parallel <= {n_layer}")
    if virtual_stages < 1 or (virtual_stages > 1 and pp == 1):
        raise LayoutError(f"virtual_pipeline_stages={virtual_stages}: model chunks per pipeline rank must be at least "
                          f"1, and more than 1 only with pipeline_parallel > 1")
    if pp * virtual_stages > n_layer:
        raise LayoutError(f"pipeline_parallel={pp} x virtual_pipeline_stages={virtual_stages} = "
                          f"{pp * virtual_stages} stages is more than the model's n_layer={n_layer} layers; use at "
                          f"most {n_layer // pp} virtual stages")
    rounds = max(1, micro_batches // pp)
    if virtual_stages > 1 and micro_batches % rounds:
        raise LayoutError(f"interleaved 1F1B runs the micro-batches in rounds of about pipeline_parallel={pp}; "
                          f"grad_accum_steps={micro_batches} is not a multiple of its {rounds} rounds: use a "
                          f"multiple of {pp}")
    if pp > 1 and micro_batches < pp:
        raise LayoutError(f"pipeline_parallel={pp} runs a 1F1B schedule over the gradient-accumulation "
                          f"micro-batches, and grad_accum_steps={micro_batches} cannot fill {pp} stages; set "
                          f"grad_accum_steps to at least {pp} (more shrinks the pipeline bubble, (pp-1)/micro-batches)")
    layout = Layout(tp=tp, pp=pp, dp=world_size // (tp * pp))
    if pp > 1 and parallel == "fsdp":
        raise LayoutError(f"{layout.describe()}: pipeline stages are replicated over the data-parallel ranks "
                          f"(gradients summed after the pipeline's flush); FSDP2 is not combined with pipeline "
                          f"parallelism here: set parallel=ddp")
    if tp > 1 and pp == 1 and layout.dp > 1 and parallel != "fsdp":
        raise LayoutError(f"{layout.describe()}: data parallelism combined with tensor parallelism runs on FSDP2 "
                          f"over the data dimension; set parallel=fsdp (2D)")
    return layout


def divisors(n: int) -> list[int]:
    """The positive divisors of ``n``, ascending (the degrees that split ``n`` heads or layers evenly)."""
    return [k for k in range(1, n + 1) if n % k == 0]


def build_mesh(layout: Layout, device_type: str):
    """A DeviceMesh over all ranks with dimensions ("pp", "dp", "tp") (tp innermost: tensor-parallel ranks are
    neighbours, on one node when they fit), or None for one process."""
    from torch.distributed.device_mesh import init_device_mesh

    if layout.world_size == 1:
        return None
    return init_device_mesh(device_type, (layout.pp, layout.dp, layout.tp), mesh_dim_names=("pp", "dp", "tp"))


# ---------------------------------------------------------------------------------------------------------
# Tensor parallelism of the GPT

def _replicate(module: nn.Module, tp_mesh, output) -> None:
    """``module``'s parameters replicated over the tensor-parallel ranks: its plain inputs are taken as the same
    on every rank, and its output is handed on as this rank's local part of placement ``output``."""
    from torch.distributed.tensor import DTensor, Replicate, distribute_module

    def inputs(_module, args, mesh):
        return tuple(DTensor.from_local(a, mesh, [Replicate()], run_check=False) for a in args)

    def outputs(_module, out, mesh):
        return out.redistribute(mesh, [output]).to_local()

    distribute_module(module, tp_mesh, input_fn=inputs, output_fn=outputs)


def apply_tensor_parallel(model: nn.Module, tp_mesh, sequence_parallel: bool = True, local_logits: bool = False,
                          ) -> None:
    """Split ``model`` (a :class:`trainer.model.GPT`, or a pipeline stage of one: the parts it holds) over
    ``tp_mesh`` in place, Megatron-style (module doc).

    The residual stream between the parallel regions is a plain local tensor: [B, T/tp, C] with sequence
    parallelism, [B, T, C] replicated without. The logits are a DTensor sharded over the vocabulary (with
    ``local_logits``, this rank's plain shard of it); compute the loss and run the backward pass under
    :func:`loss_context`.
    """
    from torch.distributed.tensor import Replicate, Shard
    from torch.distributed.tensor.parallel import (
        ColwiseParallel,
        PrepareModuleInput,
        RowwiseParallel,
        SequenceParallel,
        parallelize_module,
    )

    sp = sequence_parallel
    stream = Shard(1) if sp else Replicate()  # the residual stream's placement
    has = {name for name, _ in model.named_children()}
    tied = "lm_head" in has and model.lm_head.weight is model.wte.weight
    plan: dict = {}
    if "wte" in has:  # vocabulary-parallel embedding
        plan["wte"] = RowwiseParallel(input_layouts=Replicate(), output_layouts=stream)
    if "lm_head" in has:
        plan["lm_head"] = ColwiseParallel(input_layouts=stream, output_layouts=Shard(-1),
                                          use_local_output=local_logits)
    if sp and "ln_f" in has:
        plan["ln_f"] = SequenceParallel()
    blocks = [name for name, _ in model.blocks.named_children()]  # "0", "1", ... as in the whole model
    for i in blocks:
        prefix = f"blocks.{i}"
        plan.update({
            f"{prefix}.attn": PrepareModuleInput(input_layouts=(stream, None, None, None),
                                                 desired_input_layouts=(Replicate(), None, None, None)),
            f"{prefix}.attn.qkv_heads": ColwiseParallel(),
            f"{prefix}.attn.proj": RowwiseParallel(output_layouts=stream),
            f"{prefix}.mlp": PrepareModuleInput(input_layouts=(stream,), desired_input_layouts=(Replicate(),)),
            f"{prefix}.mlp.fc": ColwiseParallel(),
            f"{prefix}.mlp.proj": RowwiseParallel(output_layouts=stream),
        })
        if sp:
            plan[f"{prefix}.ln_attn"] = SequenceParallel()
            plan[f"{prefix}.ln_mlp"] = SequenceParallel()
    parallelize_module(model, tp_mesh, plan)
    if tied:  # both were split alike (rows = vocabulary); make them one parameter again
        model.lm_head.weight = model.wte.weight
    if not sp:  # LayerNorms outside the parallel regions: replicated parameters on replicated inputs
        for name in [*(["ln_f"] if "ln_f" in has else []),
                     *(f"blocks.{i}.{ln}" for i in blocks for ln in ("ln_attn", "ln_mlp"))]:
            _replicate(model.get_submodule(name), tp_mesh, Replicate())
    if getattr(model, "wpe", None) is not None:  # positions 0..T-1 on every rank; each adds its own slice of the sequence
        _replicate(model.wpe, tp_mesh, Shard(0) if sp else Replicate())
    rank, size = tp_mesh.get_local_rank(), tp_mesh.size()
    for block in model.blocks.children():
        per_rank = block.attn.n_head // size
        block.attn.heads = slice(rank * per_rank, (rank + 1) * per_rank)


def loss_context(tensor_parallel: int):
    """The context the loss and its backward pass run in: vocabulary-parallel cross-entropy under tensor
    parallelism, nothing otherwise."""
    if tensor_parallel > 1:
        from torch.distributed.tensor.parallel import loss_parallel

        return loss_parallel()
    return contextlib.nullcontext()


def local_value(value: torch.Tensor) -> torch.Tensor:
    """A plain tensor of ``value`` (a replicated DTensor's full value; a plain tensor as it is)."""
    from torch.distributed.tensor import DTensor

    return value.full_tensor() if isinstance(value, DTensor) else value

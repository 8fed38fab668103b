"""Pipeline parallelism of the GPT (``torch.distributed.pipelining``): the layers split into consecutive stages,
one per rank of the mesh's "pp" dimension (or ``virtual_pipeline_stages`` per rank, interleaved), run by a 1F1B
schedule over the gradient-accumulation micro-batches.

The first stage holds the token (and position) embedding, the last the final LayerNorm, the LM head and the loss.
The tied embedding is kept as Megatron keeps it: the last stage holds a copy of the first stage's embedding
matrix (same initial values: every rank builds the whole model from the same seed before keeping its part), and
after each step's backward passes the two copies' gradients are summed over the pipeline's first and last ranks,
so they stay equal. Parameter names are the whole model's (``blocks.5.mlp.fc.weight`` on the stage holding block
5), so sharded checkpoints move between this and any other layout. Tensor parallelism composes inside each stage
(on the mesh's "tp" dimension); data parallelism replicates each stage over the "dp" dimension, its gradients
summed over it after the pipeline's flush.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.utils.checkpoint import checkpoint

from trainer.model import GPT, token_loss_sum


def stage_layers(n_layer: int, stages: int) -> list[range]:
    """The block indices of each stage: consecutive, as even as possible, the first stages taking one more (the
    last also computes the LM head and the loss)."""
    size, extra = divmod(n_layer, stages)
    out, start = [], 0
    for s in range(stages):
        end = start + size + (s < extra)
        out.append(range(start, end))
        start = end
    return out


class GPTStage(nn.Module):
    """Pipeline stage(s) of a :class:`trainer.model.GPT`: their blocks (named by their index in the whole model),
    the embeddings with the first stage, the final norm and the LM head (tied to a copy of the embedding) with
    the last. ``forward`` (of one stage) maps token ids (first stage) or the residual stream to the residual
    stream (or, on the last stage, the logits). With several ``stages`` (interleaved schedule) it is the rank's
    whole share, for the optimizer and checkpoints; each stage runs as a GPTStage of its own over the same
    modules (``model`` may itself be a GPTStage)."""

    def __init__(self, model: nn.Module, stages: list[int], n_stages: int) -> None:
        super().__init__()
        self.config, self.first, self.last = model.config, 0 in stages, n_stages - 1 in stages
        self.checkpointing = model.checkpointing
        self.seq_shards = 1  # the residual stream holds 1/seq_shards of the sequence (sequence parallelism)
        if self.first or self.last:  # the last stage's is the copy its LM head is tied to
            self.wte = model.wte
        if self.first:
            self.wpe, self.drop = model.wpe, model.drop
        split = stage_layers(self.config.n_layer, n_stages)
        self.blocks = nn.ModuleDict({str(i): _block(model, i) for s in sorted(stages) for i in split[s]})
        if self.last:
            self.ln_f, self.lm_head = model.ln_f, model.lm_head
        for name in ("rope_cos", "rope_sin", "alibi"):
            if hasattr(model, name):
                self.register_buffer(name, getattr(model, name), persistent=False)

    @property
    def holds_embedding_copy(self) -> bool:
        """Whether this stage's embedding is the last stage's copy (its gradient norm is the first stage's)."""
        return self.last and not self.first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.first:
            T = x.shape[1]
            x = self.wte(x)
            if self.wpe is not None:
                x = x + self.wpe(torch.arange(T, device=x.device))
            x = self.drop(x)
        else:
            T = x.shape[1] * self.seq_shards
        rope = bias = None
        if self.config.pos == "rope":
            rope = (self.rope_cos[:T], self.rope_sin[:T])
        elif self.config.pos == "alibi":
            bias = self.alibi[:, :T, :T]
        recompute = self.checkpointing == "full" and self.training and torch.is_grad_enabled()
        for block in self.blocks.values():
            x = checkpoint(block, x, rope, bias, use_reentrant=False) if recompute else block(x, rope, bias)
        return self.lm_head(self.ln_f(x)) if self.last else x


def _block(model: nn.Module, i: int) -> nn.Module:
    """Block ``i`` of a GPT (a ModuleList) or of a GPTStage (a ModuleDict keyed by the whole model's index)."""
    return model.blocks[str(i)] if isinstance(model.blocks, nn.ModuleDict) else model.blocks[i]


def _local(tensor: torch.Tensor) -> torch.Tensor:
    """The tensor this rank holds: a DTensor's local shard, a plain tensor itself."""
    return getattr(tensor, "_local_tensor", tensor)


class Pipeline:
    """This rank's stage(s), the 1F1B schedule (interleaved with several stages per rank) and the step around
    it: token-weighted loss, tied-embedding and data-parallel gradient sums, and the gradient norm over all
    stages."""

    def __init__(self, model: GPT, layout, mesh, device: torch.device, sequence_parallel: bool,
                 micro_batches: int, virtual_stages: int = 1) -> None:
        from torch.distributed.pipelining import PipelineStage, Schedule1F1B, ScheduleInterleaved1F1B

        self.layout, self.mesh, self.device = layout, mesh, device
        rank, n_stages = mesh["pp"].get_local_rank(), layout.pp * virtual_stages
        self.pp_group = mesh["pp"].get_group()
        self.dp_group = mesh["dp"].get_group() if layout.dp > 1 else None
        # stage k of this rank is rank + k * pp (Narayanan et al., 2021): stage 0 on the first rank, the last
        # stage on the last rank, so the embedding and its copy sit where they do without interleaving
        indices = [rank + k * layout.pp for k in range(virtual_stages)]
        self.module = GPTStage(model, indices, n_stages)  # all this rank holds: optimizer and checkpoints
        if layout.tp > 1:
            from trainer.parallel import apply_tensor_parallel

            apply_tensor_parallel(self.module, mesh["tp"], sequence_parallel, local_logits=True)
        chunks = [self.module] if virtual_stages == 1 else [GPTStage(self.module, [i], n_stages) for i in indices]
        for chunk in chunks:
            chunk.seq_shards = layout.tp if layout.tp > 1 and sequence_parallel else 1
        self.embedding_group = self._embedding_group()
        self.stages = [PipelineStage(chunk, i, n_stages, device, group=self.pp_group)
                       for chunk, i in zip(chunks, indices, strict=True)]
        self.scale = torch.ones((), device=device)  # 1 / the global batch's labelled tokens, set each step
        if virtual_stages == 1:
            self.schedule = Schedule1F1B(self.stages[0], micro_batches, loss_fn=self._loss, scale_grads=False)
        else:
            self.schedule = ScheduleInterleaved1F1B(self.stages, micro_batches, loss_fn=self._loss,
                                                    scale_grads=False)

    def _embedding_group(self):
        """The process group of this rank's pipeline's first and last ranks (the two embedding copies), or None
        on the other stages. Every rank creates every such group, in the same order (``new_group``'s rule)."""
        ranks = self.mesh.mesh  # [pp, dp, tp] global ranks
        mine = None
        for dp in range(ranks.shape[1]):
            for tp in range(ranks.shape[2]):
                pair = [int(ranks[0, dp, tp]), int(ranks[-1, dp, tp])]
                group = dist.new_group(pair)
                if dist.get_rank() in pair:
                    mine = group
        return mine

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """A micro-batch's summed per-token loss over the global batch's labelled tokens (each token weighs the
        same, as in the one-process run)."""
        if self.layout.tp > 1:  # the local vocabulary shard back as a DTensor: vocabulary-parallel cross-entropy
            from torch.distributed.tensor import DTensor, Shard

            logits = DTensor.from_local(logits, self.mesh["tp"], [Shard(-1)], run_check=False)
        return token_loss_sum(logits, labels) * self.scale

    def run(self, input_ids: torch.Tensor, labels: torch.Tensor, global_tokens: torch.Tensor,
            train: bool = True) -> torch.Tensor:
        """Forward (and, with ``train``, backward) of this rank's micro-batches, stacked in ``input_ids`` /
        ``labels``; returns this pipeline's sum of per-token losses (on every stage)."""
        tokens = global_tokens.clamp(min=1).to(torch.float32)
        self.scale = 1.0 / tokens
        first, last, losses = self.module.first, self.module.last, []
        run = self.schedule.step if train else self.schedule.eval
        run(input_ids if first else None, target=labels if last else None, losses=losses)
        total = torch.stack([loss.detach() for loss in losses]).sum() * tokens if losses else \
            torch.zeros((), device=self.device)
        dist.all_reduce(total, group=self.pp_group)  # the last stage's sum, known to every stage
        return total

    def finish_gradients(self, max_norm: float) -> torch.Tensor:
        """Sum the embedding copies' gradients, then the data-parallel replicas'; clip to ``max_norm`` by the
        norm over every stage's parameters (the tied embedding counted once); returns that norm."""
        params = [p for p in self.module.parameters() if p.grad is not None]
        if self.embedding_group is not None and self.module.wte.weight.grad is not None:
            weight = self.module.wte.weight
            if hasattr(weight, "placements") and weight.grad.placements != weight.placements:
                # the embedding's backward may leave a replicated gradient of the vocabulary-split table
                weight.grad = weight.grad.redistribute(weight.device_mesh, weight.placements)
            dist.all_reduce(_local(weight.grad), group=self.embedding_group)
        if self.dp_group is not None:
            for p in params:
                dist.all_reduce(_local(p.grad), group=self.dp_group)
        copy = self.module.wte.weight if self.module.holds_embedding_copy else None
        squares = torch.zeros((), device=self.device)
        for p in params:
            if p is not copy:
                norm = p.grad.norm(dtype=torch.float32)
                squares += (norm.full_tensor() if hasattr(norm, "full_tensor") else norm) ** 2
        dist.all_reduce(squares, group=self.pp_group)
        norm = squares.sqrt()
        coef = (max_norm / (norm + 1e-6)).clamp(max=1.0)
        for p in params:
            _local(p.grad).mul_(coef)
        return norm

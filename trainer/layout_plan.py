"""Propose a tensor x pipeline x data layout, micro-batch and activation checkpointing for a model on a GPU
cluster, with the memory arithmetic shown, so a run is sized before it is launched.

Memory per GPU (bytes), for the most loaded pipeline stage (the first: its blocks plus the embedding):

- model state: 16 per parameter it holds (Adam in mixed precision: 2 weight + 2 gradient + 12 fp32 master
  weight and two moments; this trainer's fp32 weights + fp32 gradients + two moments are 16 too), the
  parameters being split over tensor (``tp``) and pipeline (``pp``) ranks;
- activations per layer and micro-batch of ``b`` sequences of ``s`` tokens, hidden size ``h``, ``a`` heads, with
  tensor and sequence parallelism (Korthikanti et al., 2022, 16-bit activations): ``s*b*h*(34 + 5*a*s/h)/tp``
  without recomputation, ``34*s*b*h/tp`` with selective recomputation (the attention core), and ``2*s*b*h``
  (the block's input; as in Megatron, not split) with full recomputation, plus one layer's working set;
  under 1F1B the first stage keeps ``pp`` micro-batches in flight over its ``L/pp`` layers: ``L`` layers' worth.

The search follows the practice of Megatron-LM (Narayanan et al., 2021, takeaway 1): tensor parallelism first,
growing up to the GPUs of a node, then, with a node's worth of it, the fewest pipeline stages (dividing the
layers) that fit; data parallelism over the rest (it communicates least). Then the least recomputation, then the
micro-batch: the largest that fits without a pipeline, 1 with one (the pipeline bubble is (pp-1)/m of the step
for m micro-batches).
"""

from __future__ import annotations

from dataclasses import dataclass

from trainer.parallel import divisors

USABLE = 0.9  # of a GPU's memory: the rest for the framework, allocator fragmentation, communication buffers
RECOMPUTE = ("none", "selective", "full")

# Published shapes (and clusters) the planner reproduces: docs/trainer.md, "Planning a layout".
SHAPES: dict[str, dict] = {
    # Shoeybi et al. 2019, Table 1: 8.3B, 72 layers, hidden 3072, 32 heads; 512 V100 32GB, batch 512
    "megatron-8.3b": dict(n_layer=72, d_model=3072, n_head=32, seq_len=1024, vocab_size=51200, gpus=512,
                          gpu_memory_gb=32, global_batch=512),
    # Smith et al. 2022: 105 layers, hidden 20480, 128 heads, seq 2048; 560 DGX A100 80GB x 8 (2240 used per
    # replica set), batch 1920
    "mt-nlg-530b": dict(n_layer=105, d_model=20480, n_head=128, seq_len=2048, vocab_size=51200, gpus=2240,
                        gpu_memory_gb=80, global_batch=1920),
}


@dataclass
class Candidate:
    """One layout with its per-GPU memory (bytes) and why it was taken or passed over."""

    tp: int
    pp: int
    dp: int
    micro_batch: int
    recompute: str
    params_per_gpu: float
    state_bytes: float
    activation_bytes: float
    capacity_bytes: float
    microbatches: int

    @property
    def total_bytes(self) -> float:
        return self.state_bytes + self.activation_bytes

    @property
    def fits(self) -> bool:
        return self.total_bytes <= self.capacity_bytes

    @property
    def bubble(self) -> float:
        """Idle fraction of a 1F1B step: (pp - 1) / m."""
        return (self.pp - 1) / max(self.microbatches, 1)


def stage_params(n_layer: int, d_model: int, vocab_size: int, seq_len: int, tp: int, pp: int) -> float:
    """Parameters one GPU of the first pipeline stage holds: its blocks and the embedding (learned positions
    too), split over the tensor-parallel ranks (norms and biases, ~0.1%, counted as split as well)."""
    per_block = 12 * d_model * d_model + 13 * d_model
    embedding = (vocab_size + seq_len) * d_model
    return (per_block * n_layer / pp + embedding) / tp


def activation_bytes(n_layer: int, d_model: int, n_head: int, seq_len: int, micro_batch: int, tp: int,
                     recompute: str) -> float:
    """Activation memory of the first stage under 1F1B (module doc): ``n_layer`` layers' worth, plus one layer's
    working set when layers are recomputed."""
    s, b, h, a = seq_len, micro_batch, d_model, n_head
    full_layer = s * b * h * (34 + 5 * a * s / h) / tp
    if recompute == "none":
        return n_layer * full_layer
    if recompute == "selective":
        return n_layer * 34 * s * b * h / tp
    return n_layer * 2 * s * b * h + full_layer


def candidates(n_layer: int, d_model: int, n_head: int, seq_len: int, vocab_size: int, gpus: int,
               gpu_memory_gb: float, global_batch: int, gpus_per_node: int = 8) -> list[Candidate]:
    """Every layout in search order (module doc), fitting or not."""
    capacity = USABLE * gpu_memory_gb * 2**30
    out = []
    tps = [t for t in divisors(n_head) if t <= gpus_per_node and gpus % t == 0]
    # tensor parallelism alone, growing within a node; then a whole node of it and pipeline stages across nodes
    layouts = [(t, 1) for t in tps] + [(tps[-1], p) for p in divisors(n_layer)[1:] if gpus % (tps[-1] * p) == 0]
    for tp, pp in layouts:
        dp = gpus // (tp * pp)
        if global_batch % dp:
            continue
        per_replica = global_batch // dp
        params = stage_params(n_layer, d_model, vocab_size, seq_len, tp, pp)
        batches = [1] if pp > 1 else sorted((b for b in divisors(per_replica) if b <= 64), reverse=True)
        for recompute in RECOMPUTE:
            for b in batches:
                out.append(Candidate(tp, pp, dp, b, recompute, params, 16 * params,
                                     activation_bytes(n_layer, d_model, n_head, seq_len, b, tp, recompute), capacity,
                                     per_replica // b))
    return out


def propose(**shape) -> tuple[Candidate | None, list[Candidate]]:
    """(the first candidate that fits, or None; the candidates looked at before it, for the table)."""
    seen = []
    for c in candidates(**shape):
        seen.append(c)
        if c.fits:
            return c, seen
    return None, seen


def format_layout_plan(shape: dict, chosen: Candidate | None, seen: list[Candidate], shown: int = 6) -> str:
    """The table ``python -m trainer plan --gpus`` prints: the arithmetic of the choice and of what did not fit."""
    gib = 2**30
    n = stage_params(shape["n_layer"], shape["d_model"], shape["vocab_size"], shape["seq_len"], 1, 1)
    lines = [f"model: {n / 1e9:.2f}B parameters ({shape['n_layer']} layers, d_model {shape['d_model']}, "
             f"{shape['n_head']} heads, seq_len {shape['seq_len']}, vocabulary {shape['vocab_size']}); "
             f"{shape['gpus']} GPUs of {shape['gpu_memory_gb']:g} GiB ({USABLE:.0%} usable), global batch "
             f"{shape['global_batch']}",
             "memory per GPU = 16 B x parameters held (weights, gradients, Adam) + activations (1F1B, first stage)",
             f"{'tp':>3} {'pp':>3} {'dp':>5} {'mb':>3} {'recompute':>9} {'params/GPU':>11} {'state GiB':>9} "
             f"{'act GiB':>8} {'total':>7}  fits"]
    fitting = [c for c in seen if c.fits]
    for c in [c for c in seen if not c.fits][-shown:] + fitting:
        lines.append(f"{c.tp:>3} {c.pp:>3} {c.dp:>5} {c.micro_batch:>3} {c.recompute:>9} {c.params_per_gpu / 1e9:>10.2f}B "
                     f"{c.state_bytes / gib:>9.1f} {c.activation_bytes / gib:>8.1f} {c.total_bytes / gib:>7.1f}  "
                     f"{'yes' if c.fits else 'no'}")
    if chosen is None:
        lines.append("no layout fits: more GPUs, GPUs with more memory, or a smaller model / sequence")
        return "\n".join(lines)
    c = chosen
    lines.append(f"proposed: tensor_parallel={c.tp} x pipeline_parallel={c.pp} x data parallel {c.dp}, micro-batch "
                 f"{c.micro_batch} ({c.microbatches} per step and replica"
                 + (f", pipeline bubble {c.bubble:.1%}" if c.pp > 1 else "") + f"), activation_checkpointing="
                 f"{c.recompute}: {c.state_bytes / gib:.1f} GiB model state + {c.activation_bytes / gib:.1f} GiB "
                 f"activations = {c.total_bytes / gib:.1f} of {c.capacity_bytes / gib:.1f} GiB")
    return "\n".join(lines)

"""The GPT model: a pre-LayerNorm Transformer decoder (or, with ``causal=False``, an encoder for masked LM).

Read top to bottom: :class:`GPTConfig` and the :data:`PRESETS`, the position encodings (learned table, RoPE,
ALiBi), one attention layer on ``F.scaled_dot_product_attention`` (flash / memory-efficient kernels on GPU),
the GELU MLP, the residual block, :class:`KVCache` for incremental decoding, and :class:`GPT` with tied
input/output embeddings and the GPT-2 initialization (residual output projections scaled by
``1/sqrt(2 * n_layer)``).

Incremental decoding: ``cache = model.new_cache(rows, length)``, then ``model(ids, positions=pos, cache=cache)``
runs tokens ``ids`` [B, T] at positions ``pos`` [B, T] (rows may sit at different positions), stores their keys
and values, and lets each attend to its own row's cached keys up to its position; ``logits_at`` limits the
vocabulary projection to one position per row. The same attention layer serves training and decoding.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

POSITION_ENCODINGS = ("learned", "rope", "alibi")
ACTIVATION_CHECKPOINTING = ("none", "full", "selective")


@dataclass
class GPTConfig:
    """Shape of the model. ``seq_len`` is the longest context it supports (size of the position tables)."""

    vocab_size: int = 50304
    n_layer: int = 12
    n_head: int = 12
    d_model: int = 768
    seq_len: int = 1024
    pos: str = "learned"
    dropout: float = 0.0
    bias: bool = True
    causal: bool = True
    rope_base: float = 10000.0

    def __post_init__(self) -> None:
        if self.pos not in POSITION_ENCODINGS:
            raise ValueError(f"pos={self.pos!r}: choose one of {', '.join(POSITION_ENCODINGS)}")
        if self.d_model % self.n_head:
            raise ValueError(f"d_model={self.d_model} is not divisible by n_head={self.n_head}")
        if self.pos == "rope" and (self.d_model // self.n_head) % 2:
            raise ValueError(f"pos=rope needs an even head size; d_model/n_head = {self.d_model // self.n_head}")

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> GPTConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


# Shapes of GPT-2 small/medium and GPT-3 XL; "tiny" is for tests and the demo.
PRESETS: dict[str, dict] = {
    "tiny": dict(n_layer=2, n_head=2, d_model=64, seq_len=256),
    "124M": dict(n_layer=12, n_head=12, d_model=768, seq_len=1024),
    "350M": dict(n_layer=24, n_head=16, d_model=1024, seq_len=1024),
    "1.3B": dict(n_layer=24, n_head=16, d_model=2048, seq_len=2048),
}


def count_params(n_layer: int, d_model: int, vocab_size: int, seq_len: int, pos: str = "learned",
                 bias: bool = True) -> int:
    """Parameters of a GPT of this shape, without building it (for planning): blocks, embeddings, final LN."""
    per_block = 12 * d_model * d_model + (13 * d_model if bias else 4 * d_model)
    final_ln = 2 * d_model if bias else d_model
    positions = seq_len * d_model if pos == "learned" else 0
    return n_layer * per_block + vocab_size * d_model + positions + final_ln


# ---------------------------------------------------------------------------------------------------------
# Position encodings

def rope_tables(seq_len: int, head_dim: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin tables [seq_len, head_dim] for rotary embeddings (Su et al., rotate-half layout)."""
    inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    angles = torch.outer(torch.arange(seq_len, dtype=torch.float32), inv_freq)
    angles = torch.cat([angles, angles], dim=-1)
    return angles.cos(), angles.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate query/key vectors x [B, H, T, D] by their position."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return (x * cos + rotated * sin).to(x.dtype)


def alibi_slopes(n_head: int) -> torch.Tensor:
    """Per-head slopes of ALiBi (Press et al.): a geometric sequence; interpolated for non-powers of two."""
    def powers(n: int) -> list[float]:
        start = 2 ** (-8 / n)
        return [start ** (i + 1) for i in range(n)]

    if math.log2(n_head).is_integer():
        return torch.tensor(powers(n_head))
    closest = 2 ** math.floor(math.log2(n_head))
    return torch.tensor(powers(closest) + powers(2 * closest)[0::2][: n_head - closest])


def cached_attention_mask(positions: torch.Tensor, width: int, slopes: torch.Tensor | None,
                          dtype: torch.dtype) -> torch.Tensor:
    """Additive mask [B, 1 or H, T, width] for queries at ``positions`` [B, T] over cached keys 0..width-1: each
    query sees its own row's keys up to its position (causal), with the ALiBi distance bias when ``slopes``."""
    keys = torch.arange(width, device=positions.device)
    hidden = (keys[None, None, :] > positions[:, :, None])[:, None]  # [B, 1, T, W]
    if slopes is None:
        bias = torch.zeros(hidden.shape, dtype=torch.float32, device=positions.device)
    else:
        distance = (positions[:, :, None] - keys[None, None, :]).abs().float()[:, None]  # [B, 1, T, W]
        bias = -slopes.float()[None, :, None, None] * distance
    return bias.masked_fill(hidden, float("-inf")).to(dtype)


def alibi_bias(n_head: int, seq_len: int, causal: bool) -> torch.Tensor:
    """Additive attention bias [H, T, T]: -slope * distance, and -inf above the diagonal when causal."""
    pos = torch.arange(seq_len)
    distance = (pos[None, :] - pos[:, None]).abs().float()
    bias = -alibi_slopes(n_head)[:, None, None] * distance
    if causal:
        bias = bias.masked_fill(pos[None, :] > pos[:, None], float("-inf"))
    return bias


# ---------------------------------------------------------------------------------------------------------
# The Transformer

class SelfAttention(nn.Module):
    """Multi-head self-attention with a fused qkv projection; causal for the decoder, full for the encoder.

    The fused projection's output rows are ordered head by head (each head's q, k, v together: Megatron's
    layout), so a column-parallel split into contiguous chunks gives each tensor-parallel rank whole heads;
    ``heads`` is then the slice of heads this rank holds (for the per-head ALiBi bias)."""

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.n_head, self.head_dim, self.causal, self.dropout = cfg.n_head, cfg.d_model // cfg.n_head, cfg.causal, cfg.dropout
        self.qkv_heads = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=cfg.bias)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model, bias=cfg.bias)
        self.proj.residual_projection = True  # scaled at init
        self.heads = slice(None)  # all heads; a tensor-parallel rank's own slice when split
        self.recompute = False  # selective activation checkpointing: recompute the attention core in backward

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None,
                bias: torch.Tensor | None, cache: LayerCache | None = None) -> torch.Tensor:
        """Attention over the sequence itself, or, with ``cache``, over the cached keys (this call's included)
        under the additive mask ``bias`` from :func:`cached_attention_mask`."""
        B, T, _ = x.shape
        q, k, v = self.qkv_heads(x).view(B, T, -1, 3, self.head_dim).permute(3, 0, 2, 1, 4)  # 3 x [B, H, T, D]
        if rope is not None:
            q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        dropout = self.dropout if self.training else 0.0
        if cache is not None:
            k, v = cache.write(k, v, bias.shape[-1])
            # plain softmax attention: on CPU it beats scaled_dot_product_attention with a per-row mask
            scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.head_dim)) + bias
            y = torch.softmax(scores.float(), dim=-1).to(q.dtype) @ v
        elif self.recompute and self.training and torch.is_grad_enabled():  # selective activation checkpointing
            y = checkpoint(self._attend, q, k, v, bias, dropout, use_reentrant=False)
        else:
            y = self._attend(q, k, v, bias, dropout)
        return self.proj(y.transpose(1, 2).reshape(B, T, -1))

    def _attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor | None,
                dropout: float) -> torch.Tensor:
        """softmax(q k^T / sqrt(d) + mask) v over the whole sequence: the attention core (its [B, H, T, T]
        intermediates are what selective activation checkpointing recomputes instead of storing)."""
        if bias is not None:  # ALiBi: the bias already holds the causal mask
            return F.scaled_dot_product_attention(q, k, v, attn_mask=bias[self.heads].to(q.dtype), dropout_p=dropout)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=self.causal)


class MLP(nn.Module):
    """Position-wise feed-forward: d -> 4d -> GELU -> d."""

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(cfg.d_model, 4 * cfg.d_model, bias=cfg.bias)
        self.proj = nn.Linear(4 * cfg.d_model, cfg.d_model, bias=cfg.bias)
        self.proj.residual_projection = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(F.gelu(self.fc(x), approximate="tanh"))


class Block(nn.Module):
    """Pre-LN residual block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.ln_attn = nn.LayerNorm(cfg.d_model, bias=cfg.bias)
        self.attn = SelfAttention(cfg)
        self.ln_mlp = nn.LayerNorm(cfg.d_model, bias=cfg.bias)
        self.mlp = MLP(cfg)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, rope=None, bias=None, cache: LayerCache | None = None) -> torch.Tensor:
        x = x + self.drop(self.attn(self.ln_attn(x), rope, bias, cache))
        return x + self.drop(self.mlp(self.ln_mlp(x)))


class LayerCache:
    """One layer's view of a :class:`KVCache`: stores a call's keys and values at its rows' positions."""

    def __init__(self, cache: KVCache, layer: int) -> None:
        self.cache, self.layer = cache, layer

    def write(self, k: torch.Tensor, v: torch.Tensor, width: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Store k, v [B, H, T, D] at the current positions; return the cached keys and values of positions
        0..width-1 ([B, H, width, D]), these included."""
        c = self.cache
        keys, values = c.k[self.layer], c.v[self.layer]
        keys[c.rows, :, c.positions] = k.transpose(1, 2).to(keys.dtype)  # [B, T, H, D] at (b, :, pos[b, t])
        values[c.rows, :, c.positions] = v.transpose(1, 2).to(values.dtype)
        return keys[:, :, :width], values[:, :, :width]


class KVCache:
    """Keys and values of every layer for a batch of rows, written at per-row positions (see the module docstring).

    Rows may sit at different positions (prompts of different lengths, right-padded): a query at position p
    attends to keys 0..p of its own row, so padding beyond a row's position is never attended to before it is
    overwritten.
    """

    def __init__(self, cfg: GPTConfig, rows: int, length: int, device, dtype: torch.dtype) -> None:
        if not cfg.causal:
            raise ValueError("a bidirectional (masked-LM) model cannot decode incrementally")
        if length > cfg.seq_len:
            raise ValueError(f"a cache of {length} positions is longer than the model's seq_len={cfg.seq_len}")
        self.length = length
        shape = (rows, cfg.n_head, length, cfg.d_model // cfg.n_head)
        self.k = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(cfg.n_layer)]
        self.v = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(cfg.n_layer)]
        self.rows = self.positions = None  # of the call in progress, [B, T]

    @property
    def batch_size(self) -> int:
        return self.k[0].shape[0] if self.k else 0

    def layer(self, i: int) -> LayerCache:
        return LayerCache(self, i)

    def repeat(self, times: int) -> None:
        """Each row becomes ``times`` consecutive rows (e.g. the sampled copies of a prompt share its prefill)."""
        if times > 1:
            self.k = [k.repeat_interleave(times, dim=0) for k in self.k]
            self.v = [v.repeat_interleave(times, dim=0) for v in self.v]

    def select(self, index: torch.Tensor) -> None:
        """Keep only the rows ``index`` (in that order), e.g. the ones still generating."""
        self.k = [k[index] for k in self.k]
        self.v = [v[index] for v in self.v]


class GPT(nn.Module):
    """Token embedding (+ learned positions) -> blocks -> final LayerNorm -> logits through the tied embedding."""

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.config = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.wpe = nn.Embedding(cfg.seq_len, cfg.d_model) if cfg.pos == "learned" else None
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.d_model, bias=cfg.bias)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied embeddings
        if cfg.pos == "rope":
            cos, sin = rope_tables(cfg.seq_len, cfg.d_model // cfg.n_head, cfg.rope_base)
            self.register_buffer("rope_cos", cos, persistent=False)
            self.register_buffer("rope_sin", sin, persistent=False)
        if cfg.pos == "alibi":
            self.register_buffer("alibi", alibi_bias(cfg.n_head, cfg.seq_len, cfg.causal), persistent=False)
        self.apply(self._init_weights)
        self.checkpointing = "none"  # see set_activation_checkpointing

    def set_activation_checkpointing(self, mode: str) -> None:
        """``none``; ``full``: store only each block's input and recompute the block in the backward pass (about
        one more forward pass of compute); ``selective``: recompute only the attention core (Korthikanti et al.,
        2022: most of the activation memory at long sequences, little of the compute)."""
        if mode not in ACTIVATION_CHECKPOINTING:
            raise ValueError(f"activation_checkpointing={mode!r}: choose one of {', '.join(ACTIVATION_CHECKPOINTING)}")
        self.checkpointing = mode
        for block in self.blocks:
            block.attn.recompute = mode == "selective"

    def _init_weights(self, module: nn.Module) -> None:
        """GPT-2: N(0, 0.02) weights, zero biases; residual projections get std 0.02 / sqrt(2 * n_layer)."""
        if isinstance(module, nn.Linear):
            std = 0.02 / math.sqrt(2 * self.config.n_layer) if getattr(module, "residual_projection", False) else 0.02
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self, exclude_positions: bool = False) -> int:
        """Parameter count (the tied embedding counted once); optionally without the learned position table."""
        n = sum(p.numel() for p in self.parameters())
        if exclude_positions and self.wpe is not None:
            n -= self.wpe.weight.numel()
        return n

    def new_cache(self, rows: int, length: int | None = None) -> KVCache:
        """An empty key/value cache for ``rows`` sequences of up to ``length`` positions (default seq_len), in
        the model's dtype and on its device."""
        p = self.wte.weight
        return KVCache(self.config, rows, length or self.config.seq_len, p.device, p.dtype)

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor | None = None, *,
                positions: torch.Tensor | None = None, cache: KVCache | None = None,
                logits_at: torch.Tensor | None = None):
        """Logits [B, T, V]; with labels, also the mean cross-entropy over labels != -100 (else None).

        Incremental decoding: with ``cache``, the tokens sit at ``positions`` [B, T] (default 0..T-1 in every
        row), their keys and values are stored there, and each attends to its row's cached positions up to its
        own. ``logits_at`` [B] picks one position (an index into T) per row: logits [B, V] of those only.
        """
        B, T = input_ids.shape
        if cache is None and T > self.config.seq_len:
            raise ValueError(f"sequence of {T} tokens is longer than the model's seq_len={self.config.seq_len}")
        if positions is None:
            positions = torch.arange(T, device=input_ids.device)
            if cache is not None:
                positions = positions.expand(B, T)
        elif cache is None:
            raise ValueError("positions are for incremental decoding: pass a cache with them")
        x = self.wte(input_ids)
        if self.wpe is not None:
            x = x + self.wpe(positions)
        x = self.drop(x)
        rope = bias = None
        if self.config.pos == "rope" and cache is None:
            rope = (self.rope_cos[:T], self.rope_sin[:T])
        elif self.config.pos == "rope":  # each row at its own positions: [B, 1, T, D], broadcast over heads
            rope = (self.rope_cos[positions][:, None], self.rope_sin[positions][:, None])
        if cache is not None:
            if cache.batch_size != B:
                raise ValueError(f"the cache holds {cache.batch_size} rows, the input {B}")
            width = int(positions.max()) + 1  # keys beyond every query's position are masked anyway: leave them out
            if width > cache.length:
                raise ValueError(f"position {width - 1} is beyond the cache's {cache.length} positions")
            cache.rows = torch.arange(B, device=input_ids.device)[:, None].expand(B, T)
            cache.positions = positions
            slopes = alibi_slopes(self.config.n_head).to(x.device) if self.config.pos == "alibi" else None
            bias = cached_attention_mask(positions, width, slopes, x.dtype)
        elif self.config.pos == "alibi":
            bias = self.alibi[:, :T, :T]
        recompute = self.checkpointing == "full" and self.training and torch.is_grad_enabled() and cache is None
        for i, block in enumerate(self.blocks):
            if recompute:  # full activation checkpointing: keep only each block's input, recompute the rest
                x = checkpoint(block, x, rope, bias, use_reentrant=False)
            else:
                x = block(x, rope, bias, cache.layer(i) if cache is not None else None)
        if logits_at is not None:
            x = x[torch.arange(B, device=x.device), logits_at]
        logits = self.lm_head(self.ln_f(x))
        if labels is None:
            return logits, None
        # Sum over the counted tokens divided by their number: the mean, and 0 (not NaN) when none counts.
        return logits, token_loss_sum(logits, labels) / (labels != -100).sum().clamp(min=1)


def token_loss_sum(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The sum of the per-token cross-entropies over the labels != -100 (float32), from full logits or from
    vocabulary-parallel ones (a DTensor sharded over the vocabulary, under ``loss_parallel``)."""
    total = F.cross_entropy(logits.float().view(-1, logits.size(-1)), labels.reshape(-1), ignore_index=-100,
                            reduction="sum")
    if hasattr(total, "full_tensor"):  # a DTensor from vocabulary-parallel logits: replicated on every rank
        total = total.full_tensor()
    return total


def flops_per_token(cfg: GPTConfig, n_params: int, seq_len: int) -> int:
    """Training FLOPs per token: 6N for the weights plus 12 * n_layer * d_model * seq_len for attention (PaLM).
    Model FLOPs: what the model needs, whatever the layout or recomputation (MFU's numerator)."""
    return 6 * n_params + 12 * cfg.n_layer * cfg.d_model * seq_len


def hardware_flops_per_token(cfg: GPTConfig, n_params: int, seq_len: int, checkpointing: str) -> int:
    """FLOPs per token the hardware runs, recomputation included (HFU's numerator): ``full`` activation
    checkpointing repeats the forward pass (2N + 4 * n_layer * d_model * seq_len more), ``selective`` only the
    attention core's forward (4 * n_layer * d_model * seq_len more)."""
    attention_forward = 4 * cfg.n_layer * cfg.d_model * seq_len
    extra = {"none": 0, "selective": attention_forward, "full": 2 * n_params + attention_forward}[checkpointing]
    return flops_per_token(cfg, n_params, seq_len) + extra

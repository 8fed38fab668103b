"""Compute-optimal planning after Chinchilla (Hoffmann et al., 2022): about 20 training tokens per parameter,
training compute C = 6 N D. Given a token budget D or a compute budget C, the optimal N, D and the nearest preset."""

from __future__ import annotations

import math
from dataclasses import dataclass

from trainer.model import PRESETS, count_params

TOKENS_PER_PARAM = 20.0
FAR_FACTOR = 3.0  # a run more than 3x off 20 tokens/param in either direction is "far" from compute-optimal
DEFAULT_VOCAB = 50304


@dataclass
class Plan:
    """A compute-optimal model size and token count for a budget, and the nearest preset."""

    params: float
    tokens: float
    flops: float
    preset: str
    preset_params: int
    preset_tokens: float  # compute-optimal tokens for the preset
    warning: str | None


def preset_params(name: str, vocab_size: int = DEFAULT_VOCAB) -> int:
    """Parameters of a preset (learned positions, biases) for ``vocab_size``, without building it."""
    p = PRESETS[name]
    return count_params(p["n_layer"], p["d_model"], vocab_size, p["seq_len"])


def nearest_preset(params: float, vocab_size: int = DEFAULT_VOCAB) -> str:
    """The preset whose size is closest to ``params`` on a log scale."""
    return min(PRESETS, key=lambda name: abs(math.log(preset_params(name, vocab_size) / params)))


def assess_run(params: float, tokens: float) -> str | None:
    """A warning when training ``params`` on ``tokens`` is far from ~20 tokens per parameter, else None."""
    ratio = tokens / params
    if ratio < TOKENS_PER_PARAM / FAR_FACTOR:
        return (f"{tokens:,.0f} tokens for {params:,.0f} parameters is {ratio:.2g} tokens/parameter, far below the "
                f"compute-optimal ~{TOKENS_PER_PARAM:.0f} (Chinchilla): the model is too large for this budget, "
                f"or train on ~{params * TOKENS_PER_PARAM:,.0f} tokens")
    if ratio > TOKENS_PER_PARAM * FAR_FACTOR:
        return (f"{tokens:,.0f} tokens for {params:,.0f} parameters is {ratio:.3g} tokens/parameter, far above the "
                f"compute-optimal ~{TOKENS_PER_PARAM:.0f}: a larger model (~{math.sqrt(6 * params * tokens / 120):,.0f} "
                f"parameters) would reach a lower loss for the same compute (fine if inference cost matters more)")
    return None


def plan(tokens: float | None = None, flops: float | None = None, params: float | None = None,
         vocab_size: int = DEFAULT_VOCAB) -> Plan:
    """Plan from a token budget (N = D / 20) or a compute budget (N = sqrt(C / 120), D = 20 N). With ``params``
    as well, the run (params, tokens or the tokens the compute buys) is assessed against the optimum."""
    if (tokens is None) == (flops is None):
        raise ValueError("give exactly one of tokens or flops")
    if tokens is not None:
        if tokens <= 0:
            raise ValueError("tokens must be positive")
        run_tokens = tokens
        opt_params = tokens / TOKENS_PER_PARAM
    else:
        if flops <= 0:
            raise ValueError("flops must be positive")
        opt_params = math.sqrt(flops / (6 * TOKENS_PER_PARAM))
        run_tokens = flops / (6 * params) if params else TOKENS_PER_PARAM * opt_params
    opt_tokens = TOKENS_PER_PARAM * opt_params
    name = nearest_preset(opt_params, vocab_size)
    n_preset = preset_params(name, vocab_size)
    warning = assess_run(params, run_tokens) if params else None
    if params is None and abs(math.log(n_preset / opt_params)) > math.log(FAR_FACTOR):
        warning = (f"the nearest preset ({name}, {n_preset:,} parameters) is more than {FAR_FACTOR:.0f}x off the "
                   f"optimal size; set n_layer/n_head/d_model for a custom shape")
    return Plan(params=opt_params, tokens=opt_tokens, flops=6 * opt_params * opt_tokens, preset=name,
                preset_params=n_preset, preset_tokens=TOKENS_PER_PARAM * n_preset, warning=warning)


def format_plan(p: Plan, given: str) -> str:
    """The table ``python -m trainer plan`` prints."""
    rows = [
        ("budget", given),
        ("compute-optimal parameters", f"{p.params:,.0f} ({p.params / 1e6:,.1f}M)"),
        ("compute-optimal tokens", f"{p.tokens:,.0f} ({p.tokens / 1e9:,.2f}B)"),
        ("training FLOPs (6ND)", f"{p.flops:.3e}"),
        ("nearest preset", f"{p.preset} ({p.preset_params:,} parameters; optimal for {p.preset_tokens:,.0f} tokens)"),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {v}" for k, v in rows]
    if p.warning:
        lines.append(f"warning: {p.warning}")
    return "\n".join(lines)

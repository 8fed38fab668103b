"""AdamW with weight decay on weight matrices only, and the learning-rate schedule (warmup, then decay to a floor)."""

from __future__ import annotations

import math

import torch
import torch.nn as nn

SCHEDULES = ("cosine", "linear", "constant")


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: matrices of Linear layers decay; norms, biases and embeddings (the tied one too) do not."""
    no_decay: set[int] = set()
    for module in model.modules():
        if isinstance(module, nn.Embedding | nn.LayerNorm):
            no_decay.update(id(p) for p in module.parameters(recurse=False))
    decay, other, seen = [], [], set()
    for p in model.parameters():  # parameters() yields a tied weight once
        if not p.requires_grad or id(p) in seen:
            continue
        seen.add(id(p))
        (decay if p.dim() >= 2 and id(p) not in no_decay else other).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": other, "weight_decay": 0.0}]


def make_optimizer(model: nn.Module, lr: float, weight_decay: float, betas: tuple[float, float], eps: float,
                   device_type: str) -> torch.optim.AdamW:
    """AdamW over :func:`param_groups`, with the fused kernel (one pass over all parameters; on CPU too,
    where it makes the step about 4x cheaper than the per-parameter loop)."""
    fused = device_type in ("cuda", "cpu")
    return torch.optim.AdamW(param_groups(model, weight_decay), lr=lr, betas=betas, eps=eps, fused=fused or None)


class LRSchedule:
    """Linear warmup from 0 to ``lr`` over ``warmup_steps``, then cosine or linear decay to ``min_lr`` at
    ``decay_steps``, constant after. ``step`` counts optimizer steps taken; the state is that count."""

    def __init__(self, optimizer: torch.optim.Optimizer, lr: float, min_lr: float, warmup_steps: int,
                 decay_steps: int, kind: str = "cosine") -> None:
        if kind not in SCHEDULES:
            raise ValueError(f"schedule {kind!r}: choose one of {', '.join(SCHEDULES)}")
        self.optimizer, self.lr_max, self.min_lr = optimizer, lr, min_lr
        self.warmup_steps, self.decay_steps, self.kind = warmup_steps, decay_steps, kind
        self.step_count = 0

    def lr_at(self, step: int) -> float:
        """The learning rate for optimizer step ``step`` (0-based)."""
        if step < self.warmup_steps:
            return self.lr_max * (step + 1) / self.warmup_steps
        if self.kind == "constant" or step >= self.decay_steps:
            return self.lr_max if self.kind == "constant" else self.min_lr
        progress = (step - self.warmup_steps) / max(1, self.decay_steps - self.warmup_steps)
        if self.kind == "cosine":
            factor = 0.5 * (1.0 + math.cos(math.pi * progress))
        else:
            factor = 1.0 - progress
        return self.min_lr + factor * (self.lr_max - self.min_lr)

    def apply(self) -> float:
        """Set the learning rate of the coming optimizer step on every group; return it."""
        lr = self.lr_at(self.step_count)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return lr

    def advance(self) -> None:
        self.step_count += 1

    def state_dict(self) -> dict:
        return {"step": self.step_count, "lr": self.lr_max, "min_lr": self.min_lr, "warmup_steps": self.warmup_steps,
                "decay_steps": self.decay_steps, "kind": self.kind}

    def load_state_dict(self, state: dict) -> None:
        self.step_count = int(state["step"])

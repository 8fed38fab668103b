"""The train loader's resumable position as plain Python values, and the check that a saved one belongs
to this data (sources, mix weights, seq_len, seed, objective, split, tokenizer, windows per epoch).

A different ``micro_batch_size * world_size`` is NOT refused: the global order is indexed by global
sample (not by step), so any number of ranks and any micro-batch size continue exactly the same sequence
of samples from ``consumed_samples``; whether the optimizer-step batch (with gradient accumulation) is
unchanged is the training loop's check.
"""

from __future__ import annotations

from typing import Any

STATE_VERSION = 1


def fingerprint(split: str, seq_len: int, seed: int, objective: str, names: list[str], weights: list[float],
                windows: list[int], tokenizer_sha256: str) -> dict[str, Any]:
    """What a saved position must match to be continued."""
    return {"split": split, "seq_len": seq_len, "seed": seed, "objective": objective, "sources": list(names),
            "weights": [float(w) for w in weights], "windows": [int(w) for w in windows],
            "tokenizer_sha256": tokenizer_sha256}


def make_state(mine: dict[str, Any], consumed_samples: int, counts: list[int], global_batch: int,
               micro_batch_size: int, world_size: int, stopped: bool) -> dict[str, Any]:
    """The position as plain values (safe for ``torch.load(weights_only=True)``)."""
    return {
        "version": STATE_VERSION,
        "consumed_samples": int(consumed_samples),
        "source_counts": {n: int(c) for n, c in zip(mine["sources"], counts, strict=True)},
        "global_batch": int(global_batch),
        "micro_batch_size": int(micro_batch_size),
        "world_size": int(world_size),
        "stopped": bool(stopped),
        **mine,
    }


def restore(state: dict[str, Any], mine: dict[str, Any]) -> tuple[list[int], int, bool]:
    """``(per-source counts, consumed samples, stopped)`` of a saved position; ValueError when it belongs to a
    different data setup than ``mine`` (a :func:`fingerprint`)."""
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        version = state.get("version") if isinstance(state, dict) else None
        raise ValueError(f"loader state: unknown format (version {version!r}, expected {STATE_VERSION})")
    names = mine["sources"]
    for key, value in mine.items():
        if key == "weights":
            if len(state[key]) != len(value) or any(abs(a - b) > 1e-9 for a, b in zip(state[key], value,
                                                                                       strict=True)):
                theirs = dict(zip(state["sources"], state[key], strict=False))
                raise ValueError(f"loader state: the checkpoint mixes {theirs}, this run "
                                 f"{dict(zip(names, value, strict=True))}; resume with the same --mix")
        elif state.get(key) != value:
            raise ValueError(f"loader state: the checkpoint has {key}={state.get(key)!r}, this run {value!r}; "
                             "resume with the same data, seed, seq_len and objective")
    counts = [int(state["source_counts"][n]) for n in names]
    if sum(counts) != int(state["consumed_samples"]):
        raise ValueError("loader state: source counts do not add up to consumed_samples")
    return counts, int(state["consumed_samples"]), bool(state.get("stopped", False))

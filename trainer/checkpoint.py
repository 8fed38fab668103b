"""Checkpoints: one directory per saved step, written under a temporary name and renamed (atomic), loaded with
``torch.load(weights_only=True)`` (tensors and plain values only, so no arbitrary unpickling).

Layout of ``RUN_DIR/checkpoints/step-00001000/``:

- ``model.pt``     the model's full state dict (tensors), from one process or DDP, gathered on rank 0
- ``optimizer.pt`` the optimizer's state dict
- ``dcp/``         instead of those two, from a run whose parameters are sharded (tensor / pipeline parallel,
                   FSDP2): ``torch.distributed.checkpoint`` files, each rank writing its own shards (nothing
                   gathered on one rank); they load into any other layout, one process included
- ``state.pt``     step, scheduler, loader position, RNG states of every rank, the TrainConfig and the run facts
                   (model shape, objective, tokenizer path and sha256) as plain values
- ``config.json``  the same config and run facts, for people

``RUN_DIR/checkpoints/latest`` names the newest complete one.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import tempfile

import numpy as np
import torch

from pipeline import fileio
from trainer.model import GPT, GPTConfig

CHECKPOINTS = "checkpoints"
LATEST = "latest"
SHARDED = "dcp"  # the torch.distributed.checkpoint directory of a sharded checkpoint
STEP_DIR = re.compile(r"^step-(\d{8,})$")

# Keys that may differ between a checkpoint and the run resuming from it: bookkeeping, not the experiment.
RESUMABLE_KEYS = frozenset({
    "data", "max_steps", "eval_interval", "eval_batches", "log_interval", "checkpoint_interval",
    "keep_checkpoints", "compile", "progress", "out_dir", "resume", "cache_dir", "verify_checksums", "device",
    "tokenizer", "cache_max_bytes", "threads", "parallel",  # checkpoints are full state dicts: DDP, FSDP2 and 1 process
    "micro_batch_size", "grad_accum_steps",  # the global batch is checked separately
    "tensor_parallel", "sequence_parallel", "pipeline_parallel", "virtual_pipeline_stages",  # the layout
    "activation_checkpointing",
})


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable or does not belong to this run."""


# ---------------------------------------------------------------------------------------------------------
# RNG states as tensors and plain values

def rng_state() -> dict:
    """This process's CPU, CUDA, numpy and Python RNG states, in a weights_only-loadable form."""
    np_state = np.random.get_state()
    py_state = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
        "python": {"version": py_state[0], "state": list(py_state[1]), "gauss": py_state[2]},
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` returned."""
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


# ---------------------------------------------------------------------------------------------------------
# Writing and finding

def step_dir_name(step: int) -> str:
    return f"step-{step:08d}"


def save_checkpoint(run_dir: str, step: int, model_state: dict, optimizer_state: dict, state: dict,
                    keep: int = 0) -> str:
    """Write a checkpoint atomically (temporary directory, then rename), point ``latest`` at it, and remove
    all but the newest ``keep`` (0 keeps all). Call on rank 0 only. Returns its path."""
    tmp = begin_checkpoint(run_dir, step)
    try:
        torch.save(model_state, os.path.join(tmp, "model.pt"))
        torch.save(optimizer_state, os.path.join(tmp, "optimizer.pt"))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return finish_checkpoint(run_dir, step, tmp, state, keep)


def begin_checkpoint(run_dir: str, step: int) -> str:
    """A new temporary directory for the checkpoint of ``step`` (rank 0; the tensors are written into it, then
    :func:`finish_checkpoint` completes it)."""
    root = os.path.join(run_dir, CHECKPOINTS)
    os.makedirs(root, exist_ok=True)
    return tempfile.mkdtemp(prefix=f".tmp-{step_dir_name(step)}-", dir=root)


def save_sharded(tmp: str, model_state: dict, optimizer_state: dict) -> None:
    """Every rank writes its own shards of the (DTensor) model and optimizer state into ``tmp/dcp``."""
    import torch.distributed.checkpoint as dcp

    dcp.save({"model": model_state, "optimizer": optimizer_state}, checkpoint_id=os.path.join(tmp, SHARDED))


def finish_checkpoint(run_dir: str, step: int, tmp: str, state: dict, keep: int = 0) -> str:
    """Add ``state`` to the temporary directory whose tensors are written, make it durable, rename it into place,
    point ``latest`` at it and prune to ``keep``. Rank 0 only. Returns its path."""
    final = os.path.join(run_dir, CHECKPOINTS, step_dir_name(step))
    try:
        torch.save(state, os.path.join(tmp, "state.pt"))
        with open(os.path.join(tmp, "config.json"), "w") as fh:
            json.dump({"step": step, "config": state.get("config"), "run": state.get("run")}, fh, indent=2)
        for folder, _, names in os.walk(tmp):
            for name in names:
                with open(os.path.join(folder, name), "rb") as fh:
                    os.fsync(fh.fileno())
        if os.path.exists(final):  # the same step again (e.g. the final save right after an interval save)
            shutil.rmtree(final)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fileio.write_atomic(os.path.join(run_dir, CHECKPOINTS, LATEST), (step_dir_name(step) + "\n").encode())
    if keep > 0:
        for old in list_checkpoints(run_dir)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    return final


def list_checkpoints(run_dir: str) -> list[str]:
    """Complete checkpoint directories of a run, oldest first (temporary ones are never listed)."""
    root = os.path.join(run_dir, CHECKPOINTS)
    if not os.path.isdir(root):
        return []
    found = [(int(m.group(1)), os.path.join(root, name)) for name in os.listdir(root)
             if (m := STEP_DIR.match(name)) and os.path.isfile(os.path.join(root, name, "state.pt"))]
    return [path for _, path in sorted(found)]


def latest_checkpoint(run_dir: str) -> str | None:
    """The newest complete checkpoint of a run directory, or None."""
    root = os.path.join(run_dir, CHECKPOINTS)
    try:
        with open(os.path.join(root, LATEST)) as fh:
            named = os.path.join(root, fh.read().strip())
        if os.path.isfile(os.path.join(named, "state.pt")):
            newest = list_checkpoints(run_dir)
            return newest[-1] if newest and newest[-1] > named else named
    except OSError:
        pass
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def resolve_checkpoint(path: str) -> str:
    """A checkpoint directory, or a run directory (then its latest checkpoint)."""
    if os.path.isfile(os.path.join(path, "state.pt")):
        return path
    latest = latest_checkpoint(path)
    if latest is None:
        raise CheckpointError(f"{path}: neither a checkpoint directory (no state.pt) nor a run directory with "
                              f"checkpoints under {CHECKPOINTS}/")
    return latest


# ---------------------------------------------------------------------------------------------------------
# Reading

def _load(path: str, name: str, map_location="cpu"):
    file = os.path.join(path, name)
    try:
        return torch.load(file, map_location=map_location, weights_only=True)
    except FileNotFoundError as exc:
        raise CheckpointError(f"{file}: missing; the checkpoint is incomplete") from exc
    except Exception as exc:  # noqa: BLE001 - torch raises UnpicklingError/RuntimeError for bad files
        raise CheckpointError(f"{file}: cannot be loaded safely (weights_only=True): {exc}") from exc


def load_state(path: str) -> dict:
    """``state.pt`` of a checkpoint: step, scheduler, loader, rng, config, run."""
    return _load(path, "state.pt")


def load_tensors(path: str, map_location="cpu") -> tuple[dict, dict]:
    """(model state dict, optimizer state dict) of a checkpoint written whole (see :func:`is_sharded`)."""
    return _load(path, "model.pt", map_location), _load(path, "optimizer.pt", map_location)


def is_sharded(path: str) -> bool:
    """Whether the checkpoint holds ``torch.distributed.checkpoint`` shards (else ``model.pt`` / ``optimizer.pt``)."""
    return os.path.isdir(os.path.join(path, SHARDED))


def load_sharded(path: str, model_state: dict, optimizer_state: dict | None) -> None:
    """Fill ``model_state`` (and ``optimizer_state`` unless None) in place from a sharded checkpoint, whatever
    the layout that wrote it: each tensor of the target (plain, or this rank's DTensor shard) is read from the
    shards that overlap it."""
    import torch.distributed.checkpoint as dcp

    target = {"model": model_state} if optimizer_state is None else {"model": model_state,
                                                                     "optimizer": optimizer_state}
    try:
        dcp.load(target, checkpoint_id=os.path.join(path, SHARDED),
                 no_dist=not (torch.distributed.is_available() and torch.distributed.is_initialized()))
    except Exception as exc:  # noqa: BLE001 - DCP raises CheckpointException/RuntimeError for bad or missing shards
        raise CheckpointError(f"{path}/{SHARDED}: cannot be loaded: {exc}") from exc


def load_model_for_inference(path: str, device: str = "cpu") -> tuple[GPT, dict]:
    """(model in eval mode on ``device``, run facts) from a checkpoint or run directory. The run facts hold
    ``model`` (GPTConfig fields), ``objective``, ``tokenizer_dir``, ``tokenizer_sha256``, ``eod_id``,
    ``pad_id``, ``special_ids``, ``seq_len`` and ``step``."""
    path = resolve_checkpoint(path)
    state = load_state(path)
    run = dict(state["run"])
    run["step"] = state["step"]
    model = GPT(GPTConfig.from_dict(run["model"]))
    if is_sharded(path):  # the shards of any layout, read into this one process's whole tensors
        weights = model.state_dict()
        load_sharded(path, weights, None)
        model.load_state_dict(weights)
    else:
        model.load_state_dict(_load(path, "model.pt"))
    return model.to(device).eval(), run


def config_differences(saved: dict, current: dict) -> list[str]:
    """``key: checkpoint=X, now=Y`` for every setting that must match for an exact resume and does not."""
    out = []
    for key in sorted(set(saved) | set(current)):
        if key in RESUMABLE_KEYS:
            continue
        if saved.get(key) != current.get(key):
            out.append(f"{key}: checkpoint={saved.get(key)!r}, now={current.get(key)!r}")
    return out

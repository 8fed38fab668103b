"""The demo's last stage: a short training run of the tiny GPT on the demo's shards (mixing its corpora), a
resume from the run's checkpoint that continues where it stopped, and the loss plot."""

from __future__ import annotations

import os
import time

from trainer.checkpoint import latest_checkpoint
from trainer.config import load_config
from trainer.plot import plot_run, read_metrics
from trainer.train import train

FIRST_STEPS = 40
TOTAL_STEPS = 80


def run_demo_training(shard_dirs: list[str], out_dir: str, mix: dict[str, float] | None = None,
                      log=print) -> dict:
    """Train the tiny model for 40 steps, resume from its step-40 checkpoint to step 80 (the schedule spans all
    80), and plot ``out_dir/loss.png``. Returns the run's facts (losses, checkpoint, plot, seconds)."""
    started = time.perf_counter()
    overrides = ["seq_len=128", "micro_batch_size=8", "lr=3e-3", "min_lr=3e-4", "warmup_steps=10",
                 f"decay_steps={TOTAL_STEPS}", "log_interval=10", "eval_interval=20", "eval_batches=4",
                 f"checkpoint_interval={FIRST_STEPS}", "keep_checkpoints=0", "progress=false", "device=cpu",
                 "threads=1"]  # a model this small gains nothing from more threads, and they stall on a busy machine
    mix_text = ",".join(f"{k}={v}" for k, v in mix.items()) if mix else None

    def quiet(*_args, **_kwargs) -> None:
        return None

    def config(steps: int):
        return load_config("tiny", [*overrides, f"max_steps={steps}"], data=list(shard_dirs), mix=mix_text,
                           out_dir=out_dir)

    log(f"trainer: tiny GPT on {', '.join(shard_dirs)}" + (f" with mix {mix_text}" if mix_text else ""))
    first = train(config(FIRST_STEPS), log=quiet)
    checkpoint = latest_checkpoint(out_dir)
    log(f"trainer: steps 0 -> {first['steps']}, loss {first['final_loss']:.3f}, checkpoint {checkpoint}")
    second = train(config(TOTAL_STEPS), log=quiet)  # resume=auto: continues from that checkpoint
    log(f"trainer: resumed at step {second['start_step']} -> {second['steps']}, loss {second['final_loss']:.3f}"
        + (f", val loss {second['val_loss']:.3f}" if second["val_loss"] is not None else ""))
    plot = plot_run(out_dir, os.path.join(out_dir, "loss.png"))
    steps, vals = read_metrics(out_dir)
    log(f"trainer: loss plot {plot}")
    return {
        "run_dir": out_dir, "steps": second["steps"], "resumed_from_step": second["start_step"],
        "first_loss": steps[0]["loss"] if steps else None, "loss_at_resume": first["final_loss"],
        "final_loss": second["final_loss"], "val_loss": second["val_loss"],
        "val_losses": [(v["step"], v["val_loss"]) for v in vals], "checkpoint": second["checkpoint"],
        "plot": plot, "tokens": first["tokens"] + second["tokens"], "elapsed_s": round(time.perf_counter() - started, 1),
    }

"""Draw a run's training and validation loss and its learning rate from ``metrics.jsonl`` (matplotlib)."""

from __future__ import annotations

import json
import os

from trainer.train import METRICS


def read_metrics(run_dir: str) -> tuple[list[dict], list[dict]]:
    """(train records, val records) of ``RUN_DIR/metrics.jsonl``; a torn last line (killed run) is skipped."""
    train, val, _ = read_events(run_dir)
    return train, val


def read_events(run_dir: str) -> tuple[list[dict], list[dict], list[dict]]:
    """(train records, val records, events such as resumes) of ``RUN_DIR/metrics.jsonl``."""
    path = os.path.join(run_dir, METRICS)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no metrics; is {run_dir} a training run directory (out_dir)?")
    train, val, events = [], [], []
    with open(path) as fh:
        for line in fh:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if "val_loss" in record:
                val.append(record)
            elif "loss" in record:
                train.append(record)
            elif "event" in record:
                events.append(record)
    return train, val, events


def plot_run(run_dir: str, output: str) -> str:
    """Write a PNG with two panels (loss; learning rate) to ``output``; returns it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train, val, events = read_events(run_dir)
    if not train:
        raise ValueError(f"{run_dir}: metrics.jsonl has no training steps yet")
    fig, (ax_loss, ax_lr) = plt.subplots(2, 1, figsize=(8, 6), sharex=True, height_ratios=[3, 1])
    ax_loss.plot([r["step"] for r in train], [r["loss"] for r in train], label="train", linewidth=1.2)
    if val:
        ax_loss.plot([r["step"] for r in val], [r["val_loss"] for r in val], "o-", label="validation", linewidth=1.2)
    for i, event in enumerate(e for e in events if e["event"] == "resumed"):
        for ax in (ax_loss, ax_lr):
            ax.axvline(event["step"], color="grey", linestyle="--", linewidth=0.8,
                       label="resumed" if ax is ax_loss and i == 0 else None)
    ax_loss.set_ylabel("loss")
    ax_loss.set_title(os.path.basename(os.path.abspath(run_dir)))
    ax_loss.grid(alpha=0.3)
    ax_loss.legend()
    ax_lr.plot([r["step"] for r in train], [r["lr"] for r in train], color="tab:green", linewidth=1.2)
    ax_lr.set_ylabel("learning rate")
    ax_lr.set_xlabel("step")
    ax_lr.grid(alpha=0.3)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    tmp = output + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, output)
    return output

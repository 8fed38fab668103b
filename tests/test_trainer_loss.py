"""Token-weighted loss: every labelled token of a global batch weighs the same, however the batch is split into
micro-batches (gradient accumulation) or processes (DDP), so MLM (and prefix-LM) steps do not depend on the split. MLM masks are
seeded per sample, so every split of the batch sees the same masks, with different label counts per half."""

from __future__ import annotations

import json

import pytest
import torch

from tests.test_trainer_torchrun import TINY, torchrun, trainer_shards
from trainer import checkpoint as ckpt
from trainer.config import load_config
from trainer.data import TrainLoader, open_corpora
from trainer.train import train

ONE_STEP = ["mix=web=0.7,kg=0.3", "objective=mlm", "max_steps=1", "eval_batches=0", "checkpoint_interval=1", "warmup_steps=0"]


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    return trainer_shards(tmp_path_factory)


def _step_record(out) -> dict:
    return next(r for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if "loss" in r)


def _weights(out) -> dict[str, torch.Tensor]:
    return ckpt.load_tensors(ckpt.latest_checkpoint(str(out)))[0]


def _one_step(shards, out, *overrides) -> tuple[dict, dict[str, torch.Tensor]]:
    cfg = load_config("tiny", [*TINY, "device=cpu", *ONE_STEP, *overrides], data=[str(shards["shards"])],
                      out_dir=str(out))
    train(cfg, log=lambda *a, **k: None)
    return _step_record(out), _weights(out)


def _assert_same_step(a: tuple[dict, dict], b: tuple[dict, dict]) -> None:
    (rec_a, w_a), (rec_b, w_b) = a, b
    assert rec_a["loss_tokens"] == rec_b["loss_tokens"]
    assert abs(rec_a["loss"] - rec_b["loss"]) < 1e-5
    assert abs(rec_a["grad_norm"] - rec_b["grad_norm"]) < 1e-5
    assert w_a.keys() == w_b.keys()
    for name in w_a:
        assert torch.allclose(w_a[name], w_b[name], atol=1e-5, rtol=0), name


@pytest.fixture(scope="module")
def one_batch(shards, tmp_path_factory):
    """One masked-LM step of one process with a micro-batch of 4 (no accumulation): the reference."""
    return _one_step(shards, tmp_path_factory.mktemp("loss") / "one-batch", "micro_batch_size=4")


def test_the_split_micro_batches_have_different_label_counts(shards):
    """What makes the test below meaningful: the two halves of the global batch hold different numbers of labels
    (a mean of per-micro-batch means would differ from the per-token mean)."""
    cfg = load_config("tiny", [*TINY, "device=cpu", *ONE_STEP, "micro_batch_size=2"], data=[str(shards["shards"])]).data_config()
    loader = TrainLoader(open_corpora(cfg), cfg)
    first, second = next(loader), next(loader)
    counts = [int((b["labels"] != -100).sum()) for b in (first, second)]
    assert counts[0] != counts[1] and min(counts) > 0


def test_gradient_accumulation_weighs_every_token_the_same(shards, one_batch, tmp_path):
    accumulated = _one_step(shards, tmp_path / "accum", "micro_batch_size=2", "grad_accum_steps=2")
    _assert_same_step(accumulated, one_batch)


def test_two_processes_weigh_every_token_the_same(shards, one_batch, tmp_path):
    out = tmp_path / "ddp"
    proc = torchrun(2, shards["shards"], out, *ONE_STEP, "micro_batch_size=2")
    assert proc.returncode == 0, proc.stderr_text[-3000:]
    record = _step_record(out)
    assert record["rank_loss_tokens"][0] != record["rank_loss_tokens"][1]
    assert sum(record["rank_loss_tokens"]) == record["loss_tokens"]
    # the logged loss is the per-token mean of the whole batch, not the mean of the ranks' means
    weighted = sum(loss * n for loss, n in zip(record["rank_loss"], record["rank_loss_tokens"], strict=True))
    assert abs(record["loss"] - weighted / record["loss_tokens"]) < 1e-6
    _assert_same_step((record, _weights(out)), one_batch)

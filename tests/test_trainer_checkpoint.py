"""Checkpoints: the round trip through a real (one-process) training run, weights_only loading, atomic
directories and the ``latest`` pointer, RNG states, inference loading, and refusing checkpoints of another run."""

from __future__ import annotations

import json
import os
import random
import shutil

import numpy as np
import pytest
import torch

from tests.test_trainer_torchrun import TINY, trainer_shards
from trainer import checkpoint as ckpt
from trainer.config import ConfigError, load_config
from trainer.train import train


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    return trainer_shards(tmp_path_factory)


def run(shards, out, *overrides, mix="web=0.7,kg=0.3"):
    cfg = load_config("tiny", [*TINY, "device=cpu", *overrides], data=[str(shards["shards"])], mix=mix,
                      out_dir=str(out))
    return train(cfg, log=lambda *a, **k: None)


def losses(out) -> dict[int, float]:
    lines = [json.loads(x) for x in open(os.path.join(out, "metrics.jsonl"))]
    return {r["step"]: r["loss"] for r in lines if "loss" in r}


@pytest.fixture(scope="module")
def trained(shards, tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt") / "run"
    summary = run(shards, out, "max_steps=6", "checkpoint_interval=2", "keep_checkpoints=2")
    return out, summary


def test_checkpoint_round_trip(trained, shards):
    out, summary = trained
    assert summary["steps"] == 6 and summary["checkpoint"].endswith("step-00000006")
    # keep_checkpoints=2: the oldest is gone; latest names the newest
    names = sorted(os.listdir(out / "checkpoints"))
    assert names == ["latest", "step-00000004", "step-00000006"]
    assert (out / "checkpoints" / "latest").read_text().strip() == "step-00000006"
    path = ckpt.latest_checkpoint(str(out))
    state = ckpt.load_state(path)  # weights_only=True inside
    assert state["step"] == 6 and state["scheduler"]["step"] == 6
    assert state["loader"]["consumed_samples"] == 6 * 4
    assert state["config"]["max_steps"] == 6 and state["config"]["d_model"] == 32
    run_facts = state["run"]
    assert run_facts["tokenizer_dir"] and os.path.isfile(os.path.join(run_facts["tokenizer_dir"], "tokenizer.json"))
    assert len(run_facts["tokenizer_sha256"]) == 64 and run_facts["model"]["causal"] is True
    assert set(state["rng"][0]) >= {"torch", "numpy", "python"}
    model_state, optim_state = ckpt.load_tensors(path)
    assert all(isinstance(v, torch.Tensor) for v in model_state.values())
    assert len(optim_state["state"]) > 0 and optim_state["param_groups"][0]["weight_decay"] == 0.1
    config_json = json.loads((out / "checkpoints" / "step-00000006" / "config.json").read_text())
    assert config_json["step"] == 6 and config_json["run"]["objective"] == "clm"


def test_load_model_for_inference(trained):
    out, _ = trained
    model, facts = ckpt.load_model_for_inference(str(out))  # a run directory: its latest checkpoint
    assert not model.training and facts["step"] == 6 and facts["objective"] == "clm"
    same, _ = ckpt.load_model_for_inference(str(out / "checkpoints" / "step-00000004"))
    x = torch.randint(0, facts["vocab_size"], (1, 16))
    with torch.no_grad():
        assert not torch.equal(model(x)[0], same(x)[0])  # different steps, different weights
        saved = ckpt.load_tensors(ckpt.latest_checkpoint(str(out)))[0]
        assert torch.equal(model.wte.weight, saved["wte.weight"])
    with pytest.raises(ckpt.CheckpointError, match="neither a checkpoint directory"):
        ckpt.load_model_for_inference(str(out / "checkpoints" / "nothing"))


def test_resume_continues_exactly_in_one_process(trained, shards, tmp_path):
    out, _ = trained
    resumed = tmp_path / "resumed"
    (resumed / "checkpoints").mkdir(parents=True)
    shutil.copytree(out / "checkpoints" / "step-00000004", resumed / "checkpoints" / "step-00000004")
    shutil.copy(out / "metrics.jsonl", resumed / "metrics.jsonl")
    summary = run(shards, resumed, "max_steps=6", "checkpoint_interval=2", "keep_checkpoints=2")
    assert summary["start_step"] == 4 and summary["steps"] == 6
    assert losses(out) == losses(resumed)  # steps 5 and 6 again, bit for bit; metrics kept up to step 4


def test_unfinished_checkpoint_directories_are_ignored(trained, tmp_path):
    out, _ = trained
    run_dir = tmp_path / "r"
    shutil.copytree(out / "checkpoints", run_dir / "checkpoints")
    # a save killed mid-way leaves only a temporary directory; a later step without state.pt is incomplete
    (run_dir / "checkpoints" / ".tmp-step-00000008-abc").mkdir()
    (run_dir / "checkpoints" / "step-00000010").mkdir()
    assert ckpt.latest_checkpoint(str(run_dir)).endswith("step-00000006")
    (run_dir / "checkpoints" / "latest").unlink()
    assert ckpt.latest_checkpoint(str(run_dir)).endswith("step-00000006")
    assert [os.path.basename(p) for p in ckpt.list_checkpoints(str(run_dir))] == ["step-00000004", "step-00000006"]


def test_loading_refuses_arbitrary_pickles(tmp_path):
    class Payload:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    bad = tmp_path / "step-00000001"
    bad.mkdir()
    torch.save({"step": 1, "evil": Payload()}, bad / "state.pt")
    with pytest.raises(ckpt.CheckpointError, match="weights_only=True"):
        ckpt.load_state(str(bad))
    (bad / "state.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ckpt.CheckpointError, match="cannot be loaded safely"):
        ckpt.load_state(str(bad))


def test_rng_states_round_trip():
    state = ckpt.rng_state()
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.save(state, "/dev/null")  # plain tensors and values only
    ckpt.set_rng_state(state)
    again = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(expected[0], again[0]) and np.array_equal(expected[1], again[1]) and expected[2] == again[2]


def test_save_is_atomic_and_replaces_the_same_step(tmp_path):
    path = ckpt.save_checkpoint(str(tmp_path), 3, {"w": torch.ones(2)}, {}, {"step": 3, "config": {}, "run": {}})
    assert os.path.basename(path) == "step-00000003"
    path = ckpt.save_checkpoint(str(tmp_path), 3, {"w": torch.zeros(2)}, {}, {"step": 3, "config": {}, "run": {}})
    assert torch.equal(ckpt.load_tensors(path)[0]["w"], torch.zeros(2))
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["latest", "step-00000003"]  # no temporary left


def test_checkpoint_from_a_different_config_is_refused(trained, shards, tmp_path):
    out, _ = trained
    run_dir = tmp_path / "r"
    shutil.copytree(out / "checkpoints", run_dir / "checkpoints")
    with pytest.raises(ConfigError, match=r"different config:\n  d_model: checkpoint=32, now=64\n  lr: checkpoint"):
        run(shards, run_dir, "max_steps=8", "d_model=64", "lr=1e-3")
    with pytest.raises(ConfigError, match="resume with the same --mix|different config"):
        run(shards, run_dir, "max_steps=8", mix="web=0.5,kg=0.5")
    # max_steps and intervals may change: that is how a run is extended
    summary = run(shards, run_dir, "max_steps=7", "checkpoint_interval=2", "keep_checkpoints=2")
    assert summary["start_step"] == 6 and summary["steps"] == 7


def test_checkpoint_of_another_tokenizer_is_refused(trained, shards, tmp_path):
    out, _ = trained
    run_dir = tmp_path / "r"
    src = out / "checkpoints" / "step-00000006"
    dst = run_dir / "checkpoints" / "step-00000006"
    shutil.copytree(src, dst)
    state = ckpt.load_state(str(dst))
    state["run"]["tokenizer_sha256"] = "0" * 64
    torch.save(state, dst / "state.pt")
    with pytest.raises(ConfigError, match="another tokenizer"):
        run(shards, run_dir, "max_steps=8")


def test_resume_never_refuses_an_existing_run(trained, shards):
    out, _ = trained
    with pytest.raises(ConfigError, match="already holds checkpoints and resume=never"):
        run(shards, out, "max_steps=8", "resume=never")

"""The command line: a run end to end through ``python -m trainer``, the objectives, ``plan``, ``plot``, and every
bad input failing before training with a message that names the problem and the fix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.test_trainer_torchrun import TINY, trainer_shards
from trainer.__main__ import main
from trainer.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    return trainer_shards(tmp_path_factory)


def cli(shards, out, *overrides, data=None, mix="web=0.7,kg=0.3") -> list[str]:
    args = []
    for d in data or [shards["shards"]]:
        args += ["--data", str(d)]
    if mix:
        args += ["--mix", mix]
    return [*args, "--config", "tiny", "--out", str(out), "device=cpu", *TINY, *overrides]


def test_train_as_a_subprocess_then_plot(shards, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "trainer", *cli(shards, out, "max_steps=5", "progress=true")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "step 5/5 | loss" in proc.stdout and "tok/s" in proc.stdout and "lr " in proc.stdout
    assert "grad norm" in proc.stdout and "done: steps 0 -> 5" in proc.stdout
    assert "train:" in proc.stderr and "5/5" in proc.stderr  # tqdm progress bar
    assert "plan:" in proc.stdout and "tokens/parameter" in proc.stdout  # far from compute-optimal
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in records if "loss" in r]
    assert [r["step"] for r in steps] == [1, 2, 3, 4, 5]
    assert {"lr", "grad_norm", "tokens_per_s", "mfu", "tokens"} <= set(steps[0])
    assert steps[0]["mfu"] is None  # no GPU peak on CPU
    assert any("val_loss" in r for r in records)
    assert main(["plot", str(out), "-o", str(tmp_path / "loss.png")]) == 0
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["plot", str(tmp_path / "nothing"), "-o", str(tmp_path / "x.png")]) == 2


@pytest.mark.parametrize("objective", ["mlm", "fim", "prefix-lm"])
def test_other_objectives_train(shards, tmp_path, objective):
    out = tmp_path / objective
    extra = ["pos=rope"] if objective == "mlm" else ["pos=alibi"] if objective == "fim" else []
    mix = "web=1" if objective == "prefix-lm" else "web=0.7,kg=0.3"  # only web has passage <|sep|> query pairs
    assert main(cli(shards, out, "max_steps=3", f"objective={objective}", *extra, mix=mix)) == 0
    facts = json.loads((out / "config.json").read_text())["run"]
    assert facts["objective"] == objective
    assert facts["model"]["causal"] is (objective != "mlm")  # masked LM trains the bidirectional encoder
    losses = [json.loads(x)["loss"] for x in (out / "metrics.jsonl").read_text().splitlines() if '"loss"' in x]
    assert len(losses) == 3 and all(0 < v < 10 for v in losses)


def test_two_corpora_directories_mixed(shards, tmp_path):
    """Each source in its own shard directory (the tokenize job run per corpus), mixed by name."""
    from corpora.tokenize import TokenizeConfig, run_tokenize

    dirs = []
    for name in ("web", "kg"):

        d = tmp_path / f"{name}-shards"
        run_tokenize(TokenizeConfig([shards[name]], shards["tokenizer"], d, shard_tokens=4000, val_fraction=0.1),
                     ["--direct_num_workers=1", "--direct_running_mode=in_memory"], quiet=True)
        dirs.append(d)
    out = tmp_path / "run"
    assert main(cli(shards, out, "max_steps=2", data=dirs, mix="web=0.5,kg=0.5")) == 0
    assert json.loads((out / "config.json").read_text())["run"]["sources"] == ["kg", "web"]


def test_plan_command(capsys):
    assert main(["plan", "--tokens", "2.5e9"]) == 0
    out = capsys.readouterr().out
    assert "125,000,000" in out and "nearest preset              124M" in out and "warning" not in out
    assert main(["plan", "--flops", "1.2e21"]) == 0
    out = capsys.readouterr().out
    assert "3,162,277,660" in out and "63,245,553,203" in out  # N = sqrt(C / 120), D = 20 N
    assert main(["plan", "--tokens", "1e9", "--preset", "350M"]) == 0
    out = capsys.readouterr().out
    assert "warning:" in out and "far below the compute-optimal" in out
    assert main(["plan", "--flops", "1e17", "--preset", "tiny"]) == 0
    assert "far above" in capsys.readouterr().out
    assert main(["plan"]) == 2  # one of --tokens / --flops (or --gpus / --model for a layout) is required
    assert main(["plan", "--tokens", "-5"]) == 2


def test_help_has_examples():
    proc = subprocess.run([sys.executable, "-m", "trainer", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0 and "torchrun --nproc_per_node" in proc.stdout and "key=value" in proc.stdout


# ---------------------------------------------------------------------------------------------------------
# Bad input: clear errors before any training

def test_config_errors_name_the_key_and_fix(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'lrr' \\(did you mean 'lr'\\?\\)"):
        load_config("tiny", ["lrr=1e-3"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("preset: tiny\nwarmup_step: 10\n")
    with pytest.raises(ConfigError, match=f"{bad}: unknown key 'warmup_step' \\(did you mean 'warmup_steps'\\?\\)"):
        load_config(str(bad))
    with pytest.raises(ConfigError, match="seq_len=512 is longer than the model supports: its learned position "
                                          "encoding covers max_seq_len=256"):
        load_config("tiny", ["seq_len=512"])
    assert load_config("tiny", ["seq_len=512", "max_seq_len=512"]).seq_len == 512
    with pytest.raises(ConfigError, match="max_steps='ten' is not a valid int"):
        load_config("tiny", ["max_steps=ten"])
    with pytest.raises(ConfigError, match="no such file, nor a bundled config \\(bundled: 1.3B, 124M, 350M, tiny"):
        load_config("nope")
    with pytest.raises(ConfigError, match="objective='gan'"):
        load_config("tiny", ["objective=gan"])
    with pytest.raises(ConfigError, match="expected key=value"):
        load_config("tiny", ["lr"])
    cfg = load_config("tiny", ["lr=3e-4", "compile=true", "mix=web=0.8,kg=0.2", "vocab_size=null"])
    assert cfg.lr == 3e-4 and cfg.compile is True and cfg.mix == {"web": 0.8, "kg": 0.2}


def test_bad_inputs_fail_before_training(shards, tmp_path, capsys):
    def fails(argv, *needles):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2, err
        for needle in needles:
            assert needle in err, err
        return err

    out = tmp_path / "run"
    fails(cli(shards, out, "max_steps=2", mix="web=0.5,wiki=0.5"), "'wiki'", "web")  # names the real sources
    fails(cli(shards, out, "max_steps=2", "vocab_size=100"), "smaller than the shards' tokenizer vocabulary")
    fails(cli(shards, out, "lr=-1"), "lr > 0")
    fails(["--config", "tiny", "--out", str(out)], "no data: pass --data")
    other_tok = tmp_path / "tok"
    shutil.copytree(shards["tokenizer"], other_tok)
    spec = json.loads((other_tok / "tokenizer.json").read_text())
    spec["added_tokens"][-1]["content"] = "<|other|>"
    (other_tok / "tokenizer.json").write_text(json.dumps(spec))
    fails(cli(shards, out, "max_steps=2", f"tokenizer={other_tok}"), "does not match the model's tokenizer",
          "re-tokenize")
    assert main(cli(shards, out, "max_steps=1", f"tokenizer={shards['tokenizer']}")) == 0
    capsys.readouterr()
    # a shard whose bytes changed: its checksum fails, named, before training starts
    broken = tmp_path / "broken"
    shutil.copytree(shards["shards"], broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    victim = broken / (manifest["shards"][0]["path"] + ".bin")
    data = bytearray(victim.read_bytes())
    data[10] ^= 0xFF
    victim.write_bytes(bytes(data))
    out2 = tmp_path / "run2"
    fails(cli(shards, out2, data=[broken]), manifest["shards"][0]["path"])
    assert not out2.exists()  # nothing written


def poison_training_loss(monkeypatch, at_call: int):
    """Make the model's training loss NaN at its ``at_call``-th forward (one per step here)."""
    from trainer import model as model_module

    real_forward = model_module.GPT.forward
    calls = {"n": 0}

    def poisoned(self, input_ids, labels=None):
        logits, loss = real_forward(self, input_ids, labels)
        if self.training:
            calls["n"] += 1
            if calls["n"] == at_call:
                loss = loss * float("nan")
        return logits, loss

    monkeypatch.setattr(model_module.GPT, "forward", poisoned)
    return real_forward


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(shards, tmp_path, capsys, monkeypatch):
    from trainer import model as model_module

    real_forward = poison_training_loss(monkeypatch, 5)
    out = tmp_path / "run"
    code = main(cli(shards, out, "max_steps=8", "checkpoint_interval=2", "eval_batches=0"))
    err = capsys.readouterr().err
    assert code == 1
    assert "loss is nan at step 5" in err and "step-00000004" in err and "lower lr" in err
    assert sorted(os.listdir(out / "checkpoints")) == ["latest", "step-00000002", "step-00000004"]
    steps = [json.loads(x)["step"] for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert max(steps) == 4
    # the kept checkpoint is good: the run resumes from it once the cause is gone
    monkeypatch.setattr(model_module.GPT, "forward", real_forward)
    assert main(cli(shards, out, "max_steps=6", "checkpoint_interval=2", "eval_batches=0")) == 0
    assert torch.load(out / "checkpoints" / "step-00000006" / "state.pt", weights_only=True)["step"] == 6


def test_nan_between_logs_is_caught_before_the_next_log_or_checkpoint(shards, tmp_path, capsys, monkeypatch):
    """The loop reads the loss back only at log, eval and checkpoint steps (no per-step device sync); a NaN in
    between still names its own step, and nothing after it is logged or saved."""
    poison_training_loss(monkeypatch, 5)
    out = tmp_path / "run"
    code = main(cli(shards, out, "max_steps=12", "log_interval=3", "checkpoint_interval=4", "eval_batches=0"))
    err = capsys.readouterr().err
    assert code == 1
    assert "loss is nan at step 5" in err and "step-00000004" in err
    assert sorted(os.listdir(out / "checkpoints")) == ["latest", "step-00000004"]
    logged = [json.loads(x)["step"] for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert logged == [1, 3]  # the log at step 6 found the NaN of step 5 and stopped


def final_loss(run_dir) -> float:
    return [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if '"loss"' in x][-1]["loss"]


def test_bf16_autocast_trains_close_to_fp32(shards, tmp_path):
    """The GPU default (bf16 autocast, fp32 weights and loss) runs on the CPU too and tracks the fp32 run."""
    assert main(cli(shards, tmp_path / "fp32", "max_steps=6", "eval_batches=0", "dtype=fp32")) == 0
    assert main(cli(shards, tmp_path / "bf16", "max_steps=6", "eval_batches=0", "dtype=bf16")) == 0
    fp32, bf16 = final_loss(tmp_path / "fp32"), final_loss(tmp_path / "bf16")
    assert fp32 != bf16 and abs(fp32 - bf16) < 0.05 * fp32


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("g++") or shutil.which("c++")), reason="torch.compile on CPU needs a C++ compiler")
def test_compiled_model_trains_like_the_eager_one(shards, tmp_path):
    """compile=true (used for GPU runs) wraps the same model: a few steps give the eager run's losses."""
    assert main(cli(shards, tmp_path / "eager", "max_steps=3", "eval_batches=0")) == 0
    assert main(cli(shards, tmp_path / "compiled", "max_steps=3", "eval_batches=0", "compile=true")) == 0
    assert abs(final_loss(tmp_path / "eager") - final_loss(tmp_path / "compiled")) < 1e-3


def test_compile_without_a_compiler_fails_before_training(shards, tmp_path, capsys, monkeypatch):
    from torch._inductor import config as inductor_config

    monkeypatch.setattr(inductor_config.cpp, "cxx", (str(tmp_path / "no-such-g++"),))
    assert main(cli(shards, tmp_path / "run", "max_steps=3", "compile=true")) == 2
    assert "compile=true on the CPU needs a C++ compiler" in capsys.readouterr().err
    assert not (tmp_path / "run" / "metrics.jsonl").exists()


def test_demo_training_runs_resumes_and_plots(shards, tmp_path):
    from trainer.demo import run_demo_training

    lines = []
    result = run_demo_training([str(shards["shards"])], str(tmp_path / "demo"), {"web": 0.7, "kg": 0.3},
                               log=lines.append)
    assert result["resumed_from_step"] == 40 and result["steps"] == 80
    assert result["final_loss"] < result["loss_at_resume"] < result["first_loss"]
    assert open(result["plot"], "rb").read(4) == b"\x89PNG"
    assert any("resumed at step 40 -> 80" in line for line in lines)
    events = [json.loads(x) for x in (tmp_path / "demo" / "metrics.jsonl").read_text().splitlines() if "event" in x]
    assert events == [{"step": 40, "event": "resumed", "checkpoint": str(Path(result["checkpoint"]).with_name("step-00000040")),
                       "world_size": 1}]


def test_on_exhaust_stop_ends_the_run_with_a_checkpoint(shards, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(cli(shards, out, "max_steps=1000", "on_exhaust=stop", "eval_batches=0", mix="kg=1")) == 0
    printed = capsys.readouterr().out
    assert "a corpus ran out at step" in printed
    steps = [json.loads(x)["step"] for x in (out / "metrics.jsonl").read_text().splitlines()]
    last = max(steps)
    assert 10 < last < 1000
    state = torch.load(out / "checkpoints" / f"step-{last:08d}" / "state.pt", weights_only=True)
    assert state["loader"]["stopped"] is True
    # resuming a finished (exhausted) run does nothing more
    assert main(cli(shards, out, "max_steps=1000", "on_exhaust=stop", "eval_batches=0", mix="kg=1")) == 0
    assert "a corpus ran out at step" in capsys.readouterr().out


def test_data_settings_are_defined_once_and_keep_their_flat_keys(tmp_path):
    """TrainConfig inherits every DataConfig setting (one definition, one default); the flat YAML and key=value
    keys reach the loader's DataConfig unchanged."""
    from dataclasses import fields

    from trainer.config import TrainConfig
    from trainer.data_config import DataConfig, DataSettings

    train_fields = {f.name: f for f in fields(TrainConfig)}
    data_names = {f.name for f in fields(DataConfig)} - {"paths"}
    assert data_names == set(DataSettings.names()) and data_names < set(train_fields)
    for f in fields(DataConfig):
        if f.name != "paths":
            assert (train_fields[f.name].default, train_fields[f.name].type) == (f.default, f.type), f.name
    assert TrainConfig().data_config().data_settings() == DataSettings().data_settings()
    yaml_file = tmp_path / "run.yaml"
    yaml_file.write_text("preset: tiny\ndata: [a, b]\nmix: {web: 0.8, kg: 0.2}\nseq_len: 128\nobjective: fim\n"
                         "fim_rate: 0.25\ncache_max_bytes: 1e9\nverify_checksums: false\n")
    cfg = load_config(str(yaml_file), ["micro_batch_size=2", "seed=7", "on_exhaust=stop", "prefix_sep_token=<|x|>",
                                       "mlm_probability=0.2", "cache_dir=/tmp/c"])
    data = cfg.data_config()
    assert data.paths == ["a", "b"] and data.mix == {"web": 0.8, "kg": 0.2}
    assert (data.seq_len, data.objective, data.fim_rate, data.cache_max_bytes, data.verify_checksums) == \
        (128, "fim", 0.25, 10**9, False)
    assert (data.micro_batch_size, data.seed, data.on_exhaust, data.prefix_sep_token, data.mlm_probability,
            data.cache_dir) == (2, 7, "stop", "<|x|>", 0.2, "/tmp/c")
    data.validate()
    with pytest.raises(ConfigError, match="mlm_probability=1.0 must be in \\(0, 1\\)"):
        load_config("tiny", ["mlm_probability=1"])
    with pytest.raises(ConfigError, match="on_exhaust='never': choose one of repeat, stop"):
        load_config("tiny", ["on_exhaust=never"])


def test_a_torchrun_rank_leaves_without_the_interpreters_teardown():
    """Under torchrun the trainer's exit flushes its output and skips the teardown (where gloo's threads
    aborted finished ranks); its status is the command's. One process exits as usual."""
    code = ("import atexit\nfrom trainer.__main__ import leave\n"
            "atexit.register(print, 'teardown ran')\nprint('written', end='')\nleave(3)")
    env = {k: v for k, v in os.environ.items() if k != "WORLD_SIZE"}
    ranked = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, "WORLD_SIZE": "2"},
                            capture_output=True, text=True, timeout=120)
    assert (ranked.returncode, ranked.stdout) == (3, "written")
    alone = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert (alone.returncode, alone.stdout) == (3, "writtenteardown ran\n")

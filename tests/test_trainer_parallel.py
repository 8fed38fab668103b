"""Model parallelism under real ``torchrun`` on CPU (gloo): tensor parallelism (TP=2, with and without sequence
parallelism), 2D TP x FSDP2 (with activation checkpointing composed in), pipeline parallelism (PP=2, interleaved
PP=2 x 2 virtual stages, and TP=2 x PP=2 on 4 processes), per-step losses against the single-process run over 20 steps, sharded checkpoints moving
between layouts (TP=2 -> one process and -> PP=2, PP=2 -> one process), the collectives per block that Megatron's
scheme predicts, and bad layouts refused before any work with the fix in the message.

Tolerance: float32 on CPU; a split layout sums the same products in another order, so the per-step losses agree
with the one-process run to a relative 1e-5 (measured: ~1e-7 at first, a few 1e-6 by step 20).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.test_trainer_torchrun import TINY, free_port, launch_env, trainer_shards
from trainer.config import ConfigError, load_config
from trainer.train import train

ROOT = Path(__file__).resolve().parents[1]
STEPS = 20
REL_TOL = 1e-5
# 4 heads (TP=2 holds 2 each), 2 layers, d_model 64, seq 32; a few hundred ids of vocabulary (the shards' 400)
SHAPE = [*TINY, "n_head=4", "d_model=64", "eval_interval=10", f"max_steps={STEPS}", "checkpoint_interval=1000"]
MIX = "web=0.7,kg=0.3"


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    return trainer_shards(tmp_path_factory)


def torchrun(nproc: int, shards: Path, out: Path, *overrides: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "--master_addr=127.0.0.1",
           f"--master_port={free_port()}", "-m", "trainer", "--data", str(shards), "--mix", MIX, "--config", "tiny",
           f"out_dir={out}", "device=cpu", *SHAPE, *overrides]
    return subprocess.run(cmd, cwd=ROOT, env=launch_env(out.parent), capture_output=True, text=True, timeout=300)


def records(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def losses(run_dir: Path) -> dict[int, float]:
    return {r["step"]: r["loss"] for r in records(run_dir) if "loss" in r}


def assert_same_losses(expected: dict[int, float], got: dict[int, float]) -> None:
    assert sorted(got) == sorted(expected) == list(range(1, STEPS + 1))
    for step in expected:
        assert abs(got[step] - expected[step]) <= REL_TOL * abs(expected[step]), (step, expected[step], got[step])


@pytest.fixture(scope="module")
def single(shards, tmp_path_factory) -> Path:
    """The reference: one process, micro-batch 8 (the global batch of every layout below)."""
    out = tmp_path_factory.mktemp("single") / "run"
    cfg = load_config("tiny", [*SHAPE, "device=cpu", "micro_batch_size=8"], data=[str(shards["shards"])], mix=MIX,
                      out_dir=str(out))
    train(cfg, log=lambda *a, **k: None)
    return out


# ---------------------------------------------------------------------------------------------------------
# Layouts refused before any work

def _config(*overrides: str):
    return load_config("tiny", [*SHAPE, "device=cpu", *overrides], data=["/nonexistent/shards"], out_dir="/tmp/x")


def test_heads_not_divisible_by_the_tensor_parallel_degree():
    with pytest.raises(ConfigError, match=r"n_head=4 is not divisible by tensor_parallel=3.*among 1, 2, 4"):
        _config("tensor_parallel=3")


def test_vocabulary_not_divisible_by_the_tensor_parallel_degree():
    with pytest.raises(ConfigError, match=r"vocab_size=402 is not divisible by tensor_parallel=4.*multiple of 4"):
        _config("tensor_parallel=4", "vocab_size=402")
    # left to the shards, the vocabulary is rounded up to a multiple of 64 and of the degree
    assert _config("tensor_parallel=4").model_config(400).vocab_size == 448


def test_more_pipeline_stages_than_layers():
    with pytest.raises(ConfigError, match=r"pipeline_parallel=3 is more stages than the model's n_layer=2 layers"):
        _config("pipeline_parallel=3")


def test_sequence_not_divisible_under_sequence_parallelism():
    with pytest.raises(ConfigError, match=r"seq_len=30 is not divisible by tensor_parallel=4.*sequence_parallel=false"):
        _config("tensor_parallel=4", "seq_len=30")
    _config("tensor_parallel=4", "seq_len=30", "sequence_parallel=false")  # fine without it


def test_world_size_not_the_product_of_the_degrees_fails_before_reading_data():
    """One process asked for tensor_parallel=2: refused before the (nonexistent) shards are opened."""
    with pytest.raises(ConfigError, match=r"1 process\(es\) is not a multiple of tensor_parallel x pipeline_parallel"
                                          r" = 2 x 1 = 2; start a multiple of 2 processes"):
        train(_config("tensor_parallel=2"), log=lambda *a, **k: None)


# ---------------------------------------------------------------------------------------------------------
# Tensor parallelism under torchrun

@pytest.fixture(scope="module")
def tp2(shards, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """TP=2 with sequence parallelism on 2 processes, the same global batch as :func:`single`; a sharded
    checkpoint at step 10 and 20."""
    out = tmp_path_factory.mktemp("tp2") / "run"
    proc = torchrun(2, shards["shards"], out, "tensor_parallel=2", "micro_batch_size=8", "checkpoint_interval=10")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def _check_tensor_parallel_run(single: Path, out: Path, proc: subprocess.CompletedProcess) -> None:
    assert_same_losses(losses(single), losses(out))
    steps = [r for r in records(out) if "loss" in r]
    assert {r["layout"] for r in steps} == {"tp=2 x pp=1 x dp=1"}
    assert proc.stdout.count("| tp=2 x pp=1 x dp=1\n") == STEPS and f"step {STEPS}/{STEPS} | loss" in proc.stdout
    # both tensor-parallel ranks read the same batches: the same loss and token count
    assert all(r["rank_loss"][0] == r["rank_loss"][1] and r["rank_loss_tokens"] == [8 * 32] * 2 for r in steps)
    single_val = [r["val_loss"] for r in records(single) if "val_loss" in r]
    tp_val = [r["val_loss"] for r in records(out) if "val_loss" in r]
    assert len(tp_val) == len(single_val) == 2
    assert all(abs(a - b) <= REL_TOL * a for a, b in zip(single_val, tp_val, strict=True))


@pytest.mark.slow
def test_tensor_parallel_matches_one_process(single, tp2):
    out, proc = tp2
    _check_tensor_parallel_run(single, out, proc)
    assert "tp=2 x pp=1 x dp=1, sequence parallel" in proc.stdout


@pytest.mark.slow
def test_tensor_parallel_without_sequence_parallelism_and_selective_recompute(shards, single, tmp_path):
    out = tmp_path / "tp2"
    proc = torchrun(2, shards["shards"], out, "tensor_parallel=2", "sequence_parallel=false",
                    "activation_checkpointing=selective", "micro_batch_size=8")
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_tensor_parallel_run(single, out, proc)


@pytest.mark.slow
def test_a_tensor_parallel_checkpoint_resumes_as_one_process(shards, single, tp2, tmp_path):
    """The TP=2 run's step-10 checkpoint is shards written by each rank (no model.pt gathered on one); one
    process reads them into whole tensors and continues with the same losses as the one-process run."""
    from trainer.checkpoint import latest_checkpoint, load_model_for_inference, load_tensors

    out, _ = tp2
    step10 = out / "checkpoints" / "step-00000010"
    assert not (step10 / "model.pt").exists() and (step10 / "dcp" / ".metadata").exists()
    assert len(list((step10 / "dcp").glob("*.distcp"))) == 2  # one file of shards per rank
    run = tmp_path / "one"
    shutil.copytree(step10, run / "checkpoints" / "step-00000010")
    cfg = load_config("tiny", [*SHAPE, "device=cpu", "micro_batch_size=8"], data=[str(shards["shards"])], mix=MIX,
                      out_dir=str(run))
    summary = train(cfg, log=lambda *a, **k: None)
    assert summary["start_step"] == 10 and summary["steps"] == STEPS
    expected, got = losses(single), losses(run)
    assert sorted(got) == list(range(11, STEPS + 1))
    for step in got:
        assert abs(got[step] - expected[step]) <= REL_TOL * expected[step], (step, expected[step], got[step])
    # the final TP=2 weights, read as one model, are the one-process run's
    model, facts = load_model_for_inference(str(out))
    assert facts["step"] == STEPS and facts["layout"] == "tp=2 x pp=1 x dp=1"
    reference = load_tensors(latest_checkpoint(str(single)))[0]
    for name, tensor in model.state_dict().items():
        # weights ~0.02; 5e-5 because the key biases have an exactly zero gradient (softmax ignores a shift of
        # the scores), so AdamW turns the rounding noise of either summation order into full-size steps
        assert torch.allclose(tensor, reference[name], rtol=0, atol=5e-5), name


@pytest.mark.slow
def test_two_d_tensor_by_fsdp_matches_one_process(shards, single, tmp_path):
    out = tmp_path / "tp2dp2"
    proc = torchrun(4, shards["shards"], out, "tensor_parallel=2", "parallel=fsdp", "micro_batch_size=4",
                    "activation_checkpointing=full")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_same_losses(losses(single), losses(out))
    steps = [r for r in records(out) if "loss" in r]
    assert {r["layout"] for r in steps} == {"tp=2 x pp=1 x dp=2"}
    for r in steps:  # ranks 0,1 and 2,3 are tensor-parallel pairs reading one batch; the pairs read different ones
        local = r["rank_loss"]
        assert local[0] == local[1] and local[2] == local[3] and local[0] != local[2]


def test_data_parallel_with_tensor_parallel_needs_fsdp():
    from trainer.parallel import LayoutError, make_layout

    with pytest.raises(LayoutError, match="set parallel=fsdp"):
        make_layout(4, 2, 1, n_head=4, n_layer=2, vocab_size=448, seq_len=32, sequence_parallel=True, parallel="ddp")
    layout = make_layout(8, 2, 1, n_head=4, n_layer=2, vocab_size=448, seq_len=32, sequence_parallel=True,
                         parallel="fsdp")
    assert (layout.tp, layout.pp, layout.dp) == (2, 1, 4)


def test_pipeline_layouts_refused_before_any_work():
    with pytest.raises(ConfigError, match=r"grad_accum_steps=1 cannot fill 2 stages; set grad_accum_steps to at "
                                          r"least 2"):
        _config("pipeline_parallel=2")
    with pytest.raises(ConfigError, match=r"FSDP2 is not combined with pipeline parallelism here: set parallel=ddp"):
        _config("pipeline_parallel=2", "grad_accum_steps=2", "parallel=fsdp")
    with pytest.raises(ConfigError, match=r"compile=true is not applied to pipeline stages"):
        _config("pipeline_parallel=2", "grad_accum_steps=2", "compile=true")
    with pytest.raises(ConfigError, match=r"pipeline_parallel=2 x virtual_pipeline_stages=2 = 4 stages is more "
                                          r"than the model's n_layer=2 layers"):
        _config("pipeline_parallel=2", "grad_accum_steps=2", "virtual_pipeline_stages=2")
    with pytest.raises(ConfigError, match=r"grad_accum_steps=5 is not a multiple of its 2 rounds: use a multiple "
                                          r"of 2"):
        _config("pipeline_parallel=2", "grad_accum_steps=5", "virtual_pipeline_stages=2", "n_layer=4")
    _config("pipeline_parallel=2", "grad_accum_steps=2", "tensor_parallel=2")  # 3D-ready: fine


# ---------------------------------------------------------------------------------------------------------
# Pipeline parallelism under torchrun (each run: micro-batch 4 x 2 micro-batches = the global batch of 8 of
# :func:`single`; 4 validation batches of 4 = its 2 of 8, so the validation losses compare too)

PIPELINE = ["micro_batch_size=4", "grad_accum_steps=2", "eval_batches=4"]


def _check_pipeline_run(single: Path, out: Path, proc: subprocess.CompletedProcess, layout: str) -> None:
    """Per-step losses, gradient norms and validation losses of ``single``; every rank logs the same loss (the
    last stage's, sent to the others)."""
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_same_losses(losses(single), losses(out))
    steps = [r for r in records(out) if "loss" in r]
    assert {r["layout"] for r in steps} == {layout} and proc.stdout.count(f"| {layout}\n") == STEPS
    reference = {r["step"]: r["grad_norm"] for r in records(single) if "loss" in r}
    for r in steps:  # the global norm over both stages (the tied embedding once), before clipping; 1e-3: the
        # key-bias gradients, zero in exact arithmetic, are rounding noise whose size follows the summation order
        assert abs(r["grad_norm"] - reference[r["step"]]) <= 1e-3 * reference[r["step"]], r["step"]
        assert len(set(r["rank_loss"])) == 1 and r["rank_loss_tokens"] == [8 * 32] * len(r["rank_loss"])
    single_val = [r["val_loss"] for r in records(single) if "val_loss" in r]
    got_val = [r["val_loss"] for r in records(out) if "val_loss" in r]
    assert len(got_val) == len(single_val) == 2
    assert all(abs(a - b) <= REL_TOL * a for a, b in zip(single_val, got_val, strict=True))


@pytest.fixture(scope="module")
def pp2(shards, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """PP=2 (one block per stage) on 2 processes; sharded checkpoints at steps 10 and 20."""
    out = tmp_path_factory.mktemp("pp2") / "run"
    return out, torchrun(2, shards["shards"], out, "pipeline_parallel=2", *PIPELINE, "checkpoint_interval=10")


def test_pipeline_parallel_matches_one_process(single, pp2):
    out, proc = pp2
    _check_pipeline_run(single, out, proc, "tp=1 x pp=2 x dp=1")
    assert "2 process(es) on cpu, tp=1 x pp=2 x dp=1, 1F1B;" in proc.stdout


@pytest.mark.slow
def test_tensor_by_pipeline_parallel_matches_one_process(shards, single, tmp_path):
    """3D without the data dimension: TP=2 inside each of 2 stages, 4 processes; with full recomputation."""
    out = tmp_path / "tp2pp2"
    proc = torchrun(4, shards["shards"], out, "pipeline_parallel=2", "tensor_parallel=2", *PIPELINE,
                    "activation_checkpointing=full")
    _check_pipeline_run(single, out, proc, "tp=2 x pp=2 x dp=1")


@pytest.mark.slow
def test_interleaved_pipeline_matches_one_process(shards, tmp_path):
    """Interleaved 1F1B: 4 layers as 4 stages, 2 per rank (rank 0 holds blocks 0 and 2, rank 1 blocks 1 and 3,
    with the embedding copy), over 10 steps against one process of the same 4-layer shape."""
    shape = ["n_layer=4", "max_steps=10", *PIPELINE]
    reference = tmp_path / "one"
    train(load_config("tiny", [*SHAPE, "device=cpu", *shape], data=[str(shards["shards"])], mix=MIX,
                      out_dir=str(reference)), log=lambda *a, **k: None)
    out = tmp_path / "interleaved"
    proc = torchrun(2, shards["shards"], out, *shape, "pipeline_parallel=2", "virtual_pipeline_stages=2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "tp=1 x pp=2 x dp=1, interleaved 1F1B (2 stages per rank)" in proc.stdout
    expected, got = losses(reference), losses(out)
    assert sorted(got) == sorted(expected) == list(range(1, 11))
    for step in expected:
        assert abs(got[step] - expected[step]) <= REL_TOL * expected[step], (step, expected[step], got[step])


def _resume(shards, checkpoint: Path, run: Path, nproc: int, *overrides: str) -> None:
    """Continue ``checkpoint`` in a fresh run directory: in this process, or under torchrun."""
    shutil.copytree(checkpoint, run / "checkpoints" / checkpoint.name)
    if nproc == 1:
        cfg = load_config("tiny", [*SHAPE, "device=cpu", *overrides], data=[str(shards["shards"])], mix=MIX,
                          out_dir=str(run))
        assert train(cfg, log=lambda *a, **k: None)["start_step"] == 10
    else:
        proc = torchrun(nproc, shards["shards"], run, *overrides)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "resuming from" in proc.stdout


def _assert_continues(single: Path, run: Path) -> None:
    expected, got = losses(single), losses(run)
    assert sorted(got) == list(range(11, STEPS + 1))
    for step in got:
        assert abs(got[step] - expected[step]) <= REL_TOL * expected[step], (step, expected[step], got[step])


def test_a_pipeline_checkpoint_resumes_as_one_process(shards, single, pp2, tmp_path):
    """Each stage wrote its own shards (the embedding and its last-stage copy under one name); one process
    reads them as the whole model and continues with the one-process run's losses."""
    from trainer.checkpoint import latest_checkpoint, load_model_for_inference, load_tensors

    out, proc = pp2
    assert proc.returncode == 0, proc.stderr[-3000:]
    step10 = out / "checkpoints" / "step-00000010"
    assert len(list((step10 / "dcp").glob("*.distcp"))) == 2
    _resume(shards, step10, tmp_path / "one", 1, "micro_batch_size=8")
    _assert_continues(single, tmp_path / "one")
    model, facts = load_model_for_inference(str(out))
    assert facts["layout"] == "tp=1 x pp=2 x dp=1"
    reference = load_tensors(latest_checkpoint(str(single)))[0]
    for name, tensor in model.state_dict().items():  # atol: see the tensor-parallel test above
        assert torch.allclose(tensor, reference[name], rtol=0, atol=5e-5), name


@pytest.mark.slow
def test_a_tensor_parallel_checkpoint_resumes_as_pipeline_parallel(shards, single, tp2, tmp_path):
    """The TP=2 run's step-10 shards (vocabulary-split embedding, head-split blocks) continue as two pipeline
    stages, each reading whole tensors of its own blocks."""
    out, _ = tp2
    _resume(shards, out / "checkpoints" / "step-00000010", tmp_path / "pp", 2, "pipeline_parallel=2", *PIPELINE)
    _assert_continues(single, tmp_path / "pp")


def test_pipeline_stages_keep_the_whole_models_names():
    """Stage parameters are named as in the whole model (block indices kept), the embedding on the first stage
    and copied to the last, whose LM head is tied to it; blocks split as evenly as possible."""
    from trainer.model import GPT, GPTConfig
    from trainer.pipeline import GPTStage, stage_layers

    assert [list(r) for r in stage_layers(5, 3)] == [[0, 1], [2, 3], [4]]
    assert [list(r) for r in stage_layers(4, 4)] == [[0], [1], [2], [3]]
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=64, n_layer=3, n_head=2, d_model=16, seq_len=8))
    whole = model.state_dict()
    stages = [GPTStage(model, [s], 2) for s in range(2)]
    names = [set(stage.state_dict()) for stage in stages]
    assert names[0] | names[1] == set(whole)
    assert {n.split(".")[1] for n in names[0] if n.startswith("blocks.")} == {"0", "1"}
    assert {n.split(".")[1] for n in names[1] if n.startswith("blocks.")} == {"2"}
    assert "wte.weight" in names[0] & names[1] and "wpe.weight" not in names[1] and "ln_f.weight" not in names[0]
    assert stages[1].lm_head.weight is stages[1].wte.weight and stages[1].holds_embedding_copy
    # the two stages run in sequence are the whole model
    x = torch.randint(0, 64, (2, 8))
    assert torch.allclose(stages[1](stages[0](x)), model(x)[0])


# ---------------------------------------------------------------------------------------------------------
# Collectives per block (run as a torchrun script: see count_block_collectives)

def count_block_collectives(sequence_parallel: bool) -> dict:
    """On 2 tensor-parallel ranks, the collectives of one forward and one backward pass of a 1-layer and a
    2-layer GPT; the difference is what one block issues."""
    import torch
    import torch.distributed as dist

    from trainer.collectives import CollectiveCounter
    from trainer.model import GPT, GPTConfig
    from trainer.parallel import Layout, apply_tensor_parallel, build_mesh, loss_context

    dist.init_process_group("gloo")
    mesh = build_mesh(Layout(tp=2), "cpu")
    counts = {}
    for n_layer in (1, 2):
        torch.manual_seed(0)
        model = GPT(GPTConfig(vocab_size=256, n_layer=n_layer, n_head=4, d_model=64, seq_len=32))
        apply_tensor_parallel(model, mesh["tp"], sequence_parallel)
        x = torch.randint(0, 256, (2, 32))
        with loss_context(2):
            with CollectiveCounter() as forward:
                _, loss = model(x, x)
            with CollectiveCounter() as backward:
                loss.backward()
        counts[n_layer] = {"forward": dict(forward.counts), "backward": dict(backward.counts)}
    return {phase: {name: counts[2][phase].get(name, 0) - counts[1][phase].get(name, 0)
                    for name in set(counts[2][phase]) | set(counts[1][phase])}
            for phase in ("forward", "backward")}


@pytest.mark.parametrize("sequence_parallel", [False, True])
def test_collectives_per_block_are_megatrons(tmp_path, sequence_parallel):
    """Megatron: each block has two tensor-parallel regions (attention, MLP), each with one all-reduce in the
    forward pass (after the row-parallel projection) and one in the backward pass (its conjugate, before the
    column-parallel one). With sequence parallelism each all-reduce becomes an all-gather plus a reduce-scatter."""
    out = tmp_path / "counts.json"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
           f"--master_port={free_port()}", str(Path(__file__)), str(out), str(sequence_parallel)]
    proc = subprocess.run(cmd, cwd=ROOT, env=launch_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    per_block = json.loads(out.read_text())
    nonzero = {phase: {k: v for k, v in c.items() if v} for phase, c in per_block.items()}
    if sequence_parallel:
        expected = {"all_gather_into_tensor": 2, "reduce_scatter_tensor": 2}
    else:
        expected = {"all_reduce": 2}
    assert nonzero == {"forward": expected, "backward": expected}


if __name__ == "__main__":  # torchrun tests/test_trainer_parallel.py OUT.json SEQUENCE_PARALLEL
    sys.path.insert(0, str(ROOT))
    result = count_block_collectives(sys.argv[2] == "True")
    if os.environ.get("RANK") == "0":
        Path(sys.argv[1]).write_text(json.dumps(result))
    import torch.distributed as dist

    dist.barrier()  # both ranks are done with the group
    # Leave without tearing the gloo groups down: a rank destroying them (or exiting with them alive)
    # aborted now and then in CI ("terminate called without an active exception") with its peer alive,
    # after the counts were taken; what this script checks is the counts.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)

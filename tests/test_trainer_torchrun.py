"""Real ``torchrun --nproc_per_node=2`` runs of the trainer on CPU (gloo) on shards built here with the real
tokenizer and tokenize job: the loss all-reduce, resume after ``kill -9`` with losses equal to an uninterrupted
run, and resuming with another process count (same global order, or a clear refusal).

Also home of :func:`trainer_shards`, the shard fixture the other trainer tests share.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from pipeline.schema import CORPUS_SCHEMA

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("river stone light north garden paper music winter market signal harbor forest letter engine cloud "
         "bridge silver morning window station valley number theory island school history animal ocean").split()


def _texts(source: str, n: int, seed: int) -> list[tuple[str, str]]:
    """Varied, deterministic English-like documents (a few sentences each), with their meta (JSON)."""
    import random

    from pipeline.markup import SPECIAL_SPANS, Marker, join_with_markers

    rng = random.Random(f"{source}-{seed}")
    out = []
    for i in range(n):
        sentences = []
        for _ in range(2 + i % 5):
            words = [rng.choice(WORDS) for _ in range(5 + rng.randrange(8))]
            sentences.append(" ".join(words).capitalize() + ".")
        text, meta = f"{source} {i}: " + " ".join(sentences), {}
        if source == "web":  # a passage <|sep|> query pair, as the doc2query corpus writes them (prefix-lm):
            # the separator is a marker by construction (meta special_spans); its spelling in text stays text
            query = " ".join(rng.choice(WORDS) for _ in range(3))
            text, spans = join_with_markers([text + " ", Marker("<|sep|>"), " " + query])
            meta = {SPECIAL_SPANS: spans}
        out.append((text, json.dumps(meta)))
    return out


def _write_corpus(directory: Path, source: str, texts: list[tuple[str, str]]) -> Path:
    data = directory / "data"
    data.mkdir(parents=True)
    table = pa.table({"id": [f"{source}-{i:05d}" for i in range(len(texts))], "text": [t for t, _ in texts],
                      "source": [source] * len(texts), "url": [None] * len(texts), "lang": ["en"] * len(texts),
                      "lang_score": [1.0] * len(texts), "meta": [m for _, m in texts]}, schema=CORPUS_SCHEMA)
    pq.write_table(table, data / "part-00000-of-00001.parquet")
    return directory


def build_shards(root: Path) -> dict[str, Path]:
    """Two corpora (web, kg) -> a byte-level BPE tokenizer (with FIM, mask and separator tokens) -> token
    shards with a val split, all through the project's own tokenizer trainer and tokenize job."""
    from corpora.tokenize import TokenizeConfig, run_tokenize
    from tokenizer.train import TrainConfig, train

    web = _write_corpus(root / "web", "web", _texts("web", 300, 0))
    kg = _write_corpus(root / "kg", "kg", _texts("kg", 120, 1))
    tok = root / "tok"
    train(TrainConfig(inputs=[str(web), str(kg)], output=str(tok), model="bpe", vocab_size=400, fim=True,
                      special_tokens=["<|mask|>", "<|sep|>"], show_progress=False), log=None)
    shards = root / "shards"
    run_tokenize(TokenizeConfig([web, kg], tok, shards, shard_tokens=4000, val_fraction=0.1),
                 ["--direct_num_workers=1", "--direct_running_mode=in_memory"], quiet=True)
    return {"shards": shards, "tokenizer": tok, "web": web, "kg": kg}


def trainer_shards(tmp_path_factory) -> dict[str, Path]:
    """Shards shared by every trainer test module of the session (built once)."""
    root = tmp_path_factory.getbasetemp() / "trainer-shards"
    if not (root / "shards" / "manifest.json").exists():
        if root.exists():
            shutil.rmtree(root)
        root.mkdir()
        return build_shards(root)
    return {"shards": root / "shards", "tokenizer": root / "tok", "web": root / "web", "kg": root / "kg"}


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    return trainer_shards(tmp_path_factory)


# ---------------------------------------------------------------------------------------------------------

TINY = ["n_layer=2", "n_head=2", "d_model=32", "seq_len=32", "micro_batch_size=4", "warmup_steps=2",
        "lr=3e-3", "log_interval=1", "eval_interval=4", "eval_batches=2", "progress=false", "threads=1"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_env(scratch: Path) -> dict[str, str]:
    """A torchrun's environment under test: one thread per process, the repository importable, and TMPDIR in
    the test's own folder (torchrun leaves a ``torchelastic_*`` log folder in TMPDIR per run, never removed)."""
    assert scratch.is_dir(), scratch  # else tempfile would fall back to /tmp
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "TMPDIR": str(scratch)}


def torchrun(nproc: int, shards: Path, out: Path, *overrides: str, wait: bool = True, delay: float = 0.0):
    """``torchrun --nproc_per_node=nproc -m trainer`` on CPU with the tiny shape; returns the process."""
    # with a delay, tests.trainer_slow_steps wraps the trainer's step in a pause (the trainer reads no such hook)
    program = ["tests.trainer_slow_steps", str(delay)] if delay else ["trainer"]
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "--master_addr=127.0.0.1",
           f"--master_port={free_port()}", "-m", *program, "--data", str(shards), "--mix", "web=0.7,kg=0.3",
           "--config", "tiny", f"out_dir={out}", "device=cpu", *TINY, *overrides]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=launch_env(out.parent), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    if wait:
        out_text, err_text = proc.communicate(timeout=120)
        proc.stdout_text, proc.stderr_text = out_text, err_text
    return proc


def losses(run_dir: Path) -> dict[int, float]:
    out = {}
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        if "loss" in record:
            out[record["step"]] = record["loss"]
    return out


STEPS = 8


@pytest.fixture(scope="module")
def straight(shards, tmp_path_factory) -> Path:
    """An uninterrupted 2-process run of 8 steps, checkpointing every 2 steps."""
    out = tmp_path_factory.mktemp("straight") / "run"
    proc = torchrun(2, shards["shards"], out, f"max_steps={STEPS}", "checkpoint_interval=2")
    assert proc.returncode == 0, proc.stderr_text[-3000:]
    assert proc.stdout_text.count(f"step {STEPS}/{STEPS} |") == 1  # rank 0 alone prints the step lines
    return out


def test_two_processes_all_reduce_the_loss(straight):
    records = [json.loads(line) for line in (straight / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in records if "loss" in r]
    assert [r["step"] for r in steps] == list(range(1, STEPS + 1))
    for r in steps:
        local, reduced = r["rank_loss"], r["rank_reduced_loss"]
        assert len(local) == 2 and local[0] != local[1]  # each rank trains on its own samples
        # every rank holds the same all-reduced loss, the per-token mean of the ranks' losses, and rank 0 logs it
        assert reduced[0] == reduced[1] == r["loss"]
        tokens = r["rank_loss_tokens"]
        assert tokens == [4 * 32, 4 * 32] and r["loss_tokens"] == sum(tokens)  # clm: every position counts
        assert abs(r["loss"] - (local[0] * tokens[0] + local[1] * tokens[1]) / sum(tokens)) < 1e-6
    assert [r["step"] for r in records if "val_loss" in r] == [4, 8]
    assert steps[-1]["loss"] < steps[0]["loss"]
    assert (straight / "checkpoints" / f"step-{STEPS:08d}" / "state.pt").exists()


def test_kill_9_then_resume_matches_an_uninterrupted_run(shards, straight, tmp_path):
    killed = tmp_path / "killed"
    proc = torchrun(2, shards["shards"], killed, f"max_steps={STEPS}", "checkpoint_interval=2", delay=0.3,
                    wait=False)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not (killed / "checkpoints" / "step-00000004").exists():
        time.sleep(0.05)
    time.sleep(0.4)  # mid-way between checkpoints
    os.killpg(proc.pid, signal.SIGKILL)  # torchrun and both workers, no clean-up
    proc.wait()
    assert not (killed / "checkpoints" / f"step-{STEPS:08d}").exists()
    proc = torchrun(2, shards["shards"], killed, f"max_steps={STEPS}", "checkpoint_interval=2")
    assert proc.returncode == 0, proc.stderr_text[-3000:]
    assert "resuming from" in proc.stdout_text
    a, b = losses(straight), losses(killed)
    assert sorted(b) == list(range(1, STEPS + 1))
    assert a == b  # exactly equal per-step losses, before and after the resume


def test_resume_with_one_process_continues_the_global_order(shards, straight, tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    shutil.copytree(straight / "checkpoints" / "step-00000004", run / "checkpoints" / "step-00000004")
    shutil.copy(straight / "metrics.jsonl", run / "metrics.jsonl")
    # one process with twice the micro-batch: the same global batch, so the same samples in the same order
    proc = torchrun(1, shards["shards"], run, f"max_steps={STEPS}", "checkpoint_interval=2", "micro_batch_size=8")
    assert proc.returncode == 0, proc.stderr_text[-3000:]
    assert "trained with 2 processes" in proc.stdout_text
    a, b = losses(straight), losses(run)
    assert sorted(b) == list(range(1, STEPS + 1))
    for step in range(5, STEPS + 1):  # same data; the summation order differs, so equal up to rounding
        assert abs(a[step] - b[step]) < 1e-4


def test_resume_with_another_global_batch_is_refused(shards, straight, tmp_path, capsys):
    from trainer.__main__ import main

    run = tmp_path / "run"
    shutil.copytree(straight / "checkpoints", run / "checkpoints")
    code = main(["--data", str(shards["shards"]), "--mix", "web=0.7,kg=0.3", "--config", "tiny", f"out_dir={run}",
                 "device=cpu", *TINY, f"max_steps={STEPS + 2}"])
    assert code == 2
    err = capsys.readouterr().err
    assert "global batch of 8 samples" in err and "4 x 1 x 1 = 4" in err and "micro_batch_size" in err


def test_fsdp2_continues_a_ddp_checkpoint(shards, straight, tmp_path):
    """Checkpoints hold full state dicts keyed by name: a DDP run continues under FSDP2 (sharded parameters,
    gradients and AdamW state) and trains as DDP does; what FSDP2 saves loads unsharded in one process."""
    from trainer.checkpoint import latest_checkpoint, load_model_for_inference, load_tensors

    fsdp = tmp_path / "fsdp"
    (fsdp / "checkpoints").mkdir(parents=True)
    shutil.copytree(straight / "checkpoints" / "step-00000004", fsdp / "checkpoints" / "step-00000004")
    proc = torchrun(2, shards["shards"], fsdp, f"max_steps={STEPS}", "checkpoint_interval=4", "parallel=fsdp")
    assert proc.returncode == 0, proc.stderr_text[-3000:]
    assert "fsdp" in proc.stdout_text and "resuming from" in proc.stdout_text
    ddp_losses, fsdp_losses = losses(straight), losses(fsdp)
    assert sorted(fsdp_losses) == list(range(5, STEPS + 1))
    for step in fsdp_losses:  # the same samples and optimizer state: equal up to summation order
        assert abs(ddp_losses[step] - fsdp_losses[step]) < 1e-4
    model, facts = load_model_for_inference(str(fsdp))
    assert facts["step"] == STEPS
    ddp_final = load_tensors(latest_checkpoint(str(straight)))[0]
    for name, tensor in model.state_dict().items():
        assert torch.allclose(tensor, ddp_final[name], atol=1e-4), name

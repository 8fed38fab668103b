"""Benchmark: the trainer's throughput, side by side with its references, in one run.

Run from the repository root::

    python bench/train.py                        # small GPT on CPU, every available core
    python bench/train.py --threads 2 --d-model 256 --n-layer 4 --seq-len 256 --steps 20
    python bench/train.py --gpu-steps 30         # on a GPU machine: the 124M row too

Rows (same model shape, micro-batch, sequence length and torch threads for the CPU rows):

(a) **loader vs trainer**: input tokens per second ``TrainLoader`` delivers to one rank
    (``bench/train_loader.py``'s ``loader_throughput``) against the tokens per second the trainer
    consumes at the same settings; the goal is >= 50x (the loader never starves training).
(b) **CPU training**: tokens/s of the real loop (``trainer.train.Trainer.run``: loader, forward,
    backward, clipping, fused AdamW, schedule, logging, the final checkpoint; one process, fp32)
    over ``--steps`` steps after as many warm-up steps of the same run, against Hugging Face ``transformers`` ``GPT2LMHeadModel`` (same
    shape, tanh-GELU, SDPA attention, no dropout) in a plain PyTorch loop (forward, backward,
    clipping, AdamW) on batches prepared in memory beforehand, after as many warm-up steps. Both
    per wall second and per CPU second of this process (the latter is steadier on a shared
    machine); best of ``--repeat`` alternating runs; the goal is >= 1.0.
(c) **GPU**: the 124M preset at sequence length 1024 in bf16 (``torch.compile``), tokens/s and MFU
    (6N + attention FLOPs per token over the GPU's dense bf16 peak from ``trainer.train.PEAK_FLOPS``);
    the goal is MFU >= 40%. Prints "no GPU" without one.

``--layouts`` measures the model-parallel layouts instead (``trainer/parallel.py``, ``trainer/pipeline.py``):
each a real ``python -m trainer`` run (``torchrun`` for several processes) at the same shape and global batch
(16 sequences: micro-batches x data-parallel ranks x accumulation), tokens/s of its last logging window and each
rank's peak memory from ``metrics.jsonl`` (resident set on the CPU, interpreter and libraries included; allocated
tensors on a GPU). CPU: one process, TP=2, PP=2 (1F1B over 2 micro-batches), TP=2 x DP=2 (FSDP2) with
``--threads`` torch threads per process. GPU (only with CUDA): the 1.3B preset at sequence length 2048 in bf16,
TP=2 on two GPUs or one process on one, with MFU and HFU.

Shards: random documents written by ``bench/train_loader.py``'s ``make_bench_shards`` (two
sources, a 600-id BPE tokenizer). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import torch  # noqa: E402

LIBRARIES = ("torch", "transformers", "numpy")


def _config(shards: str, out_dir: str, args, steps: int, device: str, preset: str | None, extra: tuple[str, ...]):
    from trainer.config import load_config

    shape = [f"preset={preset}"] if preset else ["preset=null", f"n_layer={args.n_layer}", f"n_head={args.n_head}",
                                                 f"d_model={args.d_model}", f"max_seq_len={args.seq_len}"]
    seq_len, batch = (args.seq_len, args.micro_batch_size) if device == "cpu" else (1024, args.gpu_batch)
    return load_config(None, [*shape, f"seq_len={seq_len}", f"micro_batch_size={batch}", f"max_steps={steps}",
                              f"log_interval={max(1, steps // 2)}", f"decay_steps={steps}", "eval_batches=0",
                              "checkpoint_interval=100000",
                              "keep_checkpoints=1", "progress=false", "resume=never", "warmup_steps=2",
                              f"device={device}", *extra], data=[shards], out_dir=out_dir)


def _timed_run(cfg, warm_steps: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the training loop's steps after ``warm_steps`` (set-up and warm-up excluded):
    the same Trainer runs to ``warm_steps``, then on to ``cfg.max_steps`` under the clock."""
    from trainer.distributed import init_distributed
    from trainer.train import Trainer

    total = cfg.max_steps
    cfg.max_steps = warm_steps
    trainer = Trainer(cfg, init_distributed(cfg.device), log=lambda *a, **k: None)
    trainer.run()
    trainer.cfg.max_steps = total
    wall, cpu = time.perf_counter(), time.process_time()
    trainer.run()
    return time.perf_counter() - wall, time.process_time() - cpu


def ours_tokens_per_s(shards: str, tmp: str, args) -> tuple[float, float]:
    """Steady (wall, CPU) tokens/s of our training loop on CPU over ``--steps`` steps after as many warm-up
    steps (the timed part ends with the run's final checkpoint, as a real run does)."""
    cfg = _config(shards, os.path.join(tmp, "run"), args, 2 * args.steps, "cpu", None, ())
    wall, cpu = _timed_run(cfg, args.steps)
    tokens = args.steps * args.micro_batch_size * args.seq_len
    return tokens / wall, tokens / cpu


def gpu_row(shards: str, tmp: str, args) -> dict:
    """124M at seq 1024, bf16, compiled: tokens/s and MFU of the last logging window of 2 x gpu_steps steps."""
    cfg = _config(shards, os.path.join(tmp, "gpu"), args, 2 * args.gpu_steps, "cuda", "124M",
                  ("vocab_size=50304", "compile=true", "dtype=bf16"))
    _timed_run(cfg, args.gpu_steps)
    with open(os.path.join(cfg.out_dir, "metrics.jsonl")) as fh:
        last = [json.loads(line) for line in fh if '"loss"' in line][-1]
    return {"tokens_per_s": last["tokens_per_s"], "mfu": last["mfu"]}


def hf_tokens_per_s(args, vocab_size: int) -> tuple[float, float]:
    """Steady (wall, CPU) tokens/s of GPT2LMHeadModel in a plain PyTorch loop at the same shape, batch and threads."""
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(vocab_size=vocab_size, n_positions=args.seq_len, n_embd=args.d_model, n_layer=args.n_layer,
                        n_head=args.n_head, activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0,
                        attn_pdrop=0.0, use_cache=False, bos_token_id=0, eos_token_id=0,
                        attn_implementation="sdpa")
    torch.manual_seed(0)
    model = GPT2LMHeadModel(config).train()
    assert model.config._attn_implementation == "sdpa"
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "wte" not in n and "wpe" not in n]
    other = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "wte" not in n and "wpe" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=6e-4, betas=(0.9, 0.95))
    g = torch.Generator().manual_seed(0)
    batches = [torch.randint(0, 600, (args.micro_batch_size, args.seq_len + 1), generator=g)
               for _ in range(2 * args.steps)]

    def step(batch: torch.Tensor) -> None:
        out = model(input_ids=batch[:, :-1], labels=batch[:, :-1])  # HF shifts labels inside
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        out.loss.item()  # a plain loop reads its loss every step (free on the CPU, where both rows run)

    for batch in batches[: args.steps]:  # warm-up
        step(batch)
    wall, cpu = time.perf_counter(), time.process_time()
    for batch in batches[args.steps:]:
        step(batch)
    tokens = args.steps * args.micro_batch_size * args.seq_len
    return tokens / (time.perf_counter() - wall), tokens / (time.process_time() - cpu)


# name, processes, settings: the same global batch of 16 sequences in every layout
LAYOUTS = [
    ("1 process", 1, ("micro_batch_size=8", "grad_accum_steps=2")),
    ("TP=2", 2, ("tensor_parallel=2", "micro_batch_size=8", "grad_accum_steps=2")),
    ("PP=2", 2, ("pipeline_parallel=2", "micro_batch_size=8", "grad_accum_steps=2")),
    ("TP=2 x DP=2", 4, ("tensor_parallel=2", "parallel=fsdp", "micro_batch_size=4", "grad_accum_steps=2")),
]


def layout_run(shards: str, out_dir: str, nproc: int, settings: list[str], threads: int | None) -> dict:
    """One ``python -m trainer`` run (under ``torchrun`` for several processes); its last logged step."""
    import subprocess

    from tests.test_trainer_torchrun import free_port

    program = ["-m", "trainer"]
    if nproc > 1:
        program = ["-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "--master_addr=127.0.0.1",
                   f"--master_port={free_port()}", *program]
    env = {**os.environ, "PYTHONPATH": REPO_ROOT, "OMP_NUM_THREADS": str(threads or 1)}
    cmd = [sys.executable, *program, "--data", shards, f"out_dir={out_dir}", "progress=false", "eval_batches=0",
           "checkpoint_interval=100000", "resume=never", "warmup_steps=2", *settings]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{shlex.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    with open(os.path.join(out_dir, "metrics.jsonl")) as fh:
        return [json.loads(line) for line in fh if '"loss"' in line][-1]


def layout_rows(shards: str, tmp: str, args) -> list[tuple]:
    """(layout, processes, tokens/s, per-rank peak memory) on the CPU, fp32."""
    shape = ["preset=null", f"n_layer={args.n_layer}", f"n_head={args.n_head}", f"d_model={args.d_model}",
             f"max_seq_len={args.seq_len}", f"seq_len={args.seq_len}", f"max_steps={2 * args.layout_steps}",
             f"log_interval={args.layout_steps}", "device=cpu", f"threads={args.threads or 1}"]
    rows = []
    for name, nproc, settings in LAYOUTS:
        last = layout_run(shards, os.path.join(tmp, f"layout-{nproc}-{len(rows)}"), nproc, [*shape, *settings],
                          args.threads)
        memory = ", ".join(f"{m:.2f}" for m in last["rank_peak_memory_gb"])
        rows.append((name, nproc, f"{last['tokens_per_s']:,.0f}", memory, f"{last['loss']:.4f}"))
    return rows


def gpu_layout_row(shards: str, tmp: str, args) -> tuple:
    """The 1.3B preset at seq 2048 in bf16: TP=2 on two GPUs, else one process on one."""
    nproc = 2 if torch.cuda.device_count() >= 2 else 1
    settings = ["preset=1.3B", "seq_len=2048", "vocab_size=50304", "dtype=bf16", "device=cuda",
                f"micro_batch_size={args.gpu_layout_batch}", "grad_accum_steps=1",
                f"max_steps={2 * args.gpu_steps}", f"log_interval={args.gpu_steps}",
                f"activation_checkpointing={args.gpu_checkpointing}", *(["tensor_parallel=2"] if nproc == 2 else [])]
    last = layout_run(shards, os.path.join(tmp, "gpu-layout"), nproc, settings, None)
    mfu = "n/a" if last["mfu"] is None else f"{last['mfu']:.1%} (HFU {last['hfu']:.1%})"
    memory = ", ".join(f"{m:.1f}" for m in last["rank_peak_memory_gb"])
    return (f"1.3B {'TP=2' if nproc == 2 else '1 GPU'}, {torch.cuda.get_device_name()}", nproc,
            f"{last['tokens_per_s']:,.0f}", memory, f"MFU {mfu}")


def print_table(header: tuple, rows: list[tuple]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


def main_layouts(args) -> None:
    from bench.train_loader import make_bench_shards

    print(f"layouts: n_layer {args.n_layer}, n_head {args.n_head}, d_model {args.d_model}, seq_len {args.seq_len}, "
          f"global batch 16, fp32, {args.layout_steps} timed steps after {args.layout_steps}, torch threads "
          f"{args.threads or 1} per process")
    with tempfile.TemporaryDirectory(prefix="bench-layouts-") as tmp:
        shards = make_bench_shards(tmp, args.tokens)
        rows = layout_rows(shards, tmp, args)
        gpu = gpu_layout_row(shards, tmp, args) if torch.cuda.is_available() else None
    print()
    print_table(("layout (CPU)", "processes", "tok/s", "peak memory per rank, GiB (RSS)", "last loss"), rows)
    if gpu:
        print()
        print_table(("layout (GPU)", "processes", "tok/s", "peak memory per rank, GiB", "MFU"), [gpu])
    else:
        print("\nGPU layout row (1.3B, bf16): no GPU")
    from bench.common import load_average

    print(f"load after: {load_average()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-layer", type=int, default=4)
    parser.add_argument("--n-head", type=int, default=4)
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--micro-batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=15, help="timed steps (after as many warm-up steps)")
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs of ours and HF; best kept")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--tokens", type=int, default=1_000_000, help="tokens per generated source")
    parser.add_argument("--loader-seconds", type=float, default=2.0)
    parser.add_argument("--gpu-steps", type=int, default=20)
    parser.add_argument("--gpu-batch", type=int, default=16, help="micro-batch of the 124M GPU row")
    parser.add_argument("--layouts", action="store_true", help="measure the model-parallel layouts instead")
    parser.add_argument("--layout-steps", type=int, default=4, help="timed steps per layout (after as many)")
    parser.add_argument("--gpu-layout-batch", type=int, default=4, help="micro-batch of the 1.3B GPU row")
    parser.add_argument("--gpu-checkpointing", default="selective", help="activation checkpointing, 1.3B row")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from bench.common import library_versions, load_average, usable_cores
    from bench.train_loader import loader_throughput, make_bench_shards

    print(f"command: python {shlex.join(['bench/train.py'] + (argv if argv is not None else sys.argv[1:]))}")
    print(f"machine: {platform.platform()}, Python {platform.python_version()}, cores {usable_cores()}, "
          f"load {load_average()}, torch threads {torch.get_num_threads()}")
    print("libraries: " + ", ".join(f"{k} {v}" for k, v in library_versions(LIBRARIES).items()))
    if args.layouts:
        main_layouts(args)
        return
    print(f"shape: n_layer {args.n_layer}, n_head {args.n_head}, d_model {args.d_model}, seq_len {args.seq_len}, "
          f"micro-batch {args.micro_batch_size}, fp32, {args.steps} timed steps after {args.steps} warm-up")
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        shards = make_bench_shards(tmp, args.tokens)
        vocab = _config(shards, tmp, args, 10, "cpu", None, ()).model_config(600).vocab_size
        ours, hf = [], []
        for r in range(args.repeat):  # alternating, so drifting load hits both
            ours.append(ours_tokens_per_s(shards, os.path.join(tmp, f"ours-{r}"), args))
            hf.append(hf_tokens_per_s(args, vocab))
        trainer_wall, trainer_cpu = max(x[0] for x in ours), max(x[1] for x in ours)
        hf_wall, hf_cpu = max(x[0] for x in hf), max(x[1] for x in hf)
        loader_rate = loader_throughput([shards], args.seq_len, args.micro_batch_size, args.loader_seconds)

        gpu = "no GPU"
        if torch.cuda.is_available():
            result = gpu_row(shards, tmp, args)
            name = torch.cuda.get_device_name()
            mfu = f"{result['mfu']:.1%}" if result["mfu"] is not None else "n/a (GPU not in PEAK_FLOPS)"
            gpu = f"{result['tokens_per_s']:,.0f} tok/s, MFU {mfu} ({name}, micro-batch {args.gpu_batch})"

    rows = [
        ("loader tok/s per rank vs trainer consumption", f"{loader_rate:,.0f}", f"{trainer_wall:,.0f}",
         f"{loader_rate / trainer_wall:,.0f}x", ">= 50x"),
        ("CPU training tok/s (wall): ours vs HF GPT2LMHeadModel", f"{trainer_wall:,.0f}", f"{hf_wall:,.0f}",
         f"{trainer_wall / hf_wall:.2f}", ">= 1.0"),
        ("CPU training tok/s (per CPU second): ours vs HF", f"{trainer_cpu:,.0f}", f"{hf_cpu:,.0f}",
         f"{trainer_cpu / hf_cpu:.2f}", ">= 1.0"),
        ("GPU 124M seq 1024 bf16", gpu, "", "", "MFU >= 40%"),
    ]
    print()
    print_table(("measure", "ours", "reference", "ratio", "goal"), rows)
    print("\nruns (wall / CPU tok/s): ours " + ", ".join(f"{w:,.0f} / {c:,.0f}" for w, c in ours)
          + "; HF " + ", ".join(f"{w:,.0f} / {c:,.0f}" for w, c in hf))
    print(f"load after: {load_average()}")


if __name__ == "__main__":
    main()

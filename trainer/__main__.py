"""Command line: ``python -m trainer [train] ...`` (or ``torchrun ... -m trainer``), ``plan`` and ``plot``."""

from __future__ import annotations

import argparse
import os
import sys

TRAIN_HELP = """\
Train (or resume) a GPT on token shards. One process: python -m trainer ...; several:
torchrun --nproc_per_node=N -m trainer ... (gloo on CPU, nccl on GPU). Settings come from
--config (a YAML file or a bundled name: tiny, 124M, 350M, 1.3B), then key=value overrides.
A run resumes from the latest checkpoint in out_dir unless resume=never.

examples:
  python -m trainer --data out/shards --config tiny out_dir=runs/tiny max_steps=200
  torchrun --nproc_per_node=2 -m trainer --data out/web-shards --data out/kg-shards \\
      --mix web=0.8,kg=0.2 --config 124M out_dir=runs/124M lr=6e-4 grad_accum_steps=4
  python -m trainer --data out/shards --config tiny objective=mlm out_dir=runs/mlm"""

PLAN_HELP = """\
Compute-optimal model size and tokens (Chinchilla: ~20 tokens per parameter, C = 6ND); or, with --gpus or
--model, a parallel layout (tensor x pipeline x data, micro-batch, activation checkpointing) that fits the
GPUs' memory, with the arithmetic.

examples:
  python -m trainer plan --tokens 2.5e9
  python -m trainer plan --flops 1e20
  python -m trainer plan --tokens 1e9 --preset 350M     (warns: far from compute-optimal)
  python -m trainer plan --model megatron-8.3b           (published shapes: megatron-8.3b, mt-nlg-530b)
  python -m trainer plan --preset 1.3B --gpus 8 --gpu-memory 80 --global-batch 512"""

PLOT_HELP = """\
Plot a run's train/val loss and learning rate from RUN_DIR/metrics.jsonl.

example:
  python -m trainer plot runs/tiny -o loss.png"""


def train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m trainer", description=TRAIN_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", action="append", metavar="DIR",
                   help="token-shard directory with manifest.json (local or s3://, gs://); repeat for several")
    p.add_argument("--mix", metavar="NAME=W,...", help="sampling weights by source, e.g. web=0.8,kg=0.2 "
                   "(default: in proportion to tokens)")
    p.add_argument("--config", metavar="YAML", help="config file or bundled name (default: tiny)")
    p.add_argument("--out", metavar="DIR", help="run directory (same as out_dir=DIR)")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="settings overriding the config")
    return p


def plan_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m trainer plan", description=PLAN_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--tokens", type=float, help="training tokens you have (D)")
    budget.add_argument("--flops", type=float, help="training compute you have (C, FLOPs)")
    p.add_argument("--preset", help="assess this preset for the budget instead of only proposing one")
    p.add_argument("--vocab-size", type=int, help="vocabulary for preset sizes (default 50304)")
    layout = p.add_argument_group("layout (with --gpus or --model)")
    layout.add_argument("--model", help="a published shape and cluster: megatron-8.3b, mt-nlg-530b")
    layout.add_argument("--gpus", type=int, help="GPUs in all")
    layout.add_argument("--gpu-memory", type=float, help="memory per GPU, GiB")
    layout.add_argument("--global-batch", type=int, help="sequences per optimizer step")
    for key in ("n-layer", "d-model", "n-head", "seq-len"):
        layout.add_argument(f"--{key}", type=int, help="model shape (overrides --preset / --model)")
    return p


def plot_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m trainer plot", description=PLOT_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("-o", "--output", default="loss.png", help="PNG to write (default loss.png)")
    return p


def cmd_train(argv: list[str]) -> int:
    from trainer.checkpoint import CheckpointError
    from trainer.config import ConfigError, load_config
    from trainer.train import TrainingDiverged, TrainingError, train

    args = train_parser().parse_args(argv)
    main_rank = os.environ.get("RANK", "0") == "0"  # under torchrun every rank fails alike; rank 0 says why
    try:
        cfg = load_config(args.config or "tiny", args.overrides, data=args.data, mix=args.mix, out_dir=args.out)
        train(cfg)
    except TrainingDiverged as exc:
        if main_rank:
            print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ConfigError, CheckpointError, TrainingError) as exc:
        if main_rank:
            print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_plan(argv: list[str]) -> int:
    from trainer.model import PRESETS
    from trainer.plan import format_plan, plan, preset_params

    args = plan_parser().parse_args(argv)
    if args.gpus is not None or args.model is not None:
        return cmd_plan_layout(args)
    if args.tokens is None and args.flops is None:
        print("error: give --tokens or --flops (a compute-optimal plan), or --gpus / --model (a layout)",
              file=sys.stderr)
        return 2
    args.vocab_size = args.vocab_size or 50304
    if args.preset and args.preset not in PRESETS:
        print(f"error: --preset {args.preset}: choose one of {', '.join(PRESETS)}", file=sys.stderr)
        return 2
    params = preset_params(args.preset, args.vocab_size) if args.preset else None
    try:
        p = plan(tokens=args.tokens, flops=args.flops, params=params, vocab_size=args.vocab_size)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    given = f"{args.tokens:,.0f} tokens" if args.tokens else f"{args.flops:.3e} FLOPs"
    if args.preset:
        given += f", preset {args.preset} ({params:,} parameters)"
    print(format_plan(p, given))
    return 0


def cmd_plan_layout(args) -> int:
    """``plan --gpus`` / ``plan --model``: a parallel layout that fits, with its memory arithmetic."""
    from trainer.layout_plan import SHAPES, format_layout_plan, propose
    from trainer.model import PRESETS

    if args.model is not None and args.model not in SHAPES:
        print(f"error: --model {args.model}: choose one of {', '.join(SHAPES)}", file=sys.stderr)
        return 2
    if args.preset is not None and args.preset not in PRESETS:
        print(f"error: --preset {args.preset}: choose one of {', '.join(PRESETS)}", file=sys.stderr)
        return 2
    shape = dict(SHAPES[args.model]) if args.model else {"vocab_size": 50304}
    if args.preset:
        shape.update({k: v for k, v in PRESETS[args.preset].items()})
    given = {"n_layer": args.n_layer, "d_model": args.d_model, "n_head": args.n_head, "seq_len": args.seq_len,
             "vocab_size": args.vocab_size, "gpus": args.gpus, "gpu_memory_gb": args.gpu_memory,
             "global_batch": args.global_batch}
    shape.update({k: v for k, v in given.items() if v is not None})
    missing = [k for k in ("n_layer", "d_model", "n_head", "seq_len", "gpus", "gpu_memory_gb", "global_batch")
               if k not in shape]
    if missing:
        flags = ", ".join("--" + k.replace("_gb", "").replace("_", "-") for k in missing)
        print(f"error: a layout plan needs {flags} (or --model / --preset for the shape)", file=sys.stderr)
        return 2
    chosen, seen = propose(**shape)
    print(format_layout_plan(shape, chosen, seen))
    return 0 if chosen else 1


def cmd_plot(argv: list[str]) -> int:
    from trainer.plot import plot_run

    args = plot_parser().parse_args(argv)
    try:
        print(f"wrote {plot_run(args.run_dir, args.output)}")
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in ("train", "plan", "plot") else "train"
    if argv and argv[0] == command:
        argv = argv[1:]
    return {"train": cmd_train, "plan": cmd_plan, "plot": cmd_plot}[command](argv)


def leave(code: int) -> None:
    """Exit with ``code``. Under torchrun (``WORLD_SIZE`` above 1), after the streams are flushed, without
    the interpreter's teardown: there gloo's threads, still running when C++ destroys its static objects,
    aborted a rank that had finished ("terminate called without an active exception", seen in CI after
    every step, checkpoint and metric was written), and torchrun then failed the whole run."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    leave(main())

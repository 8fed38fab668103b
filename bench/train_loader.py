"""Benchmark: tokens per second the trainer's loader delivers per rank from memory-mapped shards.

Run from the repository root::

    python bench/train_loader.py                           # 2 sources x 10M tokens, seq 256/1024/2048
    python bench/train_loader.py --tokens 50000000 --seconds 5 --objectives clm,fim,mlm
    python bench/train_loader.py --shards out/shards       # your own shard directories

From code (``bench/train.py`` puts it beside the trainer's own tokens/s)::

    from bench.train_loader import loader_throughput
    tokens_per_s = loader_throughput([shards_dir], seq_len=1024, micro_batch_size=8, seconds=3)

Side by side, in one run, per setting:

(a) **loader**: ``next(TrainLoader)`` -> ``{"input_ids", "labels"}`` LongTensors of ``[B, T]``
    (mixing schedule, per-epoch packed-window lookup across document boundaries, the
    objective's transformation, int64 tensors), as rank 0 of ``--world-size`` ranks;
(b) **bare**: the floor of any loader on these files: ``B`` contiguous ``T + 1``-token slices of
    the memory-mapped ``.bin`` copied into an int64 array, shifted into inputs / labels and
    wrapped as tensors, no mixing or shuffling;
(c) **loader/bare**.

Tokens are input tokens delivered (``B * T`` per batch). The generated shards are random token
ids (Zipf-like document lengths, mean ~600 tokens, one ``<|sep|>`` each) under a small byte-level BPE tokenizer
trained here with the FIM, ``<|mask|>`` and ``<|sep|>`` tokens; their content does not change
the loader's cost. The files are read once before timing, so this is the page-cached rate
(what a node with enough RAM for its shards sees after the first epoch). A benchmark, not a test.
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

import numpy as np  # noqa: E402
import torch  # noqa: E402

LIBRARIES = ("numpy", "torch")
SPECIALS = ["<|mask|>", "<|sep|>"]


def _train_tokenizer(directory: str) -> str:
    from tokenizer.train import TrainConfig, train

    corpus = os.path.join(directory, "tok-corpus.jsonl")
    rng = np.random.default_rng(0)
    words = ["alpha", "beta", "gamma", "delta", "river", "stone", "light", "market", "window", "garden"]
    with open(corpus, "w", encoding="utf-8") as f:
        for i in range(400):
            f.write(json.dumps({"id": str(i), "text": " ".join(rng.choice(words, size=40))}) + "\n")
    out = os.path.join(directory, "tok")
    train(TrainConfig(inputs=[corpus], output=out, model="bpe", vocab_size=600, fim=True, special_tokens=SPECIALS,
                      show_progress=False), log=None)
    return out


def make_bench_shards(directory: str, tokens_per_source: int, sources: tuple[str, ...] = ("web", "kg"),
                      shard_tokens: int = 4_000_000, seed: int = 0) -> str:
    """Write a token-shard directory (manifest included) of random documents; return its path."""
    from pipeline.shards.manifest import build_shard_manifest
    from pipeline.shards.megatron import ShardWriter, dtype_for_vocab
    from tokenizer.load import TokenizerInfo

    tok = TokenizerInfo(_train_tokenizer(directory))
    dtype = dtype_for_vocab(tok.vocab_size)
    out = os.path.join(directory, "shards")
    rng = np.random.default_rng(seed)
    first_normal = max(tok.special_tokens.values()) + 1
    sep_id = tok.special_tokens["<|sep|>"]
    entries = []
    for source in sources:
        for split, share in (("train", 0.98), ("val", 0.02)):
            target, written, k = int(tokens_per_source * share), 0, 0
            while written < target:
                n_shards = max(1, -(-target // shard_tokens))
                prefix = f"{source}/{split}-{k:05d}-of-{n_shards:05d}"
                with ShardWriter(os.path.join(out, prefix), dtype) as w:
                    while w.tokens < shard_tokens and written < target:
                        n = int(min(rng.zipf(1.6) * 60 + 20, 8000, target - written + 1))
                        doc = rng.integers(first_normal, tok.vocab_size, size=n, dtype=np.int64)
                        doc[int(rng.integers(0, n - 1))] = sep_id  # passage <|sep|> query, for prefix-lm
                        doc[-1] = tok.eod_id
                        w.add_document(doc)
                        written += n
                entries.append({"path": prefix, "source": source, "split": split, **w.summary()})
                k += 1
    manifest = build_shard_manifest(tok.tokenizer_json, tok.sha256, dtype.name, tok.eod_id, tok.vocab_size,
                                    entries, {"generated_by": "bench/train_loader.py"})
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
    return out


def _warm(paths: list[str]) -> None:
    """Read every file once so the timed runs see the page cache."""
    for path in paths:
        for root, _, files in os.walk(path):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    while f.read(1 << 24):
                        pass


def loader_throughput(shards_dirs: list[str] | str, seq_len: int, micro_batch_size: int, seconds: float, *,
                      objective: str = "clm", mix: dict[str, float] | None = None, world_size: int = 1,
                      seed: int = 0) -> float:
    """Input tokens per second that ``TrainLoader`` delivers to one rank (rank 0 of ``world_size``).

    Opens the directories (checksums verified, outside the timing), reads one batch to warm
    up, then times ``next(loader)`` for about ``seconds``.
    """
    from trainer.data import DataConfig, TrainLoader, open_corpora

    paths = [shards_dirs] if isinstance(shards_dirs, str) else list(shards_dirs)
    cfg = DataConfig(paths=paths, mix=mix, seq_len=seq_len, micro_batch_size=micro_batch_size, seed=seed,
                     objective=objective)
    loader = TrainLoader(open_corpora(cfg), cfg, rank=0, world_size=world_size)
    next(loader)
    batches = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        next(loader)
        batches += 1
        if batches % 8 == 0 and time.perf_counter() >= deadline:
            break
    return batches * micro_batch_size * seq_len / (time.perf_counter() - start)


def bare_throughput(shards_dir: str, seq_len: int, micro_batch_size: int, seconds: float) -> float:
    """The floor: contiguous ``seq_len + 1`` slices of one memory-mapped ``.bin``, as tensors."""
    from pipeline.shards.megatron import ShardReader

    manifest = json.load(open(os.path.join(shards_dir, "manifest.json"), encoding="utf-8"))
    shard = max((s for s in manifest["shards"] if s["split"] == "train"), key=lambda s: s["tokens"])
    tokens = ShardReader(os.path.join(shards_dir, shard["path"]))._tokens
    n_windows = (tokens.size - 1) // seq_len
    rng = np.random.default_rng(0)
    batches = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        windows = rng.integers(0, n_windows, size=micro_batch_size)
        buf = np.empty((micro_batch_size, seq_len + 1), dtype=np.int64)
        for b, k in enumerate(windows):
            buf[b] = tokens[k * seq_len:k * seq_len + seq_len + 1]
        batch = {"input_ids": torch.from_numpy(buf[:, :-1]), "labels": torch.from_numpy(buf[:, 1:])}
        del batch
        batches += 1
        if batches % 8 == 0 and time.perf_counter() >= deadline:
            break
    return batches * micro_batch_size * seq_len / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shards", action="append", help="shard directories to read (default: generate)")
    parser.add_argument("--tokens", type=int, default=10_000_000, help="tokens per generated source (2 sources)")
    parser.add_argument("--seq-lens", default="256,1024,2048")
    parser.add_argument("--micro-batch-size", type=int, default=8)
    parser.add_argument("--world-sizes", default="1,8", help="rank 0 of each world size (the mixing cost grows)")
    parser.add_argument("--objectives", default="clm,fim,mlm,prefix-lm")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args(argv)
    from bench.common import library_versions, load_average, usable_cores

    print(f"command: python {shlex.join(['bench/train_loader.py'] + (argv if argv is not None else sys.argv[1:]))}")
    print(f"machine: {platform.platform()}, Python {platform.python_version()}, cores {usable_cores()}, "
          f"load {load_average()}, torch threads {torch.get_num_threads()}")
    print("libraries: " + ", ".join(f"{k} {v}" for k, v in library_versions(LIBRARIES).items()))
    with tempfile.TemporaryDirectory(prefix="bench-loader-") as tmp:
        if args.shards:
            paths = args.shards
        else:
            t = time.perf_counter()
            paths = [make_bench_shards(tmp, args.tokens)]
            print(f"generated 2 sources x {args.tokens:,} tokens in {time.perf_counter() - t:.1f}s: {paths[0]}")
        _warm(paths)
        mix = None
        rows = []
        header = (f"{'objective':<10} {'seq_len':>7} {'B':>3} {'world':>5} {'loader tok/s/rank':>18} "
                  f"{'bare tok/s':>12} {'loader/bare':>11} {'ms/batch':>9}")
        print("\n" + header + "\n" + "-" * len(header))
        for seq_len in (int(x) for x in args.seq_lens.split(",")):
            bare = bare_throughput(paths[0], seq_len, args.micro_batch_size, args.seconds)
            for objective in args.objectives.split(","):
                for world in (int(x) for x in args.world_sizes.split(",")):
                    if objective != "clm" and world != 1:
                        continue
                    rate = loader_throughput(paths, seq_len, args.micro_batch_size, args.seconds,
                                             objective=objective, mix=mix, world_size=world)
                    ms = args.micro_batch_size * seq_len / rate * 1e3
                    rows.append((objective, seq_len, world, rate, bare))
                    print(f"{objective:<10} {seq_len:>7} {args.micro_batch_size:>3} {world:>5} {rate:>18,.0f} "
                          f"{bare:>12,.0f} {rate / bare:>11.2f} {ms:>9.3f}", flush=True)


if __name__ == "__main__":
    main()

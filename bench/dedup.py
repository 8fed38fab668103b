"""Benchmark: MinHash signature throughput per core, and union-find clustering at 1M docs.

Run from the repository root::

    python bench/dedup.py                                  # 20,000 synthetic documents
    python bench/dedup.py --input 'corpus/data/*.parquet' --docs 50000 --text-column text
    python bench/dedup.py --install-datatrove              # create the datatrove venv first

One run, the same documents, the same shingling (``pipeline.dedup.shingles``: normalized
word 5-grams) and 112 permutations for every contender:

(a) **naive datasketch**: per document ``MinHash(num_perm=112)`` then
    ``update_batch([b" ".join(s) for s in shingles(text)])`` with datasketch's default
    SHA-1 hash -- once with datasketch's default permutation scheme (``affine32`` on
    datasketch >= 2.0) and once with ``scheme="legacy"`` (the arithmetic ours reproduces);
(b) **ours**: ``MinHasher().signatures(batch)`` on batches of documents (normalization,
    shingling, hashing and permutations all included);
(c) **datatrove**: ``MinhashDedupSignature.get_shingles`` + ``get_signature`` per document
    (its simplify_text, xxhash, numpy permutations), at its default 64-bit precision and at
    32 bits, run in a subprocess with a separate virtual environment (``--datatrove-venv``,
    made by ``--install-datatrove``); its word tokenizer is replaced by a whitespace split,
    which is what its default (spaCy) tokenizer amounts to on simplified text, and cheaper;
(d) **union-find** over the LSH edges of 1,000,000 synthetic documents of which ~10% sit in
    near-duplicate clusters: time to build, list clusters and count removals, also as 8
    shards merged like a Beam CombineFn, and the peak memory (a subprocess's maxrss).

Throughput is documents per CPU-second of one single-threaded process ("per core"), best
of ``--repeats`` interleaved runs. This is a benchmark, not a test: it asserts nothing and
its numbers depend on the machine (ratios are what carry over).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from importlib import metadata

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import numpy as np  # noqa: E402

from pipeline.dedup.minhash import MinHasher, MinHashParams, _legacy_scheme_kwargs  # noqa: E402
from pipeline.dedup.shingles import shingles  # noqa: E402
from pipeline.dedup.unionfind import UnionFind  # noqa: E402

DEFAULT_DT_VENV = os.path.join(tempfile.gettempdir(), "dt-venv")
SYLLABLES = (
    "ka lo mi ne ru sa ti vo ze an or el is um ph qu ba de fi go hu ja ke li mo nu pa re si "
    "to ul ve wa xi yo zu br cr dr st tr th sh ch"
).split()

# ------------------------------------------------------------------------------ corpus


def synthetic_corpus(n_docs: int, seed: int = 0, vocab_size: int = 50_000) -> list[str]:
    """Documents of 300-800 words from a Zipfian vocabulary (s = 1.1), in sentences of 6-25
    words with capitals, commas and full stops, ~4 KB each like a web page's main text."""
    rng = np.random.default_rng(seed)
    vocab = set()
    while len(vocab) < vocab_size:
        k = int(rng.integers(1, 5))
        vocab.add("".join(SYLLABLES[i] for i in rng.integers(0, len(SYLLABLES), k)))
    words = np.array(sorted(vocab, key=lambda w: (len(w), w)), dtype=object)  # short = frequent
    p = 1.0 / np.arange(1, vocab_size + 1) ** 1.1
    p /= p.sum()
    lengths = rng.integers(300, 801, n_docs)
    picks = rng.choice(vocab_size, size=int(lengths.sum()), p=p)
    docs, pos = [], 0
    for n in lengths.tolist():
        ws = words[picks[pos : pos + n]].tolist()
        pos += n
        out, i = [], 0
        while i < n:
            k = int(rng.integers(6, 26))
            sent = ws[i : i + k]
            sent[0] = sent[0].capitalize()
            if len(sent) > 8:
                sent[len(sent) // 2] += ","
            out.append(" ".join(sent) + ".")
            i += k
        docs.append(" ".join(out))
    return docs


def parquet_corpus(pattern: str, column: str, limit: int) -> list[str]:
    import pyarrow.parquet as pq

    files = sorted(glob.glob(pattern)) or [pattern]
    texts: list[str] = []
    for f in files:
        table = pq.read_table(f, columns=[column])
        texts.extend(t for t in table.column(column).to_pylist() if isinstance(t, str))
        if len(texts) >= limit:
            break
    if not texts:
        raise SystemExit(f"no texts in column {column!r} of {pattern}")
    return texts[:limit]


# ------------------------------------------------------------------------------ timing


def cpu_seconds(fn) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def run_naive(docs: list[str], scheme_kwargs: dict) -> None:
    from datasketch import MinHash

    for text in docs:
        m = MinHash(num_perm=112, **scheme_kwargs)
        m.update_batch([b" ".join(s) for s in shingles(text)])


def run_ours(hasher: MinHasher, docs: list[str], batch: int) -> None:
    for i in range(0, len(docs), batch):
        hasher.signatures(docs[i : i + batch])


DATATROVE_CHILD = r"""
import json, sys, time
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
from datatrove.utils.hashing import HashConfig
from datatrove.utils.word_tokenizers import WordTokenizer

class Whitespace(WordTokenizer):
    def word_tokenize(self, text): return text.split()
    def sent_tokenize(self, text): return [text]
    def span_tokenize(self, text): return [(0, len(text))]

docs = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
repeats, out_dir = int(sys.argv[2]), sys.argv[3]
result = {}
for precision in (64, 32):
    cfg = MinhashConfig(hash_config=HashConfig(precision=precision))
    step = MinhashDedupSignature(out_dir, config=cfg, language=Whitespace())
    step.parameters  # build the permutations outside the timing
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        for text in docs:
            sh = step.get_shingles(text)
            if sh.size:
                step.get_signature(sh)
        best = min(best, time.process_time() - t0)
    result[str(precision)] = best
import datatrove
from importlib import metadata
result["version"] = metadata.version("datatrove")
print(json.dumps(result))
"""


def run_datatrove(python: str, docs: list[str], repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "docs.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for d in docs:
                f.write(json.dumps(d) + "\n")
        script = os.path.join(tmp, "child.py")
        with open(script, "w", encoding="utf-8") as f:
            f.write(DATATROVE_CHILD)
        proc = subprocess.run(
            [python, script, path, str(repeats), os.path.join(tmp, "out")], capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed")
        return json.loads(proc.stdout.strip().splitlines()[-1])


def install_datatrove(venv: str) -> None:
    print(f"creating {venv} with datatrove (pip) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    pip = os.path.join(venv, "bin", "pip")
    # regex and tokenizers are imported by datatrove's dedup module but not declared by it;
    # datatrove 0.10 hashes str with xxhash, which xxhash >= 4 refuses (bytes only).
    subprocess.run(
        [pip, "install", "-q", "datatrove", "numpy", "xxhash<4", "regex", "tokenizers"], check=True
    )


# ------------------------------------------------------------------------------ union-find


def uf_child(n_docs: int, seed: int) -> None:
    """Runs in a subprocess: builds the edges, then times the union-find; prints JSON."""
    rng = np.random.default_rng(seed)
    ids = [f"doc-{i:08d}" for i in range(n_docs)]
    # ~10% of documents in clusters; sizes Zipf-like (most are pairs, a few are large).
    sizes = []
    budget = n_docs // 10
    while budget > 1:
        s = min(int(rng.zipf(2.2)) + 1, 500, budget)
        sizes.append(s)
        budget -= s
    members = rng.permutation(n_docs)[: sum(sizes)]
    edges: list[tuple[str, str]] = []
    pos = 0
    bands = 14
    for s in sizes:
        cluster = np.sort(members[pos : pos + s])
        pos += s
        agree = float(rng.uniform(0.75, 1.0)) ** 8  # P(a member shares a band with the mode)
        for _ in range(bands):
            bucket = cluster[rng.random(s) < agree]
            if len(bucket) >= 2:  # star edges from the smallest id in the bucket
                root = ids[bucket[0]]
                edges.extend((root, ids[j]) for j in bucket[1:].tolist())
    for _ in range(n_docs // 1000):  # LSH false positives between unrelated documents
        a, b = rng.integers(0, n_docs, 2).tolist()
        edges.append((ids[min(a, b)], ids[max(a, b)]))
    in_clusters = int(sum(sizes))
    rss_before = _current_rss_mb()

    t0 = time.perf_counter()
    uf = UnionFind()
    for a, b in edges:
        uf.union(a, b)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    clusters = uf.clusters()
    removed = sum(len(c) - 1 for c in clusters)
    t_clusters = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    t0 = time.perf_counter()
    shards = [UnionFind() for _ in range(8)]
    for k, (a, b) in enumerate(edges):
        shards[k % 8].union(a, b)
    merged = shards[0]
    for other in shards[1:]:
        merged.merge(other)
    t_sharded = time.perf_counter() - t0
    same = merged.clusters() == clusters
    print(
        json.dumps(
            {
                "docs": n_docs,
                "in_clusters": in_clusters,
                "edges": len(edges),
                "elements": len(uf),
                "clusters": len(clusters),
                "removed": removed,
                "build_s": t_build,
                "clusters_s": t_clusters,
                "sharded_merge_s": t_sharded,
                "merge_equal": same,
                "rss_before_mb": rss_before,
                "peak_rss_mb": peak_mb,
            }
        )
    )


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# ------------------------------------------------------------------------------ report


def machine_info() -> str:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    libs = ", ".join(f"{n} {metadata.version(n)}" for n in ("numpy", "datasketch"))
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}, {libs}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=20_000, help="documents for (b) (default 20000)")
    ap.add_argument(
        "--compare-docs",
        type=int,
        default=2_000,
        help="first N documents timed for (a), (b), (c) (default 2000)",
    )
    ap.add_argument("--input", help="Parquet file or glob with a text column, instead of synthetic documents")
    ap.add_argument("--text-column", default="text")
    ap.add_argument("--batch", type=int, default=256, help="documents per MinHasher.signatures call")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--uf-docs", type=int, default=1_000_000, help="documents for (d); 0 skips it")
    ap.add_argument(
        "--datatrove-venv", default=DEFAULT_DT_VENV, help=f"venv with datatrove (default {DEFAULT_DT_VENV})"
    )
    ap.add_argument(
        "--install-datatrove", action="store_true", help="create --datatrove-venv with pip if missing"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--uf-child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.uf_child:
        uf_child(args.uf_child, args.seed)
        return 0
    for name in ("docs", "compare_docs", "batch", "repeats"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be >= 1")
    started = time.perf_counter()
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"machine: {machine_info()}")

    dt_python = os.path.join(args.datatrove_venv, "bin", "python")
    if args.install_datatrove and not os.path.exists(dt_python):
        install_datatrove(args.datatrove_venv)

    t0 = time.perf_counter()
    if args.input:
        docs = parquet_corpus(args.input, args.text_column, args.docs)
        source = f"{args.input} column {args.text_column!r}"
    else:
        docs = synthetic_corpus(args.docs, args.seed)
        source = "synthetic Zipfian word documents"
    sub = docs[: args.compare_docs]
    words = sum(len(d.split()) for d in sub) / max(1, len(sub))
    chars = sum(len(d) for d in sub) / max(1, len(sub))
    print(
        f"corpus: {len(docs)} docs ({source}), compared on the first {len(sub)}: "
        f"{words:.0f} words / {chars:.0f} chars per doc (made in {time.perf_counter() - t0:.1f}s)"
    )

    params = MinHashParams()
    hasher = MinHasher(params.with_(scheme="legacy"))  # legacy: the arithmetic datatrove uses
    # Bit-identity spot check against datasketch (our shingle hash as its hashfunc).
    from datasketch import MinHash

    legacy = _legacy_scheme_kwargs()
    default_scheme = getattr(MinHash(num_perm=4), "scheme", "legacy")
    hashers = {"legacy": hasher}
    if default_scheme != "legacy":
        hashers[default_scheme] = MinHasher(MinHashParams(scheme=default_scheme))
    identical = True
    for h in hashers.values():
        for text, sig in zip(sub[:20], h.signatures(sub[:20]), strict=True):
            m = h.datasketch_minhash()
            m.update_batch(shingles(text))
            identical &= bool(np.array_equal(m.hashvalues, sig))

    timings: dict[str, list[float]] = {}
    for _ in range(args.repeats):  # interleaved, best of
        for scheme, h in hashers.items():
            kw = {} if scheme == default_scheme else legacy
            timings.setdefault(f"naive {scheme}", []).append(cpu_seconds(lambda kw=kw: run_naive(sub, kw)))
            timings.setdefault(f"ours {scheme}", []).append(
                cpu_seconds(lambda h=h: run_ours(h, sub, args.batch))
            )
        timings.setdefault("ours all", []).append(cpu_seconds(lambda: run_ours(hasher, docs, args.batch)))
    best = {k: min(v) for k, v in timings.items()}

    dt_result, dt_error = None, None
    if os.path.exists(dt_python):
        try:
            dt_result = run_datatrove(dt_python, sub, args.repeats)
        except (RuntimeError, OSError, ValueError) as err:
            dt_error = str(err)
    else:
        dt_error = f"no {dt_python}; run with --install-datatrove (needs pip access to datatrove)"

    rows = []

    def add(name: str, n: int, secs: float, versus: str | None) -> None:
        ratio = "" if versus is None else f"{(secs / n) / (best[versus] / len(sub)):9.1f}x"
        rows.append((name, n, secs, n / secs, ratio))

    for scheme in hashers:
        tag = " (datasketch default)" if scheme == default_scheme else ""
        add(
            f"(a) naive datasketch, scheme={scheme}{tag}", len(sub), best[f"naive {scheme}"], f"ours {scheme}"
        )
    for scheme in hashers:
        tag = " (default)" if scheme == MinHashParams().scheme else ""
        add(f"(b) ours, batched, scheme={scheme}{tag}", len(sub), best[f"ours {scheme}"], None)
    add("(b) ours, batched, scheme=legacy, whole corpus", len(docs), best["ours all"], None)
    if dt_result:
        v = dt_result["version"]
        add(f"(c) datatrove {v}, precision 64 (its default)", len(sub), dt_result["64"], "ours legacy")
        add(f"(c) datatrove {v}, precision 32", len(sub), dt_result["32"], "ours legacy")

    print()
    print(f"Signature stage, 112 permutations, word 5-grams, best of {args.repeats} (CPU time, one core)")
    print(f"{'contender':56s} {'docs':>7s} {'CPU s':>8s} {'docs/s/core':>12s} {'ours / it':>10s}")
    for name, n, secs, rate, ratio in rows:
        print(f"{name:56s} {n:7d} {secs:8.2f} {rate:12.0f} {ratio:>10s}")
    print("(ours / it: ours with the same permutation scheme; datatrove uses the legacy arithmetic)")
    print(f"ours bit-identical to datasketch MinHash(scheme=..., hashfunc=shingle_hash): {identical}")
    for scheme in hashers:
        r = best[f"naive {scheme}"] / best[f"ours {scheme}"]
        print(
            f"goal ours >= 10x naive datasketch, scheme={scheme}: {r:.1f}x ({'met' if r >= 10 else 'NOT met'})"
        )
    if default_scheme != "legacy":
        r = best[f"naive {default_scheme}"] / best["ours legacy"]
        print(f"  (ours legacy vs naive {default_scheme}, i.e. different arithmetic: {r:.1f}x)")
    if dt_result:
        r = min(dt_result["64"], dt_result["32"]) / best["ours legacy"]
        print(
            f"goal ours >= 1.0x datatrove (its faster setting): {r:.1f}x ({'met' if r >= 1 else 'NOT met'})"
        )
    else:
        print(f"(c) datatrove skipped: {dt_error}")

    if args.uf_docs:
        proc = subprocess.run(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--uf-child",
                str(args.uf_docs),
                "--seed",
                str(args.seed),
            ],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            print(f"(d) union-find failed: {proc.stderr.strip()[-500:]}")
        else:
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print()
            print(
                f"(d) union-find: {r['docs']:,} documents, {r['in_clusters']:,} in near-duplicate clusters, "
                f"{r['edges']:,} LSH star edges (14 bands, + false positives)"
            )
            print(f"{'step':52s} {'seconds':>8s}")
            print(f"{'union over all edges':52s} {r['build_s']:8.2f}")
            print(f"{'clusters() + removal count':52s} {r['clusters_s']:8.2f}")
            print(f"{'8 shards + merge (CombineFn style)':52s} {r['sharded_merge_s']:8.2f}")
            print(
                f"elements {r['elements']:,}, clusters {r['clusters']:,}, documents removed {r['removed']:,}, "
                f"sharded result identical: {r['merge_equal']}"
            )
            print(
                f"peak RSS {r['peak_rss_mb']:.0f} MB (of which {r['rss_before_mb']:.0f} MB before the union-find: "
                f"interpreter, ids and edge list; union-find ~{r['peak_rss_mb'] - r['rss_before_mb']:.0f} MB)"
            )
    print(f"\ntotal wall time {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

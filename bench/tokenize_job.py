"""Benchmark: the ``tokenize`` job's tokens per second against the bare ``encode_batch`` loop.

Run from the repository root::

    python bench/tokenize_job.py                 # generated multilingual text, about 40 MB
    python bench/tokenize_job.py --mb 200 --workers 2 --repeat 5
    python bench/tokenize_job.py --mb 20 --memory      # peak RSS of the job, as a command, instead

Same text, same cores; ``--repeat`` rounds (default 3), each measuring side by side:

(a) **bare**: ``Tokenizer.encode_batch`` over all documents in batches of 1024, in one process
    whose Rust thread pool has a thread per core; timed before *and* after the job runs of the
    round, and the mean taken, so load that drifts during the round hits both sides alike.
    ``encode_batch_fast`` (the same ids, no character offsets; what the job calls) is timed
    once per round too, as a second reference;
(b) **job**: ``python beam_runner.py tokenize`` on the DirectRunner with
    ``--direct_num_workers=N``, the running mode left to the job (up to 2 workers, or under
    16 MiB, one process whose tokenizer has a thread per core; else N worker processes
    with cores/N tokenizer threads each, so both sides run one thread per core): read Parquet,
    tokenize, shuffle into shards, write ``.bin``/``.idx``, manifest. "wall" includes Beam's
    start-up; "steady" cancels it with the difference between a run on the corpus and a run
    on the corpus twice over;
(c) **job/bare** (steady) per round, and the median over rounds; the goal is >= 0.8. The
    same ratio in tokens per CPU-second (job CPU = its process and its workers) shows how
    much work the job adds, a figure other load on the machine disturbs much less.

With ``--memory``, the job runs instead as the command a user types (``python beam_runner.py
tokenize``, one process per run) on the corpus and on its first 10 documents, alternately,
``--repeat`` times at 1 and 2 workers: peak resident memory (the largest of the process and its
workers: VmHWM from /proc, Linux), wall and CPU seconds, medians. The 10-document run is the job's fixed cost (Beam,
Arrow, the tokenizer); the difference is what grows with the data (issue #19).

The tokenizer is a byte-level BPE with a 32k vocabulary trained by ``python -m tokenizer
train`` on the same text (its training time is printed too). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from common import cpu_seconds, library_versions, load_average, usable_cores, wait_for_workers  # noqa: E402

LIBRARIES = ("tokenizers", "apache-beam", "pyarrow", "numpy")


def make_corpus(directory: str, mb: int, files: int) -> tuple[list[str], int]:
    """Extract the generated web sample's pages, repeat them to about ``mb`` MB of text, and
    write them as corpus Parquet files; returns the texts and their total bytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from corpora.sample_web import write_sample
    from pipeline.extract import TextExtractor
    from pipeline.normalize import normalize_text
    from pipeline.readers import ReaderConfig, read_file
    from pipeline.records import Document, RawRecord
    from pipeline.schema import CORPUS_SCHEMA

    sample = os.path.join(directory, "sample")
    write_sample(sample, seed=0, pages=600, files=4)
    extractor = TextExtractor()
    base = []
    for name in sorted(os.listdir(sample)):
        for rec in read_file(os.path.join(sample, name), ReaderConfig()):
            if isinstance(rec, RawRecord):
                doc = extractor(rec)
                if isinstance(doc, Document):
                    base.append(normalize_text(doc.text))
    texts, size, i = [], 0, 0
    while size < mb * 1_000_000:
        t = base[i % len(base)] + f"\n\n(copy {i // len(base)})"
        texts.append(t)
        size += len(t.encode("utf-8"))
        i += 1
    data = os.path.join(directory, "corpus", "data")
    os.makedirs(data)
    per = -(-len(texts) // files)
    for f in range(files):
        chunk = texts[f * per:(f + 1) * per]
        rows = {
            "id": [f"web-{f:03d}-{j:07d}" for j in range(len(chunk))], "text": chunk, "source": ["web"] * len(chunk),
            "url": [None] * len(chunk), "lang": ["und"] * len(chunk), "lang_score": [0.0] * len(chunk),
            "meta": ["{}"] * len(chunk),
        }
        pq.write_table(pa.table(rows, schema=CORPUS_SCHEMA),
                       os.path.join(data, f"part-{f:05d}-of-{files:05d}.parquet"), compression="zstd")
    return texts, size


def train_tokenizer(corpus: str, out: str, vocab: int) -> float:
    cmd = [sys.executable, "-m", "tokenizer", "train", "--input", corpus, "--output", out,
           "--model", "bpe", "--vocab-size", str(vocab)]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=REPO_ROOT, check=True, capture_output=True, text=True)
    return time.perf_counter() - t0


def bench_bare(tokenizer, texts: list[str], method: str = "encode_batch") -> tuple[int, float, float]:
    """One pass of ``tokenizer.<method>`` over ``texts`` in batches of 1024: (tokens incl. one
    end-of-document per text, wall seconds, CPU seconds of this process)."""
    encode = getattr(tokenizer, method)
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    tokens = 0
    for i in range(0, len(texts), 1024):
        tokens += sum(len(e.ids) + 1 for e in encode(texts[i:i + 1024], add_special_tokens=False))
    return tokens, time.perf_counter() - t0, cpu_seconds() - cpu0


def job_layout(workers: int, input_bytes: int) -> str:
    """How the job runs ``--direct_num_workers=workers`` on this input (the driver's own rule)."""
    from corpora.tokenize import ONE_PROCESS_WORKERS, encode_threads
    from pipeline.jobs import default_beam_args, for_input_size

    bare = (f"bare: 1 process, a tokenizer thread per core (RAYON_NUM_THREADS="
            f"{os.environ.get('RAYON_NUM_THREADS', 'unset')})")
    beam_args = for_input_size(default_beam_args([f"--direct_num_workers={workers}"]), input_bytes,
                               max_workers=ONE_PROCESS_WORKERS)
    threads = encode_threads(beam_args)
    if threads is None:
        return f"{bare}; job: 1 process (in_memory), a tokenizer thread per core"
    return f"{bare}; job: {workers} worker process(es) x {threads} tokenizer thread(s) + the runner process"


def run_job(inputs: list[str], tokenizer_dir: str, out: str, workers: int) -> tuple[int, float, float]:
    """One tokenize job run: (tokens written, wall seconds, CPU seconds of this process and its workers)."""
    from corpora.tokenize import TokenizeConfig, run_tokenize
    from pipeline.jobs import configure_logging

    configure_logging(False)
    cfg = TokenizeConfig(inputs, tokenizer_dir, out, shard_tokens=100_000_000, val_fraction=0.005, seed=0)
    wait_for_workers()
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    report = run_tokenize(cfg, [f"--direct_num_workers={workers}"], overwrite=True, quiet=True)
    seconds = time.perf_counter() - t0
    wait_for_workers()
    from pipeline import beam_io

    manifest = beam_io.read_json(os.path.join(out, "manifest.json"))
    tokens = sum(s["tokens"] for s in manifest["shards"])
    assert report["accounting_ok"]
    return tokens, seconds, cpu_seconds() - cpu0


def run_command(inputs: str, tokenizer_dir: str, out: str, workers: int) -> tuple[float, float, float]:
    """The job as a command: (peak RSS MiB of the largest process of its tree, wall s, CPU s).

    The peak is each process's VmHWM read from /proc every 20 ms (its own high-water mark: a
    child's ``ru_maxrss`` would start from this big benchmark process's, which it was forked from)."""
    cmd = [sys.executable, "beam_runner.py", "tokenize", "--input", inputs, "--tokenizer", tokenizer_dir,
           "--output", out, "--overwrite", f"--direct_num_workers={workers}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)  # reaped children so far (it only grows)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks: dict[int, int] = {}
    while proc.poll() is None:
        for pid in _tree(proc.pid):
            peaks[pid] = max(peaks.get(pid, 0), _hwm_kib(pid))
        time.sleep(0.02)
    seconds = time.perf_counter() - t0
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed: {stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return max(peaks.values(), default=0) / 1024, seconds, cpu


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return found


def _hwm_kib(pid: int) -> int:
    """A process's peak resident memory so far (VmHWM, KiB); 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def first_documents(corpus: str, directory: str, count: int = 10) -> str:
    """A corpus of the first ``count`` documents of ``corpus`` (the job's fixed cost)."""
    import glob

    import pyarrow.parquet as pq

    first = sorted(glob.glob(os.path.join(corpus, "data", "*.parquet")))[0]
    os.makedirs(os.path.join(directory, "data"))
    pq.write_table(pq.read_table(first).slice(0, count), os.path.join(directory, "data", "part-00000-of-00001.parquet"))
    return directory


def bench_memory(corpus: str, tok_dir: str, root: str, repeat: int) -> None:
    """Peak RSS, wall and CPU of the job as a command, on the corpus and on 10 documents, medians."""
    small = first_documents(corpus, os.path.join(root, "small"))
    runs: dict[tuple[str, int], list[tuple[float, float, float]]] = {}
    for _ in range(repeat):
        for workers in (1, 2):
            for name, inputs in (("corpus", corpus), ("10 documents", small)):
                runs.setdefault((name, workers), []).append(
                    run_command(inputs, tok_dir, os.path.join(root, "mem"), workers))
    print(f"\n| input | workers | peak RSS MiB (median, all) | wall s | CPU s |  ({repeat} alternating runs, "
          f"load {load_average()})")
    print("|---|---:|---:|---:|---:|")
    for (name, workers), got in runs.items():
        peaks = [round(p) for p, _, _ in got]
        print(f"| {name} | {workers} | {statistics.median(peaks):.0f} ({', '.join(map(str, peaks))}) | "
              f"{statistics.median(w for _, w, _ in got):.2f} | {statistics.median(c for _, _, c in got):.2f} |")


def main(argv: list[str] | None = None) -> None:
    from tokenizer.load import load_tokenizer

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=40, help="MB of text (default 40)")
    parser.add_argument("--files", type=int, default=8, help="corpus Parquet files (default 8)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="Beam workers (default: cores)")
    parser.add_argument("--vocab", type=int, default=32000, help="BPE vocabulary size (default 32000)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of side-by-side measurements (default 3)")
    parser.add_argument("--memory", action="store_true",
                        help="measure the job's peak RSS as a command (corpus vs 10 documents) instead")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print("# tokenize job vs bare encode_batch\n")
    print(f"command:  {shlex.join(['python', 'bench/tokenize_job.py'] + sys.argv[1:])}")
    print(f"machine:  {platform.platform()}, os.cpu_count()={os.cpu_count()}, usable cores={usable_cores()}")
    print(f"python:   {platform.python_version()}; "
          + ", ".join(f"{k} {v}" for k, v in library_versions(LIBRARIES).items()))
    print(f"load:     {load_average()}")
    rounds: list[tuple[float, float, float, float]] = []
    pooled: list[tuple[float, float]] = []  # per round: bare seconds, job seconds for one more corpus
    with tempfile.TemporaryDirectory(prefix="bench-tokenize-") as root:
        texts, size = make_corpus(root, args.mb, args.files)
        corpus = os.path.join(root, "corpus")
        print(f"corpus:   {len(texts)} documents, {size / 1e6:.1f} MB of text in {args.files} Parquet files")
        print(f"threads:  {job_layout(args.workers, size)}")
        tok_dir = os.path.join(root, "tok")
        train_s = train_tokenizer(corpus, tok_dir, args.vocab)
        print(f"training: byte-level BPE, vocab {args.vocab}: {size / 1e6 / train_s:.2f} MB/s "
              f"({train_s:.1f}s wall for {size / 1e6:.1f} MB, including start-up)")
        if args.memory:
            bench_memory(corpus, tok_dir, root, args.repeat)
            print(f"\ntotal benchmark time: {time.perf_counter() - started:.0f}s")
            return
        tokenizer = load_tokenizer(tok_dir)
        bench_bare(tokenizer, texts[:2000])  # warm-up: the thread pool, the caches
        run_job([corpus], tok_dir, os.path.join(root, "warm"), args.workers)  # warm-up, not counted
        print()
        print("| round | load (1 min) | bare s (before/after) | fast s | job 1x s | job 2x s | bare tok/s "
              "| job steady tok/s | job/bare | job/fast | job/bare per CPU-s |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in range(args.repeat):
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
            tokens, b1, bc1 = bench_bare(tokenizer, texts)
            t1, w1, c1 = run_job([corpus], tok_dir, os.path.join(root, "s1"), args.workers)
            t2, w2, c2 = run_job([f"a={corpus}", f"b={corpus}"], tok_dir, os.path.join(root, "s2"), args.workers)
            _, b2, bc2 = bench_bare(tokenizer, texts)
            _, fast, _ = bench_bare(tokenizer, texts, "encode_batch_fast")
            assert t1 == tokens and t2 == 2 * tokens, (tokens, t1, t2)
            bare_rate = tokens / ((b1 + b2) / 2)
            fast_rate = tokens / fast
            steady = (t2 - t1) / max(w2 - w1, 1e-9)
            per_cpu = ((t2 - t1) / max(c2 - c1, 1e-9)) / (tokens / ((bc1 + bc2) / 2))
            rounds.append((steady / bare_rate, steady / fast_rate, per_cpu, t1 / w1 / bare_rate))
            pooled.append(((b1 + b2) / 2, w2 - w1))
            print(f"| {r + 1} | {load:.2f} | {b1:.2f} / {b2:.2f} | {fast:.2f} | {w1:.2f} | {w2:.2f} | "
                  f"{bare_rate:,.0f} | {steady:,.0f} | {rounds[-1][0]:.2f} | {rounds[-1][1]:.2f} | {per_cpu:.2f} |",
                  flush=True)
    print()
    med = [statistics.median(r[i] for r in rounds) for i in range(4)]
    print("| measure (median of rounds) | vs bare encode_batch |")
    print("|---|---:|")
    print(f"| tokenize job, {args.workers} workers, wall incl. start-up (1x run) | {med[3]:.2f} |")
    print(f"| tokenize job, {args.workers} workers, steady | {med[0]:.2f} |")
    print(f"| tokenize job, {args.workers} workers, steady, pooled over rounds | "
          f"{sum(b for b, _ in pooled) / max(sum(j for _, j in pooled), 1e-9):.2f} |")
    print(f"| tokenize job, steady, against bare encode_batch_fast | {med[1]:.2f} |")
    print(f"| tokenize job, tokens per CPU-second | {med[2]:.2f} |")
    print(f"\n- {len(texts)} documents, {tokens} tokens per pass (end-of-document included).")
    print("- steady = (tokens 2x - tokens 1x) / (wall 2x - wall 1x): Beam's fixed start-up cost cancels;")
    print("  the 2x run tokenizes the corpus twice, as two named inputs. bare = mean of the round's two passes.")
    print("- pooled = all rounds' bare seconds / all rounds' (wall 2x - wall 1x): steadier than a median of")
    print("  ratios when Beam's start-up is as long as the work itself (small --mb, busy machine).")
    print("- goal: job/bare (steady) >= 0.8.")
    print(f"\ntotal benchmark time: {time.perf_counter() - started:.0f}s; load at the end: {load_average()}")


if __name__ == "__main__":
    main()

"""Benchmark: the ``kg`` job end to end on a generated Wikidata-style graph.

Run from the repository root::

    python bench/kg.py                              # sizes 100k,300k triples, 2 workers
    python bench/kg.py --sizes 100000,300000,1000000 --baseline-rev e09ab2f   # + the code before the
                                                    # memory work, side by side (slow on a 2-core box)

For each size, in one run, on the same generated N-Triples file (entities with ~10 facts
drawn from 40 templated Wikidata properties and 8 properties without a template, labels,
statement nodes with qualifiers, dates, quantities):

(a) **core**: the pure pipeline in one process, no Beam (read -> statements -> route ->
    co-occurrence -> subgraphs -> labels -> verbalize -> faithfulness), triples / second;
(b) **job**: ``corpora.kg.job.run_kg`` on the DirectRunner with ``--direct_num_workers=N
    --direct_running_mode=multi_processing`` (read, all shuffles, Parquet and kelm.jsonl
    writing), triples / wall second, in a fresh process per size;
(c) **job/core**; peak RSS of the job's driver process and of its largest worker process;
    the **shuffle** the local runner holds: the largest GroupByKey's data in the driver at the
    moment it hands it to the workers (its decoded Python objects, estimated from a sample of
    values, plus the encoded copy it builds), hooked into the FnApiRunner's GroupingBuffer;
(d) the template verbalizer's **faithfulness pass rate** (subgraphs whose sentences pass the
    filter, goal 100%) and the **template coverage**: share of the input's distinct relations
    with a specific (not generic) template, and share of verbalized clauses that used one;
(e) **growth per million triples** between the smallest and the largest size (driver, worker,
    shuffle): flat memory is ~0 MB/M;
(f) with ``--baseline-rev REV``: the same job at that git revision (its ``corpora/``,
    ``pipeline/``, ``tokenizer/`` extracted with ``git archive``), run on the same files in
    the same run, and the ratios new/old.

With ``--runner both`` (or ``dask``) it compares engines instead, one row per size and runner:
the job on the DirectRunner and on a Dask local cluster (``--workers`` processes with
``--dask-memory`` each, ``--dask-partitions`` or one partition per ``--triples-per-partition``),
wall and CPU time (driver and workers together), peak RSS of the driver, of the largest worker
and of all workers, and the peak size of the Dask spill folder; ``--baseline-rev REV`` adds
the Dask runner of that revision under this checkout's job code (before/after)::

    python bench/kg.py --runner both --sizes 150000,600000 --dask-memory 500MB
    python bench/kg.py --runner both --sizes 100000 --baseline-rev 2e076d5
    python bench/kg.py --runner both --sizes 150000,600000,1200000 --dask-memory 500MB \
        --dask-partitions 8 --memory-cap 1000      # a machine with 1 GB for the job: which runner fits

``--memory-cap MB`` stops a job once its processes together (driver and workers) hold more than
that, and prints OVER CAP in its row, as a machine with that much memory would.

A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from common import cpu_seconds, library_versions, load_average, usable_cores  # noqa: E402

LIBRARIES = ("apache-beam", "networkx", "pyarrow", "rdflib")
WD, WDT, P = "http://www.wikidata.org/entity/", "http://www.wikidata.org/prop/direct/", "http://www.wikidata.org/prop/"
XSD = "http://www.w3.org/2001/XMLSchema#"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
ENTITY_RELS = ["P19", "P20", "P27", "P106", "P69", "P108", "P26", "P40", "P22", "P25", "P166", "P463", "P102",
               "P551", "P937", "P101", "P800", "P737", "P1412", "P140", "P17", "P131", "P159", "P112", "P127",
               "P361", "P527", "P138", "P50", "P57"]
DATE_RELS = ["P569", "P570", "P571", "P577", "P576"]
QTY_RELS = ["P1082", "P2046", "P1128", "P2048", "P2067"]
UNTEMPLATED = ["P9001", "P9002", "P9003", "P9004", "P9005", "P9006", "P9007", "P9008"]


def generate(path: str, triples: int, seed: int = 0) -> dict:
    """Write about ``triples`` N-Triples lines; returns what was written."""
    rng = random.Random(seed)
    rels = ENTITY_RELS + DATE_RELS + QTY_RELS + UNTEMPLATED
    weights = [1.0 / (i + 1) ** 0.5 for i in range(len(rels))]
    n_entities = max(10, triples // 11)
    written = 0
    with open(path, "w", encoding="utf-8") as f:
        for r in UNTEMPLATED:
            f.write(f'<{WD}{r}> <{LABEL}> "custom property {r[1:]}"@en .\n')
            written += 1
        for i in range(n_entities):
            e = f"<{WD}Q{i + 1}>"
            f.write(f'{e} <{LABEL}> "Entity {i + 1} {rng.choice(["Alpha", "Beta", "Gamma", "Delta"])}"@en .\n')
            written += 1
            k = rng.randint(5, 14)
            for rel in rng.choices(rels, weights, k=k):
                if rel in DATE_RELS:
                    y, m, d = rng.randint(1600, 2020), rng.randint(1, 12), rng.randint(1, 28)
                    f.write(f'{e} <{WDT}{rel}> "{y}-{m:02d}-{d:02d}T00:00:00Z"^^<{XSD}dateTime> .\n')
                    written += 1
                elif rel in QTY_RELS:
                    f.write(f'{e} <{WDT}{rel}> "{rng.randint(1, 10_000_000)}"^^<{XSD}decimal> .\n')
                    written += 1
                elif rel in UNTEMPLATED:
                    f.write(f'{e} <{WDT}{rel}> "code-{rng.randint(1, 99999)}" .\n')
                    written += 1
                elif rng.random() < 0.15:  # a statement node with a start-time qualifier
                    node = f"<{WD}statement/Q{i + 1}-{written}>"
                    obj = f"<{WD}Q{rng.randint(1, n_entities)}>"
                    f.write(f"{e} <{P}{rel}> {node} .\n{node} <{P}statement/{rel}> {obj} .\n"
                            f'{node} <{P}qualifier/P580> "{rng.randint(1900, 2020)}-01-01T00:00:00Z"^^<{XSD}dateTime> .\n')
                    written += 3
                else:
                    f.write(f"{e} <{WDT}{rel}> <{WD}Q{rng.randint(1, n_entities)}> .\n")
                    written += 1
            if written >= triples:
                break
    return {"lines": written, "bytes": os.path.getsize(path)}


def run_core(path: str) -> dict:
    """The job's pure core in one process (``corpora.kg.local.run_local``: the same readers, statement
    assembly, routing, grouping, verbalizer and faithfulness filter as the Beam job): the reference
    for the job's throughput; also the peak Python memory of verbalizing and checking the largest
    subgraph (what one element of the job's last steps holds)."""
    import tracemalloc

    from corpora.kg.faithfulness import FaithfulnessChecker
    from corpora.kg.local import run_local
    from corpora.kg.templates import load_templates
    from corpora.kg.verbalize import TemplateVerbalizer

    t0 = time.perf_counter()
    run = run_local([path], fmt="nt")
    seconds = time.perf_counter() - t0
    passed = sum(1 for d in run.docs if d.verdict.ok)
    entity_kb = 0.0
    if run.docs:  # measured outside the timing
        templates = load_templates()
        verbalizer, checker = TemplateVerbalizer(templates), FaithfulnessChecker(templates=templates)
        largest = max(run.docs, key=lambda d: len(d.subgraph.facts)).subgraph
        tracemalloc.start()
        checker.check(verbalizer.verbalize(largest).text, largest)
        entity_kb = tracemalloc.get_traced_memory()[1] / 1024
        tracemalloc.stop()
    return {"seconds": seconds, "subgraphs": len(run.docs), "passed": passed, "entity_kb": entity_kb}


def reader_peak_kb(path: str) -> float:
    """Peak Python memory (tracemalloc) while streaming every record of the file through the reader."""
    import tracemalloc

    from corpora.kg.readers import Chunk, ReadOptions, ReadStats, read_chunk

    tracemalloc.start()
    for _ in read_chunk(Chunk(path, "nt"), ReadOptions(), ReadStats()):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1024


def deep_size(obj, seen: set | None = None) -> int:
    """Bytes of an object and everything it refers to (tuples, lists, dicts, slots, __dict__)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, (tuple, list, set, frozenset)):
        size += sum(deep_size(x, seen) for x in obj)
    elif isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif hasattr(type(obj), "__slots__"):
        size += sum(deep_size(getattr(obj, a), seen) for a in type(obj).__slots__ if hasattr(obj, a))
    elif hasattr(obj, "__dict__"):
        size += deep_size(vars(obj), seen)
    return size


def hook_shuffles(record: list) -> None:
    """Record, for every GroupByKey the local runner (FnApiRunner) performs, the values it holds and
    their size: decoded objects (estimated from up to 2,000 values) plus the encoded copy."""
    from apache_beam.runners.portability.fn_api_runner import execution

    original = execution.GroupingBuffer.partition

    def partition(self, n):
        if self._grouped_output or not self._table:
            return original(self, n)
        values = sum(len(v) for v in self._table.values())
        sample = [v for vs in itertools.islice(self._table.values(), 2000) for v in vs][:2000]
        per_value = sum(deep_size(v) for v in sample) / max(1, len(sample))
        keys = sum(sys.getsizeof(k) for k in self._table) + 100 * len(self._table)  # + list and dict slot
        out = original(self, n)
        encoded = sum(len(b) for part in out for b in part)
        record.append({"values": values, "mb": (per_value * values + keys + encoded) / 1e6})
        return out

    execution.GroupingBuffer.partition = partition


def hook_local_cluster(record: list) -> None:
    """Record the Dask runner's local cluster (its scheduler runs in this process), so that the
    number of tasks it holds can be sampled: the driver's memory follows it."""
    import pipeline.dask_runner as dask_runner

    start = getattr(dask_runner, "_local_cluster", None)
    if start is None:  # a baseline revision's runner without it: no task count
        return

    def local_cluster(opts):
        cluster = start(opts)
        record.append(cluster)
        return cluster

    dask_runner._local_cluster = local_cluster


def worker_trees_kb() -> dict[int, int]:
    """RSS of each process tree below this one, by its top process (a DirectRunner worker, or a
    Dask nanny with its worker process): summed over the tree, in KB."""
    import psutil  # a dependency of dask.distributed

    trees: dict[int, int] = {}
    for child in psutil.Process().children():
        try:
            procs = [child] + child.children(recursive=True)
        except psutil.Error:
            continue
        total = 0
        for proc in procs:
            try:
                total += proc.memory_info().rss // 1024
            except psutil.Error:
                continue
        trees[child.pid] = total
    return trees


def dir_bytes(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


OVER_CAP = 3  # the child's exit status when the job's processes together passed --memory-cap


def stop_over_cap(peak: dict, cap_mb: int) -> None:
    """The job's processes (this one and every worker) together passed ``cap_mb``: report the peak
    and stop them all, as a machine with that much memory for the job would."""
    import psutil

    print(json.dumps({"over_cap": True, "cap_mb": cap_mb, "all_mb": peak["all"] / 1024}), flush=True)
    for proc in psutil.Process().children(recursive=True):
        try:
            proc.kill()
        except psutil.Error:
            pass
    os._exit(OVER_CAP)


def run_job_child(path: str, out: str, workers: int, code_root: str | None = None, runner: str = "direct",
                  dask_memory: str = "1GB", partitions: int = 0, chunk_mb: int = 16, cap_mb: int = 0) -> None:
    """Child process: one kg job run; prints a JSON line with its numbers. ``code_root``: import the
    job from there (a baseline revision) instead of this checkout. ``runner`` dask: a Dask local
    cluster of ``workers`` processes with ``dask_memory`` each, spilling (and shuffling) under a
    scratch folder whose size is polled. ``cap_mb``: stop the job once its processes together
    pass it (exit status ``OVER_CAP``)."""
    import threading

    import psutil

    if code_root:
        sys.path.insert(0, code_root)
        os.chdir(code_root)
    scratch = tempfile.mkdtemp(prefix="kgbench-dask-")
    if runner == "dask":
        os.environ["DASK_TEMPORARY_DIRECTORY"] = scratch  # the local cluster's workers spill here
        beam_args = ["--runner", "dask", f"--dask_local_workers={workers}", f"--dask_local_memory={dask_memory}"]
        if partitions:
            beam_args.append(f"--dask_partitions={partitions}")
    else:
        beam_args = [f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing"]
    from corpora.kg.job import KgConfig, run_kg

    shuffles: list = []
    clusters: list = []
    if runner != "dask":
        hook_shuffles(shuffles)
    else:
        hook_local_cluster(clusters)
    peak = {"worker": 0, "total": 0, "all": 0, "spill": 0, "tasks": 0}
    done = threading.Event()
    me_proc = psutil.Process()

    def sample() -> None:  # the largest worker tree's RSS, all of them together, the spill folder's size
        while not done.wait(0.2):
            trees = worker_trees_kb()
            if trees:
                peak["worker"] = max(peak["worker"], max(trees.values()))
                peak["total"] = max(peak["total"], sum(trees.values()))
            peak["all"] = max(peak["all"], sum(trees.values()) + me_proc.memory_info().rss // 1024)
            if cap_mb and peak["all"] > cap_mb * 1024:
                stop_over_cap(peak, cap_mb)
            if runner == "dask":
                peak["spill"] = max(peak["spill"], dir_bytes(scratch))
                if clusters:  # the local cluster's scheduler runs in this process
                    peak["tasks"] = max(peak["tasks"], len(clusters[0].scheduler.tasks))

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    t0 = time.perf_counter()
    report = run_kg(KgConfig(triples=[path], output=out, chunk_mb=chunk_mb), beam_args, overwrite=True, quiet=True)
    seconds = time.perf_counter() - t0
    done.set()
    watcher.join()
    shutil.rmtree(scratch, ignore_errors=True)
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "cpu_s": cpu_seconds(), "report": report, "driver_rss_mb": me / 1024,
                      "worker_rss_mb": peak["worker"] / 1024, "workers_rss_mb": peak["total"] / 1024,
                      "all_rss_mb": peak["all"] / 1024,
                      "spill_mb": peak["spill"] / 1e6, "tasks": peak["tasks"],
                      "shuffle_mb": max((r["mb"] for r in shuffles), default=0.0)}))


def coverage(path: str) -> tuple[int, int]:
    """(distinct relations with a template, distinct relations) in the input."""
    from corpora.kg.model import Fact, StatementPart
    from corpora.kg.readers import Chunk, ReadOptions, ReadStats, read_chunk
    from corpora.kg.templates import load_templates

    templates = load_templates()
    rels = set()
    for rec in read_chunk(Chunk(path, "nt"), ReadOptions(), ReadStats()):
        if isinstance(rec, Fact) or isinstance(rec, StatementPart) and rec.kind == "value":
            rels.add(rec.relation)
    return sum(1 for r in rels if templates.find(r)), len(rels)


def stage(report: dict, name: str) -> dict:
    return next(s for s in report["stages"] if s["stage"] == name)


def extract_revision(rev: str, dest: str) -> str:
    """The job's packages at git revision ``rev`` under ``dest`` (``git archive``; the checkout is untouched)."""
    paths = ["beam_runner.py", "corpora", "pipeline", "tokenizer"]
    archive = subprocess.run(["git", "archive", "--format=tar", rev, *paths], cwd=REPO_ROOT, capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", dest], input=archive, check=True)
    return dest


def overlay_runner(rev: str, dest: str) -> str:
    """This checkout's job code under ``dest`` with the Dask runner of git revision ``rev``
    (``pipeline/dask_runner.py`` and no ``pipeline/dask_*.py`` of ours): the runner alone
    changes between the two runs."""
    import shutil

    for name in ("beam_runner.py", "corpora", "tokenizer"):
        os.symlink(os.path.join(REPO_ROOT, name), os.path.join(dest, name))
    shutil.copytree(os.path.join(REPO_ROOT, "pipeline"), os.path.join(dest, "pipeline"),
                    ignore=shutil.ignore_patterns("__pycache__", "dask_*.py"))
    old = subprocess.run(["git", "show", f"{rev}:pipeline/dask_runner.py"], cwd=REPO_ROOT, capture_output=True,
                         check=True).stdout
    with open(os.path.join(dest, "pipeline", "dask_runner.py"), "wb") as f:
        f.write(old)
    return dest


def run_job(path: str, out: str, workers: int, code_root: str | None = None, dask: dict | None = None,
            cap_mb: int = 0) -> dict:
    """One job run in a fresh process (so its peak RSS is its own); ``dask``: on a Dask local cluster
    with these settings (memory, partitions, chunk_mb); ``cap_mb``: stopped once its processes
    together pass it (then ``{"over_cap": True, ...}``)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", path, out, str(workers), "--memory-cap", str(cap_mb)]
    cmd += ["--code-root", code_root] if code_root else []
    if dask:
        cmd += ["--runner", "dask", "--dask-memory", dask["memory"], "--dask-partitions", str(dask["partitions"]),
                "--chunk-mb", str(dask["chunk_mb"])]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT)
    if proc.returncode == OVER_CAP:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    if proc.returncode != 0:
        print(proc.stderr[-3000:])
        raise SystemExit(f"job failed on {path}" + (f" (code of {code_root})" if code_root else ""))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def per_million(rows: list[dict], key: str) -> float:
    """Growth of ``key`` in MB per million triples between the smallest and the largest size."""
    a, b = rows[0], rows[-1]
    return (b[key] - a[key]) / max(1e-9, (b["triples"] - a["triples"]) / 1e6)


def compare_runners(args) -> None:
    """``--runner dask|both``: per size, the job's wall and CPU time (driver and workers together),
    peak RSS of the driver, of the largest worker process tree and of all workers together, and
    the peak size of the Dask spill folder; with ``--baseline-rev`` also the Dask runner of that
    revision (with this checkout's job code), on the same files in the same run."""
    runners = ["direct", "dask"] if args.runner == "both" else ["dask"]
    if args.baseline_rev:
        runners.append(f"dask@{args.baseline_rev}")
    print(f"machine: {usable_cores()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
          f"Python {platform.python_version()}, load {load_average()}, "
          + ", ".join(f"{k} {v}" for k, v in library_versions(LIBRARIES + ("dask", "distributed")).items()))
    print("command: python bench/kg.py " + " ".join(sys.argv[1:]))
    rows: dict[str, list[dict]] = {r: [] for r in runners}
    with tempfile.TemporaryDirectory(prefix="kgbench-") as tmp:
        baseline = overlay_runner(args.baseline_rev, tempfile.mkdtemp(dir=tmp)) if args.baseline_rev else None
        for size in [int(x) for x in args.sizes.split(",")]:
            path = os.path.join(tmp, f"g{size}.nt")
            info = generate(path, size)
            parts = args.dask_partitions or max(4, info["lines"] // args.triples_per_partition)
            for runner in runners:
                dask = {"memory": args.dask_memory, "partitions": parts, "chunk_mb": args.chunk_mb} \
                    if runner.startswith("dask") else None
                job = run_job(path, os.path.join(tmp, f"{runner}{size}"), args.workers, dask=dask,
                              code_root=baseline if "@" in runner else None, cap_mb=args.memory_cap)
                if job.get("over_cap"):
                    rows[runner].append({"triples": info["lines"], "mb": info["bytes"] / 1e6, "over_cap": True,
                                         "parts": parts if dask else "-", "all_mb": job["all_mb"]})
                    continue
                write = stage(job["report"], "write")
                rows[runner].append({"triples": info["lines"], "mb": info["bytes"] / 1e6, "job_s": job["seconds"],
                                     "cpu_s": job["cpu_s"], "parts": parts if dask else "-",
                                     "driver_mb": job["driver_rss_mb"], "worker_mb": job["worker_rss_mb"],
                                     "workers_mb": job["workers_rss_mb"], "all_mb": job["all_rss_mb"],
                                     "spill_mb": job["spill_mb"],
                                     "tasks": job.get("tasks", 0),
                                     "docs": write["out"], "ok": job["report"]["accounting_ok"]})
            os.remove(path)
    print()
    head = ("runner", "triples", "MB", "partitions", "job s", "CPU s", "t/s", "driver MB", "worker MB", "workers MB",
            "all MB", "spill MB", "tasks", "documents", "accounting")
    print("  ".join(f"{h:>10}" for h in head))
    for runner in runners:
        for r in rows[runner]:
            if r.get("over_cap"):
                cells = [runner, f"{r['triples']:,}", f"{r['mb']:.1f}", str(r["parts"])] + ["-"] * 6 + [
                    f">{args.memory_cap}", "-", "-", "-", "OVER CAP"]
                print("  ".join(f"{c:>10}" for c in cells))
                continue
            cells = [runner, f"{r['triples']:,}", f"{r['mb']:.1f}", str(r["parts"]), f"{r['job_s']:.1f}",
                     f"{r['cpu_s']:.1f}", f"{r['triples'] / r['job_s']:,.0f}", f"{r['driver_mb']:.0f}",
                     f"{r['worker_mb']:.0f}", f"{r['workers_mb']:.0f}", f"{r['all_mb']:.0f}",
                     f"{r['spill_mb']:.0f}" if runner.startswith("dask") else "-",
                     f"{r['tasks']:,}" if runner.startswith("dask") else "-", f"{r['docs']:,}",
                     "ok" if r["ok"] else "MISMATCH"]
            print("  ".join(f"{c:>10}" for c in cells))
    for runner in runners:
        done = [r for r in rows[runner] if not r.get("over_cap")]
        if len(done) > 1:
            print(f"\n{runner}: growth per million triples ({done[0]['triples']:,} -> "
                  f"{done[-1]['triples']:,}): " + ", ".join(
                      f"{name} {per_million(done, key):+,.0f} MB/M" for name, key in
                      (("driver", "driver_mb"), ("worker", "worker_mb"), ("all workers", "workers_mb"),
                       ("all processes", "all_mb"))))
    print("\njob s: wall time; CPU s: user + system CPU of the driver and every worker process (the steadier")
    print("figure on a shared machine); driver MB: peak RSS of the process that runs the job (for dask it also")
    print("runs the local cluster's scheduler); worker MB: the largest worker process tree (a DirectRunner worker;")
    print("a Dask worker), peak; workers MB: all of them together, peak; spill MB: peak size of the Dask workers'")
    print("scratch folder (spilled partitions and shuffle files); all MB: the driver and every worker together,")
    print("peak; tasks: peak number of tasks the Dask scheduler (in the driver) held.")
    if args.memory_cap:
        print(f"OVER CAP: the job's processes together passed --memory-cap {args.memory_cap} MB and were stopped")
    if any(r.startswith("dask") for r in runners):
        print(f"dask: {args.workers} workers x {args.dask_memory}, read chunks of {args.chunk_mb} MB, "
              f"{args.triples_per_partition:,} triples per partition unless --dask-partitions")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,300000", help="triples per generated graph (comma-separated)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--baseline-rev", default=None, metavar="REV",
                    help="also run the job at this git revision, side by side (e.g. e09ab2f: before the memory work; "
                         "with --runner dask|both: that revision's pipeline/dask_runner.py under this checkout's job code)")
    ap.add_argument("--runner", default="direct", choices=("direct", "dask", "both"),
                    help="dask: the job on a Dask local cluster (--workers processes) instead of the DirectRunner, "
                         "memory and spill per size; both: each size on both, one table (no core/coverage runs)")
    ap.add_argument("--dask-memory", default="1GB", help="memory limit per Dask worker (spills past 60%% of it)")
    ap.add_argument("--dask-partitions", type=int, default=0,
                    help="partitions per shuffle (default 0: one per --triples-per-partition of the input, at least 4)")
    ap.add_argument("--triples-per-partition", type=int, default=50_000,
                    help="Dask runs: one shuffle partition per this many triples (a task's memory follows it)")
    ap.add_argument("--chunk-mb", type=int, default=1, help="read chunk size of the Dask runs (default 1 MB)")
    ap.add_argument("--memory-cap", type=int, default=0, metavar="MB",
                    help="--runner dask|both: stop a job once the driver and its workers together hold more than "
                         "this many MB, as a machine with that much memory for it would (a row 'OVER CAP')")
    ap.add_argument("--child", nargs=3, metavar=("PATH", "OUT", "WORKERS"), help=argparse.SUPPRESS)
    ap.add_argument("--code-root", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        run_job_child(args.child[0], args.child[1], int(args.child[2]), args.code_root, args.runner,
                      args.dask_memory, args.dask_partitions, args.chunk_mb, args.memory_cap)
        return
    if args.runner != "direct":
        compare_runners(args)
        return
    print(f"machine: {usable_cores()} cores, Python {platform.python_version()}, load {load_average()}, "
          + ", ".join(f"{k} {v}" for k, v in library_versions(LIBRARIES).items()))
    print("command: python bench/kg.py " + " ".join(sys.argv[1:]))
    rows, base_rows = [], []
    with tempfile.TemporaryDirectory(prefix="kgbench-") as tmp:
        baseline = extract_revision(args.baseline_rev, tempfile.mkdtemp(dir=tmp)) if args.baseline_rev else None
        for size in [int(x) for x in args.sizes.split(",")]:
            path = os.path.join(tmp, f"g{size}.nt")
            info = generate(path, size)
            core = run_core(path)
            reader_kb = reader_peak_kb(path)
            job = run_job(path, os.path.join(tmp, f"out{size}"), args.workers)
            if baseline:
                old = run_job(path, os.path.join(tmp, f"base{size}"), args.workers, baseline)
                base_rows.append({"triples": info["lines"], "job_s": old["seconds"],
                                  "job_tps": info["lines"] / old["seconds"], "driver_mb": old["driver_rss_mb"],
                                  "worker_mb": old["worker_rss_mb"], "shuffle_mb": old["shuffle_mb"]})
            rep = job["report"]
            faith = stage(rep, "faithfulness")
            verb = stage(rep, "verbalize").get("counts", {})
            tmpl, generic = verb.get("template_relations", 0), verb.get("generic_relations", 0)
            covered, total = coverage(path)
            rows.append({
                "triples": info["lines"], "mb": info["bytes"] / 1e6,
                "core_tps": info["lines"] / core["seconds"], "job_tps": info["lines"] / job["seconds"],
                "job_s": job["seconds"], "reader_kb": reader_kb, "entity_kb": core["entity_kb"],
                "driver_mb": job["driver_rss_mb"],
                "worker_mb": job["worker_rss_mb"], "shuffle_mb": job["shuffle_mb"],
                "pass": faith["out"] / max(1, faith["in"]), "core_pass": core["passed"] / max(1, core["subgraphs"]),
                "subgraphs": faith["in"], "rel_cov": covered / max(1, total), "rels": total,
                "clause_cov": tmpl / max(1, tmpl + generic),
            })
            os.remove(path)
    print()
    head = ("triples", "MB", "core t/s", "job t/s", "job/core", "job s", "reader KB", "entity KB", "driver MB",
            "worker MB", "shuffle MB", "subgraphs", "faithful", "rel cov", "clause cov")
    print("  ".join(f"{h:>10}" for h in head))
    for r in rows:
        cells = [f"{r['triples']:,}", f"{r['mb']:.1f}", f"{r['core_tps']:,.0f}", f"{r['job_tps']:,.0f}",
                 f"{r['job_tps'] / r['core_tps']:.2f}", f"{r['job_s']:.1f}", f"{r['reader_kb']:.0f}",
                 f"{r['entity_kb']:.0f}", f"{r['driver_mb']:.0f}", f"{r['worker_mb']:.0f}", f"{r['shuffle_mb']:.1f}", f"{r['subgraphs']:,}",
                 f"{100 * r['pass']:.1f}%", f"{100 * r['rel_cov']:.0f}% of {r['rels']}",
                 f"{100 * r['clause_cov']:.1f}%"]
        print("  ".join(f"{c:>10}" for c in cells))
    if len(rows) > 1:
        print(f"\ngrowth per million triples ({rows[0]['triples']:,} -> {rows[-1]['triples']:,}): "
              + ", ".join(f"{name} {per_million(rows, key):+,.0f} MB/M" for name, key in
                          (("driver", "driver_mb"), ("worker", "worker_mb"), ("shuffle", "shuffle_mb"))))
    if base_rows:
        print(f"\nside by side with the code at {args.baseline_rev} (same files, same run; ratio = now / then):")
        head = ("triples", "then t/s", "now t/s", "speed x", "then drv", "now drv", "drv x", "then wrk", "now wrk",
                "wrk x", "then shfl", "now shfl", "shfl x")
        print("  ".join(f"{h:>9}" for h in head))
        for old, new in zip(base_rows, rows, strict=True):
            cells = [f"{new['triples']:,}"]
            for key, fmt in (("job_tps", ",.0f"), ("driver_mb", ".0f"), ("worker_mb", ".0f"), ("shuffle_mb", ".1f")):
                cells += [format(old[key], fmt), format(new[key], fmt), f"{new[key] / max(1e-9, old[key]):.2f}"]
            print("  ".join(f"{c:>9}" for c in cells))
        if len(base_rows) > 1:
            print("growth per million triples then: " + ", ".join(
                f"{name} {per_million(base_rows, key):+,.0f} MB/M" for name, key in
                (("driver", "driver_mb"), ("worker", "worker_mb"), ("shuffle", "shuffle_mb"))))
    print("\nfaithful: subgraphs whose template sentences pass the filter (job; core agrees: "
          + ", ".join(f"{100 * r['core_pass']:.1f}%" for r in rows) + ")")
    print("rel cov: distinct input relations with a specific template; clause cov: verbalized clauses that used one")
    print("reader KB: peak Python memory of the N-Triples reader streaming the whole file (tracemalloc);")
    print("entity KB: peak Python memory of partition + verbalize + faithfulness on the largest owner's group")
    print("(what one DoFn call holds): with the reader, all that our code holds per worker besides fixed state")
    print("driver MB: peak RSS of the runner process; worker MB: largest worker process; shuffle MB: the largest")
    print("GroupByKey the local runner holds in the driver (decoded objects + encoded copy). The local DirectRunner")
    print("keeps each shuffle in memory and hands each worker its whole share as one bundle, so these grow with")
    print("the input there; a cluster runner (Dataflow, Flink, Spark) shuffles through disk in bounded bundles.")


if __name__ == "__main__":
    main()

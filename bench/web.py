"""Benchmark: the ``web`` job's throughput against the bare HTML extractor, per core.

Run from the repository root::

    python bench/web.py                          # generated sample (3000 pages, 8 files)
    python bench/web.py --input 'crawl/*.warc.gz' --workers 4

One run, one input, three figures per extractor:

(a) **bare**: the HTML response records are read into memory and decoded once, then only
    ``TextExtractor(extractor=X).html_to_text(html)`` is timed, in a loop, on one core;
(b) **job**: the whole ``web`` job (read, extract, normalize, langid, write Parquet) on the
    DirectRunner with ``--direct_num_workers=N --direct_running_mode=multi_processing``,
    as pages / wall seconds / N, once including Beam start-up ("wall") and once with the
    fixed start-up cost cancelled ("steady": from the difference between a run on the input
    and a run on the input twice over);
(c) **job/bare**: (b, steady) / (a); the goal is >= 0.5. The same ratio in CPU time (runner and
    worker processes, from ``getrusage``) is printed beside it: it shows what the job would reach
    with every core busy and is less swayed by other load on the machine.

This is a benchmark, not a test: it asserts nothing and its numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import glob
import logging
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from common import cpu_seconds, library_versions, load_average, usable_cores, wait_for_workers  # noqa: E402

from pipeline.charset import UndecodableError, decode_html  # noqa: E402
from pipeline.extract import EXTRACTORS, TextExtractor  # noqa: E402
from pipeline.readers import ReaderConfig, read_file  # noqa: E402
from pipeline.records import RawRecord  # noqa: E402

LIBRARIES = ("resiliparse", "fastwarc", "trafilatura", "apache-beam", "pyarrow", "isal", "fasttext-predict")


@dataclass
class BareResult:
    """The bare extractor loop: pages timed and the best wall time over the repeats."""

    pages: int
    seconds: float

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else float("nan")


@dataclass
class JobRun:
    """One run of the web job: pages at extraction, wall seconds, CPU seconds of all processes."""

    pages: int
    seconds: float
    cpu_seconds: float


@dataclass
class JobResult:
    """The web job on the input (1x) and on the input twice over (2x), best of the repeats."""

    workers: int
    pages_1x: int
    seconds_1x: float
    cpu_1x: float
    pages_2x: int
    seconds_2x: float
    cpu_2x: float

    @property
    def wall_per_core(self) -> float:
        """Pages / wall seconds / workers on the 1x run, Beam start-up included."""
        return self.pages_1x / self.seconds_1x / self.workers

    @property
    def steady_per_core(self) -> float:
        """Extra pages / extra wall seconds / workers from 1x to 2x: start-up cancels out."""
        dt = self.seconds_2x - self.seconds_1x
        if dt <= 0:
            return float("nan")
        return (self.pages_2x - self.pages_1x) / dt / self.workers

    @property
    def cpu_ms_per_page_steady(self) -> float:
        """Extra CPU milliseconds (runner + workers) per extra page from 1x to 2x."""
        dp = self.pages_2x - self.pages_1x
        return 1e3 * (self.cpu_2x - self.cpu_1x) / dp if dp > 0 else float("nan")


def print_header(args: argparse.Namespace) -> None:
    """Machine, versions and the exact command line, so a table can be reproduced."""
    print("# web job vs bare extractor benchmark\n")
    print(f"command:  python {shlex.join(sys.argv)}")
    print(f"machine:  {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"os.cpu_count()={os.cpu_count()}, usable cores={usable_cores()}")
    print(f"python:   {platform.python_version()} ({platform.python_implementation()})")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in library_versions(LIBRARIES).items()))
    from pipeline.compression import INFLATE

    print(f"inflate:  {INFLATE.__name__} (gzip members of the WARC files)")
    print(f"workers:  {args.workers} (--direct_num_workers, multi_processing)")
    print(f"load:     {load_average()} (1, 5, 15 min; other work on the machine skews the numbers)")
    print(flush=True)


def prepare_inputs(args: argparse.Namespace, root: str) -> list[str]:
    """The input files: the user's glob (local files), or a freshly generated sample."""
    if args.input:
        files = sorted(p for p in glob.glob(args.input, recursive=True) if os.path.isfile(p))
        if not files:
            raise SystemExit(f"--input {args.input!r}: no local file matches")
        return [os.path.abspath(p) for p in files]
    from corpora.sample_web import write_sample

    sample_dir = os.path.join(root, "sample")
    t0 = time.perf_counter()
    counts = write_sample(sample_dir, seed=0, pages=args.pages, files=args.files, page_kb=args.page_kb)
    print(f"sample:   write_sample(seed=0, pages={args.pages}, files={args.files}, page_kb={args.page_kb}) -> "
          f"{counts['files']} files, "
          f"{counts['html_pages']} HTML pages (+ broken/truncated files) in {time.perf_counter() - t0:.1f}s")
    return sorted(os.path.join(sample_dir, n) for n in os.listdir(sample_dir))


def link_copies(files: list[str], directory: str, copies: int) -> str:
    """Symlink ``copies`` sets of ``files`` under distinct names into ``directory``; return a glob.

    Distinct names keep Beam's input matching from folding the copies into one, and keep the
    format suffix (.warc.gz) that the reader detects the format from.
    """
    os.makedirs(directory)
    for c in range(copies):
        for i, path in enumerate(files):
            os.symlink(path, os.path.join(directory, f"c{c}-{i:05d}-{os.path.basename(path)}"))
    return os.path.join(directory, "*")


def load_pages(files: list[str]) -> tuple[list[str], int, int]:
    """Read every HTML response record once and decode it: (htmls, records, undecodable)."""
    config = ReaderConfig()
    htmls: list[str] = []
    records = undecodable = 0
    for path in files:
        for rec in read_file(path, config):
            if isinstance(rec, RawRecord) and rec.kind == "html":
                records += 1
                body = rec.payload if isinstance(rec.payload, bytes) else rec.payload.encode("utf-8")
                try:
                    htmls.append(decode_html(body, rec.header_charset)[0])
                except UndecodableError:
                    undecodable += 1
    return htmls, records, undecodable


def bench_bare(extractor: str, htmls: list[str], repeat: int) -> BareResult:
    """Time ``html_to_text`` over all pages (best of ``repeat``); one untimed warm-up call first.

    Exceptions are swallowed per page, as the job's extract step does, so one bad page
    neither stops the loop nor goes uncounted.
    """
    ex = TextExtractor(extractor=extractor)
    if htmls:
        ex.html_to_text(htmls[0])  # lazy import of the extractor library, outside the timing
    best = float("inf")
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        for html in htmls:
            try:
                ex.html_to_text(html)
            except Exception:  # noqa: BLE001 - as TextExtractor.__call__ drops such pages
                pass
        best = min(best, time.perf_counter() - t0)
    return BareResult(len(htmls), best)


def run_job(extractor: str, input_glob: str, output: str, workers: int) -> JobRun:
    """Run the whole web job once; wall time from building the pipeline to its end."""
    from corpora.web import WebConfig, run_web

    beam_args = [f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing"]
    wait_for_workers()
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    stats = run_web(WebConfig(inputs=[input_glob], output=output, extractor=extractor), beam_args,
                    overwrite=True, quiet=True)
    seconds = time.perf_counter() - t0
    wait_for_workers()  # not timed: only so the workers' CPU time is in RUSAGE_CHILDREN
    pages = next((s["in"] for s in stats["stages"] if s["stage"] == "extract"), 0)
    return JobRun(pages, seconds, cpu_seconds() - cpu0)


def bench_job(extractor: str, glob_1x: str, glob_2x: str, root: str, workers: int, repeat: int) -> JobResult:
    """The job on the input once and on the input twice over, alternating; best of ``repeat`` each."""
    runs: dict[str, list[JobRun]] = {"1x": [], "2x": []}
    for _ in range(repeat):
        for size, input_glob in (("1x", glob_1x), ("2x", glob_2x)):
            run = run_job(extractor, input_glob, os.path.join(root, f"out-{extractor}-{size}"), workers)
            runs[size].append(run)
            print(f"  job  {extractor:<12} {size}: {run.pages} pages in {run.seconds:.2f}s wall, "
                  f"{run.cpu_seconds:.2f}s CPU", flush=True)
    one = min(runs["1x"], key=lambda r: r.seconds)
    two = min(runs["2x"], key=lambda r: r.seconds)
    return JobResult(workers, one.pages, one.seconds, min(r.cpu_seconds for r in runs["1x"]),
                     two.pages, two.seconds, min(r.cpu_seconds for r in runs["2x"]))


def fmt(x: float, digits: int = 0) -> str:
    return "n/a" if x != x else f"{x:,.{digits}f}"  # x != x: NaN


def print_tables(bare: dict[str, BareResult], jobs: dict[str, JobResult], workers: int, repeat: int) -> None:
    """The comparison table, its footnotes, and the raw timings behind it."""
    print("\n| extractor | bare pages/s/core | job pages/s/core (wall) | job pages/s/core (steady) "
          "| job/bare (steady) | job/bare (CPU, steady) |")
    print("|---|---:|---:|---:|---:|---:|")
    for x in bare:
        b, j = bare[x], jobs[x]
        ratio = j.steady_per_core / b.pages_per_s
        flag = "" if ratio != ratio or ratio >= 0.5 else " (below 0.5 goal)"
        cpu_ratio = 1e3 / b.pages_per_s / j.cpu_ms_per_page_steady
        print(f"| {x} | {fmt(b.pages_per_s)} | {fmt(j.wall_per_core)} | {fmt(j.steady_per_core)} "
              f"| {fmt(ratio, 2)}{flag} | {fmt(cpu_ratio, 2)} |")
    print(f"""
- bare: `TextExtractor(extractor=X).html_to_text(html)` in a loop on one core, over pages read and
  charset-decoded beforehand (reading, decoding, depth check, normalize, langid and writing are not
  timed); best of --repeat.
- job (wall): `run_web` on the DirectRunner, --direct_num_workers={workers}
  --direct_running_mode=multi_processing; pages / wall seconds / {workers}, Beam start-up included.
- job (steady): the job also run on the input twice over (the same files linked twice); the extra
  pages over the extra wall seconds, / {workers}. The fixed Beam start-up cost (pipeline
  construction, job service, worker processes and their imports, model loading, finalization) is
  the same in both runs and cancels out. n/a: the 2x run was not slower (noise; raise --job-repeat).
- job/bare (CPU, steady): bare CPU per page / the job's extra CPU per extra page (all its processes);
  what the ratio would be with every core busy, and less sensitive to other load on the machine.
- job wall times are the best of --job-repeat={repeat} runs, 1x and 2x alternating.
- pages = HTML 200 responses that reach extraction (stats.json stage "extract", "in").
- goal: job/bare (steady) >= 0.5.""")
    print("\nraw timings (CPU = user+sys of the runner process and its worker processes; "
          "CPU ms/page steady = extra CPU / extra pages, 1x -> 2x):\n")
    print("| extractor | bare pages | bare s | bare ms/page | job 1x pages | job 1x wall s | job 1x CPU s "
          "| job 2x pages | job 2x wall s | job 2x CPU s | job CPU ms/page (steady) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for x in bare:
        b, j = bare[x], jobs[x]
        print(f"| {x} | {b.pages} | {b.seconds:.2f} | {1e3 * b.seconds / max(b.pages, 1):.3f} "
              f"| {j.pages_1x} | {j.seconds_1x:.2f} | {j.cpu_1x:.2f} "
              f"| {j.pages_2x} | {j.seconds_2x:.2f} | {j.cpu_2x:.2f} | {fmt(j.cpu_ms_per_page_steady, 3)} |")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Pages/s per core of the bare HTML extractor vs the whole web job, on one input.",
    )
    parser.add_argument("--input", default=None, metavar="GLOB",
                        help="local WARC files to use (default: generate a sample)")
    parser.add_argument("--pages", type=int, default=3000, help="HTML pages in the generated sample (default 3000)")
    parser.add_argument("--page-kb", type=int, default=60,
                        help="markup weight added to each generated page, in KB, like a real Common Crawl page "
                             "(inline CSS/JS, menus); 0 for the bare demo pages (default 60)")
    parser.add_argument("--files", type=int, default=8, help="WARC files of the generated sample (default 8)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="--direct_num_workers of the job (default: os.cpu_count())")
    parser.add_argument("--extractors", default=",".join(EXTRACTORS),
                        help=f"comma-separated extractors (default {','.join(EXTRACTORS)})")
    parser.add_argument("--repeat", type=int, default=1, help="repeats of the bare loop, best kept (default 1)")
    parser.add_argument("--job-repeat", type=int, default=2,
                        help="runs of the job per input size, best kept (default 2; raise it on a busy machine)")
    args = parser.parse_args(argv)
    args.extractors = [x.strip() for x in args.extractors.split(",") if x.strip()]
    unknown = [x for x in args.extractors if x not in EXTRACTORS]
    if unknown or not args.extractors:
        parser.error(f"--extractors: choose from {', '.join(EXTRACTORS)}")
    if min(args.workers, args.repeat, args.job_repeat, args.pages, args.files) < 1:
        parser.error("--workers, --repeat, --job-repeat, --pages and --files must be >= 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from pipeline.jobs import configure_logging

    configure_logging(False)  # keep Beam's worker chatter out of the table
    logging.getLogger("corpusforge").setLevel(logging.ERROR)  # expected warnings on broken files
    started = time.perf_counter()
    print_header(args)
    root = tempfile.mkdtemp(prefix="bench-web-")
    try:
        files = prepare_inputs(args, root)
        glob_1x = link_copies(files, os.path.join(root, "in-1x"), 1)
        glob_2x = link_copies(files, os.path.join(root, "in-2x"), 2)
        total_mb = sum(os.path.getsize(p) for p in files) / 1e6
        print(f"input:    {len(files)} files, {total_mb:.1f} MB" + (f" ({args.input})" if args.input else ""))

        t0 = time.perf_counter()
        htmls, records, undecodable = load_pages(files)
        print(f"bare:     {records} HTML records read and decoded in {time.perf_counter() - t0:.1f}s"
              + (f" ({undecodable} undecodable, left out)" if undecodable else ""), flush=True)
        bare: dict[str, BareResult] = {}
        for x in args.extractors:
            bare[x] = bench_bare(x, htmls, args.repeat)
            print(f"  bare {x:<12}: {bare[x].pages} pages in {bare[x].seconds:.2f}s", flush=True)

        # Warm-up: the first pipeline in a process pays the runner's imports; keep that out of 1x.
        t0 = time.perf_counter()
        warm = link_copies(files[:1], os.path.join(root, "in-warmup"), 1)
        run_job(args.extractors[0], warm, os.path.join(root, "out-warmup"), args.workers)
        print(f"warm-up:  one job on 1 file in {time.perf_counter() - t0:.1f}s (not counted)", flush=True)
        jobs: dict[str, JobResult] = {}
        for x in args.extractors:
            jobs[x] = bench_job(x, glob_1x, glob_2x, root, args.workers, args.job_repeat)
            if jobs[x].pages_1x != records:
                print(f"  note: the job saw {jobs[x].pages_1x} pages at extraction, the bare loop read {records}")
        print_tables(bare, jobs, args.workers, args.job_repeat)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"\ntotal benchmark time: {time.perf_counter() - started:.0f}s; load average at the end: {load_average()}")


if __name__ == "__main__":
    main()

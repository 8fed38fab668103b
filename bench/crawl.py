"""Benchmark: the crawler's pages per second against the ideal ``hosts x rate``.

Run from the repository root::

    python bench/crawl.py                                # 20 hosts, 5 req/s each, 0 and 50 ms latency
    python bench/crawl.py --hosts 20 --rate 10 --pages 60 --latency-ms 0,50,200
    git worktree add /tmp/crawl-base <commit>                 # then, old and new alternating:
    python bench/crawl.py --latency-ms 50 --baseline /tmp/crawl-base --rounds 3

A separate process serves ``--hosts`` sites on 127.0.0.1 (one port each, asyncio, HTTP/1.1
keep-alive); each has a robots.txt and a home page linking to ``--pages`` pages. Every
response waits ``latency`` ms before it is sent (a far-away server). The crawler is polite
(one request in flight per host, ``--rate`` requests per second per host), so the most it
can do is ``hosts x rate`` pages per second, whatever the latency; how close it gets shows
how well concurrency across hosts hides latency (goal: at least 90%).

Rows, in one run:
(a) **core**: the crawler core (``BatchCrawler``: async fetches, robots.txt, link
    extraction, WARC writing) on all hosts in one batch, no Beam: wall time from the first
    to the last request;
(b) **job**: the whole ``crawl`` job (``corpora.crawl.run_crawl``) on the DirectRunner
    with one in-memory worker: Beam start-up and the stats/manifest pass included;
(c) **unpaced**: the core with a rate far above what the machine can do (1000 req/s per
    host), 0 ms latency: the CPU-bound ceiling of one worker.
CPU ms/page is the crawling process's CPU time (user + system, Beam included in the job rows)
per page request. From the times the servers saw each request arrive: start-up (the run's
start to its first request), pace loss (how much longer than the interval a host's requests
were apart, on average), tail (the last request to the run's end) and min gap (the closest
two requests to one host ever came: politeness, never below 1/rate; the server's own clock
and scheduling add noise of its own).
pages/s counts page requests (robots.txt not included); ideal = hosts x rate. Each run is a
fresh process that has imported the code before its clock starts. With ``--baseline DIR`` (a
checkout of other code, e.g. a git worktree of an earlier commit) every row is run for that
code and this one, alternating, ``--rounds`` times; the table gives the median of each and
new/old. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import pairwise

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from common import library_versions, load_average, usable_cores  # noqa: E402

LIBRARIES = ("httpx", "httpcore", "warcio", "protego", "lxml", "apache-beam")
TEXT = ("The harbour town woke early, and the fishing boats were back before the market opened. "
        "Volunteers repaired the old footbridge over the river during a long weekend. ") * 12


def _page(title: str, links: list[str]) -> bytes:
    anchors = "".join(f'<li><a href="{h}">{h}</a></li>' for h in links)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<h1>{title}</h1><p>{TEXT}</p><ul>{anchors}</ul></body></html>").encode()


async def _serve(ports_q, hosts: int, pages: int, latency: float, stop, conn) -> None:
    home = _page("Home", [f"/p/{i}" for i in range(pages)])
    robots = b"User-agent: *\nDisallow: /private/\n"
    arrivals: list[tuple[int, float]] = []  # (port, time.monotonic()) of each request, as the server saw it

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("sockname")[1]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                arrivals.append((port, time.monotonic()))
                path = head.split(b" ", 2)[1].decode()
                if latency:
                    await asyncio.sleep(latency)
                if path == "/robots.txt":
                    body, ctype = robots, b"text/plain"
                elif path == "/":
                    body, ctype = home, b"text/html; charset=utf-8"
                else:
                    body, ctype = _page(f"Page {path}", ["/"]), b"text/html; charset=utf-8"
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype + b"\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    servers = [await asyncio.start_server(handle, "127.0.0.1", 0) for _ in range(hosts)]
    ports_q.put([s.sockets[0].getsockname()[1] for s in servers])
    while not stop.is_set():
        if conn.poll():  # the bench asks for the arrivals of the run that just ended
            conn.recv()
            conn.send(arrivals[:])
            arrivals.clear()
        await asyncio.sleep(0.02)
    for s in servers:
        s.close()


def _server_process(ports_q, hosts, pages, latency, stop, conn) -> None:
    asyncio.run(_serve(ports_q, hosts, pages, latency, stop, conn))


class Servers:
    """``hosts`` sites with ``latency`` seconds per response, in their own process."""

    def __init__(self, hosts: int, pages: int, latency: float) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.stop = ctx.Event()
        q = ctx.Queue()
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_server_process, args=(q, hosts, pages, latency, self.stop, child),
                                daemon=True)
        self.proc.start()
        self.ports = q.get(timeout=60)

    def take_arrivals(self) -> list[tuple[int, float]]:
        """(port, monotonic time) of every request since the last call."""
        self.conn.send("arrivals")
        return self.conn.recv()

    def close(self) -> None:
        self.stop.set()
        self.proc.join(timeout=10)


def crawl_config(rate: float, pages: int):
    from pipeline.crawl.crawler import DEFAULT_USER_AGENT, CrawlConfig
    from pipeline.crawl.fetch import FetchConfig
    from pipeline.crawl.urls import ScopeRules

    return CrawlConfig(fetch=FetchConfig(DEFAULT_USER_AGENT, read_timeout=10, retries=0), scope=ScopeRules("host"),
                       rate=rate, max_depth=2, max_pages=None, max_pages_per_host=pages + 10, allow_hosts=("127.0.0.1",))


def run_core(ports: list[int], rate: float, pages: int, out: str) -> tuple[int, float]:
    from pipeline.crawl.crawler import BatchCrawler, HostWork
    from pipeline.crawl.segments import SegmentStore
    from pipeline.crawl.storage import FileStorage

    cfg = crawl_config(rate, pages)
    store = SegmentStore(FileStorage(), out, "crawl-r000-b0000-bench", {"isPartOf": "bench"})
    works = [HostWork(f"http://127.0.0.1:{p}", [{"url": f"http://127.0.0.1:{p}/", "depth": 0}], budget=pages + 10)
             for p in ports]
    crawler = BatchCrawler(cfg, store)
    start = time.monotonic()
    crawler.run(works)
    return crawler.requests - len(ports), start  # page requests (robots.txt excluded)


def run_job(ports: list[int], rate: float, pages: int, out: str) -> tuple[int, float]:
    from corpora.crawl import CrawlJobConfig, run_crawl
    from pipeline.stats import stage

    seeds = os.path.join(out, "seeds.txt")
    os.makedirs(out, exist_ok=True)
    with open(seeds, "w") as f:
        f.write("".join(f"http://127.0.0.1:{p}/\n" for p in ports))
    cfg = CrawlJobConfig(seeds=seeds, output=os.path.join(out, "job"), crawl=crawl_config(rate, pages))
    start = time.monotonic()
    report = run_crawl(cfg, ["--direct_num_workers=1", "--direct_running_mode=in_memory"], quiet=True)
    return stage(report, "urls")["counts"]["requests"] - len(ports), start


KINDS = {"core": "core", "job": "job (in_memory, 1 worker)", "unpaced": "core, unpaced"}


def run_one(kind: str, ports: list[int], rate: float, pages: int, out: str) -> dict:
    """One measurement in this process (the code under test is whatever ``pipeline`` imports)."""
    cpu = time.process_time()
    if kind == "job":
        n, start = run_job(ports, rate, pages, out)
    else:
        n, start = run_core(ports, rate, pages, out)
    end = time.monotonic()  # CLOCK_MONOTONIC: the server process's clock too
    return {"requests": n, "start": start, "end": end, "seconds": end - start, "cpu": time.process_time() - cpu}


def timeline(run: dict, arrivals: list[tuple[int, float]], interval: float) -> dict:
    """Where a run's time went, from the request arrivals its servers saw: start-up (to the first
    request), pace loss (mean gap between a host's requests beyond the interval), tail (last
    request to the end), and the smallest gap (politeness: never below the interval)."""
    by_port: dict[int, list[float]] = {}
    for port, t in arrivals:
        by_port.setdefault(port, []).append(t)
    gaps = [b - a for ts in by_port.values() for a, b in pairwise(sorted(ts))]
    first = min(t for _, t in arrivals)
    last = max(t for _, t in arrivals)
    return {"startup": first - run["start"], "tail": run["end"] - last, "min_gap": min(gaps),
            "pace_loss": statistics.mean(gaps) - interval}


def measure(tree: str, kind: str, ports: list[int], rate: float, pages: int, out: str) -> dict:
    """One measurement in a fresh process that imports the code of ``tree``."""
    args = [sys.executable, os.path.abspath(__file__), "--one", kind, "--tree", tree, "--ports",
            ",".join(map(str, ports)), "--rate", str(rate), "--pages", str(pages), "--out", out]
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} run in {tree} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _one(args: argparse.Namespace) -> None:
    sys.path.insert(0, os.path.abspath(args.tree))  # before REPO_ROOT: the code under test
    os.chdir(args.tree)
    for name in [m for m in sys.modules if m == "pipeline" or m.startswith(("pipeline.", "corpora"))]:
        del sys.modules[name]
    import pipeline.crawl.crawler  # noqa: F401  (imported before the clock starts)
    if args.one == "job":
        import corpora.crawl  # noqa: F401
    ports = [int(p) for p in args.ports.split(",")]
    print(json.dumps(run_one(args.one, ports, args.rate, args.pages, args.out)))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hosts", type=int, default=20)
    ap.add_argument("--rate", type=float, default=5.0, help="requests per second per host")
    ap.add_argument("--pages", type=int, default=30, help="pages per host (plus its home page)")
    ap.add_argument("--latency-ms", default="0,50", help="comma-separated response latencies")
    ap.add_argument("--no-job", action="store_true", help="skip the whole-job rows")
    ap.add_argument("--no-unpaced", action="store_true", help="skip the unpaced row")
    ap.add_argument("--baseline", metavar="DIR", help="a checkout of the code to compare with (old vs new)")
    ap.add_argument("--rounds", type=int, default=None, help="runs of each row and code (default: 3 with "
                    "--baseline, else 1)")
    ap.add_argument("--one", choices=sorted(KINDS), help=argparse.SUPPRESS)
    ap.add_argument("--tree", default=REPO_ROOT, help=argparse.SUPPRESS)
    ap.add_argument("--ports", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        return _one(args)
    rounds = args.rounds or (3 if args.baseline else 1)
    trees = [("old", os.path.abspath(args.baseline))] if args.baseline else []
    trees.append(("new" if args.baseline else "this", REPO_ROOT))
    print(f"# {platform.platform()}, Python {platform.python_version()}, cores {usable_cores()}, "
          f"load {load_average()} (start)")
    print("# " + ", ".join(f"{k} {v}" for k, v in library_versions(LIBRARIES).items()))
    print(f"# command: python bench/crawl.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    ideal = args.hosts * args.rate
    plan = [(lat, kind, args.rate) for lat in [float(x) for x in args.latency_ms.split(",")]
            for kind in ("core", "job") if kind == "core" or not args.no_job]
    if not args.no_unpaced:
        plan.append((0.0, "unpaced", 1000.0))
    results: dict[tuple, list[dict]] = {}
    tmp = tempfile.mkdtemp(prefix="crawl-bench-")
    try:
        for lat in sorted({p[0] for p in plan}):
            servers = Servers(args.hosts, args.pages, lat / 1000)
            try:
                for r in range(rounds):
                    order = trees if r % 2 == 0 else trees[::-1]  # alternate which code runs first
                    for _, kind, rate in [p for p in plan if p[0] == lat]:
                        for name, tree in order:
                            out = os.path.join(tmp, f"{name}-{kind}-{lat:g}-{r}")
                            run = measure(tree, kind, servers.ports, rate, args.pages, out)
                            run.update(timeline(run, servers.take_arrivals(), 1 / rate))
                            results.setdefault((lat, kind, name), []).append(run)
            finally:
                servers.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"# load {load_average()} (end); {rounds} run(s) of each row" + (", median" if rounds > 1 else ""))
    header = ["run", "code", "latency ms", "rate/host", "page requests", "seconds", "CPU ms/page", "start-up s",
              "pace loss ms/req", "tail s", "min gap ms", "pages/s", "ideal pages/s", "pages/s / ideal"] + (["new / old"] if args.baseline else [])
    table = [header]
    for lat, kind, rate in plan:
        medians = {}
        for name, _ in trees:
            runs = results[(lat, kind, name)]
            n = runs[0]["requests"]
            s = statistics.median(r["seconds"] for r in runs)
            cpu = statistics.median(r["cpu"] for r in runs) / n * 1000
            med = {k: statistics.median(r[k] for r in runs) for k in ("startup", "pace_loss", "tail")}
            min_gap = min(r["min_gap"] for r in runs) * 1000
            medians[name] = n / s
            ide = ideal if kind != "unpaced" else None
            row = [KINDS[kind], name, f"{lat:g}", f"{rate:g}", str(n), f"{s:.2f}", f"{cpu:.1f}",
                   f"{med['startup']:.2f}", f"{med['pace_loss'] * 1000:.1f}" if kind != "unpaced" else "-",
                   f"{med['tail']:.2f}", f"{min_gap:.1f}", f"{n / s:.1f}",
                   f"{ide:g}" if ide else "-", f"{n / s / ide:.0%}" if ide else "-"]
            if args.baseline:
                row.append(f"{medians['new'] / medians['old']:.2f}x" if name == "new" else "")
            table.append(row)
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for i, r in enumerate(table):
        print("  ".join(c.ljust(widths[j]) if j < 2 else c.rjust(widths[j]) for j, c in enumerate(r)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()

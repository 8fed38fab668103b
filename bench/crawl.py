"""Benchmark: the crawler's pages per second against the ideal ``hosts x rate``.

Run from the repository root::

    python bench/crawl.py                                # 20 hosts, 5 req/s each, 0 and 50 ms latency
    python bench/crawl.py --hosts 20 --rate 10 --pages 60 --latency-ms 0,50,200

A separate process serves ``--hosts`` sites on 127.0.0.1 (one port each, asyncio, HTTP/1.1
keep-alive); each has a robots.txt and a home page linking to ``--pages`` pages. Every
response waits ``latency`` ms before it is sent (a far-away server). The crawler is polite
(one request in flight per host, ``--rate`` requests per second per host), so the most it
can do is ``hosts x rate`` pages per second, whatever the latency; how close it gets shows
how well concurrency across hosts hides latency (goal: at least 80%).

Rows, in one run:
(a) **core**: the crawler core (``BatchCrawler``: async fetches, robots.txt, link
    extraction, WARC writing) on all hosts in one batch, no Beam: wall time from the first
    to the last request;
(b) **job**: the whole ``crawl`` job (``corpora.crawl.run_crawl``) on the DirectRunner
    with one in-memory worker: Beam start-up and the stats/manifest pass included;
(c) **unpaced**: the core with a rate far above what the machine can do (1000 req/s per
    host), 0 ms latency: the CPU-bound ceiling of one worker.
pages/s counts page requests (robots.txt not included); ideal = hosts x rate.
A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import shutil
import sys
import tempfile
import time

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


async def _serve(ports_q, hosts: int, pages: int, latency: float, stop) -> None:
    home = _page("Home", [f"/p/{i}" for i in range(pages)])
    robots = b"User-agent: *\nDisallow: /private/\n"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
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
        await asyncio.sleep(0.1)
    for s in servers:
        s.close()


def _server_process(ports_q, hosts, pages, latency, stop) -> None:
    asyncio.run(_serve(ports_q, hosts, pages, latency, stop))


class Servers:
    """``hosts`` sites with ``latency`` seconds per response, in their own process."""

    def __init__(self, hosts: int, pages: int, latency: float) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.stop = ctx.Event()
        q = ctx.Queue()
        self.proc = ctx.Process(target=_server_process, args=(q, hosts, pages, latency, self.stop), daemon=True)
        self.proc.start()
        self.ports = q.get(timeout=60)

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
    start = time.perf_counter()
    crawler.run(works)
    seconds = time.perf_counter() - start
    return crawler.requests - len(ports), seconds  # page requests (robots.txt excluded)


def run_job(ports: list[int], rate: float, pages: int, out: str) -> tuple[int, float]:
    from corpora.crawl import CrawlJobConfig, run_crawl
    from pipeline.stats import stage

    seeds = os.path.join(out, "seeds.txt")
    os.makedirs(out, exist_ok=True)
    with open(seeds, "w") as f:
        f.write("".join(f"http://127.0.0.1:{p}/\n" for p in ports))
    cfg = CrawlJobConfig(seeds=seeds, output=os.path.join(out, "job"), crawl=crawl_config(rate, pages))
    start = time.perf_counter()
    report = run_crawl(cfg, ["--direct_num_workers=1", "--direct_running_mode=in_memory"], quiet=True)
    seconds = time.perf_counter() - start
    return stage(report, "urls")["counts"]["requests"] - len(ports), seconds


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hosts", type=int, default=20)
    ap.add_argument("--rate", type=float, default=5.0, help="requests per second per host")
    ap.add_argument("--pages", type=int, default=30, help="pages per host (plus its home page)")
    ap.add_argument("--latency-ms", default="0,50", help="comma-separated response latencies")
    ap.add_argument("--no-job", action="store_true", help="skip the whole-job rows")
    args = ap.parse_args(argv)
    print(f"# {platform.platform()}, Python {platform.python_version()}, cores {usable_cores()}, "
          f"load {load_average()}")
    print("# " + ", ".join(f"{k} {v}" for k, v in library_versions(LIBRARIES).items()))
    print(f"# command: python bench/crawl.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    ideal = args.hosts * args.rate
    rows = []
    tmp = tempfile.mkdtemp(prefix="crawl-bench-")
    try:
        for latency_ms in [float(x) for x in args.latency_ms.split(",")]:
            servers = Servers(args.hosts, args.pages, latency_ms / 1000)
            try:
                n, s = run_core(servers.ports, args.rate, args.pages, os.path.join(tmp, f"core-{latency_ms}"))
                rows.append(("core", latency_ms, args.rate, n, s, ideal))
                if not args.no_job:
                    n, s = run_job(servers.ports, args.rate, args.pages, os.path.join(tmp, f"job-{latency_ms}"))
                    rows.append(("job (in_memory, 1 worker)", latency_ms, args.rate, n, s, ideal))
            finally:
                servers.close()
        servers = Servers(args.hosts, args.pages, 0.0)
        try:
            n, s = run_core(servers.ports, 1000.0, args.pages, os.path.join(tmp, "unpaced"))
            rows.append(("core, unpaced", 0.0, 1000.0, n, s, None))
        finally:
            servers.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    header = ("run", "hosts", "latency ms", "rate/host", "page requests", "seconds", "pages/s", "ideal pages/s",
              "pages/s / ideal")
    table = [header]
    for name, lat, rate, n, s, ide in rows:
        table.append((name, str(args.hosts), f"{lat:g}", f"{rate:g}", str(n), f"{s:.2f}", f"{n / s:.1f}",
                      f"{ide:g}" if ide else "-", f"{n / s / ide:.0%}" if ide else "-"))
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for i, r in enumerate(table):
        print("  ".join(c.ljust(widths[j]) if j == 0 else c.rjust(widths[j]) for j, c in enumerate(r)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()

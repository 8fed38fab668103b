"""End-to-end: the crawl job on the DirectRunner against a real HTTP test site on 127.0.0.1
(one in-memory worker for the detailed checks, two worker processes for the host
partitioning), then the web job on the WARC files it wrote."""

import base64
import glob
import hashlib
import json
import socket
import sys
from collections import Counter, defaultdict
from itertools import pairwise
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from corpora.crawl import CrawlJobConfig, run_crawl
from corpora.web import WebConfig, run_web
from pipeline.crawl.crawler import DEFAULT_USER_AGENT, CrawlConfig
from pipeline.crawl.fetch import FetchConfig
from pipeline.crawl.rounds import one_process_enough, plan_round
from pipeline.crawl.urls import ScopeRules
from pipeline.stats import stage
from tests.crawl_server import HTML, Site, Sites, article, start_test_sites

TWO_WORKERS = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]
ONE_WORKER = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]
RATE = 50.0  # requests per second per host: fast tests, but still a spacing to check
CRAWL_DELAY = 0.05  # what the main site's robots.txt asks for
MAX_BYTES = 100_000


def crawl_config(**overrides) -> CrawlConfig:
    fetch = FetchConfig(DEFAULT_USER_AGENT, connect_timeout=1.0, read_timeout=0.3, total_timeout=3.0,
                        max_bytes=MAX_BYTES, retries=1, backoff=0.05, max_retry_after=5.0)
    args = dict(fetch=fetch, scope=ScopeRules("domain"), rate=RATE, max_depth=3, max_pages=500,
                max_pages_per_host=40, allow_hosts=("127.0.0.1",))
    args.update(overrides)
    return CrawlConfig(**args)


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    sites, main, other, broken = start_test_sites(slow_seconds=1.0, huge_bytes=2_000_000)
    d = tmp_path_factory.mktemp("crawl")
    dead = f"http://127.0.0.1:{closed_port()}/"
    seeds = d / "seeds.txt"
    seeds.write_text(f"# seeds\n{main.base}/\n\nnot a url\nftp://files.example.org/\n{main.base}\n"
                     f"{other.base}/x\n{dead}\n")
    out = d / "out"
    cfg = CrawlJobConfig(seeds=str(seeds), output=str(out), crawl=crawl_config())
    report = run_crawl(cfg, ONE_WORKER, quiet=True)
    yield {"report": report, "out": out, "sites": sites, "main": main, "other": other, "broken": broken,
           "dead": dead}
    sites.stop()


def log_lines(out: Path) -> list[dict]:
    return [json.loads(line) for f in sorted((out / "log").glob("*.jsonl")) for line in f.read_text().splitlines()
            if line]


def page_log(out: Path) -> dict[str, dict]:
    return {e["url"]: e for e in log_lines(out) if e["kind"] == "page"}


def requested_paths(sites, port: int) -> Counter:
    return Counter(r.path for r in sites.requests(port))


def test_fetched_and_not_fetched(crawl):
    sites, main = crawl["sites"], crawl["main"]
    asked = requested_paths(sites, main.port)
    for path in ("/", "/a", "/b", "/a-moved", "/redirect", "/loop1", "/loop2", "/missing", "/error", "/gzip",
                 "/gzip-child", "/brotli", "/chunked", "/latin1", "/noindex", "/huge", "/image.png",
                 "/calendar/2024/01", "/calendar/2024/03", "/deep/1"):
        assert asked[path] >= 1, path
    for path in ("/private/secret", "/nofollowed", "/hidden", "/a/b/a/b/a/b/a", "/calendar/2024/04", "/hop/7"):
        assert asked[path] == 0, path
    assert asked["/loop1"] == 1 and asked["/loop2"] == 1  # the loop is detected, not followed again
    assert asked["/slow"] == 2  # timed out, retried once, gave up
    assert asked["/flaky"] == 2  # 503 + Retry-After, then the page
    assert asked["/"] == 1  # the duplicate seed is fetched once
    assert all(r.user_agent == DEFAULT_USER_AGENT for r in sites.requests())
    # robots.txt as a 500: nothing but robots.txt is fetched from that host
    assert set(requested_paths(sites, crawl["broken"].port)) == {"/robots.txt"}
    # robots.txt that is an HTML page: no rules, the host is crawled
    assert requested_paths(sites, crawl["other"].port)["/x"] == 1


def test_crawl_log_reasons(crawl):
    log = page_log(crawl["out"])
    base = crawl["main"].base
    want = {
        "/": None, "/a": None, "/a-moved": None, "/gzip": None, "/brotli": None, "/chunked": None,
        "/latin1": None, "/flaky": None, "/huge": None,
        "/private/secret": "robots_disallowed", "/redirect": "redirect", "/loop2": "redirect_loop",
        "/missing": "http_404", "/error": "http_500", "/slow": "timeout", "/image.png": "content_type",
        "/noindex": "noindex", "/a/b/a/b/a/b/a": "repeated_path_segments", "/calendar/2024/04": "max_depth",
        "/hop/6": "too_many_redirects",
    }
    for path, reason in want.items():
        assert log[base + path]["reason"] == reason, (path, log[base + path])
    assert log["file:///etc/passwd"]["reason"] == "unsupported_scheme"
    assert log["http://169.254.169.254/latest/meta-data/"]["reason"] == "out_of_scope"
    assert log[base + "/huge"]["truncated"] and log[base + "/huge"]["bytes"] == MAX_BYTES
    assert log[base + "/flaky"]["attempts"] == 2
    assert log[crawl["broken"].base + "/"]["reason"] == "robots_unreachable"
    assert log[crawl["dead"]]["reason"] == "robots_unreachable"
    assert log[base + "/redirect"]["location"] == base + "/a-moved"
    for e in log.values():
        assert {"url", "status", "bytes", "time", "reason"} <= set(e)


def test_stats_account_for_every_seed_and_url(crawl):
    report = crawl["report"]
    assert report["accounting_ok"]
    seeds = stage(report, "seeds")
    assert seeds["in"] == 6 and seeds["out"] == 3
    assert seeds["dropped"] == {"duplicate_seed": 1, "invalid_url": 1, "unsupported_scheme": 1}
    urls = stage(report, "urls")
    assert urls["in"] == len(page_log(crawl["out"]))
    stored = [e for e in page_log(crawl["out"]).values() if e["reason"] is None]
    assert urls["out"] == len(stored) >= 15
    assert json.loads((crawl["out"] / "stats.json").read_text()) == report
    manifest = json.loads((crawl["out"] / "manifest.json").read_text())
    assert manifest["job"] == "crawl" and manifest["outputs"]["warc"]
    assert manifest["config"]["crawl"]["allow_hosts"] == ["127.0.0.1"]


# The server notes a request's time in a Python thread that shares the GIL with the crawler, so
# a timestamp can be late by up to about two GIL switch intervals; a late stamp shortens the next
# gap but not the span of several requests. The checks allow that much, and no more.
JITTER = 2 * sys.getswitchinterval() + 0.002


def _check_spacing(times: list[float], interval: float) -> None:
    gaps = [b - a for a, b in pairwise(times)]
    assert gaps and min(gaps) >= interval - JITTER, (interval, min(gaps))
    spans = [times[i + 4] - times[i] for i in range(len(times) - 4)]
    assert not spans or min(spans) >= 4 * interval - JITTER, (interval, min(spans))


def test_request_spacing_per_host(crawl):
    by_port = defaultdict(list)
    for r in crawl["sites"].requests():
        by_port[r.port].append(r.time)
    for times in by_port.values():
        _check_spacing(sorted(times), 1 / RATE)
    # After its robots.txt, the main site's Crawl-delay (longer than 1/rate) sets the pace.
    main = sorted(by_port[crawl["main"].port])
    assert len(main) >= 30
    _check_spacing(main[1:], CRAWL_DELAY)


def _b32_sha1(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def test_warc_files_are_valid_for_warcio(crawl):
    files = sorted(glob.glob(str(crawl["out"] / "warc" / "*.warc.gz")))
    assert files
    responses = {}
    for f in files:
        with open(f, "rb") as fh:
            records = list(_records(fh))
        assert records[0]["type"] == "warcinfo"
        ids = {r["id"]: r for r in records}
        for r in records:
            if r["type"] == "request":
                assert ids[r["concurrent"]]["type"] == "response"
                assert ids[r["concurrent"]]["uri"] == r["uri"]
            if r["type"] == "response":
                assert r["uri"] not in responses
                responses[r["uri"]] = r
    base = crawl["main"].base
    stored = {u for u, e in page_log(crawl["out"]).items() if e.get("warc")}
    assert set(responses) == stored
    for r in responses.values():
        assert r["date"] and r["ip"] == "127.0.0.1" and r["digest"] == _b32_sha1(r["raw"])
    assert responses[base + "/huge"]["truncated"] == "length" and len(responses[base + "/huge"]["raw"]) == MAX_BYTES
    assert responses[base + "/missing"]["status"] == "404"
    gz = responses[base + "/gzip"]
    assert gz["headers"]["content-encoding"] == "gzip" and b"Gzip page" in gz["decoded"]
    assert "x-crawler-transfer-encoding" in responses[base + "/chunked"]["headers"]
    assert "Caf\xe9".encode("latin-1") in responses[base + "/latin1"]["raw"]


def _records(fh):
    for rec in ArchiveIterator(fh, check_digests="raise"):  # block and payload digests verified
        h = rec.rec_headers
        item = {"type": rec.rec_type, "id": h.get_header("WARC-Record-ID"), "uri": h.get_header("WARC-Target-URI"),
                "date": h.get_header("WARC-Date"), "ip": h.get_header("WARC-IP-Address"),
                "concurrent": h.get_header("WARC-Concurrent-To"), "digest": h.get_header("WARC-Payload-Digest"),
                "truncated": h.get_header("WARC-Truncated")}
        if rec.rec_type == "response":
            item["status"] = rec.http_headers.get_statuscode()
            item["headers"] = {k.lower(): v for k, v in rec.http_headers.headers}
            item["raw"] = rec.raw_stream.read()
            if item["headers"].get("content-encoding") != "br":  # warcio 1.8 cannot decode br (see fetch.py)
                import io
                import zlib
                enc = item["headers"].get("content-encoding")
                item["decoded"] = zlib.decompress(item["raw"], 16 + 15) if enc == "gzip" else io.BytesIO(
                    item["raw"]).read()
        yield item


def test_web_job_reads_the_crawl(crawl, tmp_path):
    out = tmp_path / "web"
    report = run_web(WebConfig(inputs=[str(crawl["out"] / "warc" / "*.warc.gz")], output=str(out)),
                     ONE_WORKER, quiet=True)
    assert report["accounting_ok"]
    stored_html = [e for e in page_log(crawl["out"]).values() if e["reason"] is None]
    assert stage(report, "read")["out"] == len(stored_html)
    import pyarrow.parquet as pq
    rows = [r for f in sorted((out / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    by_url = {r["url"]: r for r in rows}
    base = crawl["main"].base
    assert "Caf\u00e9 cr\u00e8me" in by_url[base + "/latin1"]["text"]
    assert "harbour town" in by_url[base + "/gzip"]["text"]
    assert "harbour town" in by_url[base + "/brotli"]["text"]


def test_ssrf_guard_refuses_internal_hosts(tmp_path):
    sites, main, other, broken = start_test_sites()
    try:
        seeds = tmp_path / "seeds.txt"
        seeds.write_text(f"{main.base}/\nhttp://169.254.169.254/latest/meta-data/\nhttp://10.0.0.1/\n")
        out = tmp_path / "out"
        cfg = CrawlJobConfig(seeds=str(seeds), output=str(out), crawl=crawl_config(allow_hosts=()))
        report = run_crawl(cfg, ONE_WORKER, quiet=True)
        assert sites.requests() == []
        assert stage(report, "urls")["dropped"] == {"blocked_address": 3}
        assert all("--allow-hosts" in e["detail"] for e in page_log(out).values())
    finally:
        sites.stop()


def test_plan_round_budgets_and_batches():
    cfg = CrawlJobConfig(seeds="s", output="o", crawl=crawl_config(max_pages=10, max_pages_per_host=4))
    entries = [{"url": f"http://h{i}.test/p{j}", "depth": 0} for i in range(5) for j in range(3)]
    batches = plan_round(entries, cfg, {"http://h0.test": 3}, 3, {}, {}, n_workers=2)
    works = [w for _, ws in batches for w in ws]
    assert len(batches) == 2 and sorted(w.origin for w in works) == [f"http://h{i}.test" for i in range(5)]
    budgets = {w.origin: (w.budget, w.budget_reason) for w in works}
    assert budgets["http://h0.test"] == (1, "host_page_cap")  # 4 per host, 3 used already
    assert sum(b for b, _ in budgets.values()) <= 7  # 10 in all, 3 used already


def test_one_process_enough_when_the_pace_fits():
    cfg = CrawlJobConfig(seeds="s", output="o", crawl=crawl_config(rate=5.0), hosts_per_batch=30)
    entries = lambda hosts: [{"url": f"http://h{i}.test/p{j}"} for i in range(hosts) for j in range(3)]  # noqa: E731
    assert one_process_enough(entries(20), cfg)  # 20 hosts x 5 req/s
    assert not one_process_enough(entries(25), cfg)  # 125 req/s: more than one process keeps up with
    cfg.hosts_per_batch = 10
    assert not one_process_enough(entries(20), cfg)  # more hosts than one batch takes


def crawl_hosts(tmp_path: Path, hosts: int, links: int, crawl: CrawlConfig, beam_args: list[str]) -> dict:
    """Crawl ``hosts`` fresh test sites, each a home page linking to ``links`` pages, into
    ``tmp_path/out``; return the job's report."""
    sites = Sites()
    home = article("Home", [f"/p/{i}" for i in range(links)]).encode()
    started = [sites.reserve(Site(pages={"/": (200, HTML, home), "/p/*": (200, HTML, article("Page").encode())}))
               for _ in range(hosts)]
    sites.start()
    try:
        seeds = tmp_path / "seeds.txt"
        seeds.write_text("".join(h.base + "/\n" for h in started))
        return run_crawl(CrawlJobConfig(seeds=str(seeds), output=str(tmp_path / "out"), crawl=crawl), beam_args,
                         quiet=True)
    finally:
        sites.stop()


def test_small_crawl_with_default_parallelism_is_one_batch(tmp_path):
    """With our default worker count, a crawl one process can pace runs as one batch (no
    worker processes to start); the batch crawls every host."""
    out = tmp_path / "out"
    report = crawl_hosts(tmp_path, hosts=3, links=1, crawl=crawl_config(rate=20.0), beam_args=[])
    assert stage(report, "urls")["out"] == 3 * 2
    batches = {f.name.split("-")[2] for f in (out / "log").glob("crawl-r000-*.jsonl")}
    assert batches == {"b0000"}


def test_two_workers_each_own_their_hosts(tmp_path):
    out = tmp_path / "out"
    report = crawl_hosts(tmp_path, hosts=4, links=6, crawl=crawl_config(), beam_args=TWO_WORKERS)
    assert stage(report, "urls")["out"] == 4 * 7
    batch_of_host = defaultdict(set)
    for f in (out / "log").glob("crawl-r000-*.jsonl"):
        batch = f.name.split("-")[2]
        for line in f.read_text().splitlines():
            batch_of_host[json.loads(line)["url"].split("/")[2]].add(batch)
    assert len(batch_of_host) == 4 and all(len(b) == 1 for b in batch_of_host.values())  # one owner per host
    assert len(set().union(*batch_of_host.values())) == 2  # two batches, one per worker

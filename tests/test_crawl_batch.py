"""The batch crawler without Beam: per-host concurrency, robots Crawl-delay caps, Retry-After
caps, X-Robots-Tag, include/exclude patterns, WARC rotation and segment commits."""

import json
import os
import uuid
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from pipeline.crawl.crawler import DEFAULT_USER_AGENT, BatchCrawler, CrawlConfig, HostWork
from pipeline.crawl.fetch import FetchConfig
from pipeline.crawl.frontier import CrawlState
from pipeline.crawl.safety import AddressGuard, Target
from pipeline.crawl.segments import SegmentStore
from pipeline.crawl.storage import FileStorage
from pipeline.crawl.urls import ScopeRules
from tests.crawl_server import HTML, Site, Sites, article


def serve(**sites: Site) -> Sites:
    s = Sites()
    for site in sites.values():
        s.reserve(site)
    s.start()
    return s


def crawl(out: Path, work: list[HostWork], **overrides) -> list[dict]:
    fetch = FetchConfig(DEFAULT_USER_AGENT, read_timeout=1.0, total_timeout=3.0, retries=1, backoff=0.05,
                        max_retry_after=overrides.pop("max_retry_after", 5.0))
    args = dict(fetch=fetch, scope=ScopeRules("host"), rate=100.0, allow_hosts=("127.0.0.1",), max_depth=3)
    args.update(overrides)
    cfg = CrawlConfig(**args)
    store = SegmentStore(FileStorage(), str(out), "crawl-r000-b0000-test", {}, cfg.warc_max_bytes,
                         cfg.commit_seconds)
    BatchCrawler(cfg, store).run(work)
    return [json.loads(line) for f in sorted((out / "log").glob("*.jsonl")) for line in f.read_text().splitlines()]


def wide(n: int, **kw) -> Site:
    return Site(pages={"/": (200, HTML, article("Index", [f"/p/{i}" for i in range(n)]).encode()),
                       "/p/*": lambda h: (200, HTML, article(f"Page {h.path}").encode())}, **kw)


def test_host_concurrency_and_rotation(tmp_path):
    site = wide(12)
    noise = os.urandom(10_000).hex()  # pages that do not compress away: WARC files fill up
    site.pages["/p/*"] = lambda h: (200, HTML, article(f"Page {h.path}", extra_body=f"<p>{noise}</p>").encode())
    sites = serve(a=site)
    try:
        log = crawl(tmp_path, [HostWork(site.base, [{"url": site.base + "/", "depth": 0}], budget=100)],
                    host_concurrency=3, warc_max_bytes=1 << 16)
    finally:
        sites.stop()
    stored = [e for e in log if e["kind"] == "page" and e["reason"] is None]
    assert len(stored) == 13
    warcs = sorted((tmp_path / "warc").glob("*.warc.gz"))
    assert len(warcs) >= 2  # rotated at 64 KiB
    responses = []
    for w in warcs:
        with open(w, "rb") as fh:
            responses += [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(fh)
                          if r.rec_type == "response"]
    assert sorted(responses) == sorted(e["url"] for e in stored)
    # Each WARC file has its log segment, and the state a resume needs.
    state = CrawlState(FileStorage(), str(tmp_path))
    assert {p.name.replace(".warc.gz", "") for p in warcs} <= {Path(p).stem for p in state.log_files()}
    done = state.resumed(0)
    assert len(done[site.base + "/"][0]) == 12 and done[site.base + "/"][1] == 1


def test_crawl_delay_above_cap_skips_host_and_retry_after_cap(tmp_path):
    slow = wide(3, robots="User-agent: *\nCrawl-delay: 120\n")
    busy = Site(pages={"/": (429, [("Retry-After", "3600"), ("Content-Type", "text/plain")], b"slow down")})
    sites = serve(a=slow, b=busy)
    try:
        log = crawl(tmp_path, [HostWork(slow.base, [{"url": slow.base + "/", "depth": 0}], budget=10),
                               HostWork(busy.base, [{"url": busy.base + "/", "depth": 0}], budget=10)],
                    max_crawl_delay=30)
        assert [r.path for r in sites.requests(slow.port)] == ["/robots.txt"]
        assert [r.path for r in sites.requests(busy.port)] == ["/robots.txt", "/"]  # no retry after 1 hour
    finally:
        sites.stop()
    by_url = {e["url"]: e for e in log if e["kind"] == "page"}
    assert by_url[slow.base + "/"]["reason"] == "crawl_delay_too_long"
    assert by_url[busy.base + "/"]["reason"] == "http_429" and "Retry-After" in by_url[busy.base + "/"]["detail"]


def test_x_robots_tag_and_patterns(tmp_path):
    site = Site(pages={
        "/": (200, HTML, article("Index", ["/keep/1", "/skip/1", "/tagged"]).encode()),
        "/keep/*": (200, HTML, article("Kept").encode()),
        "/skip/*": (200, HTML, article("Skipped").encode()),
        "/tagged": (200, HTML + [("X-Robots-Tag", "noindex")], article("Tagged", ["/keep/2"]).encode()),
    })
    sites = serve(a=site)
    try:
        log = crawl(tmp_path, [HostWork(site.base, [{"url": site.base + "/", "depth": 0}], budget=10)],
                    scope=ScopeRules("host", exclude=[r"/skip/"]))
        asked = {r.path for r in sites.requests()}
    finally:
        sites.stop()
    by_url = {e["url"]: e for e in log if e["kind"] == "page"}
    assert by_url[site.base + "/skip/1"]["reason"] == "excluded_pattern" and "/skip/1" not in asked
    assert by_url[site.base + "/tagged"]["reason"] == "noindex"  # fetched, not archived
    assert by_url[site.base + "/keep/2"]["reason"] is None  # noindex alone still lets links be followed


def test_budget_and_known_urls(tmp_path):
    site = wide(10)
    sites = serve(a=site)
    try:
        known = {site.base + "/p/0", site.base + "/p/1"}
        log = crawl(tmp_path, [HostWork(site.base, [{"url": site.base + "/", "depth": 0}], budget=4,
                                        known=known)])
        asked = [r.path for r in sites.requests() if r.path != "/robots.txt"]
    finally:
        sites.stop()
    assert len(asked) == 4 and "/p/0" not in asked and "/p/1" not in asked
    reasons = [e["reason"] for e in log if e["kind"] == "page"]
    assert reasons.count("host_page_cap") == 10 - 2 - 3


class _AllowOnly(AddressGuard):
    """The SSRF guard, on, except for one test host (as if it were a public server)."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port

    async def _decide(self, host: str, port: int):
        if (host, port) == ("127.0.0.1", self.port):
            return Target("127.0.0.1", port)
        return await super()._decide(host, port)


def test_guard_checks_redirect_targets(tmp_path):
    site = Site(pages={"/": (200, HTML, article("Index", ["/out"]).encode())})
    sites = serve(a=site)
    inside = f"http://localhost:{site.port}"
    site.pages["/out"] = (302, [("Location", inside + "/admin")], b"")
    moved_robots = Site(robots=None, pages={"/robots.txt": (301, [("Location", inside + "/robots.txt")], b"")})
    sites.reserve(moved_robots)
    sites.start()
    try:
        cfg_args = dict(fetch=FetchConfig(DEFAULT_USER_AGENT, read_timeout=1.0, retries=0),
                        scope=ScopeRules("any"), rate=100.0, allow_hosts=())
        store = SegmentStore(FileStorage(), str(tmp_path), "crawl-r000-b0000-a", {})
        BatchCrawler(CrawlConfig(**cfg_args), store, guard=_AllowOnly(site.port)).run(
            [HostWork(site.base, [{"url": site.base + "/", "depth": 0}], budget=10)])
        candidates = CrawlState(FileStorage(), str(tmp_path)).candidates(0)
        assert [c["url"] for c in candidates] == [inside + "/admin"]
        # The next round checks the redirect target like any other URL: a loopback name is refused.
        store = SegmentStore(FileStorage(), str(tmp_path), "crawl-r001-b0000-b", {})
        BatchCrawler(CrawlConfig(**cfg_args), store, guard=_AllowOnly(site.port)).run(
            [HostWork(inside, candidates, budget=10)])
        # A robots.txt that redirects to an internal address is refused at that hop.
        store = SegmentStore(FileStorage(), str(tmp_path), "crawl-r002-b0000-c", {})
        BatchCrawler(CrawlConfig(**cfg_args), store, guard=_AllowOnly(moved_robots.port)).run(
            [HostWork(moved_robots.base, [{"url": moved_robots.base + "/", "depth": 0}], budget=10)])
        asked = [(r.port, r.path) for r in sites.requests()]
    finally:
        sites.stop()
    log = [json.loads(x) for f in sorted((tmp_path / "log").glob("*.jsonl")) for x in f.read_text().splitlines()]
    by_url = {e["url"]: e for e in log if e["kind"] == "page"}
    assert by_url[inside + "/admin"]["reason"] == "blocked_address"
    assert by_url[moved_robots.base + "/"]["reason"] == "robots_unreachable"
    assert (site.port, "/admin") not in asked and (moved_robots.port, "/") not in asked
    assert asked.count((site.port, "/robots.txt")) == 1  # only the allowed host's own robots.txt


def test_segments_on_an_object_store():
    """The storage used for gs:// and s3:// outputs, exercised on fsspec's in-memory store: a
    batch commits its WARC file and log there, a resumed round sees them, and a segment that
    never committed is cleaned up."""
    import fsspec

    out = f"memory://crawl-test-{uuid.uuid4().hex}"
    site = wide(3)
    sites = serve(a=site)
    try:
        fs = FileStorage()
        cfg = CrawlConfig(fetch=FetchConfig(DEFAULT_USER_AGENT, retries=0), scope=ScopeRules("host"), rate=100.0,
                          allow_hosts=("127.0.0.1",))
        store = SegmentStore(fs, out, "crawl-r000-b0000-mem", {})
        BatchCrawler(cfg, store).run([HostWork(site.base, [{"url": site.base + "/", "depth": 0}], budget=10)])
        state = CrawlState(fs, out)
        assert [p.rsplit("/", 1)[-1] for p in fs.glob(out + "/warc/*.warc.gz")] == [
            "crawl-r000-b0000-mem-00000.warc.gz"]
        assert len(state.resumed(0)) == 4 and state.clean_uncommitted() == []
        state.write_frontier(1, [{"url": site.base + "/x", "depth": 1}])
        assert state.rounds() == [1] and state.read_frontier(1)[0]["depth"] == 1
        fs.write_bytes(out + "/warc/crawl-r000-b0000-dead-00000.warc.gz", b"never committed")
        assert [p.rsplit("/", 1)[-1] for p in state.clean_uncommitted()] == ["crawl-r000-b0000-dead-00000.warc.gz"]
        assert not [p for p in fs.glob(out + "/*/*") if ".tmp-" in p]  # no temporaries left behind
    finally:
        sites.stop()
        fsspec.filesystem("memory").rm(out.split("://", 1)[1], recursive=True)


def test_allow_list_lets_the_intranet_in_and_keeps_metadata_and_other_ranges_out(tmp_path):
    """--allow-hosts 127.0.0.1 crawls the loopback site; its redirects to a metadata address and
    to another loopback address are refused in the next round, and nothing is requested there."""
    site = Site(pages={"/": (200, HTML, article("Home", ["/meta", "/elsewhere"]).encode())})
    sites = serve(a=site)
    site.pages["/meta"] = (302, [("Location", "http://169.254.169.254/latest/meta-data/")], b"")
    site.pages["/elsewhere"] = (302, [("Location", f"http://127.0.0.2:{site.port}/x")], b"")
    try:
        cfg = CrawlConfig(fetch=FetchConfig(DEFAULT_USER_AGENT, read_timeout=1.0, retries=0),
                          scope=ScopeRules("any"), rate=100.0, allow_hosts=("127.0.0.1", "0.0.0.0/0"))
        store = SegmentStore(FileStorage(), str(tmp_path), "crawl-r000-b0000-a", {})
        BatchCrawler(cfg, store).run([HostWork(site.base, [{"url": site.base + "/", "depth": 0}], budget=10)])
        candidates = CrawlState(FileStorage(), str(tmp_path)).candidates(0)
        assert sorted(c["url"] for c in candidates) == [f"http://127.0.0.2:{site.port}/x",
                                                        "http://169.254.169.254/latest/meta-data/"]
        narrow = CrawlConfig(fetch=cfg.fetch, scope=cfg.scope, rate=100.0, allow_hosts=("127.0.0.1",))
        for i, c in enumerate(candidates):
            store = SegmentStore(FileStorage(), str(tmp_path), f"crawl-r001-b000{i}-b", {})
            host = c["url"].split("/latest")[0] if "169.254" in c["url"] else f"http://127.0.0.2:{site.port}"
            BatchCrawler(cfg if "169.254" in c["url"] else narrow, store).run([HostWork(host, [c], budget=10)])
        asked = [r.path for r in sites.requests()]
    finally:
        sites.stop()
    log = [json.loads(x) for f in sorted((tmp_path / "log").glob("*.jsonl")) for x in f.read_text().splitlines()]
    by_url = {e["url"]: e for e in log if e["kind"] == "page"}
    assert by_url[site.base + "/"]["reason"] is None  # the allowed loopback site was crawled
    meta = by_url["http://169.254.169.254/latest/meta-data/"]
    assert meta["reason"] == "blocked_address" and "named exactly" in meta["detail"]
    assert by_url[f"http://127.0.0.2:{site.port}/x"]["reason"] == "blocked_address"
    assert "/x" not in asked


def test_crawl_delay_spaces_the_first_page_after_robots_txt(tmp_path):
    """The robots.txt fetch is a request too: the first page waits a whole Crawl-delay after it."""
    site = Site(robots="User-agent: *\nCrawl-delay: 1\n", pages={"/": (200, HTML, article("Home", ["/a"]).encode()),
                                                                 "/a": (200, HTML, article("A").encode())})
    sites = serve(a=site)
    try:
        crawl(tmp_path, [HostWork(site.base, [{"url": site.base + "/", "depth": 0}], budget=10)])
        times = {r.path: r.time for r in sites.requests()}
    finally:
        sites.stop()
    assert times["/"] - times["/robots.txt"] >= 0.95  # the delay is counted from when robots.txt went out
    assert times["/a"] - times["/"] >= 0.95


def test_requests_count_attempts_that_got_no_response(tmp_path):
    """A connection refused is an attempt made: stats count it under requests."""
    from pipeline.crawl.crawl_log import stats_from_log

    site = wide(1)
    sites = serve(a=site)
    try:
        probe = Site()
        sites_gone = serve(b=probe)
        gone = probe.base
        sites_gone.stop()  # nothing listens there any more: every attempt fails without a response
        log = crawl(tmp_path, [HostWork(site.base, [{"url": site.base + "/", "depth": 0}], budget=10),
                               HostWork(gone, [{"url": gone + "/", "depth": 0}], budget=10)])
    finally:
        sites.stop()
    made = sum(e.get("attempts", 0) for e in log)
    failed = [e for e in log if e.get("attempts") and e["status"] is None]
    assert failed, "expected attempts without a response (robots.txt and the page of the closed port)"
    report = stats_from_log(log)
    counts = next(s for s in report["stages"] if s["stage"] == "urls")
    assert counts["counts"]["requests"] == made


def test_pacing_wait_counts_against_no_timeout(tmp_path):
    """The pacer's wait before the headers go out (up to its lead, longer after a pause) is not
    network time: a request whose wait outlasts --total-timeout still completes, and its
    ``seconds`` and ``started`` leave the wait out."""
    import asyncio
    import time
    from datetime import UTC, datetime

    from pipeline.crawl.fetch import Fetcher

    site = wide(1)
    sites = serve(a=site)

    async def run():
        fetcher = Fetcher(FetchConfig(DEFAULT_USER_AGENT, read_timeout=1.0, total_timeout=0.3, retries=0))
        waited = []

        async def slow_pacer():
            waited.append(datetime.now(UTC))
            await asyncio.sleep(0.5)

        try:
            return await fetcher.fetch_once(site.base + "/", Target("127.0.0.1", site.port), on_send=slow_pacer), waited
        finally:
            await fetcher.aclose()

    try:
        start = time.monotonic()
        ex, waited = asyncio.run(run())
        wall = time.monotonic() - start
    finally:
        sites.stop()
    assert ex.status == 200 and not ex.error, ex.detail
    assert wall >= 0.5 and ex.seconds < wall - 0.45
    assert (ex.started - waited[0]).total_seconds() >= 0.5


def test_tls_context_shared_by_https_origins_and_none_trusted_for_http():
    """Every https origin's client verifies with one shared context (loading the CA bundle once);
    an http origin's client, which never speaks TLS, trusts no certificate at all."""
    import ssl

    from pipeline.crawl.fetch import Fetcher

    f = Fetcher(FetchConfig(DEFAULT_USER_AGENT))
    a, b = f._tls_context("https"), f._tls_context("https")
    assert a is b and a.verify_mode == ssl.CERT_REQUIRED and a.check_hostname
    plain = f._tls_context("http")
    assert plain.verify_mode == ssl.CERT_REQUIRED and plain.cert_store_stats()["x509_ca"] == 0

"""The crawl of a batch of hosts by one worker: every host of the batch is crawled at the
same time (asyncio), each at its own polite pace, breadth first within the host; links to
other hosts become candidates for a later round. Every URL met ends up in the crawl log.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urljoin

from pipeline.content_coding import DecodeError, decode_content
from pipeline.crawl.crawl_log import fetch_entry, skip_entry
from pipeline.crawl.fetch import PACING_LEAD, Exchange, FetchConfig, Fetcher
from pipeline.crawl.links import extract_links, robots_header_directives
from pipeline.crawl.ratelimit import HostPacer
from pipeline.crawl.robots import MAX_ROBOTS_BYTES, RobotsPolicy, agent_token
from pipeline.crawl.safety import AddressGuard, AllowList, Blocked
from pipeline.crawl.segments import SegmentStore
from pipeline.crawl.urls import BadURL, ScopeRules, origin

DEFAULT_USER_AGENT = "corpusforge-crawler/0.1 (+https://github.com/corpusforge/corpusforge/blob/main/docs/crawl.md)"
MAX_ROBOTS_REDIRECTS = 5
log = logging.getLogger("corpusforge")


@dataclass
class CrawlConfig:
    """Politeness, scope and limits of a crawl (saved in manifest.json)."""

    fetch: FetchConfig = field(default_factory=lambda: FetchConfig(DEFAULT_USER_AGENT))
    scope: ScopeRules = field(default_factory=ScopeRules)
    rate: float = 1.0  # requests per second per host
    host_concurrency: int = 1
    max_depth: int = 3
    max_pages: int | None = 10_000
    max_pages_per_host: int = 1_000
    max_redirects: int = 5
    max_crawl_delay: float = 60.0  # a robots.txt Crawl-delay above this skips the host
    allow_hosts: tuple[str, ...] = ()  # internal addresses and CIDR ranges the crawl may reach
    warc_max_bytes: int = 1 << 30
    commit_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError("--rate must be > 0 (requests per second per host)")
        if self.host_concurrency < 1:
            raise ValueError("--host-concurrency must be at least 1")
        if self.max_depth < 0:
            raise ValueError("--max-depth must be >= 0")
        if self.max_pages is not None and self.max_pages < 1:
            raise ValueError("--max-pages must be at least 1")
        if self.max_pages_per_host < 1:
            raise ValueError("--max-pages-per-host must be at least 1")
        if self.max_redirects < 0:
            raise ValueError("--max-redirects must be >= 0")
        if self.warc_max_bytes < 1 << 16:
            raise ValueError("--warc-max-bytes must be at least 65536")
        self.allow_hosts = AllowList(self.allow_hosts).entries  # validated; raises ValueError naming a bad entry

    @property
    def agent(self) -> str:
        return agent_token(self.fetch.user_agent)


@dataclass
class HostWork:
    """One host's share of a round: its queued URLs and how many requests it may make."""

    origin: str
    entries: list[dict]  # {"url", "depth", "via", "redirects"}
    budget: int  # requests allowed this round
    budget_reason: str = "host_page_cap"  # the reason logged once the budget is spent
    known: set[str] = field(default_factory=set)  # URLs of this host met in earlier rounds
    done: dict[str, tuple[list[str], int] | None] = field(default_factory=dict)  # resumed: url -> (links, depth)


class _HostCrawl:
    """State of one host's crawl within a batch."""

    def __init__(self, work: HostWork, pacer: HostPacer) -> None:
        self.work = work
        self.pacer = pacer
        self.queue: deque[dict] = deque()
        self.requests = 0
        self.policy: RobotsPolicy | None = None


class BatchCrawler:
    """Crawls a batch of hosts concurrently, writing WARC records and log lines to ``store``."""

    def __init__(self, config: CrawlConfig, store: SegmentStore, fetcher: Fetcher | None = None,
                 guard: AddressGuard | None = None) -> None:
        self.cfg = config
        self.store = store
        self._fetcher = fetcher
        self.guard = guard or AddressGuard(AllowList(config.allow_hosts))
        self.seen: set[str] = set()  # URLs already decided in this batch
        self.pages = 0
        self.requests = 0

    def run(self, works: list[HostWork]) -> None:
        """Crawl every host of the batch to the end, then commit the last segment."""
        asyncio.run(self.crawl(works))

    async def crawl(self, works: list[HostWork]) -> None:
        fetcher = self._fetcher or Fetcher(self.cfg.fetch)
        self.fetcher = fetcher
        try:
            await asyncio.gather(*(self._crawl_host_safely(w) for w in works))
        finally:
            if self._fetcher is None:
                await fetcher.aclose()
            self.store.close()

    # -- one host -------------------------------------------------------------------------
    async def _crawl_host_safely(self, work: HostWork) -> None:
        """A bug met on one host must not take the batch's other hosts down with it."""
        interval = 1.0 / self.cfg.rate
        host = _HostCrawl(work, HostPacer(interval, self.cfg.host_concurrency, lead=min(PACING_LEAD, interval / 2)))
        try:
            await self._crawl_host(host)
        except Exception as exc:  # noqa: BLE001 - logged with its reason, the rest of the batch goes on
            log.exception("crawl of %s failed", work.origin)
            self._skip_all(host, "internal_error", f"{type(exc).__name__}: {exc}")

    async def _crawl_host(self, host: _HostCrawl) -> None:
        work = host.work
        for e in sorted(work.entries, key=lambda e: e.get("depth", 0)):
            if e["url"] not in self.seen:
                self.seen.add(e["url"])
                host.queue.append(e)
        self.seen |= work.known
        if not host.queue:
            return
        try:
            await self.guard.check(work.origin + "/")
        except Blocked as b:
            self._skip_all(host, b.reason, b.detail)
            return
        host.policy = await self._robots(host)
        delay = host.policy.crawl_delay()
        if delay is not None and delay > self.cfg.max_crawl_delay:
            self._skip_all(host, "crawl_delay_too_long",
                           f"robots.txt Crawl-delay {delay:g}s > --max-crawl-delay {self.cfg.max_crawl_delay:g}s")
            return
        if delay:
            host.pacer.slow_down(delay)
        pending: set[asyncio.Task] = set()
        while host.queue or pending:
            while host.queue and len(pending) < self.cfg.host_concurrency:
                pending.add(asyncio.create_task(self._visit(host, host.queue.popleft())))
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                t.result()

    def _skip_all(self, host: _HostCrawl, reason: str, detail: str) -> None:
        while host.queue:
            e = host.queue.popleft()
            if e["url"] not in host.work.done:
                self.store.log(skip_entry(e["url"], reason, e.get("depth"), e.get("via"), detail))
        self.store.maybe_rotate()

    async def _robots(self, host: _HostCrawl) -> RobotsPolicy:
        url = host.work.origin + "/robots.txt"
        ex: Exchange | None = None
        for _ in range(MAX_ROBOTS_REDIRECTS + 1):
            try:
                target = await self.guard.check(url)
            except Blocked as b:
                self.store.log(skip_entry(url, "robots_unreachable", kind="robots", detail=str(b)))
                return RobotsPolicy.from_response(None, b"", self.cfg.agent, str(b))
            ex = await self.fetcher.fetch(url, target, host.pacer, max_bytes=MAX_ROBOTS_BYTES, any_type=True)
            self.requests += ex.attempts
            location = ex.header("location") if ex.status and 300 <= ex.status < 400 else None
            if not location:
                break
            try:
                url = self.cfg.scope.normalize(urljoin(url, location))
            except BadURL:
                break
        assert ex is not None
        try:
            body = decode_content(ex.body, ex.header("content-encoding"), MAX_ROBOTS_BYTES * 4)
        except DecodeError:
            body = b""
        policy = RobotsPolicy.from_response(ex.status, body, self.cfg.agent, ex.error)
        reason = "robots_unreachable" if policy.state == "unreachable" else None
        self.store.log(fetch_entry(ex, reason, kind="robots", robots=policy.state))
        return policy

    # -- one URL --------------------------------------------------------------------------
    async def _visit(self, host: _HostCrawl, e: dict) -> None:
        url, depth, via = e["url"], e.get("depth", 0), e.get("via")
        work = host.work
        if url in work.done:  # decided before a resume: continue from its links, fetch nothing
            links, link_depth = work.done[url] or ([], depth)
            for link in links:
                self._consider(host, link, url, link_depth)
            return
        assert host.policy is not None
        if not host.policy.allowed(url):
            self.store.log(skip_entry(url, host.policy.disallow_reason(), depth, via, host.policy.detail))
            return
        if host.requests >= work.budget:
            self.store.log(skip_entry(url, work.budget_reason, depth, via))
            return
        host.requests += 1
        try:
            target = await self.guard.check(url)
        except Blocked as b:
            self.store.log(skip_entry(url, b.reason, depth, via, b.detail))
            return
        ex = await self.fetcher.fetch(url, target, host.pacer)
        self.requests += ex.attempts
        try:
            self._handle(host, e, ex)
        except Exception as exc:  # noqa: BLE001 - one odd page is logged and skipped, never fatal
            log.exception("crawl: handling %s failed", url)
            self.store.log(fetch_entry(ex, "internal_error", depth, via, detail=f"{type(exc).__name__}: {exc}"))
        self.store.maybe_rotate()

    def _handle(self, host: _HostCrawl, e: dict, ex: Exchange) -> None:
        url, depth, via = e["url"], e.get("depth", 0), e.get("via")
        log = self.store.log
        if ex.error:
            log(fetch_entry(ex, ex.error, depth, via))
            return
        if ex.body_skipped:
            log(fetch_entry(ex, "content_type", depth, via))
            return
        status = ex.status or 0
        location = ex.header("location")
        if 300 <= status < 400 and location:
            self._redirect(host, e, ex, location)
            return
        if status != 200:
            warc = self.store.archive(ex)
            log(fetch_entry(ex, f"http_{status}", depth, via, warc=warc))
            return
        detail = ""
        try:
            decoded = decode_content(ex.body, ex.header("content-encoding"), self.cfg.fetch.max_decoded_bytes)
        except DecodeError as exc:
            decoded, detail = b"", f"content not decodable: {exc}"
        is_html = ex.mime in ("text/html", "application/xhtml+xml") or not ex.mime
        page = extract_links(decoded, url, ex.charset, self.cfg.agent) if decoded and is_html else None
        header_dirs = robots_header_directives(ex.header_values("x-robots-tag"), self.cfg.agent)
        noindex = bool(page and page.noindex) or bool(header_dirs & {"noindex", "none"})
        nofollow = bool(page and page.nofollow) or bool(header_dirs & {"nofollow", "none"})
        links = [] if (page is None or nofollow) else page.links
        extra: dict = {"links": len(links)}
        if page and page.nofollow_links:
            extra["nofollow_links"] = page.nofollow_links
        if nofollow:
            extra["nofollow"] = True
        if page and page.error:
            detail = detail or page.error
        if detail:
            extra["detail"] = detail
        if noindex:
            log(fetch_entry(ex, "noindex", depth, via, **extra))
        else:
            warc = self.store.archive(ex)
            self.pages += 1
            log(fetch_entry(ex, None, depth, via, warc=warc, **extra))
        kept = []
        for link in links:
            normalized = self._consider(host, link, url, depth + 1)
            if normalized:
                kept.append(normalized)
        self.store.page_links(url, depth + 1, kept)

    def _redirect(self, host: _HostCrawl, e: dict, ex: Exchange, location: str) -> None:
        url, depth, via = e["url"], e.get("depth", 0), e.get("via")
        warc = self.store.archive(ex)
        try:
            target = self.cfg.scope.normalize(urljoin(url, location))
        except BadURL as b:
            self.store.log(fetch_entry(ex, "bad_redirect", depth, via, warc=warc, location=location,
                                       detail=str(b)))
            return
        chain = list(e.get("chain", [])) + [url]
        redirects = e.get("redirects", 0) + 1
        if target in chain:
            self.store.log(fetch_entry(ex, "redirect_loop", depth, via, warc=warc, location=target))
            return
        if redirects > self.cfg.max_redirects:
            self.store.log(fetch_entry(ex, "too_many_redirects", depth, via, warc=warc, location=target,
                                       detail=f"more than --max-redirects {self.cfg.max_redirects}"))
            return
        self.store.log(fetch_entry(ex, "redirect", depth, via, warc=warc, location=target))
        # A redirect is followed at once (same depth), through the same scope, trap and robots
        # rules as a link; another host's target waits for a later round.
        kept = self._consider(host, target, url, depth, redirects=redirects, chain=chain, first=True)
        self.store.page_links(url, depth, [kept] if kept else [])

    def _consider(self, host: _HostCrawl, link: str, source: str, depth: int, redirects: int = 0,
                  chain: list[str] | None = None, first: bool = False) -> str | None:
        """Queue a link (this host), make it a candidate (another host) or log why not."""
        try:
            url = self.cfg.scope.normalize(link)
        except BadURL as b:
            key = link[:2048]
            if key not in self.seen:
                self.seen.add(key)
                self.store.log(skip_entry(key, b.reason, depth, source, b.detail))
            return None
        if url in self.seen:
            return url
        self.seen.add(url)
        reason = self.cfg.scope.check_link(url, source)
        if reason is None and depth > self.cfg.max_depth:
            reason = "max_depth"
        if reason:
            self.store.log(skip_entry(url, reason, depth, source))
            return None
        entry = {"url": url, "depth": depth, "via": source, "redirects": redirects}
        if origin(url) == host.work.origin:
            if chain:
                entry["chain"] = chain
            if first:
                host.queue.appendleft(entry)
            else:
                host.queue.append(entry)
        else:
            self.store.candidate(entry)
        return url

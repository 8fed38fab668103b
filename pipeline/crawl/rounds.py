"""Round planning, pure: a round's URLs cut into per-host work with request budgets and
spread over batches (one batch = one worker's work item), and the next round's frontier from
this round's cross-host candidates. The crawl job (``corpora/crawl.py``) runs the batches."""

from __future__ import annotations

import math
from typing import Protocol

from pipeline.crawl.crawl_log import dumps, skip_entry
from pipeline.crawl.crawler import CrawlConfig, HostWork
from pipeline.crawl.frontier import CrawlState
from pipeline.crawl.segments import LOG_DIR
from pipeline.crawl.urls import origin


class RoundSettings(Protocol):
    """What planning needs of the job's config (``CrawlJobConfig`` has it)."""

    crawl: CrawlConfig
    hosts_per_batch: int


def known_by_host(seen: set[str], resumed: dict) -> dict[str, set[str]]:
    """URLs met in earlier rounds, by origin (a resumed round's own URLs left out)."""
    known: dict[str, set[str]] = {}
    for u in seen:
        if u not in resumed:
            try:
                known.setdefault(origin(u), set()).add(u)
            except ValueError:
                continue
    return known


# Pages per second one worker process keeps up with, politeness waits aside: bench/crawl.py's
# unpaced row (one process, no pacing) does 150-280 on a loaded 2-core machine.
ONE_PROCESS_PAGES_PER_SECOND = 100.0


def one_process_enough(entries: list[dict], cfg: RoundSettings) -> bool:
    """Whether one process can crawl a round's hosts at their full pace: they fit one batch and
    hosts x rate stays within ONE_PROCESS_PAGES_PER_SECOND (then more workers save nothing)."""
    hosts = len({origin(e["url"]) for e in entries})
    return hosts <= cfg.hosts_per_batch and hosts * cfg.crawl.rate <= ONE_PROCESS_PAGES_PER_SECOND


def plan_round(entries: list[dict], cfg: RoundSettings, per_host: dict[str, int], total_requests: int,
               resumed: dict, known: dict[str, set[str]], n_workers: int) -> list[tuple[int, list[HostWork]]]:
    """Group a round's URLs by host, give each host its request budget (what is left of its
    per-host cap and its share of the crawl's), and cut the hosts into batches: one batch is
    one work item, crawled by one worker."""
    by_host: dict[str, list[dict]] = {}
    for e in entries:
        by_host.setdefault(origin(e["url"]), []).append(e)
    done_by_host: dict[str, dict] = {}
    for u, v in resumed.items():
        try:
            done_by_host.setdefault(origin(u), {})[u] = v
        except ValueError:
            continue
    hosts = sorted(by_host)
    c = cfg.crawl
    remaining = None if c.max_pages is None else max(0, c.max_pages - total_requests)
    works: list[HostWork] = []
    for i, h in enumerate(hosts):
        budget = c.max_pages_per_host - per_host.get(h, 0)
        reason = "host_page_cap"
        if remaining is not None:
            share = remaining // len(hosts) + (1 if i < remaining % len(hosts) else 0)
            if share < budget:
                budget, reason = share, "max_pages"
        works.append(HostWork(h, by_host[h], max(0, budget), reason, known.get(h, set()),
                              done_by_host.get(h, {})))
    n_batches = max(1, min(len(works), max(n_workers, math.ceil(len(works) / cfg.hosts_per_batch))))
    batches: list[tuple[int, list[HostWork]]] = [(b, []) for b in range(n_batches)]
    # Spread hosts round-robin, largest first, so batches carry similar work.
    for i, w in enumerate(sorted(works, key=lambda w: (-len(w.entries), w.origin))):
        batches[i % n_batches][1].append(w)
    return [b for b in batches if b[1]]


def next_frontier(state: CrawlState, crawl: CrawlConfig, r: int) -> list[dict]:
    """The next round's URLs: round ``r``'s cross-host candidates not seen before; the rest
    are logged as skipped when the crawl's page budget is spent."""
    seen, per_host = state.seen_and_requests()
    for past in state.rounds():
        if past <= r:
            seen.update(e["url"] for e in state.read_frontier(past))
    fresh: list[dict] = []
    for c in state.candidates(r):
        if c["url"] not in seen:
            seen.add(c["url"])
            fresh.append(c)
    max_pages = crawl.max_pages
    if fresh and max_pages is not None and sum(per_host.values()) >= max_pages:
        lines = [skip_entry(c["url"], "max_pages", c.get("depth"), c.get("via")) for c in fresh]
        state.fs.write_bytes(state.path(LOG_DIR, f"driver-r{r + 1:03d}.jsonl"),
                             "".join(dumps(e) + "\n" for e in lines).encode("utf-8"))
        return []
    return fresh

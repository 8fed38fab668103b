"""The crawl log: one JSON line per URL the crawl met (fetched, or skipped with a reason),
and per robots.txt fetch; ``stats.json`` is computed from it, so every URL is accounted for.

Line fields: ``url``, ``kind`` (``seed``, ``page``, ``robots``), ``status`` (HTTP status or
null), ``bytes`` (body bytes received), ``time`` (UTC start of the fetch or of the decision),
``reason`` (null when the page was stored), plus ``depth``, ``via``, ``round``, ``ip``,
``content_type``, ``seconds``, ``attempts``, ``truncated``, ``location``, ``warc``, ``detail``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pipeline.crawl.fetch import Exchange
from pipeline.stats import build_report

SEEDS_STAGE = "seeds"
ROBOTS_STAGE = "robots"
URLS_STAGE = "urls"
STAGES = [SEEDS_STAGE, ROBOTS_STAGE, URLS_STAGE]
STORED = None  # the reason of a stored page


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def skip_entry(url: str, reason: str, depth: int | None = None, via: str | None = None, detail: str = "",
               kind: str = "page", **extra: Any) -> dict:
    """A URL that was not fetched, and why."""
    entry = {"url": url, "kind": kind, "status": None, "bytes": 0, "time": now_iso(), "reason": reason,
             "depth": depth, "via": via}
    if detail:
        entry["detail"] = detail
    entry.update(extra)
    return entry


def fetch_entry(ex: Exchange, reason: str | None, depth: int | None = None, via: str | None = None,
                kind: str = "page", **extra: Any) -> dict:
    """A URL that was requested: its response (or error) and what became of it."""
    entry = {
        "url": ex.url, "kind": kind, "status": ex.status, "bytes": len(ex.body),
        "time": ex.started.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "reason": reason,
        "depth": depth, "via": via, "ip": ex.ip or None, "content_type": ex.mime or None,
        "seconds": round(ex.seconds, 4), "attempts": ex.attempts,
    }
    if ex.truncated:
        entry["truncated"] = True
    if ex.detail or ex.body_skipped:
        entry["detail"] = ex.detail or f"content type {ex.body_skipped}"
    entry.update(extra)
    return entry


def dumps(entry: dict) -> str:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


def stats_from_log(lines: Iterable[dict]) -> dict:
    """``stats.json`` from crawl log entries: seeds, robots.txt fetches, and one count per
    distinct URL (a stored page wins over a skip when a URL was met twice, e.g. by two workers)."""
    counts: Counter = Counter()
    best: dict[str, dict] = {}
    extra: Counter = Counter()
    for e in lines:
        kind = e.get("kind")
        if kind == "seed":
            counts[(SEEDS_STAGE, "in")] += 1
            if e.get("reason"):
                counts[(SEEDS_STAGE, "drop:" + e["reason"])] += 1
            else:
                counts[(SEEDS_STAGE, "out")] += 1
            continue
        if kind == "robots":
            counts[(ROBOTS_STAGE, "in")] += 1
            if e.get("reason"):
                counts[(ROBOTS_STAGE, "drop:" + e["reason"])] += 1
            else:
                counts[(ROBOTS_STAGE, "out")] += 1
            extra["requests"] += e.get("attempts", 0)  # attempts that got no response count too
            continue
        extra["requests"] += e.get("attempts", 0)  # only fetch entries have attempts; skips made none
        if e.get("status") is not None:
            extra["bytes"] += e.get("bytes", 0)
        if e.get("truncated"):
            extra["truncated"] += 1
        if e.get("warc"):
            extra["warc_responses"] += 1
        url = e["url"]
        old = best.get(url)
        if old is None or (old.get("reason") is not None and e.get("reason") is None):
            best[url] = e
    for e in best.values():
        counts[(URLS_STAGE, "in")] += 1
        if e.get("reason") is None:
            counts[(URLS_STAGE, "out")] += 1
        else:
            counts[(URLS_STAGE, "drop:" + e["reason"])] += 1
    for name, n in extra.items():
        counts[(URLS_STAGE, "count:" + name)] += n
    report = build_report(counts.items(), STAGES)
    report["job"] = "crawl"
    return report

"""The persisted crawl state: the frontier of each round, which rounds are finished, the seen
set and per-host request counts (from the committed crawl log), and what a resumed round
already has (from the committed segments). Kept under ``OUT/state/`` and ``OUT/log/``.

A round's frontier file is written before the round starts and a ``done`` marker after its
candidates became the next frontier, so a crawl killed at any point resumes where it was.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator

from pipeline.crawl.segments import LINKS_DIR, LOG_DIR, WARC_DIR, WARC_SUFFIX
from pipeline.crawl.storage import Storage
from pipeline.crawl.urls import origin

STATE_DIR = "state"
_STEM = re.compile(r"crawl-r(\d{3})-")


def segment_prefix(round_no: int, batch: int, token: str) -> str:
    return f"crawl-r{round_no:03d}-b{batch:04d}-{token}"


def _round_of(path: str) -> int | None:
    m = _STEM.search(path.rsplit("/", 1)[-1])
    return int(m.group(1)) if m else None


def _stem(path: str) -> str:
    name = path.rstrip("/").rsplit("/", 1)[-1]
    for suffix in (WARC_SUFFIX, ".jsonl.gz", ".jsonl"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def config_fingerprint(decisive: dict) -> str:
    return hashlib.sha256(json.dumps(decisive, sort_keys=True).encode()).hexdigest()[:16]


class CrawlState:
    """Reads and writes the state files of one crawl output directory."""

    def __init__(self, storage: Storage, output: str) -> None:
        self.fs = storage
        self.output = output

    def path(self, *parts: str) -> str:
        return self.fs.join(self.output, *parts)

    # -- config ----------------------------------------------------------------------------
    def saved_config(self) -> dict | None:
        p = self.path(STATE_DIR, "crawl.json")
        return json.loads(self.fs.read_bytes(p)) if self.fs.exists(p) else None

    def save_config(self, info: dict) -> None:
        self.fs.write_bytes(self.path(STATE_DIR, "crawl.json"), json.dumps(info, indent=2).encode())

    # -- rounds ----------------------------------------------------------------------------
    def frontier_path(self, r: int) -> str:
        return self.path(STATE_DIR, f"round-{r:03d}.jsonl.gz")

    def write_frontier(self, r: int, entries: list[dict]) -> None:
        data = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
        self.fs.write_bytes(self.frontier_path(r), gzip.compress(data.encode("utf-8"), mtime=0))

    def read_frontier(self, r: int) -> list[dict]:
        data = gzip.decompress(self.fs.read_bytes(self.frontier_path(r))).decode("utf-8")
        return [json.loads(line) for line in data.splitlines() if line]

    def rounds(self) -> list[int]:
        found = []
        for p in self.fs.glob(self.path(STATE_DIR, "round-*.jsonl.gz")):
            m = re.search(r"round-(\d+)\.jsonl\.gz$", p)
            if m:
                found.append(int(m.group(1)))
        return sorted(found)

    def is_done(self, r: int) -> bool:
        return self.fs.exists(self.path(STATE_DIR, f"round-{r:03d}.done.json"))

    def done_info(self, r: int) -> dict:
        return json.loads(self.fs.read_bytes(self.path(STATE_DIR, f"round-{r:03d}.done.json")))

    def mark_done(self, r: int, info: dict) -> None:
        self.fs.write_bytes(self.path(STATE_DIR, f"round-{r:03d}.done.json"), json.dumps(info).encode())

    # -- committed segments ------------------------------------------------------------------
    def log_files(self, round_no: int | None = None) -> list[str]:
        files = self.fs.glob(self.path(LOG_DIR, "*.jsonl"))
        if round_no is None:
            return files
        return [f for f in files if _round_of(f) == round_no]

    def log_entries(self, round_no: int | None = None) -> Iterator[dict]:
        for path in self.log_files(round_no):
            for line in self.fs.read_bytes(path).decode("utf-8").splitlines():
                if line.strip():
                    yield json.loads(line)

    def _state_lines(self, round_no: int) -> Iterator[dict]:
        committed = {_stem(p) for p in self.log_files(round_no)}
        for path in self.fs.glob(self.path(LINKS_DIR, "*.jsonl.gz")):
            if _round_of(path) == round_no and _stem(path) in committed:
                for line in gzip.decompress(self.fs.read_bytes(path)).decode("utf-8").splitlines():
                    if line:
                        yield json.loads(line)

    def candidates(self, round_no: int) -> list[dict]:
        """Cross-host URLs found in a round's committed segments."""
        return [d["candidate"] for d in self._state_lines(round_no) if "candidate" in d]

    def resumed(self, round_no: int) -> dict[str, tuple[list[str], int] | None]:
        """What a round's committed segments already decided: url -> (links, their depth) for
        pages whose links were kept, None for every other URL that has a log line."""
        done: dict[str, tuple[list[str], int] | None] = {}
        for e in self.log_entries(round_no):
            if e.get("kind") == "page":
                done.setdefault(e["url"], None)
        for d in self._state_lines(round_no):
            if "page" in d:
                done[d["page"]] = (d["links"], d["depth"])
        return done

    def clean_uncommitted(self) -> list[str]:
        """Delete WARC and state files of segments that never committed (a killed worker's)."""
        committed = {_stem(p) for p in self.log_files()}
        removed = []
        for pattern in (self.path(WARC_DIR, "*" + WARC_SUFFIX), self.path(LINKS_DIR, "*.jsonl.gz")):
            for p in self.fs.glob(pattern):
                if _stem(p) not in committed:
                    self.fs.delete(p)
                    removed.append(p)
        self.fs.delete(self.path("tmp"))
        return removed

    # -- derived from the whole log --------------------------------------------------------
    def seen_and_requests(self) -> tuple[set[str], Counter]:
        """Every URL the log mentions, and requests made per origin (for the per-host cap)."""
        seen: set[str] = set()
        per_host: Counter = Counter()
        for e in self.log_entries():
            if e.get("kind") != "page":
                continue
            seen.add(e["url"])
            if "attempts" in e:
                try:
                    per_host[origin(e["url"])] += 1
                except ValueError:
                    pass
        return seen, per_host

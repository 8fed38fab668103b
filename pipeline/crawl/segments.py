"""Crawl segments: the unit of commit. A worker writes a WARC file locally together with
the crawl log lines and the resume state (links, cross-host candidates) of the same pages;
at a size or age limit it commits them: the WARC file goes into ``warc/``, then the state
into ``state/links/``, and the log last into ``log/`` (a segment is committed iff its log
file exists). A killed crawl loses at most the pages of its open segments.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Callable

from pipeline.crawl.crawl_log import dumps
from pipeline.crawl.fetch import Exchange
from pipeline.crawl.storage import Storage
from pipeline.crawl.warc_out import WarcFileWriter

WARC_DIR = "warc"
LOG_DIR = "log"
LINKS_DIR = "state/links"
WARC_SUFFIX = ".warc.gz"


class SegmentStore:
    """The open segment of one worker's batch, rotated at ``max_bytes`` of WARC or ``max_seconds``."""

    def __init__(self, storage: Storage, output: str, prefix: str, info: dict[str, str],
                 max_bytes: int = 1 << 30, max_seconds: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.storage = storage
        self.output = output
        self.prefix = prefix
        self.info = info
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self.clock = clock
        self.seq = 0
        self.scratch = storage.scratch_dir(output)
        self.committed: list[str] = []  # WARC files written
        self._reset()

    def _reset(self) -> None:
        self._writer: WarcFileWriter | None = None
        self._fh = None
        self._log: list[str] = []
        self._state: list[str] = []
        self._opened = self.clock()

    @property
    def stem(self) -> str:
        return f"{self.prefix}-{self.seq:05d}"

    @property
    def warc_name(self) -> str:
        return self.stem + WARC_SUFFIX

    def archive(self, ex: Exchange) -> str:
        """Write one fetch into the open WARC file; returns that file's final name."""
        if self._writer is None:
            self._fh = open(os.path.join(self.scratch, self.warc_name + ".open"), "wb")
            self._writer = WarcFileWriter(self._fh, self.warc_name, self.info)
        self._writer.write_exchange(ex)
        return self.warc_name

    def log(self, entry: dict) -> None:
        self._log.append(dumps(entry))

    def page_links(self, url: str, depth: int, links: list[str]) -> None:
        """Remember the followable links of a fetched page and the depth they are at (a resumed
        crawl continues from them)."""
        self._state.append(json.dumps({"page": url, "depth": depth, "links": links}, ensure_ascii=False))

    def candidate(self, entry: dict) -> None:
        """A URL on another host, for a later round."""
        self._state.append(json.dumps({"candidate": entry}, ensure_ascii=False))

    def maybe_rotate(self) -> None:
        size = self._writer.size if self._writer else 0
        if size >= self.max_bytes or (self._log and self.clock() - self._opened >= self.max_seconds):
            self.commit()

    def commit(self) -> None:
        """Commit the open segment (nothing happens when it is empty)."""
        if not self._log and self._writer is None:
            return
        j = self.storage.join
        if self._writer is not None:
            assert self._fh is not None
            self._fh.close()
            dest = j(self.output, WARC_DIR, self.warc_name)
            self.storage.put_file(os.path.join(self.scratch, self.warc_name + ".open"), dest)
            self.committed.append(dest)
        if self._state:
            data = gzip.compress(("\n".join(self._state) + "\n").encode("utf-8"), mtime=0)
            self.storage.write_bytes(j(self.output, LINKS_DIR, self.stem + ".jsonl.gz"), data)
        self.storage.write_bytes(j(self.output, LOG_DIR, self.stem + ".jsonl"),
                                 ("\n".join(self._log) + "\n").encode("utf-8") if self._log else b"")
        self.seq += 1
        self._reset()

    def close(self) -> None:
        self.commit()
        try:
            os.rmdir(self.scratch)
        except OSError:
            pass

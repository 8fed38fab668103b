"""The Dask runner's shuffle through files: memory that stays flat however large the shuffle.

A producing task writes its output bound for a GroupByKey to one *shuffle file* instead of
returning it: it buffers at most ``SPILL_BYTES``, then writes, for every bucket, a *run* of
elements sorted by their encoded key (Python's sort is stable: arrival order is kept among equal
keys), and does so again until its partition ends. The task returns the file's path, so the
scheduler holds two tasks per partition and shuffle, never one per piece, and no worker holds
shuffled data in memory. A bucket's task merges its runs from every file (``heapq.merge``,
stable too) and groups one key at a time: it holds one frame per run and one key's values.

File layout: frames (``<u32 length><pickle of a list of (encoded key, key, value, (timestamp,
windows, pane))>``), then the run table (``<u64 start><u64 end>`` per run, bucket by bucket),
the runs per bucket (``<u32>`` cumulative counts, buckets + 1 of them), ``<u32 buckets><u64
table offset>``.

Files live under a folder every worker reads and writes at the same path (the local disk of a
single machine's cluster, or a shared mount); the runner removes the job's folder when it ends.
"""

from __future__ import annotations

import heapq
import itertools
import os
import pickle
import struct
import uuid
import zlib
from operator import itemgetter
from typing import NamedTuple

from apache_beam.runners.common import Receiver
from apache_beam.utils.windowed_value import WindowedValue

SPILL_BYTES = 32 << 20  # a task's buffered outputs, estimated, shared among them, before they go to files
FRAME_BYTES = 16 << 10  # a frame, estimated: what a merging task holds per run it reads

_KEY = itemgetter(0)
_TAIL = struct.Struct("<IQ")
_U32 = struct.Struct("<I")


class SizeEstimate:
    """Bytes an element takes once pickled, estimated cheaply: exact for bytes and str, one value
    in 64 measured for anything else (the others take the running estimate)."""

    def __init__(self) -> None:
        self.seen = 0
        self.other = 64

    def __call__(self, value) -> int:
        if isinstance(value, bytes | str):
            return len(value)
        self.seen += 1
        if self.seen % 64 == 1:
            self.other = (self.other + len(pickle.dumps(value, protocol=5))) // 2
        return self.other


class SpilledPart(NamedTuple):
    """A materialized partition too large to keep in memory: frames of packed runs in a file."""

    path: str


def _new_file(directory: str, suffix: str):
    path = os.path.join(directory, f"{uuid.uuid4().hex}.{suffix}")
    return path, open(path, "wb")  # noqa: SIM115 - the writer closes it


def _write_frame(f, obj) -> None:
    blob = pickle.dumps(obj, protocol=5)
    f.write(_U32.pack(len(blob)))
    f.write(blob)


class PartWriter:
    """Packed runs (``dask_tasks.Runs``) that move to a file once they pass ``SPILL_BYTES``."""

    def __init__(self, runs_factory, directory: str | None, budget: int | None = None) -> None:
        self.new_runs = runs_factory
        self.runs = runs_factory()
        self.directory = directory
        self.budget = SPILL_BYTES if budget is None else budget
        self.size = SizeEstimate()
        self.buffered = 0
        self.path: str | None = None
        self.file = None

    def add(self, wv: WindowedValue) -> None:
        self.runs.add(wv, wv.value)
        if self.directory is None:
            return
        self.buffered += self.size(wv.value) + 64
        if self.buffered >= self.budget:
            if self.file is None:
                self.path, self.file = _new_file(self.directory, "part")
            _write_frame(self.file, self.runs.runs)
            self.runs, self.buffered = self.new_runs(), 0

    def result(self) -> bytes | SpilledPart:
        if self.file is None:
            return self.runs.pack()
        if self.runs.runs:
            _write_frame(self.file, self.runs.runs)
        self.file.close()
        return SpilledPart(self.path)


def spilled_runs(part: SpilledPart):
    """The runs of a spilled partition, frame by frame."""
    with open(part.path, "rb") as f:
        while header := f.read(4):
            (length,) = _U32.unpack(header)
            yield from pickle.loads(f.read(length))


class ShuffleWriter(Receiver):
    """A stage output bound for a GroupByKey of ``n`` buckets, written to a shuffle file in ``directory``."""

    def __init__(self, n: int, key_coder, directory: str, budget: int | None = None) -> None:
        self.encode = key_coder.encode
        self.directory = directory
        self.budget = SPILL_BYTES if budget is None else budget
        self.buckets: list[list] = [[] for _ in range(n)]
        self.runs: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        self.file = None
        self.path: str | None = None
        self.buffered = 0
        self._meta: tuple | None = None
        self._size = SizeEstimate()

    def receive(self, wv: WindowedValue) -> None:
        key, value = wv.value
        encoded = self.encode(key)
        meta = self._meta
        if meta is None or not (wv.timestamp == meta[0] and wv.windows == meta[1] and wv.pane_info == meta[2]):
            self._meta = meta = (wv.timestamp, wv.windows, wv.pane_info)
        self.buckets[zlib.crc32(encoded) % len(self.buckets)].append((encoded, key, value, meta))
        self.buffered += 2 * len(encoded) + self._size(value) + 96
        if self.buffered >= self.budget:
            self._spill()

    def _spill(self) -> None:
        if self.file is None:
            self.path, self.file = _new_file(self.directory, "shuffle")
        f = self.file
        items_total = sum(len(b) for b in self.buckets)
        per_frame = max(16, FRAME_BYTES * items_total // max(1, self.buffered)) if items_total else 16
        for j, items in enumerate(self.buckets):
            if not items:
                continue
            items.sort(key=_KEY)
            start = f.tell()
            for i in range(0, len(items), per_frame):
                _write_frame(f, items[i:i + per_frame])
            self.runs[j].append((start, f.tell()))
            self.buckets[j] = []
        self.buffered = 0

    def result(self) -> str | None:
        """The shuffle file's path (None when nothing was written), its table written last."""
        if any(self.buckets):
            self._spill()
        if self.file is None:
            return None
        f = self.file
        table = f.tell()
        counts = [0]
        for runs in self.runs:
            for start, end in runs:
                f.write(struct.pack("<QQ", start, end))
            counts.append(counts[-1] + len(runs))
        f.write(struct.pack(f"<{len(counts)}I", *counts))
        f.write(_TAIL.pack(len(self.runs), table))
        f.close()
        self.file = None
        return self.path


def _bucket_runs(fd: int, bucket: int) -> list[tuple[int, int]]:
    size = os.fstat(fd).st_size
    n, table = _TAIL.unpack(os.pread(fd, _TAIL.size, size - _TAIL.size))
    if bucket >= n:
        raise ValueError(f"shuffle file has {n} buckets, bucket {bucket} asked for")
    counts_at = size - _TAIL.size - 4 * (n + 1)
    first, last = struct.unpack("<II", os.pread(fd, 8, counts_at + 4 * bucket))
    raw = os.pread(fd, 16 * (last - first), table + 16 * first)
    return [struct.unpack_from("<QQ", raw, 16 * i) for i in range(last - first)]


def _frames(fd: int, start: int, end: int):
    pos = start
    while pos < end:
        (length,) = _U32.unpack(os.pread(fd, 4, pos))
        yield from pickle.loads(os.pread(fd, length, pos + 4))
        pos += 4 + length


def merge_groups(bucket: int, paths: list[str | None]):
    """The groups of one bucket, key by key (in encoded-key order), each key's values in the order
    of ``paths`` then arrival: one pane per key and window, as the in-memory shuffle gives."""
    fds: list[int] = []
    try:
        runs = []
        for path in paths:
            if path is None:
                continue
            fd = os.open(path, os.O_RDONLY)
            fds.append(fd)
            runs.extend(_frames(fd, start, end) for start, end in _bucket_runs(fd, bucket))
        merged = runs[0] if len(runs) == 1 else heapq.merge(*runs, key=_KEY)
        for _, items in itertools.groupby(merged, key=_KEY):
            by_window: dict = {}
            for _, key, value, (_, windows, _) in items:
                for w in windows:
                    entry = by_window.get(w)
                    if entry is None:
                        by_window[w] = (key, [value])
                    else:
                        entry[1].append(value)
            for w, (key, values) in by_window.items():
                yield WindowedValue((key, values), w.max_timestamp(), (w,))
    finally:
        for fd in fds:
            os.close(fd)

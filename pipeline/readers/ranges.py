"""Large input files read in parts, one work item each: WARC/WET byte ranges that each start a
record, and Parquet runs of row groups.

A file is one work item, so one large file is read by one worker however many a job has. A
per-record gzip WARC or WET file (as Common Crawl writes them: every record its own gzip member)
can be cut where a member starts a record, and every part read on its own by the same reader.
``plan_ranges`` picks the cuts: near each multiple of the part size, the first gzip member that
inflates whole (its CRC32 and length hold) to exactly one whole WARC record. Anything less (no
such member within ``SEARCH_BYTES``, a file that is not gzip, records spread over members) and
the file keeps fewer cuts, or none: it is then read whole, as before. A Parquet file is cut
between row groups (``plan_row_groups``), its row numbers kept.

The cuts depend on the file alone (its size and bytes), never on the worker count, so a job's
output does not either. What differs from reading a WARC/WET file whole: a record without a
``WARC-Record-ID`` (which WARC requires) is named ``<file>@<range start>+<offset in the range>``
instead of ``<file>@<offset>``, and a record id reused in two different parts is not told
apart by ``#n`` (as an id reused in two files is not). A Parquet file's parts give exactly what
the whole file gives, except that a corrupt row group no longer ends the reading of the groups
after it. ``combine_ranges`` turns the parts' outcomes back into the file's one outcome.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

from pipeline import fileio
from pipeline.compression import INFLATE, INFLATE_ERRORS, find_member, sniff_compression
from pipeline.records import Drop

SPLIT_BYTES = 8 << 20  # default part size (compressed bytes); a file under twice this is read whole
SEARCH_BYTES = 8 << 20  # how far past a planned cut a record's member is looked for
RUN_BYTES = 1 << 17  # a cut's member starts a run of whole-record members this long (or to the end)
MAX_CANDIDATES = 256  # members tried for one cut before it is left out (records spread over members)
MAX_MEMBER_BYTES = 64 << 20  # a longer member is not inflated to check it (no cut there)
_SCAN_BYTES = 1 << 18  # read at a time while looking for a member
_HEAD_BYTES = 1 << 16  # a record's header block must end within this many bytes
SPLITTABLE = ("warc", "wet")
PLAN_BLOCK_BYTES = 1 << 19  # a remote file read this much at a time while planning (stores default to MBs)
PLAN_THREADS = 8  # files planned at once, and cuts of one remote file looked for at once


@dataclass(frozen=True)
class FileRange:
    """Part ``index`` of ``count`` of ``path``: its compressed bytes ``[start, stop)``, ``start``
    the first byte of a gzip member holding one whole record (or 0); or, with ``unit``
    ``"row_groups"``, its Parquet row groups ``[start, stop)``, whose first row is the file's
    ``first_row``-th."""

    path: str
    start: int
    stop: int
    index: int
    count: int
    unit: str = "bytes"  # or "row_groups"
    first_row: int = 0

    @property
    def final(self) -> bool:
        """Whether the range ends where the file ends."""
        return self.index == self.count - 1

    def describe(self) -> str:
        what = "bytes" if self.unit == "bytes" else "row groups"
        return f"part {self.index + 1} of {self.count} ({what} {self.start}-{self.stop})"


def _whole_record_member(raw: BinaryIO, at: int, end: int) -> int | None:
    """Where the gzip member at ``at`` ends, if it inflates whole (checksum and length held) to
    exactly one WARC record: a version line, a header block with a known ``WARC-Type`` and
    ``Content-Length``, that many bytes, then ``CRLF CRLF`` and nothing more; else None."""
    from pipeline.readers.warc import VERSION, WARC_TYPES, parse_headers

    raw.seek(at)
    d = INFLATE.decompressobj(16 + zlib.MAX_WBITS)
    head, tail, total, fed = bytearray(), b"", 0, 0
    try:
        while not d.eof:
            piece = raw.read(min(1 << 16, end - at - fed))
            if not piece or fed > MAX_MEMBER_BYTES:
                return None
            fed += len(piece)
            out = d.decompress(piece)
            total += len(out)
            if len(head) < _HEAD_BYTES:
                head += out[: _HEAD_BYTES - len(head)]
            tail = (tail + out)[-4:]
    except INFLATE_ERRORS:
        return None
    version = VERSION.match(head)
    header_end = head.find(b"\r\n\r\n")
    if not version or header_end < 0:
        return None
    try:
        headers = parse_headers(bytes(head[version.end():header_end + 2]))
        length = int(headers.get_field("Content-Length") or "")
    except ValueError:
        return None
    if (headers.get_field("WARC-Type") or "").lower() not in WARC_TYPES:
        return None
    if total != header_end + 4 + length + 4 or tail != b"\r\n\r\n":
        return None
    return at + fed - len(d.unused_data)


def _starts_a_run(raw: BinaryIO, at: int, end: int, ends: dict[int, int | None]) -> bool:
    """Whether whole-record members follow one another from ``at`` for ``RUN_BYTES`` (or up to the
    end of the file). A member that starts a record in a per-record gzip file does; one inside
    another member does not: an archive stored in a record (a crawled ``.warc.gz``) can hold whole
    members verbatim, but only within one of the outer member's stored deflate blocks (at most
    64 KB), whose next block header breaks the run. ``ends``: each member's end (or None) as
    found so far; the next candidate's run is mostly this one's, so each member is inflated once."""
    pos = at
    while pos < end and pos - at < RUN_BYTES:
        if pos not in ends:
            ends[pos] = _whole_record_member(raw, pos, end)
        if ends[pos] is None:
            return False
        pos = ends[pos]
    return True


def record_member_from(raw: BinaryIO, offset: int, end: int, search: int = SEARCH_BYTES,
                       ends: dict[int, int | None] | None = None) -> int | None:
    """The first byte, at or after ``offset`` and within ``search`` bytes of it, of a gzip member
    holding one whole record and starting a run of them (``_starts_a_run``); None when there is
    none before ``end``. The file is read ``_SCAN_BYTES`` at a time (a Common Crawl member is a
    few kilobytes, so the first window nearly always holds the cut)."""
    limit = min(offset + search, end)
    ends = {} if ends is None else ends
    tried = 0
    at = offset
    while at < limit:
        raw.seek(at)
        window = raw.read(min(_SCAN_BYTES, limit - at) + 3)  # + a magic that starts at the window's end
        i = 0
        while (i := find_member(window, i)) is not None and at + i < limit:
            if _starts_a_run(raw, at + i, end, ends):
                return at + i
            tried += 1
            if tried >= MAX_CANDIDATES:
                return None  # not a per-record gzip stretch: leave this cut out
            i += 1
        at += _SCAN_BYTES
    return None


def worth_cutting(size: int, split_bytes: int) -> bool:
    """Whether a file of ``size`` bytes is large enough to be read in parts of ``split_bytes``
    (twice that or more; ``split_bytes`` 0: never)."""
    return split_bytes > 0 and size >= 2 * split_bytes


def _open_for_planning(path: str) -> BinaryIO:
    """A file opened for a few small reads: a remote one reads ``PLAN_BLOCK_BYTES`` at a time."""
    return fileio.open_read(path, block_size=PLAN_BLOCK_BYTES)


def _cut_near(opener, path: str, target: int, size: int) -> int | None:
    """``record_member_from(target)`` in a file handle of its own (cuts are looked for in threads)."""
    with opener(path) as raw:
        return record_member_from(raw, target, size)


def plan_ranges(path: str, size: int, fmt: str | None, split_bytes: int = SPLIT_BYTES,
                open_fn=None) -> list[FileRange] | None:
    """Where to cut ``path`` (``size`` bytes, format ``fmt``) into parts of about ``split_bytes``;
    None when it is read whole: not WARC/WET, under twice ``split_bytes``, not gzip, or no cut
    found. ``split_bytes`` 0: never cut. ``open_fn(path)`` opens a seekable binary stream (default:
    ``pipeline.fileio`` with small remote reads). A remote file's cuts are looked for in threads,
    each a few round trips; the cuts are the same either way (each is the first run start at or
    after its target, so they rise with the targets)."""
    if fmt not in SPLITTABLE or not worth_cutting(size, split_bytes):
        return None
    opener = open_fn or _open_for_planning
    parts = -(-size // split_bytes)
    targets = [k * size // parts for k in range(1, parts)]
    remote = fileio.is_remote(path)
    try:
        with opener(path) as raw:
            if sniff_compression(raw.read(4)) != "gzip":
                return None
            if not remote:
                ends: dict[int, int | None] = {}
                found = [record_member_from(raw, t, size, ends=ends) for t in targets]
        if remote:
            with ThreadPoolExecutor(PLAN_THREADS) as pool:
                found = list(pool.map(lambda t: _cut_near(opener, path, t, size), targets))
    except (OSError, io.UnsupportedOperation):
        return None  # read whole: the reader then says what is wrong with the file
    cuts = [0] + sorted({c for c in found if c})
    if len(cuts) == 1:
        return None
    bounds = cuts + [size]
    return [FileRange(path, a, b, i, len(cuts)) for i, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False))]


def plan_row_groups(path: str, size: int, split_bytes: int = SPLIT_BYTES, open_fn=None) -> list[FileRange] | None:
    """Parts of a Parquet file of twice ``split_bytes`` or more: runs of whole row groups of about
    ``split_bytes`` compressed each (a row group is never cut); None when it is read whole (one
    row group, smaller, or a footer that cannot be read: the reader then says why). Row numbers,
    and so the keys of rows without an id, are the file's own."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not worth_cutting(size, split_bytes):
        return None
    opener = open_fn or _open_for_planning
    try:
        with opener(path) as raw:
            meta = pq.ParquetFile(raw).metadata
    except (pa.ArrowInvalid, OSError):
        return None
    groups = [meta.row_group(i) for i in range(meta.num_row_groups)]
    starts, rows, filled, row = [0], [0], 0, 0
    for i, group in enumerate(groups):
        if filled >= split_bytes:
            starts.append(i)
            rows.append(row)
            filled = 0
        filled += sum(group.column(j).total_compressed_size for j in range(group.num_columns))
        row += group.num_rows
    if len(starts) == 1:
        return None
    bounds = starts + [len(groups)]
    return [FileRange(path, a, b, i, len(starts), "row_groups", rows[i])
            for i, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False))]


def plan_work(files: list[dict], input_format: str, split_bytes: int = SPLIT_BYTES,
              open_fn=None) -> list[str | FileRange]:
    """The read's work items for ``files`` (``{"path", "bytes"}``): each file's parts
    (``plan_ranges``, ``plan_row_groups``) or its path. Large files are planned in threads (remote
    stores answer each seek after a round trip), through ``pipeline.fileio`` unless ``open_fn``."""
    from pipeline.readers import format_of

    def plan(f: dict) -> list[str | FileRange]:
        fmt = format_of(f["path"], input_format)
        if fmt == "parquet":
            return plan_row_groups(f["path"], f["bytes"], split_bytes, open_fn) or [f["path"]]
        return plan_ranges(f["path"], f["bytes"], fmt, split_bytes, open_fn) or [f["path"]]

    large = [f for f in files if worth_cutting(f["bytes"], split_bytes)]
    with ThreadPoolExecutor(min(PLAN_THREADS, len(large) or 1)) as pool:
        planned = dict(zip((f["path"] for f in large), pool.map(plan, large), strict=True))
    return [item for f in files for item in planned.get(f["path"], [f["path"]])]


class BoundedReader(io.RawIOBase):
    """The bytes of ``raw`` from its current position up to ``limit`` bytes on (a range's bytes)."""

    def __init__(self, raw: BinaryIO, limit: int) -> None:
        self.raw = raw
        self.left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        if self.left <= 0:
            return 0
        data = self.raw.read(min(len(b), self.left))
        b[: len(data)] = data
        self.left -= len(data)
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()


@dataclass(frozen=True)
class RangeDone:
    """How reading one part ended (the part's ``FileDone``, less its counts, already counted)."""

    index: int
    count: int
    status: str
    detail: str
    records: int
    where: str


def combine_ranges(path: str, parts: Iterable[RangeDone]) -> str | Drop:
    """The file's one outcome from its parts': ``path`` (kept) when every part read ``ok``; else a
    Drop with the first failing part's status (the records its parts read whole stay kept)."""
    done = sorted(parts, key=lambda p: p.index)
    if not done or [p.index for p in done] != list(range(done[0].count)):
        raise RuntimeError(f"{path}: parts {[p.index for p in done]} reached the files stage, not all of them")
    for p in done:
        if p.status != "ok":
            return Drop("files", p.status, id=path, source_file=path, detail=f"{p.where}: {p.detail}")
    return path

"""WARC and WET reading that frames records itself, so that damage costs only the damaged records.

A record is kept only when it was read whole: its ``Content-Length`` bytes are there and are
followed by the record's end (``CRLF CRLF``, or the next record or the end of the file), its
gzip member's checksum held, and its ``WARC-Block-Digest`` matches when it has one. The digest
is checked under a gzip CRC32 too: the CRC proves the bytes are the ones the writer compressed,
not that they are the record the writer described, so the same bytes get the same verdict
whether they were stored compressed or not (this costs about 0.1 ms per 60 KB page). Anything
else is counted under its reason, and reading resumes at the next ``WARC/1.x`` header line
(or, in a per-record gzip file, at the next gzip member). A record read whole is never dropped
for damage after it. Files whose header lines end in LF alone (TensorFlow Datasets' C4 test
files) do not keep ``Content-Length`` in step with the text: their records end at the next
``WARC/1.x`` line, as TFDS reads them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from typing import BinaryIO

from pipeline.compression import TRUNCATED, Break, Chunk, End, Skipped, open_events
from pipeline.limits import Limits
from pipeline.readers.http import HttpError, TooLarge, decode_body, parse_http
from pipeline.records import Drop, FileDone, RawRecord

STAGE = "read"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/xml+xhtml"})
_LINE_START_MARKER = re.compile(rb"\nWARC/1\.[01]\r?\n")
VERSION = re.compile(rb"WARC/1\.[01]\r?\n")
_BLANK_LINE = re.compile(rb"\n\r?\n")  # a line end followed by an empty line
# The record types of WARC 1.0/1.1; any other value is read as a damaged header.
WARC_TYPES = frozenset({"warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion",
                        "continuation"})
MAX_HEADER_BYTES = 1 << 16  # one WARC header block
CHECK_WINDOW = 4 << 20  # how far past a record its gzip member's checksum is awaited
RESYNC_KEEP = 64 << 20  # bytes of a record kept for resynchronising inside it if its length is wrong
TRUNCATED_FILE = "truncated_file"
CORRUPT_COMPRESSION = "corrupt_compression"


def _basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


class _Input:
    """Decompressed bytes at absolute offsets, pulled event by event; stops at a ``Break``/``End``."""

    def __init__(self, raw: BinaryIO, origin: int = 0) -> None:
        self.events = open_events(raw, origin=origin)
        self.buf = bytearray()
        self.base = 0  # absolute offset of buf[0]
        self.checked = 0  # bytes before this offset passed their checksum (or have none to pass)
        self.crc_checked = 0  # bytes before this offset were covered by a gzip CRC32 that held
        self.stop: Break | End | None = None
        self.segment_start = 0  # where data resumed after the last Break (a line start)
        self.skipped_compressed = 0
        self.breaks = 0

    @property
    def end(self) -> int:
        return self.base + len(self.buf)

    def pull(self) -> bool:
        """Append the next decompressed bytes; False once stopped at a break or the end."""
        while self.stop is None:
            ev = next(self.events)
            if isinstance(ev, Chunk):
                self.buf += ev.data
                if ev.checked:
                    self.checked = self.end
                if ev.crc:
                    self.crc_checked = self.end
                if ev.data:
                    return True
            elif isinstance(ev, Skipped):
                self.skipped_compressed += ev.skipped
            else:
                self.stop = ev
        return False

    def ensure(self, upto: int) -> bool:
        """Pull until ``upto`` (absolute) is buffered; False if the data stops first."""
        while self.end < upto:
            if not self.pull():
                return False
        return True

    def discard(self, upto: int) -> None:
        if upto > self.base:
            del self.buf[: upto - self.base]
            self.base = upto

    def at(self, start: int, stop: int) -> bytes:
        with memoryview(self.buf) as view:  # one copy (slicing the bytearray first would make two)
            return bytes(view[start - self.base: stop - self.base])

    def resume(self) -> Break:
        """Pass a ``Break``: data continues at the next gzip member, which starts a line."""
        brk = self.stop
        assert isinstance(brk, Break)
        self.stop = None
        self.breaks += 1
        self.skipped_compressed += brk.skipped
        self.segment_start = self.end
        return brk

    def line_end(self, start: int, limit: int) -> int | None:
        """Offset just past the next LF at or after ``start`` (within ``limit`` bytes), else None."""
        searched = start
        while True:
            i = self.buf.find(b"\n", searched - self.base, start + limit - self.base)
            if i >= 0:
                return self.base + i + 1
            searched = max(self.end, start)
            if searched - start >= limit or not self.pull():
                return None

    def blank_line_end(self, start: int, limit: int) -> int | None:
        """Offset just past the first empty line (``CRLF`` or ``LF`` alone) starting at or after the
        line start ``start`` and before ``limit`` (absolute), or None."""
        searched = start - 1  # the LF that ends the line before ``start``
        while True:
            m = _BLANK_LINE.search(self.buf, searched - self.base, limit + 1 - self.base)
            if m:
                return self.base + m.end() if self.base + m.start() + 1 < limit else None
            searched = max(self.end - 2, searched)
            if self.end > limit or not self.pull():
                return None

    def find_record(self, start: int, keep: bool = True) -> int | None:
        """Offset of the next ``WARC/1.x`` line at or after ``start`` (a line start) in this segment, or
        None when the data stops first. Without ``keep``, bytes passed over are discarded as it goes."""
        self.ensure(start + 10)
        if VERSION.match(self.buf, start - self.base):
            return start
        searched = max(start - 1, self.segment_start)
        while True:
            m = _LINE_START_MARKER.search(self.buf, searched - self.base)
            if m:
                return self.base + m.start() + 1
            searched = max(self.end - 10, searched)
            if not keep:
                self.discard(searched)
            if not self.pull():
                return None


class _Headers(dict):
    """WARC header fields by lower-case name (the first occurrence wins)."""

    def get_field(self, name: str) -> str | None:
        return self.get(name.lower())


def parse_headers(block: bytes) -> _Headers:
    """The fields of a WARC header block (the lines after the version line); ValueError on a line
    without a name. Shared with ``pipeline.readers.ranges``, which checks a cut's record."""
    headers = _Headers()
    last = None
    for line in block.decode("utf-8", "replace").splitlines():
        if not line:
            continue
        if line[0] in " \t" and last is not None:
            headers[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        last = name.strip().lower()
        if not sep or not last:
            raise ValueError(f"header line without a name: {line[:80]!r}")
        if last not in headers:
            headers[last] = value.strip()
    return headers


_DIGESTS = {"sha1": "sha1", "sha-1": "sha1", "md5": "md5", "sha256": "sha256", "sha-256": "sha256",
            "sha512": "sha512", "sha-512": "sha512"}


def digest_matches(value: str | None, block: bytes) -> bool | None:
    """Whether ``block`` matches a ``WARC-Block-Digest`` value (base32 or hex); None if it cannot tell."""
    if not value or ":" not in value:
        return None
    alg, _, encoded = value.partition(":")
    name = _DIGESTS.get(alg.strip().lower())
    if name is None:
        return None
    h = getattr(hashlib, name)(block)
    encoded = encoded.strip()
    try:
        if len(encoded) == 2 * h.digest_size:
            expected = bytes.fromhex(encoded)
        else:
            expected = base64.b32decode(encoded.upper() + "=" * (-len(encoded) % 8))
    except (ValueError, binascii.Error):
        return None
    return h.digest() == expected


class _RecordConverter:
    """Turns one framed record (header fields and block) into a RawRecord or a Drop."""

    def __init__(self, path: str, limits: Limits, wet: bool, drop_truncated: bool, origin: int | None = None) -> None:
        self.path = path
        self.base = _basename(path)
        self.origin = origin
        self.limits = limits
        self.wet = wet
        self.drop_truncated = drop_truncated
        self.target = "conversion" if wet else "response"
        self.seen_ids: Counter[str] = Counter()

    def place(self, offset: int) -> str:
        """``<file name>@<offset>`` (decompressed), or ``<file name>@<origin>+<offset>`` in a part
        of a file that starts at compressed byte ``origin`` (``pipeline.readers.ranges``)."""
        return f"{self.base}@{offset}" if self.origin is None else f"{self.base}@{self.origin}+{offset}"

    def key(self, headers: _Headers, offset: int) -> str:
        """The record's identity: its WARC-Record-ID (``#n`` on the n-th reuse within the file, or
        the part of it read), or its ``place`` when it has none."""
        rid = headers.get_field("WARC-Record-ID")
        if not rid:
            return self.place(offset)
        self.seen_ids[rid] += 1
        n = self.seen_ids[rid]
        return rid if n == 1 else f"{rid}#{n}"

    def drop(self, reason: str, key: str, url: str | None, detail: str = "") -> Drop:
        return Drop(STAGE, reason, id=key, url=url, source_file=self.path, detail=detail)

    def convert(self, headers: _Headers, block: bytes, key: str, url: str | None, counts: Counter) -> RawRecord | Drop:
        """A whole record of the target type -> RawRecord or Drop."""
        truncated = headers.get_field("WARC-Truncated")
        if truncated:
            counts["warc_truncated"] += 1
            if self.drop_truncated:
                return self.drop("warc_truncated", key, url, f"WARC-Truncated: {truncated}")
        meta = {
            "warc_record_id": headers.get_field("WARC-Record-ID"),
            "fetch_date": headers.get_field("WARC-Date"),
            "source_file": self.base,
        }
        if truncated:
            meta["warc_truncated"] = truncated
        if self.wet:
            try:
                text = block.decode("utf-8")
            except UnicodeDecodeError as exc:
                return self.drop("invalid_utf8", key, url, str(exc))
            meta["content_type"] = headers.get_field("Content-Type") or "text/plain"
            meta["refers_to"] = headers.get_field("WARC-Refers-To")
            cc_lang = headers.get_field("WARC-Identified-Content-Language")
            if cc_lang:
                meta["cc_lang"] = cc_lang
            return RawRecord(key, self.path, "text", text, url=url, content_type="text/plain", meta=meta)

        try:
            http = parse_http(block)
        except HttpError as exc:
            return self.drop("not_http", key, url, str(exc))
        if http.status != 200:
            return self.drop("non_200", key, url, f"HTTP {http.status}")
        if http.mime not in HTML_TYPES:
            return self.drop("not_html", key, url, http.mime or "no content type")
        try:
            body = decode_body(http, self.limits.max_record_bytes)
        except TooLarge as exc:
            return self.drop("oversized", key, url, str(exc))
        except HttpError as exc:
            return self.drop("bad_content_encoding", key, url, str(exc))
        meta["content_type"] = http.mime
        return RawRecord(key, self.path, "html", body, url=url, content_type=http.mime,
                         header_charset=http.charset, meta=meta)


def read_warc(raw: BinaryIO, path: str, limits: Limits, wet: bool = False, drop_truncated: bool = False,
              origin: int | None = None, final: bool = True) -> Iterator[RawRecord | Drop | FileDone]:
    """Yield the response (WARC) or conversion (WET) records of one file as RawRecords, every other
    record as a Drop with its reason, then a FileDone with per-file counts. ``origin``: ``raw`` is
    a part of the file starting at that compressed byte; ``final``: the part ends where the file
    does (else a record running past its end overran its Content-Length, the file goes on)."""
    reader = _WarcReader(raw, path, limits, wet, drop_truncated, origin, final)
    yield from reader.records()
    yield reader.done()


class _WarcReader:
    """The framing loop of one file (see the module docstring)."""

    def __init__(self, raw: BinaryIO, path: str, limits: Limits, wet: bool, drop_truncated: bool,
                 origin: int | None = None, final: bool = True) -> None:
        self.inp = _Input(raw, origin or 0)
        self.path = path
        self.limits = limits
        self.final = final
        self.conv = _RecordConverter(path, limits, wet, drop_truncated, origin)
        self.counts: Counter[str] = Counter()
        self.n_records = 0
        self.headers_seen = 0
        self.cut_short = False  # the data ended inside a record
        self.claimed = False  # the bytes up to the next record belong to a record already dropped

    def _drop(self, reason: str, key: str, url: str | None = None, detail: str = "") -> Drop:
        self.n_records += 1
        return self.conv.drop(reason, key, url, detail)

    def done(self) -> FileDone:
        inp = self.inp
        stop = inp.stop
        assert isinstance(stop, End)
        status, detail = stop.reason, stop.detail
        if status == "ok" and self.cut_short and self.final:
            status, detail = TRUNCATED_FILE, "the file ends inside a record"
        if status == "ok" and inp.breaks:
            status, detail = CORRUPT_COMPRESSION, f"{inp.breaks} corrupt gzip member stretch(es) skipped"
        if inp.skipped_compressed:
            self.counts["skipped_compressed_bytes"] += inp.skipped_compressed
        if self.headers_seen == 0 and status in ("ok", TRUNCATED_FILE):
            status = "empty_file" if inp.end == 0 else "not_warc"
            detail = "" if inp.end == 0 else "no WARC record header found"
        return FileDone(self.path, status, detail, self.n_records, counts=dict(self.counts))

    def _skip(self, start: int, found: int | None) -> Iterator[Drop]:
        """Count bytes passed over while looking for the next record (not blank lines)."""
        stop = found if found is not None else self.inp.end
        gap = self.inp.at(start, stop)
        claimed, self.claimed = self.claimed, False
        if gap.strip(b"\r\n"):
            self.counts["skipped_bytes"] += stop - start
            if self.headers_seen and not claimed:
                yield self._drop("malformed_record", self.conv.place(start),
                                 detail=f"{stop - start} bytes that are not a WARC record, skipped")

    def records(self) -> Iterator[RawRecord | Drop]:
        inp = self.inp
        pos = 0
        while True:
            inp.discard(pos)
            # Between records: blank lines are allowed, anything else is skipped up to the next record.
            if not inp.ensure(pos + 1):
                if isinstance(inp.stop, Break):
                    yield from self._after_break(None)
                    pos = inp.end
                    continue
                return
            found = inp.find_record(pos)
            if found != pos:
                yield from self._skip(pos, found)
                if found is None:
                    if isinstance(inp.stop, Break):
                        yield from self._after_break(None)
                        pos = inp.end
                        continue
                    return
                pos = found
                inp.discard(pos)
            pos = yield from self._one_record(pos)

    def _after_break(self, key: str | None, url: str | None = None) -> Iterator[Drop]:
        """A corrupt gzip stretch: the record it cut (or the stretch itself) is one drop."""
        brk = self.inp.resume()
        detail = f"{brk.detail}; {brk.skipped} compressed bytes skipped"
        yield self._drop("corrupt_record", key or self.conv.place(self.inp.segment_start), url, detail)

    def _one_record(self, pos: int):
        """Frame, check and convert the record whose version line starts at ``pos``; returns the
        offset to continue from. A generator: yields the record's RawRecord or Drop."""
        inp = self.inp
        version_end = inp.line_end(pos, 16)
        lf_only = inp.at(version_end - 2, version_end) != b"\r\n" if version_end else False
        # header block: up to the first empty line, which starts within MAX_HEADER_BYTES of the record
        header_end = inp.blank_line_end(version_end, pos + MAX_HEADER_BYTES) if version_end else None
        if header_end is None:
            return (yield from self._unframed(pos, version_end, "a WARC header block that does not end"))
        try:
            headers = parse_headers(inp.at(version_end, header_end))
            length = int(headers.get_field("Content-Length") or "")
            if length < 0:
                raise ValueError("negative Content-Length")
            if (headers.get_field("WARC-Type") or "").lower() not in WARC_TYPES:
                raise ValueError(f"unknown WARC-Type {headers.get_field('WARC-Type')!r}")
        except ValueError as exc:
            return (yield from self._unframed(pos, version_end, f"bad WARC header: {exc}"))
        self.headers_seen += 1
        self.cut_short = False  # a record after an overrun: the file itself goes on
        key = self.conv.key(headers, pos)
        url = headers.get_field("WARC-Target-URI")
        rtype = (headers.get_field("WARC-Type") or "").lower()
        wanted = rtype == self.conv.target
        if lf_only:
            self.counts["lf_only_headers"] += 1
            return (yield from self._lf_record(headers, header_end, key, url, wanted))

        block_end = header_end + length
        oversized = length > self.limits.max_record_bytes
        whole = self._read_through(header_end, block_end)
        if not whole:
            return (yield from self._cut(key, url, header_end))
        after = self._record_end(block_end)
        if after is None:
            self.n_records += 1
            yield self.conv.drop("bad_content_length", key, url,
                                 f"Content-Length {length} does not end at the record's end")
            self.claimed = True
            return max(header_end, inp.base)
        if not wanted:
            yield self._drop("skipped_record_type", key, url, rtype or "no WARC-Type")
            return after
        if oversized:
            yield self._drop("oversized", key, url, f"{length} bytes > {self.limits.max_record_bytes}")
            return after
        if not self._checksum_held(after):
            yield from self._after_break(key, url)
            return inp.end
        block = inp.at(header_end, block_end)
        ok = digest_matches(headers.get_field("WARC-Block-Digest"), block)
        if ok is False:
            yield self._drop("digest_mismatch", key, url, "the block does not match its WARC-Block-Digest")
            return after
        self.n_records += 1
        yield self.conv.convert(headers, block, key, url, self.counts)
        return after

    def _read_through(self, header_end: int, block_end: int) -> bool:
        """Buffer the block up to ``block_end``; False if the data stops first. Past ``RESYNC_KEEP``
        bytes (an oversized record) the bytes are passed over, so that memory stays bounded."""
        inp = self.inp
        if inp.ensure(min(block_end, header_end + RESYNC_KEEP)):
            while inp.end < block_end:
                inp.discard(inp.end)
                if not inp.pull():
                    return False
            return True
        return False

    def _record_end(self, block_end: int) -> int | None:
        """Where the next record may start if the block really ends at ``block_end``, else None."""
        inp = self.inp
        inp.ensure(block_end + 4)
        tail = inp.at(block_end, block_end + 4)
        if tail == b"\r\n\r\n":
            return block_end + 4
        lenient = block_end + len(tail) - len(tail.lstrip(b"\r\n"))
        if inp.end <= lenient and inp.stop is not None:
            return lenient  # the data ends (or breaks) right after the block
        inp.ensure(lenient + 8)
        if VERSION.match(inp.at(lenient, lenient + 10)):
            return lenient
        return None

    def _checksum_held(self, upto: int) -> bool:
        """False when the gzip member holding bytes before ``upto`` failed its check."""
        inp = self.inp
        while inp.checked < upto and inp.end - upto < CHECK_WINDOW:
            if not inp.pull():
                break
        return not (inp.checked < upto and isinstance(inp.stop, Break))

    def _cut(self, key: str, url: str | None, header_end: int):
        """The data stopped inside the record: a truncation, or a corrupt gzip stretch."""
        inp = self.inp
        if isinstance(inp.stop, Break):
            yield from self._after_break(key, url)
            return inp.end
        if not self.final:  # the next part starts with a whole record: this one's length is wrong
            yield self._drop("bad_content_length", key, url, "its Content-Length runs past the next record")
            self.claimed = True
            return max(header_end, inp.base)
        self.cut_short = True
        reason = inp.stop.detail if isinstance(inp.stop, End) and inp.stop.detail else "the file ends inside it"
        yield self._drop("truncated_record", key, url, reason)
        # Content-Length may have run past the end: recover the records it swallowed.
        self.claimed = True
        return max(header_end, inp.base)

    def _unframed(self, pos: int, version_end: int | None, detail: str):
        """A version line whose header block cannot be read: one malformed record."""
        inp = self.inp
        if inp.stop is not None and inp.end - pos < MAX_HEADER_BYTES:  # the data ran out
            if isinstance(inp.stop, Break):
                yield from self._after_break(None)
                return inp.end
            self.cut_short = True
            self.headers_seen += 1
            yield self._drop("truncated_record", self.conv.place(pos), None, "the file ends inside a header")
            return inp.end
        self.headers_seen += 1
        self.claimed = True  # its body, up to the next record, goes with it
        yield self._drop("malformed_record", self.conv.place(pos), None, detail)
        return version_end or pos + 1

    def _lf_record(self, headers: _Headers, header_end: int, key: str, url: str | None, wanted: bool):
        """An LF-only record: its block ends at the next ``WARC/1.x`` line or the end of the data."""
        inp = self.inp
        limit = self.limits.max_record_bytes
        found = inp.find_record(header_end, keep=wanted)
        block_end = found if found is not None else inp.end
        if found is None and isinstance(inp.stop, Break):
            return (yield from self._cut(key, url, header_end))
        if found is None and isinstance(inp.stop, End) and inp.stop.reason == TRUNCATED:
            self.cut_short = True
            yield self._drop("truncated_record", key, url, inp.stop.detail)
            return block_end
        if not wanted:
            yield self._drop("skipped_record_type", key, url, (headers.get_field("WARC-Type") or "no WARC-Type"))
            return block_end
        if block_end - header_end > limit:
            yield self._drop("oversized", key, url, f"{block_end - header_end} bytes > {limit}")
            return block_end
        block = inp.at(header_end, block_end)
        for _ in range(2):  # the blank line that ends a record
            block = block[:-1] if block.endswith(b"\n") else block
        self.n_records += 1
        yield self.conv.convert(headers, block, key, url, self.counts)
        return block_end

"""WARC and WET reading with FastWARC, tolerant of broken records.

FastWARC parses; this module adds what a corpus job needs on top: decompression that
notices truncation, a one-record look-ahead that catches a wrong ``Content-Length``
(the next header fails to parse), and re-synchronisation on the next ``WARC/1.x`` line so
one bad record costs one record, not the rest of the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from fastwarc.warc import ArchiveIterator, WarcRecordType

from pipeline.compression import open_decompressed, stream_failure
from pipeline.limits import Limits
from pipeline.records import Drop, FileDone, RawRecord

STAGE = "read"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/xml+xhtml"})
_MARKER = re.compile(rb"(?:^|\n)(WARC/1\.[01]\r?\n)")


def _basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _find_next_record(stream: BinaryIO, start: int, chunk: int = 1 << 20) -> int | None:
    """Offset of the next ``WARC/1.x`` line at or after ``start``, or None at end of stream."""
    stream.seek(start)
    offset = start
    carry = b""
    while True:
        data = stream.read(chunk)
        if not data:
            return None
        buf = carry + data
        m = _MARKER.search(buf)
        if m:
            return offset - len(carry) + m.start(1)
        carry = buf[-16:]
        offset += len(data)


class _RecordConverter:
    """Turns one FastWARC record into a RawRecord or a Drop (reads at most the size limit)."""

    def __init__(self, path: str, limits: Limits, wet: bool) -> None:
        self.path = path
        self.base = _basename(path)
        self.limits = limits
        self.wet = wet
        self.target = WarcRecordType.conversion if wet else WarcRecordType.response

    def key(self, rec) -> str:
        """File name + WARC-Record-ID (unique by the WARC spec; the name guards against reused ids)."""
        rid = rec.record_id
        return f"{self.base}/{rid}" if rid else f"{self.base}@{rec.stream_pos}"

    def convert(self, rec, key: str, url: str | None) -> RawRecord | Drop:
        """One record (its ``key`` and target ``url`` already looked up by the caller) -> RawRecord or Drop."""
        rtype = rec.record_type

        def drop(reason: str, detail: str = "") -> Drop:
            return Drop(STAGE, reason, id=key, url=url, source_file=self.path, detail=detail)

        if rtype != self.target:
            return drop("skipped_record_type", str(rtype))
        if rec.content_length > self.limits.max_record_bytes:
            return drop("oversized", f"{rec.content_length} bytes > {self.limits.max_record_bytes}")
        meta = {
            "warc_record_id": rec.record_id,
            "fetch_date": rec.headers.get("WARC-Date"),
            "source_file": self.base,
        }
        if self.wet:
            body = rec.reader.read(self.limits.max_record_bytes + 1)
            if len(body) > self.limits.max_record_bytes:
                return drop("oversized", f"more than {self.limits.max_record_bytes} bytes")
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                return drop("invalid_utf8", str(exc))
            meta["content_type"] = rec.headers.get("Content-Type", "text/plain")
            meta["refers_to"] = rec.headers.get("WARC-Refers-To")
            cc_lang = rec.headers.get("WARC-Identified-Content-Language")
            if cc_lang:
                meta["cc_lang"] = cc_lang
            return RawRecord(key, self.path, "text", text, url=url, content_type="text/plain", meta=meta)

        if not rec.is_http or rec.http_headers is None:
            return drop("not_http")
        status = rec.http_headers.status_code
        if status != 200:
            return drop("non_200", f"HTTP {status}")
        mime = (rec.http_content_type or "").lower()
        if mime not in HTML_TYPES:
            return drop("not_html", mime or "no content type")
        body = rec.reader.read(self.limits.max_record_bytes + 1)
        if len(body) > self.limits.max_record_bytes:
            return drop("oversized", f"more than {self.limits.max_record_bytes} bytes")
        meta["content_type"] = mime
        return RawRecord(
            key, self.path, "html", body, url=url, content_type=mime,
            header_charset=rec.http_charset or None, meta=meta,
        )


def read_warc(raw: BinaryIO, path: str, limits: Limits, wet: bool = False) -> Iterator[RawRecord | Drop | FileDone]:
    """Yield the response (WARC) or conversion (WET) records of one file, then a FileDone."""
    conv = _RecordConverter(path, limits, wet)
    stream = open_decompressed(raw)
    if not stream.peek(1):
        failure = stream_failure(stream)
        yield FileDone(path, *(failure or ("empty_file", "")))
        return

    records = 0
    status, detail = "ok", ""
    pos = 0
    seen_any = False
    while True:
        pending: RawRecord | Drop | None = None  # held until the next header parses
        current: tuple[int, str, str | None] | None = None  # (offset, key, url) being read
        try:
            iterator = ArchiveIterator(stream, parse_http=not wet, auto_decode="all", stream_detect=False)
            for rec in iterator:
                if pending is not None:
                    yield pending
                    pending = None
                seen_any = True
                records += 1
                current = (rec.stream_pos, conv.key(rec), rec.headers.get("WARC-Target-URI"))
                pending = conv.convert(rec, current[1], current[2])
            failure = stream_failure(stream)
            if failure is not None:
                # A cut-off stream reads as a short end of file: the last record is partial.
                status, detail = failure
                if current is not None:
                    yield Drop(STAGE, "truncated_record", id=current[1], url=current[2], source_file=path, detail=detail)
            elif pending is not None:
                yield pending
            break
        except (OSError, ValueError) as exc:  # FastWARC could not parse a header
            failure = stream_failure(stream)
            if failure is not None:
                status, detail = failure
                if current is not None:
                    yield Drop(STAGE, "truncated_record", id=current[1], url=current[2], source_file=path, detail=detail)
                break
            if not stream.seekable():
                status, detail = "unrecoverable_record", f"{exc}; stream cannot seek to resynchronise"
                break
            if current is not None:
                # The previous record parsed but the next header did not: its length was wrong.
                yield Drop(STAGE, "bad_content_length", id=current[1], url=current[2], source_file=path, detail=str(exc))
                start = current[0] + 1
            else:
                start = pos + 1
            nxt = _find_next_record(stream, start)
            if current is None:
                if not seen_any and pos == 0 and nxt is None:
                    status, detail = "not_warc", f"no WARC record header found ({exc})"
                    break
                records += 1
                yield Drop(STAGE, "malformed_record", id=f"{conv.base}@{pos}", source_file=path, detail=str(exc))
            if nxt is None:
                break
            pos = nxt
            stream.seek(pos)
    yield FileDone(path, status, detail, records)

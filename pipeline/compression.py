"""Transparent decompression of input streams, detected by magic bytes (not by file name).

A cut-off or corrupt compressed stream reads as a clean end of file, so the buffered
readers above keep every byte that did decompress; the failure is recorded on the stream
and ``stream_failure`` reports it once the caller has read what it could.

gzip members are inflated with ISA-L (the ``isal`` package: the same bytes, CRC32 and length
checks, about twice zlib's speed) where it is installed, and with zlib otherwise.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import BinaryIO

try:  # ISA-L's inflate, a drop-in for zlib's (decompressobj, eof, unused_data, unconsumed_tail)
    from isal import isal_zlib as _isal_zlib
except ImportError:  # pragma: no cover - a platform without its wheel
    _isal_zlib = None

INFLATE: ModuleType = _isal_zlib or zlib
"""The zlib-compatible module that inflates gzip members in ``gzip_events``."""
INFLATE_ERRORS: tuple[type[Exception], ...] = (zlib.error,) + ((_isal_zlib.error,) if _isal_zlib else ())

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
XZ_MAGIC = b"\xfd7zXZ\x00"
BZ2_MAGIC = b"BZh"  # then the block size (1-9) and a block's or the end's 6-byte magic
_BZ2_BLOCKS = (b"\x31\x41\x59\x26\x53\x59", b"\x17\x72\x45\x38\x50\x90")
MAGIC_BYTES = 10
"""The head ``sniff_compression`` needs to tell every format it knows (4 tell gzip and zstd)."""
#: Formats without a magic number, told by the file's name when its first bytes name none (as Beam does).
_NAMED_ONLY = {".deflate": "deflate", ".lzma": "lzma"}

TRUNCATED = "truncated_gzip"
CORRUPT = "corrupt_compression"


def sniff_compression(head: bytes) -> str:
    """``gzip``, ``zstd``, ``xz``, ``bz2`` or ``none``, from a stream's first bytes (``MAGIC_BYTES`` of
    them tell all four; xz and bz2 need 6 and 10). The stream readers here decompress gzip and zstd."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(XZ_MAGIC):
        return "xz"
    if head.startswith(BZ2_MAGIC) and head[3:4].isdigit() and head[3:4] != b"0" and head[4:10] in _BZ2_BLOCKS:
        return "bz2"
    return "none"


def detect_compression(head: bytes, name: str) -> str:
    """A stored file's compression: by its first bytes (``sniff_compression``; a ``.gz`` that is plain
    text is ``none``, gzip bytes named ``.tsv`` are ``gzip``), and for the formats without a magic
    number (``deflate``, legacy ``lzma``) by its name's suffix."""
    kind = sniff_compression(head)
    if kind != "none":
        return kind
    return next((k for suffix, k in _NAMED_ONLY.items() if name.lower().endswith(suffix)), "none")


class _Decompressing(io.RawIOBase):
    """Base for decompressing raw streams; ``failure`` is (reason, message) once one occurred."""

    failure: tuple[str, str] | None = None

    def readable(self) -> bool:
        return True

    def _read(self, n: int) -> bytes:
        raise NotImplementedError

    def readinto(self, b) -> int:  # type: ignore[override]
        if self.failure is not None:
            return 0
        try:
            data = self._read(len(b))
        except Exception as exc:  # noqa: BLE001 - every decoder error ends the stream, recorded
            self.failure = self._classify(exc)
            return 0
        b[: len(data)] = data
        return len(data)

    def _classify(self, exc: Exception) -> tuple[str, str]:
        return (CORRUPT, f"{type(exc).__name__}: {exc}")


class _ZstdReader(_Decompressing):
    """A readable zstd stream (multi-frame)."""

    def __init__(self, raw: BinaryIO) -> None:
        import zstandard

        self._reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)

    def _read(self, n: int) -> bytes:
        return self._reader.read(n)

    def _classify(self, exc: Exception) -> tuple[str, str]:
        msg = str(exc)
        if any(w in msg for w in ("truncated", "incomplete", "premature")):
            return (TRUNCATED, msg)
        return (CORRUPT, msg)


class _GzipReader(_Decompressing):
    """gzip.GzipFile (multi-member, as WARC files are); seekable for re-synchronisation."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._gz = gzip.GzipFile(fileobj=raw, mode="rb")

    def _read(self, n: int) -> bytes:
        return self._gz.read1(n)

    def _classify(self, exc: Exception) -> tuple[str, str]:
        if isinstance(exc, EOFError):
            return (TRUNCATED, str(exc))
        if isinstance(exc, gzip.BadGzipFile | zlib.error):
            # A member header cut short at the very end is truncation, not corruption.
            at_end = not self._raw.read(1)
            return (TRUNCATED if at_end else CORRUPT, str(exc))
        return super()._classify(exc)

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._gz.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        try:
            return self._gz.seek(offset, whence)
        except Exception as exc:  # noqa: BLE001
            self.failure = self._classify(exc)
            return self._gz.tell()


def open_decompressed(raw: BinaryIO, buffer_size: int = 1 << 20) -> BinaryIO:
    """Wrap a raw binary stream so that reads return decompressed bytes."""
    buffered = raw if hasattr(raw, "peek") else io.BufferedReader(raw, buffer_size)  # type: ignore[arg-type]
    head = buffered.peek(4)[:4]
    kind = sniff_compression(head)
    if kind == "gzip":
        return io.BufferedReader(_GzipReader(buffered), buffer_size)  # type: ignore[return-value]
    if kind == "zstd":
        return io.BufferedReader(_ZstdReader(buffered), buffer_size)  # type: ignore[return-value]
    return buffered  # type: ignore[return-value]


def stream_failure(stream: BinaryIO) -> tuple[str, str] | None:
    """(reason, message) if a stream from ``open_decompressed`` ended early, else None."""
    raw = getattr(stream, "raw", None)
    return getattr(raw, "failure", None)


# --- Record-level reading: decompressed chunks with the places where the bytes cannot be trusted ---

@dataclass
class Chunk:
    """Decompressed bytes; ``checked`` when the bytes so far are final (a gzip member whose checksum
    held, or any bytes of a stream without one), ``crc`` when a gzip member's CRC32 covered them."""

    data: bytes
    checked: bool = False
    crc: bool = False


@dataclass
class Break:
    """Bytes since the last checked point may be wrong (a corrupt gzip member); data resumes at the
    next member header, ``skipped`` compressed bytes later."""

    detail: str
    skipped: int


@dataclass
class Skipped:
    """Non-gzip bytes between two members (or after the last), passed over; no data is suspect."""

    skipped: int


@dataclass
class End:
    """The end of the input: ``reason`` is ``ok``, ``truncated_gzip`` or ``corrupt_compression``."""

    reason: str
    detail: str = ""


Event = Chunk | Break | Skipped | End


def _member_header_at(buf: bytearray | bytes, i: int) -> bool:
    """Whether ``buf[i:]`` starts like a gzip member header (magic, deflate, reserved flag bits clear)."""
    return buf[i:i + 3] == b"\x1f\x8b\x08" and (len(buf) < i + 4 or buf[i + 3] & 0xE0 == 0)


def find_member(buf: bytearray, start: int) -> int | None:
    """Index of the next plausible gzip member header at or after ``start``, or None."""
    i = start
    while True:
        i = buf.find(b"\x1f\x8b\x08", i)
        if i < 0:
            return None
        if _member_header_at(buf, i):
            return i
        i += 1


def _skipped(n: int, padding: bool, at: int) -> Skipped | Break:
    """Zero padding is passed over; other bytes where a member should start may be a member whose
    header is damaged, so they are a ``Break`` (nothing decoded is suspect, but something may be lost)."""
    if padding:
        return Skipped(n)
    return Break(f"{n} bytes that are not a gzip member at byte {at}", n)


def gzip_events(raw: BinaryIO, chunk: int = 1 << 20, keep: int = 64 << 20,
                inflate: ModuleType | None = None, origin: int = 0) -> Iterator[Event]:
    """Inflate a (multi-member) gzip stream member by member; a corrupt member becomes a ``Break``
    and reading resumes at the next member header, so one bad stretch costs only its members.

    Compressed bytes of the current member are kept (up to ``keep``) so the search for the next
    member can start right after the bad member's header: a damaged member may end earlier than
    the point where inflating fails. ``inflate`` is ``INFLATE`` unless given (``zlib`` or isal's).
    ``origin``: where ``raw`` starts in its file (a part of it), for the byte offsets in details.
    """
    inflate = inflate or INFLATE
    comp = bytearray()  # compressed bytes, comp[0] at absolute offset `base`
    base = origin
    raw_done = False

    def more() -> bool:
        nonlocal raw_done
        if raw_done:
            return False
        data = raw.read(chunk)
        if not data:
            raw_done = True
            return False
        comp.extend(data)
        return True

    start = 0  # index in comp of the current member's first byte
    feed = 1 << 14  # compressed bytes given to inflate at a time: about one Common Crawl page's member
    while True:
        if start > len(comp) // 2 or start > chunk:  # compact now and then, not per member
            del comp[:start]
            base += start
            start = 0
        while len(comp) - start < 4 and more():
            pass
        if start >= len(comp):
            yield End("ok")
            return
        if len(comp) - start < 4 or not _member_header_at(comp, start):  # rare: work from index 0
            del comp[:start]
            base += start
            start = 0
            if len(comp) < 4 and _member_header_at(comp, 0):
                yield End(TRUNCATED, f"compressed stream ends inside a gzip member header at byte {base}")
                return
            if not _member_header_at(comp, 0):
                skipped, padding = 0, True
                found = find_member(comp, 1)
                while found is None:
                    drop = max(len(comp) - 3, 1)  # keep a possible partial magic at the end
                    padding = padding and not comp[:drop].strip(b"\0")
                    del comp[:drop]
                    base += drop
                    skipped += drop
                    if not more():
                        padding = padding and not comp.strip(b"\0")
                        yield _skipped(skipped + len(comp), padding, base - skipped)
                        yield End("ok")
                        return
                    found = find_member(comp, 0)
                padding = padding and not comp[:found].strip(b"\0")
                yield _skipped(skipped + found, padding, base - skipped)
                start = found
                continue
        d = inflate.decompressobj(16 + zlib.MAX_WBITS)
        pos = start  # next compressed byte to feed, index in comp
        scan_from = start + 1  # where to look for the next member after a failure
        try:
            while not d.eof:
                if pos >= len(comp) and not more():
                    yield End(TRUNCATED, f"compressed stream ends inside a gzip member at byte {base + pos}")
                    return
                with memoryview(comp) as view:  # one copy of the piece, not two
                    piece = bytes(view[pos:pos + feed])
                pos += len(piece)
                out = d.decompress(piece, chunk)
                while True:
                    if out:
                        yield Chunk(out)
                    if d.eof or not d.unconsumed_tail:
                        break
                    out = d.decompress(d.unconsumed_tail, chunk)
                if not d.eof and pos - start > keep:  # a huge member: stop keeping its start
                    del comp[:pos]
                    base += pos
                    start = pos = scan_from = 0
        except INFLATE_ERRORS as exc:
            detail = f"corrupt gzip member at byte {base + start}: {exc}"
            found = find_member(comp, scan_from)
            while found is None:
                if not more():
                    yield Break(detail, len(comp) - start)
                    yield End(CORRUPT, detail)
                    return
                found = find_member(comp, scan_from)
            yield Break(detail, found - start)
            start = found
            continue
        yield Chunk(b"", checked=True, crc=True)
        start = pos - len(d.unused_data)


def plain_events(stream: BinaryIO, chunk: int = 1 << 20, failure=None) -> Iterator[Event]:
    """Chunks of an uncompressed (or zstd-decoded) stream; ``failure()`` names an early end."""
    while True:
        data = stream.read(chunk)
        if not data:
            reason = failure() if failure else None
            yield End(*(reason or ("ok", "")))
            return
        yield Chunk(data, checked=True)


def open_events(raw: BinaryIO, chunk: int = 1 << 20, origin: int = 0) -> Iterator[Event]:
    """The decompressed bytes of a raw stream as events, compression told by its magic bytes;
    ``origin``: the stream's first byte's offset in its file (details name file offsets)."""
    buffered = raw if hasattr(raw, "peek") else io.BufferedReader(raw, chunk)  # type: ignore[arg-type]
    kind = sniff_compression(buffered.peek(4)[:4])
    if kind == "gzip":
        return gzip_events(buffered, chunk, origin=origin)
    if kind == "zstd":
        stream = io.BufferedReader(_ZstdReader(buffered), chunk)
        return plain_events(stream, chunk, lambda: stream_failure(stream))
    return plain_events(buffered, chunk)

"""Transparent decompression of input streams, detected by magic bytes (not by file name).

A cut-off or corrupt compressed stream reads as a clean end of file, so the buffered
readers above keep every byte that did decompress; the failure is recorded on the stream
and ``stream_failure`` reports it once the caller has read what it could.
"""

from __future__ import annotations

import gzip
import io
import zlib
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

TRUNCATED = "truncated_gzip"
CORRUPT = "corrupt_compression"


def sniff_compression(head: bytes) -> str:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


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

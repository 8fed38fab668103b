"""Undoing HTTP ``Content-Encoding`` (gzip, deflate, br) with the decoded size capped.

Shared by the crawler (``pipeline.crawl.fetch``) and the WARC reader (``pipeline.readers.http``),
in a module of its own so that reading WARC files does not import the crawler's HTTP client.
"""

from __future__ import annotations

import zlib

import brotli


class DecodeError(ValueError):
    """A content-encoded body that cannot be decoded (or decodes past the size limit)."""


class DecodedTooLarge(DecodeError):
    """A content-encoded body that decodes past the size limit."""


def decode_content(body: bytes, encoding: str | None, limit: int) -> bytes:
    """Undo ``Content-Encoding`` (gzip, deflate, br; several in order), at most ``limit`` bytes
    of output; a truncated stream decodes as far as it goes."""
    codings = [c.strip().lower() for c in (encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):
        if coding in ("identity", ""):
            continue
        if coding in ("gzip", "x-gzip", "deflate"):
            wbits = 16 + zlib.MAX_WBITS if coding != "deflate" else zlib.MAX_WBITS
            if coding == "deflate" and body[:1] and (body[0] & 0x0F) != 8:
                wbits = -zlib.MAX_WBITS  # raw deflate, as some servers send it
            d = zlib.decompressobj(wbits)
            try:
                out = d.decompress(body, limit + 1)
            except zlib.error as exc:
                raise DecodeError(f"{coding}: {exc}") from exc
        elif coding == "br":
            d = brotli.Decompressor()
            try:
                out = d.process(body, output_buffer_limit=limit + 1)
            except brotli.error as exc:
                raise DecodeError(f"br: {exc}") from exc
        else:
            raise DecodeError(f"unsupported content encoding {coding!r}")
        if len(out) > limit:
            raise DecodedTooLarge(f"decodes to more than {limit} bytes")
        body = out
    return body

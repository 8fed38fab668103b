"""The HTTP response inside a WARC ``response`` record: status, headers, and the body decoded.

Transfer-Encoding (chunked) and Content-Encoding (gzip, deflate, br) are undone while
streaming, with the decoded size capped, so an oversized page is noticed without ever
holding more than the limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.content_coding import DecodedTooLarge, DecodeError, decode_content

CONTENT_CODINGS = frozenset({"gzip", "x-gzip", "deflate", "br"})


class HttpError(ValueError):
    """The block is not an HTTP response, or its body cannot be decoded."""


class TooLarge(HttpError):
    """The decoded body is larger than the record size limit."""


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-case name -> value (first wins)
    body: bytes = b""

    @property
    def mime(self) -> str:
        return (self.headers.get("content-type") or "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for param in (self.headers.get("content-type") or "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip().strip("\"'"):
                return value.strip().strip("\"'")
        return None


def parse_http(block: bytes) -> HttpResponse:
    """Split a response block into status, headers and (still encoded) body."""
    end = block.find(b"\r\n\r\n")
    sep = 4
    if end < 0:
        end, sep = block.find(b"\n\n"), 2
    if end < 0:
        raise HttpError("no end of the HTTP header")
    lines = block[:end].decode("latin-1").replace("\r\n", "\n").split("\n")
    parts = lines[0].split(None, 2)
    if len(parts) < 2 or not parts[0].upper().startswith("HTTP/") or not parts[1].isdigit():
        raise HttpError(f"not an HTTP status line: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep_, value = line.partition(":")
        if sep_ and name.strip():
            headers.setdefault(name.strip().lower(), value.strip())
    return HttpResponse(int(parts[1]), headers, block[end + sep:])


def dechunk(body: bytes) -> bytes:
    """Undo ``Transfer-Encoding: chunked``; ValueError if the framing is broken."""
    out = bytearray()
    pos = 0
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            raise ValueError("chunk size line without CRLF")
        size = int(body[pos:eol].split(b";", 1)[0].strip() or b"x", 16)
        if size == 0:
            return bytes(out)
        start = eol + 2
        if start + size > len(body):
            raise ValueError("chunk runs past the body")
        out += body[start:start + size]
        pos = start + size + 2


def decode_body(resp: HttpResponse, limit: int) -> bytes:
    """The body with transfer and content encodings undone, at most ``limit`` bytes."""
    body = resp.body
    if "chunked" in (resp.headers.get("transfer-encoding") or "").lower():
        try:
            body = dechunk(body)
        except ValueError:
            pass  # stored already de-chunked by the crawler that wrote it: keep the bytes as they are
    # Codings we cannot undo ("none", "utf-8", ... as some servers send) leave the body as stored.
    codings = [c.strip() for c in (resp.headers.get("content-encoding") or "").split(",")]
    known = ",".join(c for c in codings if c.lower() in CONTENT_CODINGS)
    try:
        body = decode_content(body, known, limit)
    except DecodedTooLarge as exc:
        raise TooLarge(str(exc)) from exc
    except DecodeError as exc:
        raise HttpError(str(exc)) from exc
    if len(body) > limit:
        raise TooLarge(f"more than {limit} bytes")
    return body

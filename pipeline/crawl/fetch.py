"""Asynchronous HTTP fetching on httpx: pinned (checked) IP, connect/read/total timeouts,
a maximum response size (the rest is never downloaded), content types to keep, and
retries with exponential backoff on timeouts, 429 and 5xx that honour ``Retry-After``.

The body is kept as it came over the wire (content-encoded, transfer-decoded), which is what
a WARC response record stores; ``decode_content`` (``pipeline.content_coding``) undoes
gzip/deflate/brotli for parsing.
"""

from __future__ import annotations

import asyncio
import email.utils
import importlib.util
import random
import ssl
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from pipeline.crawl.ratelimit import HostPacer
from pipeline.crawl.safety import Target

HTML_TYPES = ("text/html", "application/xhtml+xml")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
TRANSIENT_ERRORS = frozenset({"timeout", "connect_timeout", "connect_error", "read_error", "protocol_error"})
ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
# brotli is decoded when a server sends it anyway, but not asked for: warcio 1.8's
# content_stream() cannot decode "br" with brotli >= 1.1, and the WARC files must read there.
ACCEPT_ENCODING = "gzip, deflate"
# A slot opens this long before its request is due (at most half the interval): the request is
# built and a connection taken meanwhile, so that work does not add to every interval.
PACING_LEAD = 0.05


def _remember_missing_sniffio() -> None:
    """httpcore imports ``sniffio`` each time it sets up a lock (several times per request);
    anyio 4 no longer installs it, and a failed import is not cached: every try searches
    sys.path again (0.1-0.4 ms). Recording the absence makes the same ImportError immediate."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]  # Python's "known missing" mark


_remember_missing_sniffio()


@dataclass
class FetchConfig:
    """How requests are made (all limits are per request)."""

    user_agent: str
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 120.0
    max_bytes: int = 5 * 1024 * 1024  # bytes of body read (as transferred); the rest is not downloaded
    max_decoded_bytes: int = 50 * 1024 * 1024  # decompressed size limit when parsing (zip bombs)
    retries: int = 3
    backoff: float = 1.0  # first retry waits this long, then 2x, 4x, ... (plus jitter)
    max_backoff: float = 60.0
    max_retry_after: float = 300.0  # a Retry-After longer than this gives up on the URL
    content_types: tuple[str, ...] = HTML_TYPES

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout", "total_timeout", "max_backoff", "max_retry_after"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name.replace('_', '-')} must be > 0")
        if self.max_bytes < 1024:
            raise ValueError("max-bytes must be at least 1024")
        if self.retries < 0 or self.backoff < 0:
            raise ValueError("retries and backoff must be >= 0")


@dataclass
class Exchange:
    """One HTTP request and its response, as sent and as received (or the error instead)."""

    url: str
    ip: str = ""
    method: str = "GET"
    target: str = "/"  # request-target: path and query
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    status: int | None = None
    reason: str = ""
    http_version: str = "HTTP/1.1"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    truncated: bool = False  # the body was cut at max_bytes
    body_skipped: str = ""  # why the body was not downloaded (content type not kept)
    error: str = ""  # timeout | connect_error | ... when there is no response
    detail: str = ""
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0
    attempts: int = 1

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def header_values(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def mime(self) -> str:
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for part in (self.header("content-type") or "").split(";")[1:]:
            k, _, v = part.partition("=")
            if k.strip().lower() == "charset":
                return v.strip().strip("\"'") or None
        return None


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date (None if absent/bad)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class Fetcher:
    """Makes the requests of a crawl (httpx, a connection pool per origin)."""

    def __init__(self, config: FetchConfig, rng: random.Random | None = None) -> None:
        self.config = config
        self.rng = rng or random.Random()
        # One connection pool per origin: requests go to the pinned IP, and a pool keyed by IP
        # alone could reuse one host's TLS connection (its SNI, its certificate) for another.
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._tls: dict[bool, ssl.SSLContext] = {}

    def _tls_context(self, scheme: str) -> ssl.SSLContext:
        """One verifying TLS context for every https origin (loading the CA bundle costs 30-100 ms,
        once per client otherwise); http origins' clients never speak TLS and share a context
        that trusts nothing, which costs nothing to make."""
        https = scheme == "https"
        if https not in self._tls:
            self._tls[https] = (httpx.create_ssl_context(trust_env=False) if https
                                else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        return self._tls[https]

    def _client(self, url: str) -> httpx.AsyncClient:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = httpx.AsyncClient(
                follow_redirects=False, http2=False, trust_env=False, verify=self._tls_context(parts.scheme),
                limits=httpx.Limits(max_connections=16, max_keepalive_connections=4),
                timeout=httpx.Timeout(self.config.read_timeout, connect=self.config.connect_timeout),
            )
        return client

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    def request_headers(self, url: str) -> list[tuple[str, str]]:
        netloc = urlsplit(url).netloc
        return [("Host", netloc), ("User-Agent", self.config.user_agent), ("Accept", ACCEPT),
                ("Accept-Encoding", ACCEPT_ENCODING), ("Connection", "keep-alive")]

    async def fetch_once(self, url: str, target: Target, max_bytes: int | None = None,
                         any_type: bool = False, on_send: Callable[[], Awaitable[None]] | None = None) -> Exchange:
        """One request to the pinned address; never raises for network trouble (see ``error``).
        ``on_send`` is awaited right before the request headers go out (the pacer's wait and
        clock); its wait counts against no timeout, and ``started`` is when the headers went out."""
        parts = urlsplit(url)
        ex = Exchange(url=url, ip=target.ip, target=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        ex.request_headers = self.request_headers(url)
        ip_host = f"[{target.ip}]" if ":" in target.ip else target.ip
        wire_url = f"{parts.scheme}://{ip_host}:{target.port}{ex.target}"
        extensions: dict = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
        paced = 0.0  # seconds spent waiting for the pacer
        deadline: asyncio.Timeout | None = None
        if on_send is not None:
            async def trace(event: str, info: dict) -> None:
                nonlocal paced
                if event.endswith("send_request_headers.started"):
                    loop = asyncio.get_running_loop()
                    t0 = loop.time()
                    left = deadline.when() - t0 if deadline is not None and deadline.when() is not None else None
                    if left is not None:
                        deadline.reschedule(None)  # the total timeout stops while the pacer waits
                    await on_send()
                    paced += loop.time() - t0
                    if left is not None:
                        deadline.reschedule(loop.time() + left)
                    ex.started = datetime.now(UTC)
            extensions["trace"] = trace
        limit = self.config.max_bytes if max_bytes is None else max_bytes
        start = time.monotonic()
        try:
            async with asyncio.timeout(self.config.total_timeout) as deadline:
                client = self._client(url)
                request = client.build_request("GET", wire_url, headers=ex.request_headers, extensions=extensions)
                response = await client.send(request, stream=True)
                try:
                    ex.status = response.status_code
                    ex.reason = (response.extensions.get("reason_phrase") or b"").decode("latin-1")
                    ex.http_version = response.http_version
                    ex.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw]
                    if not any_type and 200 <= ex.status < 300 and ex.mime not in self.config.content_types:
                        ex.body_skipped = ex.mime or "no content type"
                    else:
                        chunks: list[bytes] = []
                        size = 0
                        async for chunk in response.aiter_raw():
                            chunks.append(chunk)
                            size += len(chunk)
                            if size > limit:
                                ex.truncated = True
                                break
                        ex.body = b"".join(chunks)[:limit]
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout) as exc:
            ex.error, ex.detail = "timeout", str(exc) or type(exc).__name__
        except httpx.ConnectTimeout as exc:
            ex.error, ex.detail = "connect_timeout", str(exc) or "ConnectTimeout"
        except httpx.ConnectError as exc:
            ex.error, ex.detail = "connect_error", str(exc)
        except (httpx.RemoteProtocolError, httpx.LocalProtocolError) as exc:
            ex.error, ex.detail = "protocol_error", str(exc)
        except httpx.ReadError as exc:
            ex.error, ex.detail = "read_error", str(exc)
        except httpx.HTTPError as exc:
            ex.error, ex.detail = "http_error", f"{type(exc).__name__}: {exc}"
        if ex.error:
            ex.status = None
            ex.headers, ex.body = [], b""
        ex.seconds = time.monotonic() - start - paced
        return ex

    def _retry_wait(self, ex: Exchange, attempt: int) -> float | None:
        """Seconds to wait before retrying ``ex``, or None when it is final."""
        transient = ex.error in TRANSIENT_ERRORS or (ex.status in RETRY_STATUSES)
        if not transient or attempt >= self.config.retries:
            return None
        after = retry_after_seconds(ex.header("retry-after")) if ex.status in (429, 503) else None
        if after is not None:
            return after
        wait = min(self.config.max_backoff, self.config.backoff * (2 ** attempt))
        return wait * (1 + 0.25 * self.rng.random())

    async def fetch(self, url: str, target: Target, pacer: HostPacer, max_bytes: int | None = None,
                    any_type: bool = False) -> Exchange:
        """Fetch with the host's pacing and retries; the last attempt's exchange is returned."""
        attempt = 0
        while True:
            async with pacer.slot() as slot:
                ex = await self.fetch_once(url, target, max_bytes, any_type, on_send=slot.send)
            ex.attempts = attempt + 1
            wait = self._retry_wait(ex, attempt)
            if wait is None:
                return ex
            if wait > self.config.max_retry_after:
                ex.detail = f"Retry-After {wait:.0f}s is longer than --max-retry-after {self.config.max_retry_after:g}s"
                return ex
            pacer.pause(wait)  # the whole host waits: the server asked us to back off
            attempt += 1

"""A real HTTP test site for the crawler, served on 127.0.0.1 (one port per "host"), with
everything a polite crawler must cope with: robots.txt rules and a Crawl-delay, redirects
and a redirect loop, 404 and 500 pages, a page slower than the timeout, an infinite
calendar, a huge page, binary content, a page in a charset other than the one it
declares, gzip/brotli/chunked responses, 503 + Retry-After, noindex and nofollow, and
links to file:// and to the cloud metadata address. Every request is logged with its time.
"""

from __future__ import annotations

import gzip
import html
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli

SENTENCES = [
    "The harbour town woke early, and the fishing boats were already back before the market opened.",
    "Volunteers repaired the old footbridge over the river during a long and rainy weekend in spring.",
    "Researchers measured how quickly the glacier retreated over the past thirty years of observations.",
    "A small bakery on the corner sells rye bread that people queue for every Saturday morning.",
    "The council agreed to extend the library opening hours after a petition signed by many residents.",
    "Local historians traced the families who emigrated from the valley at the end of the century.",
]


def article(title: str, links: list[str] = (), extra_head: str = "", n: int = 6, charset: str | None = "utf-8",
            extra_body: str = "") -> str:
    """An HTML page with a title, a few paragraphs of real sentences and the given links."""
    paras = "\n".join(f"<p>{html.escape(' '.join(SENTENCES[(i + j) % len(SENTENCES)] for j in range(3)))}</p>"
                      for i in range(n))
    anchors = "\n".join(f'<li><a href="{html.escape(h)}">{html.escape(h)}</a></li>' for h in links)
    meta = f'<meta charset="{charset}">' if charset else ""
    return (f"<!DOCTYPE html><html lang=\"en\"><head>{meta}<title>{html.escape(title)}</title>{extra_head}</head>"
            f"<body><h1>{html.escape(title)}</h1><main><article>{paras}</article></main>"
            f"<nav><ul>{anchors}</ul></nav>{extra_body}</body></html>")


@dataclass
class Request:
    port: int
    path: str
    time: float  # time.monotonic() when the request line arrived
    user_agent: str
    accept_encoding: str


@dataclass
class Site:
    """One 'host' (one port): robots.txt and a router from path to a response."""

    robots: str | None = "User-agent: *\nDisallow: /private/\n"
    robots_status: int = 200
    robots_type: str = "text/plain"
    pages: dict = field(default_factory=dict)  # path -> (status, headers list, body bytes) or callable
    port: int = 0
    server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    site: Site
    log: list[Request]
    lock: threading.Lock

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        with self.lock:
            self.log.append(Request(self.site.port, self.path, time.monotonic(),
                                    self.headers.get("User-Agent", ""), self.headers.get("Accept-Encoding", "")))
        if self.path == "/robots.txt" and "/robots.txt" not in self.site.pages:
            if self.site.robots is None:
                return self._send(404, [("Content-Type", "text/plain")], b"not found")
            return self._send(self.site.robots_status, [("Content-Type", self.site.robots_type)],
                              self.site.robots.encode())
        handler = self.site.pages.get(self.path)
        if handler is None:
            for prefix, h in self.site.pages.items():
                if prefix.endswith("*") and self.path.startswith(prefix[:-1]):
                    handler = h
                    break
        if handler is None:
            return self._send(404, [("Content-Type", "text/html; charset=utf-8")],
                              article("Not found", n=1).encode())
        result = handler(self) if callable(handler) else handler
        if result is None:
            return None
        status, headers, body = result
        return self._send(status, headers, body)

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


HTML = [("Content-Type", "text/html; charset=utf-8")]


def _slow(seconds: float):
    def handler(h: _Handler):
        time.sleep(seconds)
        return 200, HTML, article("Slow page").encode()
    return handler


def _calendar(h: _Handler):
    # /calendar/YYYY/MM links to the next month, forever.
    parts = h.path.strip("/").split("/")
    year, month = (int(parts[1]), int(parts[2])) if len(parts) >= 3 else (2024, 1)
    ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
    return 200, HTML, article(f"Events {year}-{month:02d}", [f"/calendar/{ny}/{nm:02d}"], n=1).encode()


def _huge(size: int):
    chunk = ("<p>" + " ".join(SENTENCES) + "</p>\n").encode()

    def handler(h: _Handler):
        # Streams ``size`` bytes; a crawler with a smaller limit stops reading early.
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(size))
        h.end_headers()
        head = b"<html><head><title>Huge</title></head><body><h1>Huge page</h1>"
        sent = 0
        try:
            h.wfile.write(head)
            sent = len(head)
            while sent < size:
                piece = chunk[: size - sent]
                h.wfile.write(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        h.close_connection = True
        return None
    return handler


def _chunked(h: _Handler):
    body = article("Chunked page", ["/a"]).encode()
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    for i in range(0, len(body), 300):
        piece = body[i:i + 300]
        h.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
    h.wfile.write(b"0\r\n\r\n")
    return None


class _Flaky:
    """503 with Retry-After for the first ``fails`` requests, then the page."""

    def __init__(self, fails: int, retry_after: str = "1") -> None:
        self.fails = fails
        self.retry_after = retry_after

    def __call__(self, h: _Handler):
        if self.fails > 0:
            self.fails -= 1
            return 503, [("Content-Type", "text/plain"), ("Retry-After", self.retry_after)], b"busy"
        return 200, HTML, article("Flaky page that worked the second time").encode()


def main_site(other: str, slow_seconds: float = 2.0, huge_bytes: int = 3_000_000) -> Site:
    """The main test site; ``other`` is the base URL of a second site it links to."""
    latin = article("Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e \u00e0 la fran\u00e7aise", charset=None)
    links = [
        "/a", "/b", "/private/secret", "/redirect", "/loop1", "/missing", "/error", "/slow", "/calendar/2024/01",
        "/huge", "/image.png", "/latin1", "/gzip", "/brotli", "/chunked", "/flaky", "/noindex",
        "/hop/1", "file:///etc/passwd", "http://169.254.169.254/latest/meta-data/", "mailto:someone@example.org",
        "javascript:void(0)", "/a/b/a/b/a/b/a", other + "/",
    ]
    pages = {
        "/": (200, HTML, article("Home", links, extra_body='<a rel="nofollow" href="/nofollowed">x</a>').encode()),
        "/a": (200, HTML, article("Page A", ["/", "/b", "/a#section"]).encode()),
        "/b": (200, HTML, article("Page B", ["/a", "/deep/1"]).encode()),
        "/nofollowed": (200, HTML, article("Should not be fetched").encode()),
        "/private/secret": (200, HTML, article("Disallowed by robots").encode()),
        "/redirect": (301, [("Location", "/a-moved"), ("Content-Type", "text/html")], b"<a href=/a-moved>moved</a>"),
        "/a-moved": (200, HTML, article("Moved page").encode()),
        "/loop1": (302, [("Location", "/loop2")], b""),
        "/loop2": (302, [("Location", "/loop1")], b""),
        "/hop/*": lambda h: (302, [("Location", f"/hop/{int(h.path.rsplit('/', 1)[1]) + 1}")], b""),
        "/error": (500, HTML, article("Internal error", n=1).encode()),
        "/slow": _slow(slow_seconds),
        "/calendar/*": _calendar,
        "/huge": _huge(huge_bytes),
        "/image.png": (200, [("Content-Type", "image/png")], b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64),
        "/latin1": (200, HTML, latin.encode("iso-8859-1")),  # declares utf-8, is latin-1
        "/gzip": (200, HTML + [("Content-Encoding", "gzip")],
                  gzip.compress(article("Gzip page", ["/gzip-child"]).encode())),
        "/gzip-child": (200, HTML, article("Child of the gzip page").encode()),
        "/brotli": (200, HTML + [("Content-Encoding", "br")], brotli.compress(article("Brotli page").encode())),
        "/chunked": _chunked,
        "/flaky": _Flaky(1),
        "/noindex": (200, HTML, article("Noindex", ["/hidden"], '<meta name="robots" content="noindex, nofollow">')
                     .encode()),
        "/hidden": (200, HTML, article("Only linked from a nofollow page").encode()),
        "/deep/*": lambda h: (200, HTML, article("Deep", [f"/deep/{int(h.path.rsplit('/', 1)[1]) + 1}"]).encode()),
    }
    return Site(robots="User-agent: *\nDisallow: /private/\nCrawl-delay: 0.05\n\n"
                       "User-agent: corpusforge-crawler\nDisallow: /private/\nCrawl-delay: 0.05\n",
                pages=pages)


def other_site() -> Site:
    """A second host: robots.txt is an HTML page (no valid rules: everything allowed)."""
    return Site(robots="<html><body><h1>Welcome</h1><p>Disallow: nothing here</p></body></html>",
                robots_type="text/html",
                pages={"/": (200, HTML, article("Other host home", ["/x"]).encode()),
                       "/x": (200, HTML, article("Other host page X").encode())})


def broken_robots_site() -> Site:
    """A third host whose robots.txt is a 500: the RFC says assume everything is disallowed."""
    return Site(robots="oops", robots_status=500, pages={"/": (200, HTML, article("Never fetched").encode())})


class Sites:
    """Several sites on 127.0.0.1, each on its own port, sharing one request log."""

    def __init__(self) -> None:
        self.log: list[Request] = []
        self.lock = threading.Lock()
        self.sites: list[Site] = []

    def reserve(self, site: Site) -> Site:
        handler = type("Handler", (_Handler,), {"site": site, "log": self.log, "lock": self.lock})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        site.server = server
        site.port = server.server_address[1]
        self.sites.append(site)
        return site

    def start(self) -> None:
        for s in self.sites:
            threading.Thread(target=s.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        for s in self.sites:
            s.server.shutdown()
            s.server.server_close()

    def requests(self, port: int | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.log if port is None or r.port == port]


def start_test_sites(slow_seconds: float = 2.0, huge_bytes: int = 3_000_000) -> tuple[Sites, Site, Site, Site]:
    """Start the main site, the other site and the broken-robots site; returns them."""
    sites = Sites()
    other = sites.reserve(other_site())
    broken = sites.reserve(broken_robots_site())
    main = sites.reserve(Site())
    spec = main_site(other.base, slow_seconds, huge_bytes)
    main.robots, main.pages = spec.robots, spec.pages
    # The home page also links to the broken-robots host.
    status, headers, body = main.pages["/"]
    main.pages["/"] = (status, headers, body.replace(b"</nav>", f'<a href="{broken.base}/">b</a></nav>'.encode()))
    sites.start()
    return sites, main, other, broken

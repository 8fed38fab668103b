"""A small local website for the crawl demo and tests, served on 127.0.0.1.

The pages are the demo sample's own multilingual articles (``corpora.sample_web``'s
generator, with its navigation, sidebars, footers, charsets and near-duplicates), spread
over the sample's site names, each site on its own port of 127.0.0.1, plus a portal page
that links to every site's home page. Every site has a robots.txt that keeps crawlers out
of its print versions (``/print/``) and search pages. Everything is generated from a seed,
so the same seed serves the same bytes.

    python -m corpora.sample_site          # serve until Ctrl-C, print the seed URL
"""

from __future__ import annotations

import argparse
import html
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from corpora import sample_web as sw

ROBOTS = "User-agent: *\nDisallow: /print/\nDisallow: /search\nDisallow: /newsletter\n"
Response = tuple[int, list[tuple[str, str]], bytes]


@dataclass
class _Host:
    name: str  # the sample's site host name, e.g. www.example-news.test
    site: str
    lang: str
    pages: dict[str, Response] = field(default_factory=dict)
    articles: list[str] = field(default_factory=list)  # paths of the article pages
    server: ThreadingHTTPServer | None = None
    port: int = 0


def _page(title: str, lang: str, body: str) -> bytes:
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"</head><body>{body}</body></html>").encode()


def _list(items: list[tuple[str, str]]) -> str:
    return "<ul>" + "".join(f'<li><a href="{html.escape(h)}">{html.escape(t)}</a></li>' for h, t in items) + "</ul>"


class SampleSite:
    """The generated sites, ready to serve; ``start()`` binds them to 127.0.0.1."""

    def __init__(self, seed: int = 0, articles: int = 48, near_duplicates: int = 6, address: str = "127.0.0.1") -> None:
        if articles < 1:
            raise ValueError("articles must be >= 1")
        self.address = address
        rng = random.Random(seed)
        gen = sw._Generator(rng)
        langs: list[str] = []
        for lang, count in sw._quotas(articles, sw._LANG_WEIGHTS):
            langs += [lang] * count
        rng.shuffle(langs)
        arts = [gen.article(lang) for lang in langs]
        dups = [gen.near_duplicate(src)[0] for src in rng.sample(arts, min(near_duplicates, len(arts)))]
        self.hosts: dict[str, _Host] = {}
        for art in arts + dups:
            host = self.hosts.get(art.host)
            if host is None:
                host = self.hosts[art.host] = _Host(art.host, art.site, art.lang)
            f = gen.article_fetch(art, "article")
            headers = [(k, v) for k, v in f.headers if k.lower() != "connection"]
            host.pages[art.path] = (200, headers, f.body)
            host.articles.append(art.path)
        self.articles = len(arts) + len(dups)
        for host in self.hosts.values():
            self._add_site_pages(host, [a for a in arts + dups if a.host == host.name])
        self.portal = _Host("portal", "Sample web directory", "en")

    def _add_site_pages(self, host: _Host, arts: list) -> None:
        ui = sw._UI[host.lang]
        listed = [t for h in sw._HOSTS[host.lang] if h[0] == host.name for t in h[3]]
        topics = sorted({a.topic for a in arts} | set(listed))
        home_items = [(a.path, a.title) for a in arts if not a.path.startswith(("/print/", "/amp/"))]
        sections = [(sw._section_href(ui, t), ui["sections"][t]) for t in topics]
        body = (f"<header><h1>{html.escape(host.site)}</h1><nav>{_list(sections)}</nav></header>"
                f"<main>{_list(home_items)}</main>"
                f'<footer>{_list([("/about/", ui["about"]), ("/contact/", ui["contact"])])}</footer>')
        host.pages["/"] = (200, [("Content-Type", "text/html; charset=utf-8")], _page(host.site, host.lang, body))
        for t in topics:
            items = [(a.path, a.title) for a in arts if a.topic == t]
            host.pages[sw._section_href(ui, t)] = (200, [("Content-Type", "text/html; charset=utf-8")],
                                                   _page(ui["sections"][t], host.lang, _list(items)))
        for path, label in (("/about/", ui["about"]), ("/contact/", ui["contact"]), ("/privacy/", ui["privacy"]),
                            ("/terms/", ui["terms"])):
            host.pages[path] = (200, [("Content-Type", "text/html; charset=utf-8")],
                                _page(label, host.lang, f"<h1>{html.escape(label)}</h1><p>{html.escape(host.site)}</p>"))

    # -- serving --------------------------------------------------------------------------
    def _serve(self, host: _Host) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = self.path.split("?", 1)[0]
                if path == "/robots.txt":
                    status, headers, body = 200, [("Content-Type", "text/plain")], ROBOTS.encode()
                elif host is site.portal and path == "/":
                    status, headers, body = site._portal_page()
                else:
                    status, headers, body = host.pages.get(path) or (
                        404, [("Content-Type", "text/html; charset=utf-8")],
                        _page("404", host.lang, "<h1>Not found</h1>"))
                self.send_response_only(status)  # the page's own Server header, not http.server's
                self.send_header("Date", self.date_time_string())
                if not any(k.lower() == "server" for k, _ in headers):
                    self.send_header("Server", "nginx")
                for k, v in headers:
                    if k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        server = ThreadingHTTPServer((self.address, 0), Handler)
        server.daemon_threads = True
        host.server, host.port = server, server.server_address[1]
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def _portal_page(self) -> Response:
        items = [(self.url(h.name, "/"), f"{h.site} ({h.lang})") for h in self.hosts.values()]
        body = "<h1>Sample web directory</h1><p>Sites in nine languages.</p>" + _list(items)
        return 200, [("Content-Type", "text/html; charset=utf-8")], _page("Sample web directory", "en", body)

    def start(self) -> SampleSite:
        for host in [self.portal, *self.hosts.values()]:
            self._serve(host)
        return self

    def stop(self) -> None:
        for host in [self.portal, *self.hosts.values()]:
            if host.server is not None:
                host.server.shutdown()
                host.server.server_close()
                host.server = None

    def __enter__(self) -> SampleSite:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def url(self, host: str, path: str = "/") -> str:
        h = self.portal if host == "portal" else self.hosts[host]
        return f"http://{self.address}:{h.port}{path}"

    @property
    def seed_url(self) -> str:
        """The portal: crawling it reaches every site (one round later)."""
        return self.url("portal", "/")

    @property
    def article_urls(self) -> list[str]:
        """Every article page (the print versions among them are disallowed by robots.txt)."""
        return [self.url(h.name, p) for h in self.hosts.values() for p in h.articles]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the sample website on 127.0.0.1 until Ctrl-C.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--articles", type=int, default=48)
    args = parser.parse_args(argv)
    with SampleSite(args.seed, args.articles) as site:
        print(f"serving {len(site.hosts)} sites, {site.articles} articles; seed URL: {site.seed_url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()

"""The pages of the demo web sample: texts from corpora/samples/web/*.json made into
multilingual article pages, near and exact duplicates, spam, non-HTML responses and
advice-forum pages, all drawn from one :class:`random.Random` so a seed fixes every byte.
:mod:`corpora.sample_web` writes them as WARC files; :mod:`corpora.sample_site` serves them."""

import dataclasses
import html
import json
import random
import struct
import unicodedata
import uuid
import zlib
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

# ---------------------------------------------------------------------------
# The texts the pages are made of live in corpora/samples/web/*.json (package data):
# languages.json (sentence banks, titles, slot values, dates, UI strings, hosts, language
# shares), boilerplate.json (server names, lorem ipsum, spam), forum.json (the
# advice-forum pages). This module is the generator.
# ---------------------------------------------------------------------------

_DATA_DIR = Path(__file__).resolve().parent / "samples" / "web"


def _load(name: str) -> dict:
    with open(_DATA_DIR / name, encoding="utf-8") as f:
        return json.load(f)


_LANGUAGES = _load("languages.json")
_SLOTS: dict[str, dict[str, list[str]]] = _LANGUAGES["slots"]
_BANK: dict[str, dict] = _LANGUAGES["bank"]
_MONTHS: dict[str, list[str]] = _LANGUAGES["months"]
_DATE_LINES: dict[str, tuple[str, str]] = {k: tuple(v) for k, v in _LANGUAGES["date_lines"].items()}
_UI: dict[str, dict] = _LANGUAGES["ui"]
# (host, site name, theme, topics) -- themes: 0 news site, 1 blog/recipes, 2 travel magazine.
_HOSTS: dict[str, list[tuple[str, str, int, list[str]]]] = {
    lang: [tuple(h) for h in hosts] for lang, hosts in _LANGUAGES["hosts"].items()}
# Share of the article pages per language (largest-remainder quotas).
_LANG_WEIGHTS: list[tuple[str, float]] = [tuple(w) for w in _LANGUAGES["lang_weights"]]
_ACCEPT_LANG: dict[str, str] = _LANGUAGES["accept_lang"]
_MAJOR = ("en", "de", "fr", "es")
_NO_SPACE = ("zh", "ja")

_BOILERPLATE = _load("boilerplate.json")
_SERVERS: list[str] = _BOILERPLATE["servers"]
_LOREM: list[str] = _BOILERPLATE["lorem"]
_SPAM_KEYWORDS: list[str] = _BOILERPLATE["spam_keywords"]
_SPAM_LINKS: list[str] = _BOILERPLATE["spam_links"]
_SPAM_CITIES: list[str] = _BOILERPLATE["spam_cities"]
_BULLETS: list[str] = _BOILERPLATE["bullets"]

_FORUM = _load("forum.json")
# (site, title, post sentences written for this title)
_FORUM_POSTS: list[tuple[str, str, list[str]]] = [tuple(p) for p in _FORUM["forum_posts"]]
_FORUM_SITES: dict[str, tuple[str, str, str]] = {k: tuple(v) for k, v in _FORUM["forum_sites"].items()}
_FORUM_USERS: list[str] = _FORUM["forum_users"]
_FORUM_COMMENTS: list[str] = _FORUM["forum_comments"]

_USER_AGENT = "CCBot/2.0 (https://commoncrawl.org/faq/)"
_WARC_BASE = datetime(2024, 3, 4, 0, 0, 0, tzinfo=UTC)
_WARC_SPAN_HOURS = 96  # the main files cover four days


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _slugify(text: str) -> str:
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    out = []
    dash = False
    for ch in norm:
        if ch.isalnum():
            out.append(ch)
            dash = False
        elif not dash:
            out.append("-")
            dash = True
    return "".join(out).strip("-")[:60].strip("-")


def _section_href(ui: dict, topic: str) -> str:
    return f"/{_slugify(ui['sections'][topic]) or topic}/"


def _ballast(rng: random.Random, kb: int, links: list[tuple[str, str]]) -> tuple[str, str, str]:
    """Inline CSS, inline JS and a mega-menu worth about ``kb`` KB: the markup weight of a real
    Common Crawl page (median around 50-100 KB of HTML for a few KB of text), for benchmarks."""
    budget = kb * 1024
    css, js, menu = [], [], []
    size = 0
    i = 0
    while size < budget:
        part = i % 3
        if part == 0:
            rule = (f".c{rng.getrandbits(24):06x} .item-{i}{{margin:{rng.randint(0, 24)}px {rng.randint(0, 24)}px;"
                    f"color:#{rng.getrandbits(24):06x};font-size:{rng.randint(10, 22)}px;display:flex}}")
            css.append(rule)
            size += len(rule)
        elif part == 1:
            stmt = (f"window.__cfg{i}={{id:{rng.getrandbits(32)},track:function(e){{return e&&e.target?"
                    f"'{rng.getrandbits(40):x}':null}},slots:[{rng.randint(1, 9)},{rng.randint(1, 9)}]}};")
            js.append(stmt)
            size += len(stmt)
        else:
            href, label = links[i % len(links)]
            item = f'<li class="mm-{i}"><a href="{href}?ref=mm{i}" data-track="{rng.getrandbits(32):x}">{_esc(label)}</a></li>'
            menu.append(item)
            size += len(item)
        i += 1
    return (f"<style>{''.join(css)}</style>", f"<script>{''.join(js)}</script>",
            f'<div class="mega-menu" hidden><ul>{"".join(menu)}</ul></div>')


def _record_id(rng: random.Random) -> str:
    return f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}>"


def _warc_date(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _http_date(dt: datetime) -> str:
    return format_datetime(dt, usegmt=True)


def _date_line(lang: str, d: date, author: str, updated: bool = False) -> str:
    months = _MONTHS.get(lang)
    template = _DATE_LINES[lang][1 if updated else 0]
    return template.format(d=d.day, m=d.month, y=d.year, author=author,
                           month=months[d.month - 1] if months else "")


def _quotas(total: int, weights: list[tuple[str, float]]) -> list[tuple[str, int]]:
    raw = [(k, w * total) for k, w in weights]
    counts = {k: int(v) for k, v in raw}
    rest = total - sum(counts.values())
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i][1] - int(raw[i][1])), i))
    for i in order[:rest]:
        counts[raw[i][0]] += 1
    return [(k, counts[k]) for k, _ in weights]


def _png(rng: random.Random, width: int, height: int) -> bytes:
    """A small valid PNG of random RGB noise."""
    raw = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _pdf(text: str) -> bytes:
    """A minimal one-page PDF showing a line of text."""
    stream = (f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET").encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>"),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# ---------------------------------------------------------------------------
# Page model
# ---------------------------------------------------------------------------

@dataclasses.dataclass
class _Article:
    lang: str
    host: str
    site: str
    theme: int
    topic: str
    title: str
    author: str
    published: date
    paragraphs: list[list[str]]
    spare: list[str]
    path: str
    charset: str  # header | header_only | meta | meta_equiv | none | legacy
    encoding: str = "utf-8"
    updated: date | None = None
    canonical: str | None = None

    @property
    def url(self) -> str:
        return "https://" + self.host + self.path


@dataclasses.dataclass
class _Fetch:
    url: str
    kind: str  # article | near_dup | exact_dup | spam | non_html | non_200
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    payload_type: str
    lang: str = ""
    charset: str = ""
    request: bool = False


class _Generator:
    """Builds the pages; all randomness comes from one seeded ``random.Random``."""

    def __init__(self, rng: random.Random, page_kb: int = 0) -> None:
        self.rng = rng
        self.page_kb = page_kb
        self.urls: set[str] = set()
        self.by_host: dict[str, list[_Article]] = {}
        self.servers: dict[str, str] = {}
        self.ips: dict[str, str] = {}

    # -- hosts ---------------------------------------------------------------
    def server(self, host: str) -> str:
        if host not in self.servers:
            self.servers[host] = self.rng.choice(_SERVERS)
        return self.servers[host]

    def ip(self, host: str) -> str:
        if host not in self.ips:
            net = self.rng.choice(["192.0.2", "198.51.100", "203.0.113"])
            self.ips[host] = f"{net}.{self.rng.randint(1, 254)}"
        return self.ips[host]

    def unique_path(self, host: str, make) -> str:
        """``make(suffix)`` builds a path; retry with -2, -3 ... until the URL is new."""
        n = 1
        while True:
            path = make("" if n == 1 else f"-{n}")
            url = "https://" + host + path
            if url not in self.urls:
                self.urls.add(url)
                return path
            n += 1

    def claim(self, url: str) -> str:
        n = 1
        base = url
        while url in self.urls:
            n += 1
            url = base + ("&" if "?" in base else "?") + f"v={n}"
        self.urls.add(url)
        return url

    # -- articles --------------------------------------------------------------
    def article(self, lang: str, host_info: tuple[str, str, int, list[str]] | None = None) -> _Article:
        rng = self.rng
        bank = _BANK[lang]
        slots = _SLOTS[lang]
        host, site, theme, topics = host_info or rng.choice(_HOSTS[lang])
        topic = rng.choice(topics)
        second = rng.choice([t for t in topics if t != topic] or topics)
        ctx = {"town": rng.choice(slots["town"]), "name": rng.choice(slots["name"]),
               "day": rng.choice(slots["day"]), "year": str(rng.randint(1862, 1958))}

        def fill(template: str) -> str:
            return template.format(num=rng.randint(2, 9), big=rng.randint(20, 400), **ctx)

        primary = list(bank["topics"][topic])
        secondary = list(bank["topics"][second])
        generic = list(bank["generic"])
        rng.shuffle(primary)
        rng.shuffle(secondary)
        major = lang in _MAJOR
        n_par = rng.randint(3, 4) if major else 3
        sizes = [rng.randint(3, 5) if major else rng.randint(3, 4) for _ in range(n_par)]
        total = sum(sizes)
        n_gen = rng.randint(1, 2)
        n_prim = min(len(primary) - 1, max(3, round(total * 0.6)))
        n_sec = max(1, min(len(secondary) - 1, total - n_prim - n_gen))
        gen_pick = rng.sample(generic, n_gen)
        seq = primary[:n_prim] + secondary[:n_sec]
        intro = [g for g in gen_pick if g == generic[0]]
        outro = [g for g in gen_pick if g != generic[0]]
        seq = intro + seq + outro
        filled = [fill(s) for s in seq]
        paragraphs: list[list[str]] = []
        pos = 0
        for size in sizes:
            if pos >= len(filled):
                break
            paragraphs.append(filled[pos:pos + size])
            pos += size
        if pos < len(filled):
            paragraphs[-1].extend(filled[pos:])
        if len(paragraphs) > 1 and len(paragraphs[-1]) < 2:
            paragraphs[-2].extend(paragraphs.pop())
        spare = [fill(s) for s in primary[n_prim:] + secondary[n_sec:]]

        title = rng.choice(bank["titles"][topic]).format(**ctx)
        published = date(2024, 1, 2) + timedelta(days=rng.randint(0, 58))
        section = _slugify(_UI[lang]["sections"][topic]) or topic
        slug = _slugify(title) if lang not in _NO_SPACE else ""
        num_id = rng.randint(10000, 99999)

        def make(suffix: str) -> str:
            if lang in _NO_SPACE:
                return f"/{section}/{published:%Y%m%d}/{num_id}{suffix}.html"
            if theme == 0:
                return f"/{section}/{published:%Y/%m}/{slug}{suffix}"
            if theme == 1:
                return f"/{slug}{suffix}/"
            return f"/{published:%Y/%m/%d}/{slug}{suffix}.html"

        path = self.unique_path(host, make)
        r = rng.random()
        if lang in ("de", "fr") and r < 0.22:
            charset = "legacy"
        else:
            r = rng.random()
            charset = ("header" if r < 0.52 else "header_only" if r < 0.74 else
                       "meta" if r < 0.85 else "meta_equiv" if r < 0.93 else "none")
        encoding = rng.choice(["iso-8859-1", "windows-1252"]) if charset == "legacy" else "utf-8"
        art = _Article(lang=lang, host=host, site=site, theme=theme, topic=topic, title=title,
                       author=rng.choice(slots["name"]), published=published, paragraphs=paragraphs,
                       spare=spare, path=path, charset=charset, encoding=encoding)
        self.by_host.setdefault(host, []).append(art)
        return art

    def near_duplicate(self, src: _Article) -> tuple[_Article, list[str]]:
        """Copy of ``src`` at another URL with a small edit; returns the copy and the edits."""
        rng = self.rng
        dup = dataclasses.replace(src, paragraphs=[list(p) for p in src.paragraphs], spare=list(src.spare))
        edits = [rng.choice(["date", "add", "remove"])]
        if edits[0] != "date" and rng.random() < 0.3:
            edits.append("date")
        if "date" in edits:
            dup.updated = src.published + timedelta(days=rng.randint(1, 9))
        if "add" in edits and dup.spare:
            para = rng.choice(dup.paragraphs)
            para.insert(rng.randint(1, len(para)), dup.spare.pop(0))
        elif "add" in edits:
            edits.remove("add")
        if "remove" in edits:
            candidates = [p for p in dup.paragraphs if len(p) > 3] or [p for p in dup.paragraphs if len(p) > 2]
            if candidates:
                para = rng.choice(candidates)
                del para[rng.randrange(len(para))]
            else:
                edits.remove("remove")
        if not edits:
            dup.updated = src.published + timedelta(days=rng.randint(1, 9))
            edits = ["date"]
        variant = rng.choice(["print", "amp", "syndicated", "republished"])
        others = [h for h in _HOSTS[src.lang] if h[0] != src.host]
        if variant == "syndicated" and others:
            dup.host, dup.site, dup.theme, _ = rng.choice(others)
            dup.canonical = src.url
            base = src.path.rstrip("/").rsplit("/", 1)[-1]
            dup.path = self.unique_path(dup.host, lambda s: f"/partner/{base}{s}")
        elif variant in ("print", "amp", "syndicated"):
            prefix = "/print" if variant != "amp" else "/amp"
            dup.canonical = src.url
            dup.path = self.unique_path(src.host, lambda s: prefix + src.path + (s and "?p" + s[1:]))
        else:
            stem = src.path.rstrip("/")
            tail = "/" if src.path.endswith("/") else ""
            if stem.endswith(".html"):
                stem, tail = stem[:-5], ".html"
            dup.path = self.unique_path(src.host, lambda s: stem + "-update" + s + tail)
        return dup, edits

    # -- rendering ------------------------------------------------------------
    def render(self, art: _Article) -> tuple[bytes, str]:
        """HTML body bytes and the HTTP Content-Type header value."""
        rng = self.rng
        ui = _UI[art.lang]
        joiner = "" if art.lang in _NO_SPACE else " "
        sections = [t for t in _HOSTS[art.lang] if t[0] == art.host]
        host_topics = sections[0][3] if sections else [art.topic]
        nav_items = [("/", ui["home"])] + [
            (_section_href(ui, t), ui["sections"][t]) for t in host_topics
        ] + [("/about/", ui["about"]), ("/contact/", ui["contact"])]
        seen = {art.title}
        others = []
        for a in self.by_host.get(art.host, []):
            if a.title not in seen:
                seen.add(a.title)
                others.append(a)
        related = rng.sample(others, min(len(others), rng.randint(3, 5)))
        byline = _date_line(art.lang, art.published, art.author)
        if art.updated:
            byline += " · " + _date_line(art.lang, art.updated, art.author, updated=True)
        section_name = ui["sections"][art.topic]
        section_href = _section_href(ui, art.topic)
        description = art.paragraphs[0][0] if art.paragraphs else art.title
        if len(description) > 155:
            description = description[:152].rsplit(" ", 1)[0] + "..."

        head = ["<!DOCTYPE html>", f'<html lang="{art.lang}">', "<head>"]
        if art.charset in ("header", "meta"):
            head.append('<meta charset="utf-8">')
        elif art.charset == "meta_equiv":
            head.append('<meta http-equiv="Content-Type" content="text/html; charset=utf-8">')
        elif art.charset == "legacy" and rng.random() < 0.5:
            head.append(f'<meta http-equiv="Content-Type" content="text/html; charset={art.encoding}">')
        ld = json.dumps({"@context": "https://schema.org", "@type": "Article", "headline": art.title,
                         "datePublished": art.published.isoformat(), "author": {"@type": "Person", "name": art.author}})
        head += [
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_esc(art.title)} | {_esc(art.site)}</title>",
            f'<meta name="description" content="{_attr(description)}">',
            f'<link rel="canonical" href="{_attr(art.canonical or art.url)}">',
            f'<link rel="stylesheet" href="/assets/css/main.css?v={rng.randint(100, 999)}">',
            f'<script type="application/ld+json">{ld}</script>',
            ("<script>window.dataLayer = window.dataLayer || [];"
            " function gtag(){dataLayer.push(arguments);} gtag('js', new Date());</script>"),
            "</head>",
        ]
        nav = ('<nav class="main-nav" aria-label="Main"><ul>'
               + "".join(f'<li><a href="{h}">{_esc(t)}</a></li>' for h, t in nav_items)
               + "</ul></nav>")
        search = ('<form class="search" action="/search" method="get"><input type="search" name="q" '
                  f'placeholder="{_attr(ui["search"])}"><button type="submit">{_esc(ui["search"])}</button></form>')
        paras = "\n".join(f"<p>{_esc(joiner.join(p))}</p>" for p in art.paragraphs)
        url = _attr(art.url)
        share = (f'<div class="share"><span>{_esc(ui["share"])}</span> '
                 f'<a href="https://facebook.example/sharer?u={url}">Facebook</a> '
                 f'<a href="https://x.example/intent/post?url={url}">X</a> '
                 f'<a href="mailto:?subject={_attr(art.title)}">E-Mail</a></div>')
        related_html = (f'<h2>{_esc(ui["related"])}</h2><ul class="related">'
                        + "".join(f'<li><a href="{_attr(a.path)}">{_esc(a.title)}</a></li>' for a in related)
                        + "</ul>")
        newsletter = (f'<div class="newsletter"><p>{_esc(ui["newsletter"])}</p>'
                      '<form action="/newsletter" method="post"><input type="email" name="email">'
                      '<button type="submit">OK</button></form></div>')
        footer_links = (f'<ul class="footer-links"><li><a href="/privacy/">{_esc(ui["privacy"])}</a></li>'
                        f'<li><a href="/terms/">{_esc(ui["terms"])}</a></li>'
                        f'<li><a href="/contact/">{_esc(ui["contact"])}</a></li></ul>')
        copyright_ = f'<p class="copyright">&copy; 2024 {_esc(art.site)}. {_esc(ui["rights"])}</p>'
        cookie = (f'<div class="cookie-banner" id="cookie-consent"><p>{_esc(ui["cookie"])}</p>'
                  f'<button type="button">{_esc(ui["accept"])}</button></div>')
        comments = _esc(ui["comments"].format(n=rng.randint(0, 48)))

        if art.theme == 0:
            body = [
                '<body class="news article-page">', cookie,
                f'<header class="site-header"><a class="logo" href="/">{_esc(art.site)}</a>{search}</header>',
                nav,
                (f'<div class="breadcrumbs"><a href="/">{_esc(ui["home"])}</a> &rsaquo; '
                 f'<a href="{section_href}">{_esc(section_name)}</a></div>'),
                '<main id="main">', '<article class="story">', f"<h1>{_esc(art.title)}</h1>",
                f'<p class="byline">{_esc(byline)}</p>', paras, share, "</article>", "</main>",
                f'<aside class="sidebar">{related_html}{newsletter}</aside>',
                f'<footer class="site-footer">{footer_links}{copyright_}</footer>',
            ]
        elif art.theme == 1:
            body = [
                '<body class="post-template-default single">', '<div class="wrapper">',
                f'<header id="masthead" class="site-header"><div class="site-title"><a href="/">{_esc(art.site)}</a></div>{search}</header>',
                nav.replace('class="main-nav"', 'class="menu primary-menu"'),
                '<div class="container">', '<main class="content" id="content">',
                f'<div class="post"><h1 class="entry-title">{_esc(art.title)}</h1>',
                f'<div class="entry-meta">{_esc(byline)} &middot; <a href="#comments">{comments}</a></div>',
                '<div class="entry-content">', paras, "</div>", share, "</div>", "</main>",
                f'<div class="sidebar widget-area" role="complementary">{related_html}<div class="widget">{newsletter}</div></div>',
                "</div>",
                f'<footer class="site-footer">{copyright_}{footer_links}{cookie}</footer>',
                "</div>",
            ]
        else:
            body = [
                '<body class="magazine">',
                f'<header class="top"><div class="brand"><a href="/">{_esc(art.site)}</a></div>{nav}</header>',
                "<main>", '<article class="post">',
                f'<header class="post-header"><h1>{_esc(art.title)}</h1><time datetime="{art.published.isoformat()}">{_esc(byline)}</time></header>',
                '<section class="post-body">', paras, "</section>",
                f'<footer class="post-footer">{share}</footer>', "</article>",
                f'<section class="comments" id="comments"><h3>{comments}</h3></section>', "</main>",
                f'<aside class="sidebar">{related_html}{newsletter}{search}</aside>',
                f'<footer class="site-footer">{copyright_}{footer_links}</footer>', cookie,
            ]
        body += ['<script src="/assets/js/app.js" defer></script>', "</body>", "</html>", ""]
        if self.page_kb:
            style, script, menu = _ballast(rng, self.page_kb, nav_items)
            head.insert(len(head) - 1, style + script)
            body.insert(1, menu)
        text = "\n".join(head + body)
        if art.charset == "legacy":
            data = text.encode(art.encoding, errors="xmlcharrefreplace")
            label = "ISO-8859-1" if art.encoding == "iso-8859-1" else "windows-1252"
            return data, f"text/html; charset={label}"
        data = text.encode("utf-8")
        if art.charset in ("header", "header_only"):
            return data, rng.choice(["text/html; charset=utf-8", "text/html; charset=UTF-8",
                                     "text/html;charset=utf-8"])
        return data, "text/html"

    def html_headers(self, host: str, ctype: str, body: bytes, modified: date | None) -> list[tuple[str, str]]:
        rng = self.rng
        headers = [("Server", self.server(host)), ("Content-Type", ctype), ("Content-Length", str(len(body)))]
        if modified is not None:
            lm = datetime(modified.year, modified.month, modified.day, rng.randint(6, 20), rng.randint(0, 59),
                          tzinfo=UTC)
            headers.append(("Last-Modified", _http_date(lm)))
        headers.append(("Cache-Control", rng.choice(["max-age=300", "public, max-age=600", "no-cache"])))
        if self.servers[host].startswith("Apache") and rng.random() < 0.5:
            headers.append(("X-Powered-By", f"PHP/8.2.{rng.randint(1, 15)}"))
        if rng.random() < 0.3:
            headers.append(("Set-Cookie", f"sid={rng.getrandbits(128):032x}; Path=/; HttpOnly; SameSite=Lax"))
        headers += [("Vary", "Accept-Encoding"), ("Connection", "close")]
        return headers

    def article_fetch(self, art: _Article, kind: str) -> _Fetch:
        body, ctype = self.render(art)
        headers = self.html_headers(art.host, ctype, body, art.updated or art.published)
        return _Fetch(url=art.url, kind=kind, status="200 OK", headers=headers, body=body,
                      payload_type="text/html", lang=art.lang, charset=art.charset,
                      request=self.rng.random() < 0.6)

    # -- spam / low quality ---------------------------------------------------
    _SPAM_KINDS: tuple[str, ...] = ("keyword_stuffing", "repeated_lines", "very_short", "link_list", "lorem_ipsum",
                   "bullet_lines", "js_required")

    def spam(self, kind: str) -> _Fetch:
        rng = self.rng
        lang = "en"
        style = "<style>body{font-family:Arial;}</style>"
        if kind == "keyword_stuffing":
            host = "cheap-watches-online.test"
            title = "Cheap Watches | Replica Watches | Luxury Watches Sale | Best Price"
            paras = []
            for _ in range(rng.randint(3, 5)):
                words = [rng.choice(_SPAM_KEYWORDS) for _ in range(rng.randint(25, 45))]
                paras.append(f"<p>{', '.join(words)}</p>")
            inner = ("<h1>Cheap Watches Cheap Watches Cheap Watches</h1>\n" + "\n".join(paras)
                     + '\n<p><a href="/buy">Buy cheap watches now</a></p>')
            meta = f'<meta name="keywords" content="{", ".join(_SPAM_KEYWORDS)}">'
            path_hint = "cheap-watches"
        elif kind == "repeated_lines":
            host = rng.choice(["best-deals-4u.test", "uhren-guenstig.example.net"])
            line = "Buy cheap watches now!!!" if host.startswith("best") else "Jetzt Uhren günstig kaufen!!!"
            lang = "en" if host.startswith("best") else "de"
            title = line
            inner = "\n".join(f"<p>{_esc(line)}</p>" for _ in range(rng.randint(30, 60)))
            meta = ""
            path_hint = "deals"
        elif kind == "very_short":
            host = rng.choice(["my-homepage.example.net", "under-construction.test"])
            text = rng.choice(["Coming soon.", "Under construction", "Welcome to my homepage!", "Hello world"])
            title = text
            inner = f"<p>{_esc(text)}</p>"
            meta = ""
            path_hint = "index"
        elif kind == "link_list":
            host = "seo-links-directory.test"
            title = "Web Directory - Best Links - Submit Your Site"
            items = []
            for _ in range(rng.randint(40, 70)):
                label = rng.choice(_SPAM_LINKS).format(c=rng.choice(_SPAM_CITIES))
                items.append(f'<li><a href="/go/{rng.randint(1000, 99999)}">{_esc(label)}</a></li>')
            inner = ("<h1>Web Directory</h1>\n<p>Categories:</p>\n<ul>\n" + "\n".join(items) + "\n</ul>\n"
                     + "<p>" + " | ".join(f'<a href="/page/{i}">{i}</a>' for i in range(1, 21)) + "</p>")
            meta = ""
            path_hint = "directory"
        elif kind == "lorem_ipsum":
            host = rng.choice(["lorem-shop.test", "new-site.example.com"])
            title = "Sample Page - Just another WordPress site"
            paras = []
            for _ in range(rng.randint(3, 5)):
                paras.append(f"<p>{' '.join(rng.sample(_LOREM, rng.randint(3, 5)))}</p>")
            inner = "<h1>Sample Page</h1>\n" + "\n".join(paras)
            meta = ""
            path_hint = "sample-page"
        elif kind == "bullet_lines":
            host = "mega-store-offers.test"
            title = "Special Offers"
            picks = rng.sample(_BULLETS, rng.randint(10, 16))
            if rng.random() < 0.5:
                inner = "<h1>Special Offers</h1>\n<ul>\n" + "\n".join(f"<li>{_esc(b)}</li>" for b in picks) + "\n</ul>"
            else:
                mark = rng.choice(["•", "-", "*", "✔"])
                inner = ("<h1>Special Offers</h1>\n<div class=\"features\">\n"
                         + "\n".join(f"{mark} {_esc(b)}<br>" for b in picks) + "\n</div>")
            meta = ""
            path_hint = "offers"
        else:  # js_required
            host = rng.choice(["app.example-spa.test", "dashboard.example.net"])
            title = "Loading..."
            inner = ('<div id="root"></div>\n<noscript>You need to enable JavaScript to run this app.</noscript>\n'
                     "<p>JavaScript is required to view this page. Please enable JavaScript in your browser "
                     "settings and reload the page.</p>\n"
                     '<script>!function(e){var t={};function n(r){if(t[r])return t[r].exports;'
                     "var o=t[r]={i:r,l:!1,exports:{}};return e[r].call(o.exports,o,o.exports,n),o.l=!0,o.exports}"
                     "n(0)}([function(e,t){console.log('app')}]);</script>")
            meta = ""
            path_hint = "app"
        meta_line = meta + "\n" if meta else ""
        page = (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
                f"<title>{_esc(title)}</title>\n{meta_line}{style}\n</head>\n<body>\n{inner}\n</body>\n</html>\n")
        body = page.encode("utf-8")
        path = self.unique_path(host, lambda s: f"/{path_hint}{s}.html" if path_hint != "index" or s else "/")
        headers = self.html_headers(host, "text/html; charset=utf-8", body, None)
        return _Fetch(url="https://" + host + path, kind="spam", status="200 OK", headers=headers, body=body,
                      payload_type="text/html", lang=lang, charset="header",
                      request=rng.random() < 0.6)

    # -- non-HTML and non-200 --------------------------------------------------
    def misc(self) -> list[_Fetch]:
        rng = self.rng
        out: list[_Fetch] = []
        hosts = ["www.example-news.test", "recipes.example.org", "kochen.example.de"]
        for i, host in enumerate(hosts):
            img = _png(rng, rng.randint(8, 24), rng.randint(8, 24))
            path = self.unique_path(host, lambda s, i=i: f"/images/photo-{rng.randint(100, 999) + i}{s}.png")
            headers = [("Server", self.server(host)), ("Content-Type", "image/png"), ("Content-Length", str(len(img))),
                       ("Accept-Ranges", "bytes"), ("Cache-Control", "public, max-age=86400"), ("Connection", "close")]
            out.append(_Fetch("https://" + host + path, "non_html", "200 OK", headers, img, "image/png",
                              request=rng.random() < 0.5))
        pdf = _pdf("Example News Annual Report 2023")
        host = "www.example-news.test"
        out.append(_Fetch(self.claim(f"https://{host}/files/annual-report-2023.pdf"), "non_html", "200 OK",
                          [("Server", self.server(host)), ("Content-Type", "application/pdf"),
                           ("Content-Length", str(len(pdf))), ("Accept-Ranges", "bytes"), ("Connection", "close")],
                          pdf, "application/pdf", request=True))
        robots = ("User-agent: *\nDisallow: /admin/\nDisallow: /search\n\nUser-agent: BadBot\nDisallow: /\n\n"
                  f"Sitemap: https://{host}/sitemap.xml\n").encode()
        out.append(_Fetch(self.claim(f"https://{host}/robots.txt"), "non_html", "200 OK",
                          [("Server", self.server(host)), ("Content-Type", "text/plain"),
                           ("Content-Length", str(len(robots))), ("Connection", "close")],
                          robots, "text/plain", request=True))
        art = self.article("en", _HOSTS["en"][0])
        self.by_host[art.host].remove(art)
        self.urls.discard(art.url)
        text = (art.title + "\n\n" + "\n\n".join(" ".join(p) for p in art.paragraphs) + "\n").encode("utf-8")
        out.append(_Fetch(self.claim(f"https://{host}/press/statement-2024-03.txt"), "non_html", "200 OK",
                          [("Server", self.server(host)), ("Content-Type", "text/plain; charset=utf-8"),
                           ("Content-Length", str(len(text))), ("Connection", "close")],
                          text, "text/plain", lang="en", request=False))
        # 404 with the site's usual boilerplate around a short message.
        ui = _UI["en"]
        page404 = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<title>Page not found | Example News</title>\n</head>\n<body>\n"
                   "<header class=\"site-header\"><a class=\"logo\" href=\"/\">Example News</a></header>\n"
                   "<nav class=\"main-nav\"><ul><li><a href=\"/\">Home</a></li><li><a href=\"/local-news/\">Local news</a>"
                   "</li><li><a href=\"/science/\">Science</a></li></ul></nav>\n<main id=\"main\">\n"
                   "<h1>Page not found</h1>\n<p>Sorry, the page you are looking for may have been moved or deleted.</p>\n"
                   "<p><a href=\"/\">Go back to the home page</a></p>\n</main>\n"
                   "<footer class=\"site-footer\"><p class=\"copyright\">&copy; 2024 Example News. "
                   + ui["rights"] + "</p></footer>\n</body>\n</html>\n").encode("utf-8")
        out.append(_Fetch(self.claim(f"https://{host}/2019/05/old-article-removed.html"), "non_200",
                          "404 Not Found",
                          [("Server", self.server(host)), ("Content-Type", "text/html; charset=utf-8"),
                           ("Content-Length", str(len(page404))), ("Cache-Control", "no-cache"), ("Connection", "close")],
                          page404, "text/html", lang="en", request=True))
        moved = (b"<html>\r\n<head><title>301 Moved Permanently</title></head>\r\n<body>\r\n"
                 b"<center><h1>301 Moved Permanently</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
        out.append(_Fetch(self.claim("http://example-news.test/"), "non_200", "301 Moved Permanently",
                          [("Server", "nginx"), ("Content-Type", "text/html"), ("Content-Length", str(len(moved))),
                           ("Location", "https://www.example-news.test/"), ("Connection", "close")],
                          moved, "text/html", request=True))
        return out



# ---------------------------------------------------------------------------
# Advice-forum pages (English, first-person posts) for the SOCIAL-CHEM demo.
# Written only when write_sample(..., forum_pages=N) asks for them, into their own
# file with their own random generator, so the rest of the sample is unchanged.
# ---------------------------------------------------------------------------

def _forum_fetches(rng: random.Random, gen: "_Generator", n: int) -> list[_Fetch]:
    """``n`` advice-forum and confession pages (cycling through the posts of forum.json)."""
    fetches = []
    for i in range(n):
        site_key, title, sentences = _FORUM_POSTS[i % len(_FORUM_POSTS)]
        host, site, prefix = _FORUM_SITES[site_key]
        round_ = i // len(_FORUM_POSTS)
        post_id = f"{rng.getrandbits(30):x}"
        path = f"{prefix}{post_id}/{_slugify(title)[:60]}/" + (f"?page={round_ + 1}" if round_ else "")
        comments = rng.sample(_FORUM_COMMENTS, 2)
        user = rng.choice(_FORUM_USERS)
        body_html = "\n".join(f"<p>{_esc(s)}</p>" for s in sentences)
        comments_html = "\n".join(f'<div class="comment"><p>{_esc(c)}</p></div>' for c in comments)
        page = "\n".join([
            "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
            f"<title>{_esc(title)} : {_esc(site)}</title>", "</head>", "<body>",
            f'<header class="site-header"><a href="/">{_esc(site)}</a> <a href="/new/">New posts</a></header>',
            '<main id="main"><article class="post">', f"<h1>{_esc(title)}</h1>",
            f'<p class="byline">Posted by {_esc(user)}</p>', '<div class="post-body">', body_html, "</div>",
            "</article>", '<section class="comments"><h2>Top comments</h2>', comments_html, "</section></main>",
            f'<footer class="site-footer"><p>&copy; 2024 {_esc(site)}</p></footer>', "</body>", "</html>", "",
        ])
        body = page.encode("utf-8")
        headers = gen.html_headers(host, "text/html; charset=utf-8", body, date(2024, 2, 1) + timedelta(days=i % 28))
        fetches.append(_Fetch(url=gen.claim(f"https://{host}{path}"), kind="forum", status="200 OK", headers=headers,
                              body=body, payload_type="text/html", lang="en", charset="header",
                              request=rng.random() < 0.5))
    return fetches

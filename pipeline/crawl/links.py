"""Links and robots directives of an HTML page: ``<a href>``/``<area href>`` resolved against
``<base href>``, ``rel=nofollow`` links left out, and ``<meta name="robots">`` (or our own
agent's meta tag) and the ``X-Robots-Tag`` header read for noindex/nofollow."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

import lxml.etree
import lxml.html

from pipeline.charset import UndecodableError, decode_html

MAX_LINKS_PER_PAGE = 5000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


@dataclass
class PageLinks:
    """What a page says about crawling it: its links and its robots directives."""

    links: list[str] = field(default_factory=list)  # absolute, in page order, duplicates removed
    nofollow_links: int = 0  # links left out for rel=nofollow
    noindex: bool = False
    nofollow: bool = False
    charset: str = ""
    error: str = ""  # why the page could not be parsed (no links then)


def _directives(value: str) -> set[str]:
    return {part.strip().lower() for part in value.replace(";", ",").split(",") if part.strip()}


def robots_header_directives(values: list[str], agent: str) -> set[str]:
    """Directives of ``X-Robots-Tag`` headers that apply to us (unprefixed or ``agent:``-prefixed)."""
    found: set[str] = set()
    for value in values:
        head, sep, rest = value.partition(":")
        if sep and " " not in head.strip() and head.strip().lower() not in ("unavailable_after",):
            if head.strip().lower() == agent.lower():
                found |= _directives(rest)
            continue
        found |= _directives(value)
    return found


def extract_links(body: bytes, page_url: str, header_charset: str | None = None, agent: str = "",
                  max_links: int = MAX_LINKS_PER_PAGE) -> PageLinks:
    """Parse an HTML page; never raises on bad markup (the error is reported instead)."""
    result = PageLinks()
    try:
        text, charset, _ = decode_html(body, header_charset)
    except UndecodableError as exc:
        result.error = f"undecodable: {exc}"
        return result
    result.charset = charset
    text = _XML_DECL.sub("", _CONTROL.sub("", text), count=1)  # lxml refuses both in a str
    if not text.strip():
        return result
    try:
        root = lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError) as exc:
        result.error = f"unparseable: {exc}"
        return result
    names = {"robots", agent.lower()} if agent else {"robots"}
    for meta in root.iter("meta"):
        if (meta.get("name") or "").strip().lower() in names:
            d = _directives(meta.get("content") or "")
            if "none" in d:
                d |= {"noindex", "nofollow"}
            result.noindex |= "noindex" in d
            result.nofollow |= "nofollow" in d
    base = page_url
    for b in root.iter("base"):
        href = (b.get("href") or "").strip()
        if href:
            base = urljoin(page_url, href)
            break
    seen: set[str] = set()
    for el in root.iter("a", "area"):
        href = (el.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        if "nofollow" in (el.get("rel") or "").lower().split():
            result.nofollow_links += 1
            continue
        try:
            absolute = urljoin(base, href)
        except ValueError:
            continue  # e.g. an invalid IPv6 literal: such a link cannot be followed
        absolute = absolute.split("#", 1)[0]
        if absolute and absolute not in seen:
            seen.add(absolute)
            result.links.append(absolute)
            if len(result.links) >= max_links:
                break
    return result

"""URL blocklist filter (the first, cheapest step of FineWeb-style pipelines).

``UrlFilter`` (name ``url``) drops a document whose URL

- has a host equal to a blocked domain or a subdomain of one (``example.com`` blocks
  ``example.com`` and ``a.b.example.com``, not ``notexample.com``): reason ``blocked_domain``;
- contains a blocked substring anywhere (case-insensitive): reason ``blocked_substring``.

Entries come from files the user supplies (``domains_file``, ``substrings_file``: one entry
per line, blank lines and ``#`` comments ignored), loaded in ``setup()`` (or on first use),
and/or inline lists (``domains``, ``substrings``). Domain entries are lower-cased and may be
written as ``*.example.com``, ``.example.com`` or a URL (its host is used); non-ASCII hosts
are compared in their IDNA (punycode) form. Documents without a URL are kept. The signal
``match`` names the entry that matched.

Substrings are matched with one regex built from a trie of the entries, so the cost per URL
grows with the URL's length, not with the size of the list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from pipeline.filters.base import DocumentFilter, Verdict, drop, keep
from pipeline.filters.text_stats import check_strings, trie_pattern
from pipeline.records import Document


def read_entries(path: str) -> list[str]:
    """Entries of a list file: one per line, ``#`` starts a comment, blank lines skipped."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            entry = line.split(" #", 1)[0].split("\t#", 1)[0].strip()
            if entry and not entry.startswith("#"):
                out.append(entry)
    return out


def _ascii_host(host: str) -> str:
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def url_host(url: str) -> str | None:
    """Lower-cased host of a URL (scheme optional), without port or trailing dot."""
    try:
        host = urlsplit(url if "://" in url else "//" + url.lstrip("/")).hostname
    except ValueError:
        return None
    if not host:
        return None
    return _ascii_host(host.rstrip("."))


def normalize_domain(entry: str) -> str:
    entry = entry.strip().lower()
    if "://" in entry:
        entry = urlsplit(entry).hostname or ""
    else:
        entry = entry.split("/", 1)[0]
        if entry.count(":") == 1:
            entry = entry.split(":", 1)[0]  # port
    return _ascii_host(entry.lstrip("*").strip("."))


def trie_regex(words: list[str]) -> re.Pattern[str] | None:
    """A regex matching any of ``words`` (already lower-cased); a match is the shortest entry."""
    pattern = trie_pattern(words, shortest=True)
    return re.compile(pattern) if pattern is not None else None


@dataclass
class UrlFilter(DocumentFilter):
    """Drop documents whose URL is on a domain blocklist or contains a blocked substring."""

    name: ClassVar[str] = "url"

    domains_file: str | None = None
    substrings_file: str | None = None
    domains: tuple[str, ...] = ()
    substrings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("domains_file", "substrings_file"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{self.name}.{name} must be a file path, got {value!r}")
        self.domains = check_strings(self.name, "domains", self.domains)
        self.substrings = check_strings(self.name, "substrings", self.substrings)
        self._blocked_domains: frozenset[str] | None = None
        self._substring_re: re.Pattern[str] | None = None

    def setup(self) -> None:
        domains = list(self.domains)
        substrings = list(self.substrings)
        if self.domains_file:
            domains += read_entries(self.domains_file)
        if self.substrings_file:
            substrings += read_entries(self.substrings_file)
        self._blocked_domains = frozenset(d for d in map(normalize_domain, domains) if d)
        self._substring_re = trie_regex([s.lower() for s in substrings])

    def evaluate(self, doc: Document) -> Verdict:
        if self._blocked_domains is None:
            self.setup()
        assert self._blocked_domains is not None
        url = doc.url
        if not url:
            return keep()
        host = url_host(url)
        if host and self._blocked_domains:
            labels = host.split(".")
            for i in range(len(labels)):
                suffix = ".".join(labels[i:])
                if suffix in self._blocked_domains:
                    return drop("blocked_domain", {"match": suffix})
        if self._substring_re is not None:
            m = self._substring_re.search(url.lower())
            if m:
                return drop("blocked_substring", {"match": m.group(0)})
        return keep()

"""URL normalization, crawl scope and trap rules: which discovered URLs are worth a request.

Every rule returns a short reason string when it rejects a URL, so the crawl log and
``stats.json`` can say why a URL was not fetched.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
SCOPES = ("host", "domain", "any")

_PSL = None  # the Public Suffix List, bundled with publicsuffixlist (no download), loaded on first use


def _public_suffix_list():
    global _PSL
    if _PSL is None:
        from publicsuffixlist import PublicSuffixList

        _PSL = PublicSuffixList()  # ICANN and private sections: a.github.io and b.github.io are two sites
    return _PSL

_SAFE_PATH = "/:@!$&'()*+,;=-._~%"
_SAFE_QUERY = "/?:@!$&'()*+,;=-._~%"


class BadURL(ValueError):
    """A URL that cannot be crawled; ``reason`` is the short name used in the crawl log."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _requote(part: str, safe: str) -> str:
    """Percent-encode what must be encoded; decode escapes of unreserved characters only (so
    ``%7E`` becomes ``~`` but ``%2F`` stays, which would change the meaning); upper-case hex."""
    def fix(m: re.Match) -> str:
        ch = chr(int(m.group(1), 16))
        return ch if ch in _UNRESERVED else "%" + m.group(1).upper()

    return quote(_ESCAPE.sub(fix, part), safe=safe)


def normalize_url(url: str, sort_query: bool = False) -> str:
    """Canonical form of an absolute URL: lower-case scheme and host, IDNA host, no default
    port, no fragment, ``/`` for an empty path, ``.``/``..`` resolved, consistent percent-encoding.

    Raises BadURL (``invalid_url`` or ``unsupported_scheme``).
    """
    url = url.strip()
    if not url:
        raise BadURL("invalid_url", "empty")
    if any(c in url for c in "\r\n\t\x00"):
        raise BadURL("invalid_url", "control character in URL")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise BadURL("invalid_url", str(exc)) from exc
    scheme = parts.scheme.lower()
    if not scheme:
        raise BadURL("invalid_url", "not an absolute URL (no scheme)")
    if scheme not in ALLOWED_SCHEMES:
        raise BadURL("unsupported_scheme", scheme)
    try:
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        raise BadURL("invalid_url", str(exc)) from exc
    if not host:
        raise BadURL("invalid_url", "no host")
    if parts.username is not None or parts.password is not None:
        raise BadURL("invalid_url", "credentials in URL")
    host = host.rstrip(".").lower()
    try:
        ip = ipaddress.ip_address(host)
        host = f"[{ip.compressed}]" if ip.version == 6 else ip.compressed
    except ValueError:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise BadURL("invalid_url", f"bad host name {host!r}") from exc
        if not re.fullmatch(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?", host):
            raise BadURL("invalid_url", f"bad host name {host!r}") from None
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _resolve_dots(_requote(parts.path, _SAFE_PATH)) or "/"
    query = parts.query
    if query:
        pairs = [_requote(p, _SAFE_QUERY) for p in query.split("&") if p]
        if sort_query:
            pairs.sort()
        query = "&".join(pairs)
    return urlunsplit((scheme, netloc, path, query, ""))


def _resolve_dots(path: str) -> str:
    """RFC 3986 remove_dot_segments."""
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        if seg == ".":
            if i == len(segments) - 1:
                out.append("")
            continue
        if seg == "..":
            if len(out) > 1:
                out.pop()
            if i == len(segments) - 1:
                out.append("")
            continue
        out.append(seg)
    result = "/".join(out)
    return result if result.startswith("/") else "/" + result


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a normalized URL: the unit of politeness and robots.txt."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def host_of(url: str) -> str:
    """The host name (no port, no brackets) of a URL."""
    return (urlsplit(url).hostname or "").lower()


def registered_domain(host: str) -> str:
    """The registrable domain of a host name by the Public Suffix List (``news.example.co.uk`` ->
    ``example.co.uk``, ``blog.alice.github.io`` -> ``alice.github.io``); an IP address, a single
    label or a public suffix itself is its own domain."""
    host = host.strip("[]").lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    return _public_suffix_list().privatesuffix(host) or host


@dataclass
class ScopeRules:
    """Which discovered links to follow: scope mode, patterns and trap limits."""

    scope: str = "domain"  # host | domain | any
    include: list[str] = field(default_factory=list)  # regexes; a link must match one (if any given)
    exclude: list[str] = field(default_factory=list)  # regexes; a link matching one is skipped
    max_url_length: int = 2048
    max_repeated_segment: int = 2  # a path segment seen more often than this is a trap
    max_path_segments: int = 32
    sort_query: bool = False

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {self.scope!r}")
        self._include = [_compile(p, "--include") for p in self.include]
        self._exclude = [_compile(p, "--exclude") for p in self.exclude]

    def normalize(self, url: str) -> str:
        return normalize_url(url, self.sort_query)

    def trap_reason(self, url: str) -> str | None:
        """A reason when a normalized URL looks like a crawler trap, else None."""
        if len(url) > self.max_url_length:
            return "url_too_long"
        segments = [s for s in urlsplit(url).path.split("/") if s]
        if len(segments) > self.max_path_segments:
            return "too_many_path_segments"
        counts: dict[str, int] = {}
        for s in segments:
            counts[s] = counts.get(s, 0) + 1
            if counts[s] > self.max_repeated_segment:
                return "repeated_path_segments"
        return None

    def pattern_reason(self, url: str) -> str | None:
        if any(p.search(url) for p in self._exclude):
            return "excluded_pattern"
        if self._include and not any(p.search(url) for p in self._include):
            return "not_included_pattern"
        return None

    def scope_reason(self, url: str, source_url: str) -> str | None:
        """``out_of_scope`` when ``url`` leaves the host/domain of the page that links to it."""
        if self.scope == "any":
            return None
        if self.scope == "host":
            return None if origin(url) == origin(source_url) else "out_of_scope"
        return None if registered_domain(host_of(url)) == registered_domain(host_of(source_url)) else "out_of_scope"

    def check_link(self, url: str, source_url: str) -> str | None:
        """The first reason a normalized link must not be followed, or None."""
        return self.scope_reason(url, source_url) or self.trap_reason(url) or self.pattern_reason(url)


def _compile(pattern: str, flag: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{flag} {pattern!r} is not a valid regular expression: {exc}") from exc

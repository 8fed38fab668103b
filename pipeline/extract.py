"""HTML to text: resiliparse main-content extraction (default) or trafilatura."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from pipeline.charset import UndecodableError, decode_html
from pipeline.ids import make_doc_id
from pipeline.limits import Limits
from pipeline.records import Document, Drop, RawRecord

if TYPE_CHECKING:
    from lxml.html import HtmlElement

STAGE = "extract"
EXTRACTORS = ("resiliparse", "trafilatura")

# One start or end tag: its name, then the rest of the tag up to ">" (kept only to see "/>").
# The rest stops at "<" as well, so a stray "<" in script text (``a<b``) cannot swallow the
# next tag, and an unclosed tag costs one scan to the next "<", never one to the end of the page.
_TAG = re.compile(rb"<(/?)([A-Za-z][^\t\n\f\r /<>]{0,63})([^<>]*>?)")
# A start tag that really self-closes: attributes, then "/>". An unquoted value takes a "/"
# right after it as its own last character (``<g x=1/>`` does not close; ``<g x=1 />`` does).
_SELF_CLOSING = re.compile(
    rb"""(?:[\t\n\f\r ]+[^\t\n\f\r "'/<=>]+(?:[\t\n\f\r ]*=[\t\n\f\r ]*"""
    rb"""(?:"[^"]*"|'[^']*'|[^\t\n\f\r "'>][^\t\n\f\r >]*(?=[\t\n\f\r ])))?)*[\t\n\f\r ]*/>"""
)
# HTML elements that never hold children (void) or that the parser closes implicitly when a
# sibling starts (p, li, td, ...): not counted as a level.
_NON_NESTING = frozenset(
    b"area base br col embed hr img input keygen link meta param source track wbr "
    b"p li dt dd tr td th option optgroup thead tbody tfoot colgroup rp rt".split()
)
# Elements whose content is text to the parser, not tags (in HTML, not inside SVG/MathML).
_RAW_TEXT = frozenset(b"script style textarea title xmp iframe noembed noframes".split())
# Foreign content: inside <svg> and <math>, "/>" closes any element ...
_FOREIGN_ROOTS = frozenset((b"svg", b"math"))
# ... except below these integration points, whose children are HTML again ...
_INTEGRATION = frozenset(b"foreignobject desc title mi mo mn ms mtext annotation-xml".split())
# ... and these HTML tags, which break out of SVG/MathML when they appear there.
_BREAKOUT = frozenset(
    b"b big blockquote body br center code dd div dl dt em embed font h1 h2 h3 h4 h5 h6 head hr i img "
    b"li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt u ul var".split()
)


def _start_tags(html: bytes) -> np.ndarray:
    """Offsets of the ``<`` followed by an ASCII letter: where every start tag begins."""
    data = np.frombuffer(html, dtype=np.uint8)
    lt = np.flatnonzero(data[:-1] == 0x3C)
    followers = data[lt + 1] | 0x20  # the byte after each "<", lower-cased
    return lt[(followers >= 0x61) & (followers <= 0x7A)]  # "a".."z"


def _opening_tag_bound(html: bytes) -> int:
    """How many ``<`` are followed by an ASCII letter (every start tag is), in one numpy pass.

    No element nests deeper than the page has start tags, so a page under the limit here
    needs no tag scan: most pages, at 0.02-0.03 ms for 60 KB.
    """
    return len(_start_tags(html))


def _name_keys(names: Iterable[bytes]) -> np.ndarray:
    """Tag names (lower case, at most 8 bytes) as the integers :func:`_nesting_tag_bound` compares."""
    return np.array(sorted(int.from_bytes(n, "little") for n in names), dtype=np.uint64)


# The scan never adds a level for these, in any context: void or implicitly closed, and HTML
# even inside SVG/MathML (they break out of it) ...
_NEVER_NESTED = _name_keys(_NON_NESTING & _BREAKOUT)
# ... and, on a page without <svg> or <math>, for any void, implicitly closed or raw-text element.
_NOT_NESTED_IN_HTML = _name_keys(_NON_NESTING | _RAW_TEXT)
_FOREIGN_KEYS = _name_keys(_FOREIGN_ROOTS)
_NAME_END = np.zeros(256, dtype=bool)  # the bytes that end a tag name in _TAG
_NAME_END[list(b"\t\n\f\r /<>")] = True
_KEY_BYTES = 8  # every name above fits in 8 bytes


def _nesting_tag_bound(html: bytes, starts: np.ndarray) -> int:
    """How many start tags (at ``starts``) the tag scan could count as a level: all, less those
    whose lower-cased name it never nests (:data:`_NEVER_NESTED`; :data:`_NOT_NESTED_IN_HTML`
    on a page without ``<svg>``/``<math>``). An upper bound of its depth, in numpy passes.

    Pages of 150 KB and more often have over 1,024 start tags, a third of them ``<p>``,
    ``<li>``, ``<img>``, ``<br>``, ``<meta>``: this spares most of them the tag scan.
    """
    data = np.frombuffer(html, dtype=np.uint8)
    at = starts[:, None] + np.arange(1, _KEY_BYTES + 2)  # the name's bytes and the one after
    raw = data[np.minimum(at, len(data) - 1)]
    ends = _NAME_END[raw] | (at >= len(data))
    inside = ~np.logical_or.accumulate(ends, axis=1)  # True on the bytes of the name
    keys = np.ascontiguousarray((raw[:, :_KEY_BYTES] | 0x20) * inside[:, :_KEY_BYTES]).view("<u8").ravel()
    keys[inside[:, _KEY_BYTES]] = 0  # names longer than 8 bytes match no key; "A"-"Z" -> "a"-"z" above
    never = _NEVER_NESTED if _matches(keys, _FOREIGN_KEYS).any() else _NOT_NESTED_IN_HTML
    return len(starts) - int(np.count_nonzero(_matches(keys, never)))


def _matches(keys: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``np.isin(keys, table)`` for a small sorted ``table``, without isin's set-up."""
    at = np.minimum(np.searchsorted(table, keys), len(table) - 1)
    return table[at] == keys


def html_depth_exceeds(html: bytes, max_depth: int) -> bool:
    """Cheap scan of the tag stream: does element nesting go deeper than ``max_depth``?

    Main-content extraction costs grow with the square of nesting depth, so a hostile
    document of 100k nested ``<div>`` would stall a worker. The scan estimates the depth the
    HTML parser builds: a stack of open elements, where an end tag closes up to its element,
    void and implicitly closed elements add no level, ``/>`` closes an element only inside
    SVG/MathML (HTML ignores it), and script/style text is skipped. It is skipped entirely
    when the page has too few start tags that could nest to be that deep (numpy passes).
    """
    if len(html) <= max_depth:  # each level needs an opening tag
        return False
    starts = _start_tags(html)
    if len(starts) <= max_depth or _nesting_tag_bound(html, starts) <= max_depth:
        return False
    return _tag_scan_exceeds(html, max_depth)


def _tag_scan_exceeds(html: bytes, max_depth: int) -> bool:
    """The tag scan of :func:`html_depth_exceeds`, without the numpy bounds in front of it."""
    names: list[bytes] = []  # the open elements, innermost last
    open_count: dict[bytes, int] = {}
    foreign_at: list[int] = []  # stack positions of the open elements whose children are SVG/MathML
    raw_text = b""  # inside script/style/...: only its own end tag counts
    for closing, name, rest in _TAG.findall(html):
        name = name.lower()
        if raw_text:
            if closing and name == raw_text:
                raw_text = b""
            continue
        if closing:
            if open_count.get(name):  # close up to the innermost open element of that name
                while (top := names.pop()) != name:
                    open_count[top] -= 1
                open_count[name] -= 1
                while foreign_at and foreign_at[-1] >= len(names):
                    foreign_at.pop()
            continue
        if (foreign_at and foreign_at[-1] == len(names) - 1 and name not in _BREAKOUT) or name in _FOREIGN_ROOTS:
            if rest.endswith(b"/>") and _SELF_CLOSING.fullmatch(rest):
                continue
            if name not in _INTEGRATION:
                foreign_at.append(len(names))
        elif name in _NON_NESTING:
            continue
        elif name in _RAW_TEXT:
            raw_text = name
            continue
        names.append(name)
        open_count[name] = open_count.get(name, 0) + 1
        if len(names) > max_depth:
            return True
    return False


# Where the source's line breaks are the text's (HTML renders them as spaces everywhere else).
_PREFORMATTED = ("pre", "listing", "xmp", "plaintext", "textarea", "code", "script", "style")
_SOURCE_LINE_BREAK = re.compile(r"[\t\n\f\r ]*[\n\r][\t\n\f\r ]*")


def join_source_lines(tree: HtmlElement) -> None:
    """Replace line breaks inside text nodes with spaces, outside ``<pre>``, ``<code>`` and the like.

    A browser shows a paragraph whose source is hard-wrapped as one run of text, and so does
    resiliparse; trafilatura keeps the breaks wherever a paragraph holds inline elements
    (``<a>``, ``<code>``, ``<em>``), and C4/FineWeb line rules then drop the half-lines.
    ``<br>`` is an element, not text, so intended line breaks stay.
    """
    keep = {inner for outer in tree.iter(*_PREFORMATTED) for inner in outer.iter()}
    for el in tree.iter():
        text = el.text
        if text and isinstance(el.tag, str) and el not in keep and ("\n" in text or "\r" in text):
            el.text = _SOURCE_LINE_BREAK.sub(" ", text)
        tail = el.tail
        if tail and ("\n" in tail or "\r" in tail) and el.getparent() not in keep:
            el.tail = _SOURCE_LINE_BREAK.sub(" ", tail)


class TextExtractor:
    """Pure step: RawRecord -> Document (text not yet normalized) or Drop."""

    def __init__(self, source: str = "web", extractor: str = "resiliparse", limits: Limits | None = None) -> None:
        if extractor not in EXTRACTORS:
            raise ValueError(f"unknown extractor {extractor!r}; choose one of {', '.join(EXTRACTORS)}")
        self.source = source
        self.extractor = extractor
        self.limits = limits or Limits()

    def html_to_text(self, html: str) -> str:
        if self.extractor == "resiliparse":
            from resiliparse.extract.html2text import extract_plain_text

            return extract_plain_text(html, main_content=True, alt_texts=False, list_bullets=True)
        import trafilatura
        from trafilatura.utils import load_html

        tree = load_html(html)  # the tree trafilatura.extract(html) would build
        if tree is None:
            return ""
        join_source_lines(tree)
        return trafilatura.extract(tree, include_comments=False, include_tables=True, favor_precision=False) or ""

    def __call__(self, rec: RawRecord) -> Document | Drop:
        doc_id = make_doc_id(self.source, rec.key)
        meta = dict(rec.meta)

        def drop(reason: str, detail: str = "") -> Drop:
            return Drop(STAGE, reason, id=doc_id, url=rec.url, source_file=rec.source_file, detail=detail)

        if rec.kind == "html":
            body = rec.payload if isinstance(rec.payload, bytes) else rec.payload.encode("utf-8")
            try:
                html, charset, how = decode_html(body, rec.header_charset)
            except UndecodableError as exc:
                return drop("invalid_encoding", str(exc))
            meta["charset"] = charset
            meta["charset_from"] = how
            if html_depth_exceeds(body, self.limits.max_html_depth):
                return drop("html_too_deep", f"element nesting deeper than {self.limits.max_html_depth}")
            try:
                text = self.html_to_text(html)
            except Exception as exc:  # noqa: BLE001 - a parser failure on one page must not stop a job
                return drop("extract_error", f"{type(exc).__name__}: {exc}")
            meta["extractor"] = self.extractor
        else:
            text = rec.payload if isinstance(rec.payload, str) else rec.payload.decode("utf-8", "replace")
        if not text or not text.strip():
            return drop("empty_text")
        return Document(id=doc_id, text=text, source=self.source, url=rec.url, meta=meta)

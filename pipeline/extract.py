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


_RAW_TEXT_KEYS = _name_keys(_RAW_TEXT)
_LANES = np.uint64(0x0101010101010101)  # 1 in each byte of a word
_HIGH = np.uint64(0x8080808080808080)  # the top bit of each byte


def _lanes_equal(words: np.ndarray, byte: int) -> np.ndarray:
    """The top bit set in each byte of ``words`` that equals ``byte``, and maybe in bytes above one
    that does (the borrow), never below: exact up to the first equal byte."""
    x = words ^ (_LANES * np.uint64(byte))
    return (x - _LANES) & ~x & _HIGH


def _exact_name_keys(html: bytes, name_at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The tag names starting at ``name_at`` as ``bytes.lower()`` spells them, as integers of their
    first 8 bytes (8 at a time: each name is one unaligned little-endian word), and whether a key
    may stand for more than one name: the name is longer than 8 bytes, or holds a NUL byte (which
    the key's zero padding could not be told from)."""
    padded = html + b">" * (_KEY_BYTES + 1)  # ">" ends a name, as the end of the page does
    words = np.ndarray((len(html) + 1,), dtype="<u8", buffer=padded, strides=(1,))[name_at]
    ends = _lanes_equal(words, ord(">"))
    for byte in b"\t\n\f\r /<":
        ends |= _lanes_equal(words, byte)
    first_end = ends & (~ends + np.uint64(1))  # the lowest flagged byte's top bit (0 if none)
    inside = (first_end >> np.uint64(7)) - np.uint64(1)  # 0xFF on the bytes before it (all if none)
    seven = words & ~_HIGH  # "A"-"Z" -> "a"-"z": bit 5 set on ASCII bytes from "A" to "Z" only
    upper = (seven + _LANES * np.uint64(0x80 - 0x41)) & ~(seven + _LANES * np.uint64(0x80 - 0x5B)) & ~words & _HIGH
    keys = (words | (upper >> np.uint64(2))) & inside
    longer = (first_end == 0) & ~_NAME_END[np.frombuffer(padded, dtype=np.uint8)[name_at + _KEY_BYTES]]
    return keys, longer | ((_lanes_equal(words, 0) & inside) != 0)


def _nesting_tag_bound(html: bytes, starts: np.ndarray) -> int:
    """How many start tags (at ``starts``) the tag scan could count as a level: all, less those
    whose lower-cased name it never nests (:data:`_NEVER_NESTED`; :data:`_NOT_NESTED_IN_HTML`
    on a page without ``<svg>``/``<math>``). An upper bound of its depth, in numpy passes.

    Pages of 150 KB and more often have over 1,024 start tags, a third of them ``<p>``,
    ``<li>``, ``<img>``, ``<br>``, ``<meta>``: this spares most of them the tag scan.
    """
    keys, ambiguous = _exact_name_keys(html, starts + 1)
    keys[ambiguous] = 0  # names over 8 bytes or with a NUL byte match no key
    return len(starts) - int(np.count_nonzero(_matches(keys, _never_nested(keys))))


def _never_nested(start_keys: np.ndarray) -> np.ndarray:
    """The names the scan never nests on a page whose start tags' names are ``start_keys``:
    :data:`_NEVER_NESTED` if one is ``<svg>``/``<math>``, else :data:`_NOT_NESTED_IN_HTML`."""
    return _NEVER_NESTED if _matches(start_keys, _FOREIGN_KEYS).any() else _NOT_NESTED_IN_HTML


def _per_name_depth_bound(html: bytes) -> int:
    """An upper bound of the tag scan's depth, from its start and end tags in numpy passes.

    For each tag name, the scan's open elements of that name never outnumber a counter that a
    start tag it may nest raises and each of its end tags lowers (never below 0): an end tag
    closes one of them if any is open, and closing an outer element only closes more. End tags
    the scan may skip as raw text (any after a ``<script>``-like start tag up to that element's
    first end tag) and those of raw-text names, which an SVG ``<style>`` may leave open, lower
    nothing; names whose key is not the whole name (over 8 bytes, or with a NUL byte) only count
    up, in a group of their own. The sum of the counters over names, at its peak, bounds the
    depth: pages whose many start tags are mostly closed again (``<a>``, ``<span>``, ``<div>``)
    are settled without the scan.
    """
    data = np.frombuffer(html, dtype=np.uint8)
    lt = np.flatnonzero(data[:-1] == 0x3C)
    closing = data[lt + 1] == 0x2F
    name_at = lt + 1 + closing
    first = data[np.minimum(name_at, len(data) - 1)] | 0x20
    is_tag = (first >= 0x61) & (first <= 0x7A) & (name_at < len(data))
    closing, name_at = closing[is_tag], name_at[is_tag]
    if not len(name_at):
        return 0
    keys, long = _exact_name_keys(html, name_at)  # "long": the key is not the whole name
    opening = ~closing
    never = _never_nested(keys[opening & ~long])
    raw = ~long & _matches(keys, _RAW_TEXT_KEYS)
    skipped = np.zeros(len(keys) + 1, dtype=np.int64)  # +1/-1 at the ends of the raw-text stretches
    pending: dict[int, int] = {}  # raw-text name -> its first start tag not yet ended
    raw_at = np.flatnonzero(raw)
    for i, key, end in zip(raw_at.tolist(), keys[raw_at].tolist(), closing[raw_at].tolist(), strict=True):
        if not end:
            pending.setdefault(key, i)
        elif key in pending:
            skipped[pending.pop(key) + 1] += 1
            skipped[i] -= 1
    for i in pending.values():
        skipped[i + 1] += 1
    in_raw = np.cumsum(skipped[:-1]) > 0
    step = np.zeros(len(keys), dtype=np.int64)
    step[opening & (long | ~_matches(keys, never))] = 1
    step[closing & ~long & ~raw & ~in_raw] = -1
    keys = np.where(opening & long, 0, keys)  # long names: a group of their own, which only counts up
    at = np.flatnonzero(step)
    if not len(at):
        return 0
    order = np.argsort(keys[at], kind="stable")  # by name, in page order within each name
    names, steps = keys[at][order], step[at][order]
    first_of_name = np.empty(len(names), dtype=bool)
    first_of_name[0] = True
    first_of_name[1:] = names[1:] != names[:-1]
    group = np.cumsum(first_of_name) - 1
    running = np.cumsum(steps)
    running -= (running - steps)[first_of_name][group]  # the sum of each name's steps so far
    spread = 2 * len(steps) + 1  # shifts each name below the ones before, so one accumulate serves all
    lowest = np.minimum.accumulate(running - group * spread) + group * spread
    counter = running - np.minimum(lowest, 0)  # the sum, never below 0 (each dip is forgotten)
    before = np.empty_like(counter)
    before[0] = 0
    before[1:] = counter[:-1]
    before[first_of_name] = 0
    change = np.empty_like(counter)
    change[order] = counter - before
    return int(np.cumsum(change).max())


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
    if (len(starts) <= max_depth or _nesting_tag_bound(html, starts) <= max_depth
            or _per_name_depth_bound(html) <= max_depth):
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

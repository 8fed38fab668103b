"""HTML to text: resiliparse main-content extraction (default) or trafilatura."""

from __future__ import annotations

import re

import numpy as np

from pipeline.charset import UndecodableError, decode_html
from pipeline.ids import make_doc_id
from pipeline.limits import Limits
from pipeline.records import Document, Drop, RawRecord

STAGE = "extract"
EXTRACTORS = ("resiliparse", "trafilatura")

# Tag names only: attributes and "/>" need no parsing, since HTML parsers ignore "/>" on
# non-void elements anyway.
_TAG = re.compile(rb"<(/?)([A-Za-z][A-Za-z0-9]{0,15})")
# Elements that never nest (void) or that the HTML parser closes implicitly, in the
# spellings pages use (checked without lower-casing every tag).
_NON_NESTING_LOWER = (
    b"area base br col embed hr img input link meta param source track wbr p li dt dd tr td th "
    b"option optgroup thead tbody tfoot colgroup rp rt"
).split()
_NON_NESTING = frozenset(
    v for n in _NON_NESTING_LOWER for v in (n, n.upper(), n[:1].upper() + n[1:])
)


def _opening_tag_bound(html: bytes) -> int:
    """``html.count(b"<") - html.count(b"</")`` in one vectorized pass (2-3x faster on 60 KB pages)."""
    data = np.frombuffer(html, dtype=np.uint8)
    opens = np.flatnonzero(data == 0x3C)  # "<"
    followers = opens[opens < len(data) - 1] + 1
    return len(opens) - int(np.count_nonzero(data[followers] == 0x2F))  # "/"


def html_depth_exceeds(html: bytes, max_depth: int) -> bool:
    """Cheap scan of the tag stream: does element nesting go deeper than ``max_depth``?

    Main-content extraction costs grow with the square of nesting depth, so a hostile
    document of 100k nested ``<div>`` would stall a worker; this check is one regex pass,
    skipped entirely when the page has too few opening tags to be that deep.
    """
    if len(html) <= max_depth or _opening_tag_bound(html) <= max_depth:  # each level needs an opening tag
        return False
    depth = 0
    for closing, name in _TAG.findall(html):
        if name in _NON_NESTING:
            continue
        if closing:
            if depth:
                depth -= 1
        else:
            depth += 1
            if depth > max_depth:
                return True
    return False


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

        return trafilatura.extract(html, include_comments=False, include_tables=True, favor_precision=False) or ""

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

r"""N-Triples: a streaming line parser (one triple per line), splittable into byte ranges.

Memory is one line at a time. Lines that do not parse (a prefixed name, a missing dot,
an escape N-Triples does not have such as ``\q``) are dropped as ``malformed_line``; an escape
naming no character (``\U0011FFFF``, a lone surrogate) as ``bad_escape``; a relative IRI as
``relative_iri``; literals whose lexical form does not fit a known datatype as
``bad_literal``. A UTF-8 byte order mark before the first line is not part of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from corpora.kg.rdf import file_mapper
from corpora.kg.readers import Chunk, ReadOptions, ReadStats, Record, checked_lines, drop, keep_mapped
from corpora.kg.values import BadLiteral
from pipeline.records import Drop


class BadEscape(BadLiteral):
    """A ``\\u``/``\\U`` escape that names no Unicode scalar value (beyond U+10FFFF, or a surrogate)."""


class RelativeIri(ValueError):
    """An IRI without a scheme: N-Triples allows only absolute IRIs."""


_IRI = r'<([^<>"{}|^`\\\x00-\x20]*)>'
_BNODE = r"_:([A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?)"
_ECHAR = r"\\(?:[tbnrf\"'\\]|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})"
_LIT = rf'"((?:[^"\\\n\r]|{_ECHAR})*)"(?:@([a-zA-Z]+(?:-[a-zA-Z0-9]+)*)|\^\^<([^>]*)>)?'
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
BOM = b"\xef\xbb\xbf"
LINE_RE = re.compile(
    rf"^[ \t]*(?:{_IRI}|{_BNODE})[ \t]*{_IRI}[ \t]*(?:{_IRI}|{_BNODE}|{_LIT})[ \t]*\.[ \t]*(?:#.*)?$"
)
_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|[tbnrf\"'\\])")
_SIMPLE = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def unescape(text: str) -> str:
    if "\\" not in text:
        return text

    def sub(m: re.Match) -> str:
        e = m.group(1)
        if e[0] in "uU":
            code = int(e[1:], 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise BadEscape(f"\\{e} names no character")
            return chr(code)
        return _SIMPLE[e]

    out = _ESCAPE.sub(sub, text)
    return out


def parse_line(line: str) -> tuple[tuple, str, tuple] | None:
    """(subject term, predicate IRI, object term) of one N-Triples line, None if malformed;
    BadEscape / RelativeIri for a line that has the form but not the content."""
    m = LINE_RE.match(line)
    if not m:
        return None
    s_iri, s_bn, p, o_iri, o_bn, lex, lang, dt = m.groups()
    for iri in (s_iri, p, o_iri, dt):
        if iri is not None and not _ABSOLUTE.match(iri):
            raise RelativeIri(f"<{iri}> is not an absolute IRI")
    s = ("iri", unescape(s_iri)) if s_iri is not None else ("bnode", s_bn)
    if o_iri is not None:
        o = ("iri", unescape(o_iri))
    elif o_bn is not None:
        o = ("bnode", o_bn)
    else:
        o = ("literal", unescape(lex), dt, lang)
    return s, unescape(p), o


def read_ntriples(raw: BinaryIO, chunk: Chunk, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    mapper = file_mapper(chunk.path, on_count=lambda name: stats.counts.update([name]))
    for where, line in checked_lines(raw, chunk, options, stats):
        if isinstance(line, Drop):
            yield line
            continue
        stripped = line.strip()
        if where == "byte 0" and stripped.startswith(BOM):
            stripped = stripped[len(BOM):].strip()
        if not stripped or stripped.startswith(b"#"):
            stats.counts["blank_or_comment_lines"] += 1  # not records: nothing to read in them
            continue
        stats.records += 1
        try:
            text = stripped.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield drop("invalid_utf8", chunk, where, str(exc))
            continue
        try:
            parsed = parse_line(text)
        except BadEscape as exc:
            yield drop("bad_escape", chunk, where, f"{exc}: {text[:200]}")
            continue
        except RelativeIri as exc:
            yield drop("relative_iri", chunk, where, f"{exc}: {text[:200]}")
            continue
        if parsed is None:
            yield drop("malformed_line", chunk, where, text[:200])
            continue
        try:
            record = mapper.map(*parsed)
        except BadLiteral as exc:
            yield drop("bad_literal", chunk, where, str(exc))
            continue
        except ValueError as exc:  # e.g. a \\u escape naming no character
            yield drop("malformed_line", chunk, where, str(exc))
            continue
        if keep_mapped(record, options, stats):
            yield record

"""N-Triples: a streaming line parser (one triple per line), splittable into byte ranges.

Memory is one line at a time. Lines that do not parse (a prefixed name, a missing dot,
a broken escape) are dropped as ``malformed_line``; literals whose lexical form does not
fit a known datatype as ``bad_literal``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from corpora.kg.rdf import file_mapper
from corpora.kg.readers import Chunk, ReadOptions, ReadStats, Record, checked_lines, drop, keep_mapped
from corpora.kg.values import BadLiteral
from pipeline.records import Drop

_IRI = r'<([^<>"{}|^`\\\x00-\x20]*)>'
_BNODE = r"_:([A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?)"
_LIT = r'"((?:[^"\\\n\r]|\\.)*)"(?:@([a-zA-Z]+(?:-[a-zA-Z0-9]+)*)|\^\^<([^>]*)>)?'
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
            return chr(int(e[1:], 16))
        return _SIMPLE[e]

    out = _ESCAPE.sub(sub, text)
    return out


def parse_line(line: str) -> tuple[tuple, str, tuple] | None:
    """(subject term, predicate IRI, object term) of one N-Triples line, None if malformed."""
    m = LINE_RE.match(line)
    if not m:
        return None
    s_iri, s_bn, p, o_iri, o_bn, lex, lang, dt = m.groups()
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
        if not stripped or stripped.startswith(b"#"):
            continue
        stats.records += 1
        try:
            text = stripped.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield drop("invalid_utf8", chunk, where, str(exc))
            continue
        parsed = parse_line(text)
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

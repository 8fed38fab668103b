"""Turtle with rdflib, parsed in bounded batches of statements rather than as one graph.

rdflib parses a whole document into an in-memory Graph (roughly 1 KB of Python objects per
triple), which does not work for a dump. This reader streams the file line by line, keeps
the ``@prefix``/``@base`` directives, cuts the text into top-level statements (a line that
ends with ``.`` outside a string), and parses ``batch_statements`` statements at a time with
the directives prepended. Memory is bounded by one batch. A batch that fails is re-parsed
statement by statement, so one bad statement (an unknown prefix, a syntax error) is
dropped with its line number and the rest are kept. Blank node labels are rewritten to
file-scoped names so that ``_:b1`` means the same node in every batch.

A Turtle file is one unit of work (statements may span lines), so a big Turtle dump is
best converted to N-Triples, which splits across workers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from corpora.kg.rdf import file_mapper
from corpora.kg.readers import Chunk, ReadOptions, ReadStats, Record, drop, is_compressed, keep_mapped
from corpora.kg.values import BadLiteral

BATCH_STATEMENTS = 2000
BNODE_NS = "urn:corpusforge:bnode:"
_DIRECTIVE = re.compile(r"^\s*(@prefix|@base|PREFIX|BASE)\b", re.I)
# strings, IRIs and comments are skipped over; bare blank node labels are captured
_TOKENS = re.compile(r'("""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\'|"(?:[^"\\\n]|\\.)*"'
                     r"|'(?:[^'\\\n]|\\.)*'|<[^<>\s]*>|#[^\n]*)|_:([A-Za-z0-9_][A-Za-z0-9_.\-]*[A-Za-z0-9_\-]|[A-Za-z0-9_])")


def _scope_bnodes(text: str) -> str:
    return _TOKENS.sub(lambda m: m.group(1) if m.group(1) is not None else f"<{BNODE_NS}{m.group(2)}>", text)


def _ends_statement(line: str, in_long_string: bool) -> tuple[bool, bool]:
    """(ends a statement, inside a triple-quoted string after this line)."""
    n = line.count('"""') + line.count("'''")
    if n % 2 == 1:
        in_long_string = not in_long_string
    if in_long_string:
        return False, True
    body = re.sub(r'"(?:[^"\\]|\\.)*"|<[^<>]*>', '""', line)
    body = body.split("#", 1)[0].rstrip()
    return body.endswith("."), False


def split_statements(lines: Iterator[tuple[int, str]]) -> Iterator[tuple[str, int, str]]:
    """("directive" | "statement", first line number, text) for each top-level unit."""
    buf: list[str] = []
    first = 0
    in_long = False
    for lineno, line in lines:
        if not buf:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            first = lineno
            if _DIRECTIVE.match(line):
                yield "directive", lineno, line.strip()
                continue
        buf.append(line)
        done, in_long = _ends_statement(line, in_long)
        if done:
            yield "statement", first, "\n".join(buf)
            buf = []
    if buf:
        yield "statement", first, "\n".join(buf)


def _terms(triple, mapper_scope: str) -> tuple[tuple, str, tuple]:
    import rdflib

    def term(t):
        if isinstance(t, rdflib.Literal):
            return ("literal", str(t), str(t.datatype) if t.datatype else None, t.language)
        if isinstance(t, rdflib.BNode):
            return ("bnode", str(t))
        text = str(t)
        if text.startswith(BNODE_NS):
            return ("bnode", text[len(BNODE_NS):])
        return ("iri", text)

    s, p, o = triple
    return term(s), str(p), term(o)


def _parse(text: str):
    import rdflib

    graph = rdflib.Graph()
    graph.parse(data=text, format="turtle")
    return list(graph)


def _reason(exc: Exception) -> str:
    msg = str(exc)
    if "Prefix" in msg and "not bound" in msg:
        return "unknown_prefix"
    return "turtle_syntax"


def read_turtle(raw: BinaryIO, chunk: Chunk, options: ReadOptions, stats: ReadStats,
                batch_statements: int = BATCH_STATEMENTS) -> Iterator[Record]:
    from pipeline.compression import open_decompressed

    mapper = file_mapper(chunk.path, on_count=lambda name: stats.counts.update([name]))
    scope = mapper.bnode_scope
    stream = open_decompressed(raw) if is_compressed(chunk.path) else raw
    bad_utf8: list[int] = []

    def lines() -> Iterator[tuple[int, str]]:
        for i, b in enumerate(stream, start=1):
            try:
                yield i, b.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                bad_utf8.append(i)
                yield i, ""

    directives: list[str] = []
    batch: list[tuple[int, str]] = []

    def records(triples) -> Iterator[Record]:
        for t in triples:
            try:
                record = mapper.map(*_terms(t, scope))
            except BadLiteral as exc:
                yield drop("bad_literal", chunk, "statement", str(exc))
                continue
            if keep_mapped(record, options, stats):
                yield record

    def flush() -> Iterator[Record]:
        header = "\n".join(directives) + "\n"
        stats.records += len(batch)
        try:
            triples = _parse(header + "\n".join(_scope_bnodes(text) for _, text in batch))
        except Exception:  # noqa: BLE001 - find the bad statement(s) one by one
            for lineno, text in batch:
                try:
                    triples = _parse(header + _scope_bnodes(text))
                except Exception as exc:  # noqa: BLE001 - rdflib raises BadSyntax and others
                    yield drop(_reason(exc), chunk, f"line {lineno}", str(exc).replace("\n", " ")[:300])
                    continue
                yield from records(triples)
            return
        yield from records(triples)

    for kind, lineno, text in split_statements(lines()):
        if kind == "directive":
            if batch:
                yield from flush()
                batch = []
            directives.append(text)
            continue
        batch.append((lineno, text))
        if len(batch) >= batch_statements:
            yield from flush()
            batch = []
    if batch:
        yield from flush()
    for lineno in bad_utf8:
        stats.records += 1
        yield drop("invalid_utf8", chunk, f"line {lineno}", "not UTF-8")

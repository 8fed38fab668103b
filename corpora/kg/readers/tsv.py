"""TSV triples (``subject<TAB>relation<TAB>object[<TAB>qualifier=value ...]``) and labels TSV
(``id<TAB>label[<TAB>lang]``).

Objects are typed by their form: an N-Triples literal (``"Den Haag"@nl``,
``"5"^^<...#integer>``), an ISO date (``1952-03-11``, ``1952-03``), a number with a sign, a
decimal point or a unit id (``1.86 Q11573``, ``+1234567``; a bare digit string such as an
identifier or a postal code is a string, written as it is), a string in double quotes, an entity id (anything
matching ``--tsv-entity-pattern``, by default Wikidata ids, CURIEs and IRIs), else a
plain string. Qualifier columns use the same forms after ``relation=``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from corpora.kg.model import ENTITY, STRING, Fact, Label, Value
from corpora.kg.readers import Chunk, ReadOptions, ReadStats, Record, checked_lines, drop, keep_counted_label
from corpora.kg.readers.ntriples import _LIT, unescape
from corpora.kg.values import BadLiteral, literal_value, quantity_value, time_value
from pipeline.records import Drop

ENTITY_PATTERN = r"^(?:[QPL]\d+|[A-Za-z][\w.-]*:[^\s\"]+|<[^>\s]+>)$"
_DATE = re.compile(r"^[+-]?\d{3,4}-\d{2}(?:-\d{2})?(?:T[\d:.]+Z?)?$")
_QUANTITY = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(?:\s+(\S+))?$")
_LITERAL = re.compile(rf"^{_LIT}$")
_ENTITY_RE = re.compile(ENTITY_PATTERN)


def entity_id(text: str) -> str:
    from corpora.kg.rdf import compact_iri

    return compact_iri(text[1:-1]) if text.startswith("<") and text.endswith(">") else text


def parse_tsv_value(text: str, on_unknown=None) -> Value:
    """A TSV cell as a Value (see the module doc for the forms)."""
    text = text.strip()
    m = _LITERAL.match(text)
    if m:
        return literal_value(unescape(m.group(1)), m.group(3), m.group(2), on_unknown)
    if _DATE.match(text):
        return time_value(text, None)
    if text.isdigit():  # identifiers, postal codes, years: kept as written, never "113,230,702"
        return Value(STRING, text)
    q = _QUANTITY.match(text)
    if q and (q.group(2) is None or _ENTITY_RE.match(q.group(2))):
        return quantity_value(q.group(1), entity_id(q.group(2)) if q.group(2) else None)
    if _ENTITY_RE.match(text):
        return Value(ENTITY, entity_id(text))
    return Value(STRING, text)


def read_tsv(raw: BinaryIO, chunk: Chunk, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    labels = chunk.fmt == "labels-tsv"
    count = lambda dt: stats.counts.update(["unknown_datatype"])  # noqa: E731
    for where, line in checked_lines(raw, chunk, options, stats):
        if isinstance(line, Drop):
            yield line
            continue
        if not line.strip() or line.startswith(b"#"):
            stats.counts["blank_or_comment_lines"] += 1  # not records: nothing to read in them
            continue
        stats.records += 1
        try:
            cols = line.decode("utf-8").rstrip("\r\n").split("\t")
        except UnicodeDecodeError as exc:
            yield drop("invalid_utf8", chunk, where, str(exc))
            continue
        if labels:
            if len(cols) < 2 or not cols[0].strip() or not cols[1].strip():
                yield drop("malformed_row", chunk, where, "expected id<TAB>label[<TAB>lang]")
                continue
            label = Label(entity_id(cols[0].strip()), cols[1].strip(),
                          cols[2].strip().lower() if len(cols) > 2 and cols[2].strip() else None)
            if keep_counted_label(label, options, stats):
                yield label
            continue
        if len(cols) < 3 or not all(c.strip() for c in cols[:3]):
            yield drop("malformed_row", chunk, where, "expected subject<TAB>relation<TAB>object[<TAB>rel=value...]")
            continue
        try:
            value = parse_tsv_value(cols[2], count)
            quals = []
            for extra in cols[3:]:
                if not extra.strip():
                    continue
                rel, sep, qv = extra.partition("=")
                if not sep or not rel.strip() or not qv.strip():
                    raise BadLiteral(f"qualifier column {extra!r} is not relation=value")
                quals.append((entity_id(rel.strip()), parse_tsv_value(qv, count)))
        except BadLiteral as exc:
            yield drop("bad_value", chunk, where, str(exc))
            continue
        yield Fact(entity_id(cols[0].strip()), entity_id(cols[1].strip()), value, tuple(quals))

"""Compact byte encodings of facts, statement parts and routed groups for the KG job's shuffles.

The local DirectRunner holds every shuffle in the driver as *decoded* Python objects, and
every runner pays per byte it moves. A ``Fact`` pickled by Beam's fallback coder carries its
class path and costs ~400 bytes of Python objects once decoded; as one ``bytes`` value (a
``marshal``-ed tuple of its fields, ~60-120 bytes) it is a single small object. Only this
job's own stages produce and read these bytes (same Python version on every worker, as Beam
requires), never untrusted input.
"""

from __future__ import annotations

import marshal
from collections.abc import Iterable

from corpora.kg.model import COORD, ENTITY, QUANTITY, STRING, TEXT, TIME, URL, Fact, StatementPart, Value

MARSHAL_VERSION = 4
LABEL_TAG = "label"  # first field of an encoded label; a routed group starts with its role (own, chain)


KIND_CODES = {ENTITY: "e", STRING: "s", TEXT: "t", TIME: "d", QUANTITY: "q", COORD: "c", URL: "u"}
CODE_KINDS = {c: k for k, c in KIND_CODES.items()}


def _value_fields(v: Value) -> tuple:
    """(kind code, v[, lang, precision, unit, datatype]) with trailing Nones left out."""
    fields = (KIND_CODES.get(v.kind, v.kind), v.v, v.lang, v.precision, v.unit, v.datatype)
    end = len(fields)
    while end > 2 and fields[end - 1] is None:
        end -= 1
    return fields[:end]


def _value(fields: tuple) -> Value:
    return Value(CODE_KINDS.get(fields[0], fields[0]), *fields[1:])


def fact_fields(f: Fact) -> tuple:
    """A fact as a tuple of plain str/int/None (the form ``encode_fact`` marshals)."""
    return (f.subject, f.relation, _value_fields(f.value), tuple((r, _value_fields(q)) for r, q in f.qualifiers),
            f.statement)


def fact_from_fields(t: tuple) -> Fact:
    subject, relation, value, quals, statement = t
    return Fact(subject, relation, _value(value), tuple((r, _value(q)) for r, q in quals), statement)


def encode_fact(f: Fact) -> bytes:
    return marshal.dumps(fact_fields(f), MARSHAL_VERSION)


def decode_fact(b: bytes) -> Fact:
    return fact_from_fields(marshal.loads(b))


def referenced_entity(b: bytes) -> tuple[str, str] | None:
    """(object entity, subject) of an encoded fact whose object is another entity, else None."""
    subject, _, value, _, _ = marshal.loads(b)
    if value[0] == KIND_CODES[ENTITY] and value[1] != subject:
        return value[1], subject
    return None


def encode_part(p: StatementPart) -> bytes:
    return marshal.dumps((p.node, p.kind, p.relation, _value_fields(p.value)), MARSHAL_VERSION)


def decode_part(b: bytes) -> StatementPart:
    node, kind, relation, value = marshal.loads(b)
    return StatementPart(node, kind, relation, _value(value))


def encode_group(role: str, entity: str, facts: Iterable[Fact]) -> bytes:
    """One routed group (``own`` or ``chain``, the entity whose facts they are, the facts) as one value."""
    return marshal.dumps((role, entity, tuple(fact_fields(f) for f in facts)), MARSHAL_VERSION)


def decode_group(b: bytes) -> tuple[str, str, list[Fact]]:
    return _group(marshal.loads(b))


def _group(t: tuple) -> tuple[str, str, list[Fact]]:
    role, entity, facts = t
    return role, entity, [fact_from_fields(f) for f in facts]


def encode_label(entity: str, label: str) -> bytes:
    """A resolved label on its way to the owner that needs it, as one value (it shares the owner
    shuffle with the routed groups: ``split_owner_values`` tells them apart)."""
    return marshal.dumps((LABEL_TAG, entity, label), MARSHAL_VERSION)


def decode_label(b: bytes) -> tuple[str, str]:
    _, entity, label = marshal.loads(b)
    return entity, label


def split_owner_values(values: Iterable[bytes]) -> tuple[list[tuple[str, str, list[Fact]]], dict[str, str]]:
    """The routed groups (role, entity, facts) and the labels {id: text} that reached one owner."""
    groups, labels = [], {}
    for b in values:
        t = marshal.loads(b)
        if t[0] == LABEL_TAG:
            labels[t[1]] = t[2]
        else:
            groups.append(_group(t))
    return groups, labels

"""Wikidata statement nodes (``p:`` / ``ps:`` / ``pq:`` / ``wikibase:rank``) assembled into Facts.

The parts of one statement node arrive together (grouped by node id); they become one Fact
with the qualifiers attached, which is what KELM calls a quadruple.
"""

from __future__ import annotations

from corpora.kg.model import Fact, StatementPart, Value


def assemble_statement(node: str, parts: list[StatementPart]) -> Fact | str:
    """The Fact of one statement node, or the reason it has none (``incomplete_statement``,
    ``deprecated_rank``, ``conflicting_statement``)."""
    subjects = {(p.value.v, p.relation) for p in parts if p.kind == "subject"}
    values = [p for p in parts if p.kind == "value"]
    if len(subjects) != 1 or not values:
        return "incomplete_statement" if len(subjects) <= 1 else "conflicting_statement"
    if any(p.kind == "rank" and p.value.v == "DeprecatedRank" for p in parts):
        return "deprecated_rank"
    (subject, relation), = subjects
    value: Value = values[0].value
    if any(v.relation != relation for v in values) or len({v.value for v in values}) > 1:
        return "conflicting_statement"
    quals = sorted({(p.relation, p.value) for p in parts if p.kind == "qualifier"},
                   key=lambda q: (q[0], q[1].kind, q[1].v))
    return Fact(subject, relation, value, tuple(quals), statement=node)

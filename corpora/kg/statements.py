"""Wikidata statement nodes (``p:`` / ``ps:`` / ``pq:`` / ``wikibase:rank``) assembled into Facts,
and value nodes (``psv:`` / ``pqv:`` objects) resolved into the full Values they describe.

The parts of one statement node arrive together (grouped by node id); they become one Fact
with the qualifiers attached, which is what KELM calls a quadruple. The simple ``ps:``/``pq:``
literal loses what only the value node holds (a date's precision, a quantity's unit), so a
value node's fields are grouped by the value node first and sent on to every statement that
links to it as a ``value_full`` / ``qualifier_full`` part, which replaces the simple value.
"""

from __future__ import annotations

from corpora.kg.model import COORD, ENTITY, QUANTITY, TIME, Fact, StatementPart, Value
from corpora.kg.values import BadLiteral, quantity_value, time_value

UNITLESS = "Q199"  # Wikidata's unit "1": a plain number
LINK_KINDS = {"value_node": "value_full", "qualifier_node": "qualifier_full"}


def value_from_fields(fields: dict[str, Value]) -> Value | None:
    """The Value a value node's fields describe (time with precision, quantity with unit, coordinates);
    None when they describe none we read."""
    try:
        if "timeValue" in fields:
            p = fields.get("timePrecision")
            return time_value(fields["timeValue"].v, int(float(p.v)) if p is not None else None)
        if "quantityAmount" in fields:
            unit = fields.get("quantityUnit")
            unit_id = unit.v if unit is not None and unit.kind == ENTITY and unit.v != UNITLESS else None
            return quantity_value(fields["quantityAmount"].v, unit_id)
        if "geoLatitude" in fields and "geoLongitude" in fields:
            return Value(COORD, f"{float(fields['geoLatitude'].v)},{float(fields['geoLongitude'].v)}")
    except (BadLiteral, ValueError):
        return None
    return None


def resolve_value_node(parts: list[StatementPart]) -> tuple[list[StatementPart], str | None]:
    """A value node's fields and the statement links to it -> one ``value_full`` / ``qualifier_full`` part
    per link (node = the statement), and why none came out (``value_node_missing``: links but no
    usable fields; ``value_node_unused``: fields no statement links to), else None."""
    fields = {p.relation: p.value for p in parts if p.kind == "field"}
    links = [p for p in parts if p.kind in LINK_KINDS]
    if not links:
        return [], "value_node_unused"
    value = value_from_fields(fields)
    if value is None:
        return [], "value_node_missing"
    return [StatementPart(link.node, LINK_KINDS[link.kind], link.relation, value) for link in links], None


def _same(a: Value, b: Value) -> bool:
    return a.kind == b.kind and a.identity() == b.identity()


def assemble_statement(node: str, parts: list[StatementPart]) -> Fact | str:
    """The Fact of one statement node, or the reason it has none (``incomplete_statement``,
    ``deprecated_rank``, ``conflicting_statement``, ``unknown_value``)."""
    subjects = {(p.value.v, p.relation) for p in parts if p.kind == "subject"}
    values = [p for p in parts if p.kind == "value"]
    if len(subjects) == 1 and not values and any(p.kind == "unknown" for p in parts):
        return "unknown_value"
    if len(subjects) != 1 or not values:
        return "incomplete_statement" if len(subjects) <= 1 else "conflicting_statement"
    if any(p.kind == "rank" and p.value.v == "DeprecatedRank" for p in parts):
        return "deprecated_rank"
    (subject, relation), = subjects
    value: Value = values[0].value
    if any(v.relation != relation for v in values) or len({v.value for v in values}) > 1:
        return "conflicting_statement"
    full = [p.value for p in parts if p.kind == "value_full" and p.relation == relation]
    if full and full[0].kind in (TIME, QUANTITY, COORD):
        value = full[0]
    full_quals = [(p.relation, p.value) for p in parts if p.kind == "qualifier_full"]
    quals = set()
    for p in parts:
        if p.kind != "qualifier":
            continue
        # the value node's form of the same qualifier value (precision, unit), when there is one
        richer = next((v for r, v in full_quals if r == p.relation and _same(v, p.value)), None)
        quals.add((p.relation, richer or p.value))
    # a total order (two texts may differ only by language): the same on every worker, whatever its hash seed
    ordered = sorted(quals, key=lambda q: (q[0], q[1].kind, q[1].v, repr(q[1])))
    return Fact(subject, relation, value, tuple(ordered), statement=node)

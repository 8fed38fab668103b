"""Plain records of the KG jobs: typed values, facts (triples with qualifiers), labels, statement parts.

They are small frozen dataclasses with slots (cheap to pickle between Beam stages) and carry
no Beam import. Ids are compact: Wikidata IRIs become ``Q42`` / ``P19``; other IRIs stay whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Value kinds
ENTITY = "entity"  # v = entity id
STRING = "string"  # v = the string (external ids, plain literals)
TEXT = "text"  # v = the text, lang = its language tag
TIME = "time"  # v = ISO-like time (+1952-03-11T00:00:00Z), precision = Wikidata precision code
QUANTITY = "quantity"  # v = decimal amount, unit = unit entity id or None
COORD = "coord"  # v = "lat,lon"
URL = "url"  # v = the URL
KINDS = (ENTITY, STRING, TEXT, TIME, QUANTITY, COORD, URL)
_UTC = re.compile(r"(?:Z|[+-]00:?00)$")


def canonical(kind: str, v: str) -> str:
    """The form of a value that two notations of it share: a time without ``+`` and UTC zone
    (rdflib writes ``Z`` as ``+00:00``), a number as its normalized decimal."""
    if kind == TIME:
        return _UTC.sub("", v.strip()).lstrip("+")
    if kind == QUANTITY:
        try:
            d = Decimal(v)
        except InvalidOperation:
            return v
        return format(d.normalize(), "f") if d else "0"
    return v


@dataclass(frozen=True, slots=True)
class Value:
    """The object of a fact: an entity or a typed literal."""

    kind: str
    v: str
    lang: str | None = None
    precision: int | None = None
    unit: str | None = None
    datatype: str | None = None  # the literal's datatype IRI when it was not one we know

    def entity_ids(self) -> list[str]:
        """Entities this value needs labels for (the entity itself, or a quantity's unit)."""
        if self.kind == ENTITY:
            return [self.v]
        if self.kind == QUANTITY and self.unit:
            return [self.unit]
        return []

    def identity(self) -> tuple[str, str]:
        """What the value says, whatever its notation or annotation (precision, unit): the same for a
        truthy triple and the statement it repeats."""
        return self.kind, canonical(self.kind, self.v)

    def to_json(self) -> dict:
        out = {"kind": self.kind, "v": self.v}
        for name in ("lang", "precision", "unit", "datatype"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


@dataclass(frozen=True, slots=True)
class Fact:
    """One triple, with the qualifiers of its statement (KELM's quadruples)."""

    subject: str
    relation: str
    value: Value
    qualifiers: tuple[tuple[str, Value], ...] = ()
    statement: str | None = None  # statement node id when the fact came from p:/ps:/pq: or a JSON claim

    def key(self) -> tuple:
        """Subject, relation and what the value says: a truthy triple has the key of its statement;
        statements with this key differ by their qualifiers (``graph.dedupe_facts``)."""
        return (self.subject, self.relation, self.value.identity())

    def qualifier_key(self) -> tuple:
        """The qualifiers as they read (notation aside): two terms of office differ here."""
        return tuple(sorted((r, v.identity()) for r, v in self.qualifiers))

    def entity_ids(self) -> list[str]:
        ids = [self.subject, self.relation, *self.value.entity_ids()]
        for rel, val in self.qualifiers:
            ids.append(rel)
            ids.extend(val.entity_ids())
        return ids


@dataclass(frozen=True, slots=True)
class Label:
    """A name of an entity (or relation) in one language; ``alias`` for alternative names."""

    entity: str
    text: str
    lang: str | None = None
    alias: bool = False


@dataclass(frozen=True, slots=True)
class StatementPart:
    """One triple about a Wikidata statement node, assembled into a Fact once all parts are together.

    kind: ``subject`` (value = subject id, relation = the p: property), ``value`` (ps:),
    ``qualifier`` (pq:) or ``rank`` (value.v = the rank name).
    """

    node: str
    kind: str
    relation: str
    value: Value

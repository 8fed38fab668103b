"""Plain records of the KG jobs: typed values, facts (triples with qualifiers), labels, statement parts.

They are small frozen dataclasses with slots (cheap to pickle between Beam stages) and carry
no Beam import. Ids are compact: Wikidata IRIs become ``Q42`` / ``P19``; other IRIs stay whole.
"""

from __future__ import annotations

from dataclasses import dataclass

# Value kinds
ENTITY = "entity"  # v = entity id
STRING = "string"  # v = the string (external ids, plain literals)
TEXT = "text"  # v = the text, lang = its language tag
TIME = "time"  # v = ISO-like time (+1952-03-11T00:00:00Z), precision = Wikidata precision code
QUANTITY = "quantity"  # v = decimal amount, unit = unit entity id or None
COORD = "coord"  # v = "lat,lon"
URL = "url"  # v = the URL
KINDS = (ENTITY, STRING, TEXT, TIME, QUANTITY, COORD, URL)


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
        """Identity of the fact for de-duplication (a truthy triple equals its statement)."""
        return (self.subject, self.relation, self.value)

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

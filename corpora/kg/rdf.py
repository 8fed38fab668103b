"""RDF terms to KG records: compact ids for IRIs, Wikidata predicate roles, literals as Values.

Shared by the N-Triples and Turtle readers. A triple becomes one of: a Fact (truthy
``wdt:`` or any non-Wikidata predicate), a Label (``rdfs:label``, ``schema:name``,
``skos:prefLabel``; ``skos:altLabel`` as alias), a StatementPart (``p:``, ``ps:``, ``pq:``,
``wikibase:rank``; ``psv:``/``pqv:`` links to value nodes and the value nodes' fields:
time precision, quantity unit, coordinates), or nothing, counted by why: Wikidata bookkeeping
(``schema:version``, ``skipped_predicate``), sitelinks (``sitelink``), the data page's
metadata (``page_metadata``), "no value" classes (``no_value``) and unknown values
(``.well-known/genid`` IRIs, blank nodes: ``unknown_value``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from corpora.kg.model import ENTITY, Fact, Label, StatementPart, Value
from corpora.kg.values import literal_value

WD = "http://www.wikidata.org/"
ENTITY_NS = WD + "entity/"
STATEMENT_NS = WD + "entity/statement/"
ROLE_NS = [  # longest first
    (WD + "prop/direct-normalized/", "skip"),
    (WD + "prop/direct/", "truthy"),
    (WD + "prop/statement/value-normalized/", "skip"),
    (WD + "prop/statement/value/", "value_node"),
    (WD + "prop/statement/", "value"),
    (WD + "prop/qualifier/value-normalized/", "skip"),
    (WD + "prop/qualifier/value/", "qualifier_node"),
    (WD + "prop/qualifier/", "qualifier"),
    (WD + "prop/reference/", "skip"),
    (WD + "prop/novalue/", "no_value"),
    (WD + "prop/", "statement"),
]
LABEL_PREDICATES = {
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://schema.org/name",
    "http://www.w3.org/2004/02/skos/core#prefLabel",
}
ALIAS_PREDICATES = {"http://www.w3.org/2004/02/skos/core#altLabel"}
RANK = "http://wikiba.se/ontology#rank"
WIKIBASE_NS = "http://wikiba.se/ontology#"
SKIP_PREDICATES = {  # descriptions and dump bookkeeping: not facts
    "http://schema.org/description", "http://schema.org/version", "http://schema.org/dateModified",
    "http://schema.org/about", "http://schema.org/isPartOf", "http://schema.org/inLanguage",
    "http://www.w3.org/ns/prov#wasDerivedFrom", "http://www.w3.org/2002/07/owl#sameAs",
}
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
NO_VALUE_NS = WD + "prop/novalue/"
GENID = WD + ".well-known/genid/"
DATA_PAGE_NS = ("https://www.wikidata.org/wiki/Special:EntityData/", "http://www.wikidata.org/wiki/Special:EntityData/")
# the data page, the dump and licence bookkeeping: about the export, not the entity
PAGE_CLASSES = {"http://schema.org/Dataset", "http://www.w3.org/2002/07/owl#Ontology", WIKIBASE_NS + "Dump"}
PAGE_PREDICATES = {"http://creativecommons.org/ns#license", "http://schema.org/softwareVersion",
                   "http://www.w3.org/2002/07/owl#imports"}
# a sitelink: an article about the entity on a Wikimedia project (its type, language, name, badges)
_SITELINK = re.compile(r"^https?://[^/]+\.(?:wikipedia|wikiquote|wikisource|wikibooks|wikinews|wikiversity|wikivoyage|"
                       r"wiktionary|wikimedia|mediawiki)\.org/")
# fields of Wikidata value nodes (psv:/pqv: objects) that make a Value
VALUE_FIELDS = {WIKIBASE_NS + n: n for n in ("timeValue", "timePrecision", "quantityAmount", "quantityUnit",
                                            "geoLatitude", "geoLongitude")}
UNITLESS = "Q199"  # Wikidata's unit "1": a plain number
PREFIXES = {  # compact ids for common vocabularies (display and templates by id)
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf:",
    "http://www.w3.org/2000/01/rdf-schema#": "rdfs:",
    "http://schema.org/": "schema:",
    "http://dbpedia.org/ontology/": "dbo:",
    "http://dbpedia.org/property/": "dbp:",
    "http://dbpedia.org/resource/": "dbr:",
    "http://xmlns.com/foaf/0.1/": "foaf:",
    "http://purl.org/dc/terms/": "dct:",
}
_WIKIDATA_ID = re.compile(r"^[QPL]\d+$")


def compact_iri(iri: str) -> str:
    """``http://www.wikidata.org/entity/Q42`` -> ``Q42``; known vocabularies -> ``prefix:name``."""
    if iri.startswith(ENTITY_NS):
        local = iri[len(ENTITY_NS):]
        if _WIKIDATA_ID.match(local):
            return local
    for ns, prefix in PREFIXES.items():
        if iri.startswith(ns):
            return prefix + iri[len(ns):]
    return iri


def wikidata_role(predicate: str) -> tuple[str, str] | None:
    """(role, property id) of a Wikidata property IRI, or None for other predicates."""
    if not predicate.startswith(WD + "prop/"):
        return None
    for ns, role in ROLE_NS:
        if predicate.startswith(ns):
            return role, predicate[len(ns):]
    return None


def humanize_id(entity: str) -> str:
    """A readable stand-in for an entity with no label: the local name of an IRI, spaced.

    ``dbr:Alan_Bean`` -> ``Alan Bean``; ``dbo:birthPlace`` -> ``birth place``; ``Q42`` stays.
    """
    local = re.split(r"[/#:]", entity.rstrip("/"))[-1] if not _WIKIDATA_ID.match(entity) else entity
    if not local:
        return entity
    text = local.replace("_", " ")
    if " " not in local and (text.islower() or text[:1].islower()):  # camelCase: "birthPlace" -> "birth place"
        text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text).lower() if not text.isupper() else text
    return text


class RdfMapper:
    """Turns parsed RDF terms into KG records; counts what it skips or guesses.

    Terms come in as ``("iri", text)``, ``("bnode", label)`` or
    ``("literal", lexical, datatype, lang)``. ``counts`` collects ``unknown_datatype`` and
    ``skipped_predicate``.
    """

    def __init__(self, bnode_scope: str = "", on_count: Callable[[str], None] | None = None) -> None:
        self.bnode_scope = bnode_scope
        self.on_count = on_count or (lambda name: None)

    def node_id(self, term: tuple) -> str:
        if term[0] == "bnode":
            return f"_:{self.bnode_scope}{term[1]}"
        return compact_iri(term[1])

    def value(self, term: tuple) -> Value:
        if term[0] == "literal":
            return literal_value(term[1], term[2], term[3], on_unknown=lambda dt: self.on_count("unknown_datatype"))
        return Value(ENTITY, self.node_id(term))

    def _unknown(self, term: tuple) -> bool:
        """A Wikidata "unknown value": a blank node or a ``.well-known/genid`` IRI in a value position."""
        return term[0] == "bnode" or (term[0] == "iri" and term[1].startswith(GENID))

    def _not_a_fact(self, s: tuple, p: str, o: tuple) -> str | None:
        """Why a triple says nothing about an entity (sitelink, page metadata, no-value class), else None."""
        if s[0] == "iri" and _SITELINK.match(s[1]):
            return "sitelink"
        if s[0] == "iri" and (s[1].startswith(DATA_PAGE_NS) or s[1].startswith(WIKIBASE_NS)):
            return "page_metadata"
        if p in PAGE_PREDICATES or (p == RDF_TYPE and o[0] == "iri" and o[1] in PAGE_CLASSES):
            return "page_metadata"
        if p == RDF_TYPE and o[0] == "iri" and o[1].startswith(NO_VALUE_NS):
            return "no_value"
        return None

    def map(self, s: tuple, p: str, o: tuple) -> Fact | Label | StatementPart | None:
        """One triple -> a record (None for triples that carry no fact, counted by why)."""
        why = self._not_a_fact(s, p, o)
        if why is not None:
            self.on_count(why)
            return None
        if p in VALUE_FIELDS:
            return StatementPart(self.node_id(s), "field", VALUE_FIELDS[p], self.value(o))
        if p in LABEL_PREDICATES or p in ALIAS_PREDICATES:
            if o[0] != "literal":
                self.on_count("skipped_predicate")
                return None
            return Label(self.node_id(s), o[1], (o[3] or "").lower() or None, alias=p in ALIAS_PREDICATES)
        role = wikidata_role(p)
        if role is not None:
            kind, prop = role
            if kind in ("truthy", "value", "qualifier") and self._unknown(o):
                if kind == "value":  # the statement is dropped as unknown_value when assembled
                    return StatementPart(self.node_id(s), "unknown", prop, Value(ENTITY, ""))
                self.on_count("unknown_value" if kind == "truthy" else "unknown_qualifier_value")
                return None
            if kind == "truthy":
                return Fact(self.node_id(s), prop, self.value(o))
            if kind == "statement":
                return StatementPart(self.node_id(o), "subject", prop, Value(ENTITY, self.node_id(s)))
            if kind == "value":
                return StatementPart(self.node_id(s), "value", prop, self.value(o))
            if kind == "qualifier":
                return StatementPart(self.node_id(s), "qualifier", prop, self.value(o))
            if kind in ("value_node", "qualifier_node") and o[0] == "iri":
                return StatementPart(self.node_id(s), kind, prop, Value(ENTITY, self.node_id(o)))
            self.on_count("no_value" if kind == "no_value" else "skipped_predicate")
            return None
        if p == RANK:
            return StatementPart(self.node_id(s), "rank", "rank", Value(ENTITY, o[1].rsplit("#", 1)[-1]))
        if p in SKIP_PREDICATES or p.startswith(WIKIBASE_NS) or (p == RDF_TYPE and o[0] == "iri"
                                                                   and o[1].startswith(WIKIBASE_NS)):
            self.on_count("skipped_predicate")
            return None
        return Fact(self.node_id(s), compact_iri(p), self.value(o))


def file_mapper(path: str, on_count: Callable[[str], None] | None = None) -> RdfMapper:
    """An RdfMapper whose blank nodes are scoped to one file (``_:b1`` in two files are two nodes)."""
    import hashlib

    return RdfMapper(hashlib.blake2b(path.encode(), digest_size=4).hexdigest() + ":", on_count)

"""Wikidata JSON dumps (``latest-all.json``): one entity per line inside ``[`` ... ``]``.

Each line is parsed on its own (trailing comma stripped), so the file splits into byte
ranges like N-Triples. An entity gives its labels and aliases in the wanted languages and
one Fact per claim (``mainsnak`` value plus its qualifiers). Deprecated claims,
``novalue`` (``no_value``) and ``somevalue`` (``unknown_value``) snaks are skipped and counted;
a value type we do not know is dropped as ``unknown_datatype``. A ``wbgetentities`` API
answer (``{"entities": {...}}`` on one line) is read as the entities it holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO

from corpora.kg.model import COORD, ENTITY, STRING, TEXT, URL, Fact, Label, Value
from corpora.kg.readers import (
    Chunk,
    ReadOptions,
    ReadStats,
    Record,
    checked_lines,
    drop,
    keep_counted_label,
    keep_label,
)
from corpora.kg.values import BadLiteral, quantity_value, time_value
from pipeline.records import Drop

ENTITY_PREFIX = "http://www.wikidata.org/entity/"


class UnknownValueType(ValueError):
    pass


def snak_value(snak: dict) -> Value | None:
    """The Value of a snak; None for novalue/somevalue; UnknownValueType/BadLiteral when unusable."""
    if snak.get("snaktype", "value") != "value":
        return None
    dv = snak.get("datavalue") or {}
    kind, v = dv.get("type"), dv.get("value")
    if kind == "wikibase-entityid":
        if "id" in v:
            return Value(ENTITY, v["id"])
        letter = {"item": "Q", "property": "P", "lexeme": "L"}.get(v.get("entity-type", "item"), "Q")
        return Value(ENTITY, f"{letter}{v['numeric-id']}")
    if kind == "string":
        datatype = snak.get("datatype")
        if datatype == "url":
            return Value(URL, str(v))
        # external-id and commonsMedia are marked: identifiers.py leaves them out by default
        return Value(STRING, str(v), datatype=datatype if datatype in ("external-id", "commonsMedia") else None)
    if kind == "monolingualtext":
        return Value(TEXT, v["text"], lang=v.get("language"))
    if kind == "time":
        return time_value(v["time"], int(v.get("precision", 11)))
    if kind == "quantity":
        unit = v.get("unit", "1")
        unit_id = unit[len(ENTITY_PREFIX):] if unit.startswith(ENTITY_PREFIX) else None
        return quantity_value(v["amount"], unit_id)
    if kind == "globecoordinate":
        return Value(COORD, f"{float(v['latitude'])},{float(v['longitude'])}")
    raise UnknownValueType(f"value type {kind!r}")


def entity_records(entity: dict, options: ReadOptions, stats: ReadStats) -> Iterator[Record | tuple[str, str]]:
    """Labels, aliases and facts of one entity; ``(reason, detail)`` for each claim skipped."""
    eid = entity["id"]
    for lang, item in (entity.get("labels") or {}).items():
        label = Label(eid, item["value"], lang)
        if keep_counted_label(label, options, stats):
            yield label
    if options.keep_aliases:
        for lang, items in (entity.get("aliases") or {}).items():
            for item in items:
                alias = Label(eid, item["value"], lang, alias=True)
                if keep_label(alias, options):
                    yield alias
    for prop, claims in (entity.get("claims") or {}).items():
        for claim in claims:
            if claim.get("rank") == "deprecated":
                stats.counts["deprecated_claim"] += 1
                continue
            try:
                value = snak_value(claim["mainsnak"])
            except UnknownValueType as exc:
                yield ("unknown_datatype", f"{eid} {prop}: {exc}")
                continue
            except (BadLiteral, KeyError, TypeError, ValueError) as exc:
                yield ("bad_value", f"{eid} {prop}: {exc}")
                continue
            if value is None:  # "no value" (a negative fact) or "unknown value": nothing to state
                stats.counts["unknown_value" if claim["mainsnak"].get("snaktype") == "somevalue" else "no_value"] += 1
                continue
            quals = []
            for qprop in claim.get("qualifiers-order") or sorted(claim.get("qualifiers") or {}):
                for q in (claim.get("qualifiers") or {}).get(qprop, []):
                    try:
                        qv = snak_value(q)
                    except (UnknownValueType, BadLiteral, KeyError, TypeError, ValueError):
                        stats.counts["qualifier_skipped"] += 1
                        continue
                    if qv is None:
                        stats.counts["unknown_qualifier_value" if q.get("snaktype") == "somevalue"
                                     else "no_value_qualifier"] += 1
                    else:
                        quals.append((qprop, qv))
            yield Fact(eid, prop, value, tuple(quals), statement=claim.get("id"))


def read_wikidata_json(raw: BinaryIO, chunk: Chunk, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    for where, line in checked_lines(raw, chunk, options, stats, what="entity "):
        if isinstance(line, Drop):
            yield line
            continue
        body = line.strip().rstrip(b",")
        if body in (b"", b"[", b"]"):
            stats.counts["blank_or_bracket_lines"] += 1  # the dump's array brackets: not records
            continue
        stats.records += 1
        try:
            entity = json.loads(body)
        except ValueError as exc:
            yield drop("invalid_json", chunk, where, str(exc))
            continue
        if isinstance(entity, dict) and isinstance(entity.get("entities"), dict):  # a wbgetentities answer
            stats.counts["wbgetentities_lines"] += 1
            entities = list(entity["entities"].values())
            stats.records += len(entities) - 1
        else:
            entities = [entity]
        for entity in entities:
            yield from _entity(entity, chunk, where, options, stats)


def _entity(entity, chunk: Chunk, where: str, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    """One entity's records, or its drop (``not_an_entity``, ``bad_entity``)."""
    if not isinstance(entity, dict) or not isinstance(entity.get("id"), str) or "claims" not in entity and \
            "labels" not in entity:
        yield drop("not_an_entity", chunk, where, "a Wikidata entity (a JSON object with an id and claims or "
                   "labels) was expected")
        return
    try:  # the whole entity first: a damaged one is dropped, never kept in part
        records = list(entity_records(entity, options, stats))
    except (KeyError, TypeError, AttributeError) as exc:
        yield drop("bad_entity", chunk, where, f"{entity.get('id')}: {exc!r}")
        return
    for rec in records:
        if isinstance(rec, tuple):  # a claim skipped: the entity itself is kept
            stats.counts[rec[0]] += 1
            continue
        yield rec

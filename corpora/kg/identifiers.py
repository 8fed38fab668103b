"""External identifiers and media files: facts that say nothing a language model should learn.

About a quarter of Wikidata's statements give an entity's id in another database (VIAF,
IMDb, ...: datatype ``external-id``) or a file on Commons (``commonsMedia``). The ``kg`` job
leaves them out by default (counted as ``identifier`` / ``media_file`` in the ``facts``
stage; ``--keep-identifiers`` keeps them). A fact is an identifier when

1. its value carries the Wikidata datatype ``external-id`` (the JSON dump's snak ``datatype``);
2. its relation is in ``templates/external_ids.yaml``: the Wikidata properties whose English
   label (2017 snapshot of 2,406 property labels) ends with "ID" or "identifier";
3. or its relation is a Wikidata property and its value a plain string literal (no language
   tag, no datatype), as every external-id is in Wikidata's RDF (``wdt:P214 "113230702"``),
   unless the property is one of the few string properties that carry text (``TEXT_STRINGS``).
   This covers RDF exports, whose ``wikibase:propertyType`` is rarely in the same file
   (a ``wikibase:ExternalId`` property's values are always such strings).

A media file is a Commons file: the JSON datatype ``commonsMedia`` or an IRI under
``commons.wikimedia.org/wiki/Special:FilePath/``. A Wikimedia page (``wikimedia_page``) is a
link between an item and Wikimedia's own pages (its category, template, portal, Commons
category, a Wikimedia project's focus list): about the wikis, not about the subject.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import lru_cache

from corpora.kg.model import ENTITY, STRING, Fact

EXTERNAL_ID = "external-id"
COMMONS_MEDIA = "commonsMedia"
LIST_FILE = os.path.join(os.path.dirname(__file__), "templates", "external_ids.yaml")
# Wikidata string properties whose values are text, not ids (kept)
TEXT_STRINGS = frozenset({"P742", "P1545", "P2093", "P1932", "P1810", "P1814", "P1353", "P528", "P1449", "P2561"})
WIKIMEDIA_PAGES = frozenset({  # topic's main category/template/portal, Commons category/gallery/creator, ...
    "P910", "P1424", "P1151", "P1423", "P373", "P935", "P1472", "P1612", "P1740", "P1791", "P1792", "P1464",
    "P1465", "P1753", "P1754", "P3876", "P4195", "P2354", "P5008", "P7084", "P1200", "P1204", "P3858",
    "P6104", "P8464", "P4224"})
_WIKIDATA_PROPERTY = re.compile(r"^P\d+$")
_COMMONS_FILE = re.compile(r"^https?://commons\.wikimedia\.org/wiki/(?:Special:FilePath/|File:)")


@lru_cache(maxsize=1)
def listed_external_ids() -> frozenset[str]:
    """The shipped list (rule 2 of the module doc)."""
    import yaml

    with open(LIST_FILE, encoding="utf-8") as f:
        return frozenset(str(k) for k in (yaml.safe_load(f) or {}))


def leave_out_reason(fact: Fact) -> str | None:
    """``identifier``, ``media_file`` or ``wikimedia_page`` for a fact left out by default, else None."""
    v = fact.value
    if fact.relation in WIKIMEDIA_PAGES:
        return "wikimedia_page"
    if v.datatype == COMMONS_MEDIA or (v.kind == ENTITY and _COMMONS_FILE.match(v.v)):
        return "media_file"
    if v.datatype == EXTERNAL_ID or fact.relation in listed_external_ids():
        return "identifier"
    if (v.kind == STRING and v.datatype is None and _WIKIDATA_PROPERTY.match(fact.relation)
            and fact.relation not in TEXT_STRINGS):
        return "identifier"
    return None


class IdentifierFilter:
    """Keeps the facts that are not identifiers or media files (all of them with ``keep``)."""

    def __init__(self, keep: bool = False) -> None:
        self.keep = keep

    def split(self, facts: Iterable[Fact]) -> tuple[list[Fact], dict[str, int]]:
        """(facts kept, {reason: facts left out})."""
        kept, out = [], {}
        for f in facts:
            why = None if self.keep else leave_out_reason(f)
            if why is None:
                kept.append(f)
            else:
                out[why] = out.get(why, 0) + 1
        return kept, out

    def keep_facts(self, facts: Iterable[Fact]) -> list[Fact]:
        return self.split(facts)[0]

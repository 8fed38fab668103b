"""The entity graph with networkx: routing facts to their owner (chains), hub caps, co-occurrence.

Per entity E, the job knows E's own facts and up to two distinct entities that point at E.
``route_entity`` decides where E's facts are verbalized:

* **chain**: E is referenced by exactly one other entity S, has at most
  ``max_chain_facts`` facts, and none of them points back at S. E is then only described
  through S (say, a statement-like node or a little-known work), so its facts travel to S
  and are verbalized next to the fact that links S to E (subject -> object -> its facts).
  Chains are one level deep: if S itself is chained elsewhere, E's facts still live under
  S's key and are verbalized with E as their subject (an "orphan chain", counted).
* **own**: every other case. A hub with more than ``max_facts`` facts keeps the
  ``max_facts`` with the smallest hash of their content (deterministic on every runner,
  streaming with bounded memory); the rest are dropped and counted as ``hub_cap``.

Co-occurrence counts (how many subjects have both relation a and relation b) are learned
from the input itself (or from aligned sentences, see ``align.py``) and drive the grouping
in ``subgraphs.py``.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx

from corpora.kg.model import ENTITY, Fact

MAX_RELATIONS_PER_SUBJECT = 64  # pairs are counted among at most this many relations of one subject


def fact_hash(fact: Fact) -> bytes:
    text = repr((fact.subject, fact.relation, fact.value, fact.qualifiers))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()


def _cap_key(fact: Fact) -> tuple[bytes, str]:
    """The hub cap's order: the content hash, then the statement id, so that a triple and the statement
    stating it (the same content) are taken in the same order on every runner, whatever the input order."""
    return fact_hash(fact), fact.statement or ""


def cap_facts(facts: Iterable[Fact], max_facts: int) -> tuple[list[Fact], int]:
    """At most ``max_facts`` facts (those with the smallest content hash, ties by statement id) and how
    many went."""
    total = 0

    def counted():
        nonlocal total
        for f in facts:
            total += 1
            yield f

    kept = heapq.nsmallest(max_facts, counted(), key=_cap_key)
    return kept, total - len(kept)


def dedupe_facts(facts: Iterable[Fact]) -> tuple[list[Fact], int]:
    """Drop repeats: facts with the same subject, relation, value and qualifiers, and facts without
    qualifiers (truthy triples) whose value a statement with qualifiers states too. Statements
    that share a value but differ in qualifiers (two terms of office, an award won twice) are
    different facts and are all kept.

    Returns the facts in a canonical order (relation, value, qualifiers) and how many were dropped.
    """
    by_key: dict[tuple, dict[tuple, Fact]] = {}
    dropped = 0
    for f in facts:
        variants = by_key.setdefault(f.key(), {})
        q = f.qualifier_key()
        old = variants.get(q)
        if old is None:
            variants[q] = f
            continue
        dropped += 1
        # keep the richer one: from a statement (its value carries precision and unit)
        if (f.statement or "", f.value.precision or 0, f.value.unit or "") > (
                old.statement or "", old.value.precision or 0, old.value.unit or ""):
            variants[q] = f
    kept = []
    for variants in by_key.values():
        if len(variants) > 1 and () in variants:  # implied by a statement with qualifiers
            del variants[()]
            dropped += 1
        kept.extend(variants.values())
    ordered = sorted(kept, key=lambda f: (f.relation, f.value.kind, f.value.v, repr(f.qualifiers)))
    return ordered, dropped


@dataclass
class Routing:
    """Where one entity's facts go: to itself (``own``) or to the one entity pointing at it (``chain``)."""

    owner: str
    role: str  # "own" or "chain"
    facts: list[Fact]
    hub_capped: int = 0
    duplicates: int = 0


def route_entity(entity: str, facts: Iterable[Fact], referrers: Iterable[str], max_facts: int,
                 max_chain_facts: int) -> Routing:
    """Decide chain or own for one entity (see the module doc)."""
    kept, capped = cap_facts(facts, max_facts)
    kept, dupes = dedupe_facts(kept)
    refs = sorted(set(referrers) - {entity})
    if (len(refs) == 1 and 0 < len(kept) <= max_chain_facts
            and not any(f.value.kind == ENTITY and f.value.v == refs[0] for f in kept)):
        return Routing(refs[0], "chain", kept, capped, dupes)
    return Routing(entity, "own", kept, capped, dupes)


def entity_graph(subject: str, own: list[Fact], chains: dict[str, list[Fact]]) -> nx.MultiDiGraph:
    """The subject's neighbourhood as a directed multigraph (edges keyed by relation)."""
    g = nx.MultiDiGraph()
    g.add_node(subject)
    for f in itertools.chain(own, *chains.values()):
        target = f.value.v if f.value.kind == ENTITY else f"literal:{f.value.kind}:{f.value.v}"
        g.add_edge(f.subject, target, key=f.relation, fact=f)
    return g


def linking_facts(graph: nx.MultiDiGraph, subject: str, chain_entity: str) -> list[Fact]:
    """The subject's facts that point at ``chain_entity`` (empty for an orphan chain)."""
    return [d["fact"] for _, v, d in graph.out_edges(subject, data=True) if v == chain_entity]


# ---------------------------------------------------------------- co-occurrence


@dataclass
class Cooccurrence:
    """Relation frequencies and pair counts over subjects: ``weight(a, b)`` is their cosine,
    count(a, b) / sqrt(count(a) * count(b)), 0 below ``min_pair_count`` shared subjects."""

    relations: Counter = field(default_factory=Counter)
    pairs: Counter = field(default_factory=Counter)
    _weights: dict = field(default_factory=dict, repr=False, compare=False)  # memo of weight()

    @staticmethod
    def pair(a: str, b: str) -> tuple[str, str]:
        return (a, b) if a <= b else (b, a)

    def add_subject(self, relations: Iterable[str]) -> None:
        rels = sorted(set(relations))[:MAX_RELATIONS_PER_SUBJECT]
        self._weights.clear()
        self.relations.update(rels)
        self.pairs.update(itertools.combinations(rels, 2))

    def merge(self, other: Cooccurrence) -> Cooccurrence:
        self._weights.clear()
        self.relations.update(other.relations)
        self.pairs.update(other.pairs)
        return self

    def weight(self, a: str, b: str, min_pair_count: int = 2) -> float:
        key = (*self.pair(a, b), min_pair_count)
        w = self._weights.get(key)
        if w is None:
            n = self.pairs.get(key[:2], 0)
            w = 0.0 if n < min_pair_count else n / math.sqrt(
                max(1, self.relations.get(a, 0)) * max(1, self.relations.get(b, 0)))
            self._weights[key] = w
        return w

    def to_json(self) -> dict:
        return {"relations": dict(self.relations), "pairs": [[a, b, n] for (a, b), n in sorted(self.pairs.items())]}

    @classmethod
    def from_json(cls, obj: dict) -> Cooccurrence:
        return cls(Counter(obj.get("relations", {})), Counter({(a, b): n for a, b, n in obj.get("pairs", [])}))


# ---------------------------------------------------------------- combiners (pure; Beam's PureCombine wraps them)


class CapReferrers:
    """Up to two distinct entities that point at an entity (all that chain routing needs)."""

    def create_accumulator(self) -> tuple:
        return ()

    def add_input(self, acc: tuple, subject: str) -> tuple:
        return acc if subject in acc or len(acc) >= 2 else tuple(sorted(acc + (subject,)))

    def merge_accumulators(self, accs: Iterable[tuple]) -> tuple:
        out: tuple = ()
        for acc in accs:
            for s in acc:
                out = self.add_input(out, s)
        return out

    def extract_output(self, acc: tuple) -> list[str]:
        return list(acc)


class CountCooccurrence:
    """Relation sets of subjects -> their Cooccurrence counts (the subgraphs stage's side input)."""

    def create_accumulator(self) -> Cooccurrence:
        return Cooccurrence()

    def add_input(self, acc: Cooccurrence, relations: Iterable[str]) -> Cooccurrence:
        acc.add_subject(relations)
        return acc

    def merge_accumulators(self, accs: Iterable[Cooccurrence]) -> Cooccurrence:
        out = Cooccurrence()
        for a in accs:
            out.merge(a)
        return out

    def extract_output(self, acc: Cooccurrence) -> Cooccurrence:
        return acc

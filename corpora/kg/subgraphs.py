"""Grouping one entity's facts into subgraphs of at most K facts (the unit a sentence verbalizes).

Algorithm (size-constrained agglomerative grouping on a weighted graph of relation groups):

1. **Units.** The subject's facts are grouped by relation (all children of a person form one
   unit, verbalized as a list). A relation with more than K values is split into units of K.
2. **Chains.** The facts of a chained entity (see ``graph.py``) join the unit of the fact that
   links the subject to it, as long as the unit stays within K; the overflow, and chains
   whose linking fact is absent (orphans, e.g. from cycles), become units of their own.
3. **Co-occurrence edges.** Units are nodes of a graph (an edge list: the merge only walks
   the edges in weight order); two units of different relations get an edge weighted by the
   relations' co-occurrence cosine (``Cooccurrence``) when they share at least
   ``min_pair_count`` subjects and the weight is at least ``min_weight``.
4. **Merge.** Edges are taken heaviest first (ties by relation ids, so the result is
   deterministic); the two groups at an edge's ends merge when together they hold at most
   K facts (Kruskal-style with a size cap).
5. **Leftovers.** With ``pack_leftovers``, groups still smaller than K are packed first-fit,
   in order of relation frequency, so rare relations do not each become a one-fact sentence.

Parameters: ``max_facts`` (K, default 5), ``min_pair_count`` (2), ``min_weight`` (0.05),
``max_chain_facts`` (3), ``pack_leftovers`` (True).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from corpora.kg.graph import Cooccurrence, entity_graph, linking_facts
from corpora.kg.model import ENTITY, Fact

HUMAN = "Q5"
MALE = {"Q6581097", "Q2449503", "Q44148"}
FEMALE = {"Q6581072", "Q1052281", "Q43445"}
PERSON_RELATIONS = {"P569", "P19", "P570", "P20", "P21", "P106", "P26", "P22", "P25"}  # only people have these
PAST_RELATIONS = {"P570", "P576", "P730"}  # date of death, dissolved, service retirement
MAX_CONTEXT_IDS = 50


@dataclass(frozen=True)
class SubgraphParams:
    max_facts: int = 5
    min_pair_count: int = 2
    min_weight: float = 0.05
    max_chain_facts: int = 3
    pack_leftovers: bool = True

    def __post_init__(self) -> None:
        if self.max_facts < 1:
            raise ValueError("--max-facts must be at least 1")
        if self.min_pair_count < 1:
            raise ValueError("--min-pair-count must be at least 1")
        if self.max_chain_facts < 0:
            raise ValueError("--max-chain-facts must be 0 (no chains) or more")


@dataclass
class Subgraph:
    """Facts verbalized together; ``labels`` maps every id they mention to its label once resolved."""

    id: str
    subject: str
    facts: list[Fact]
    pronoun: str = "it"  # he, she, it, or "" (a person of unknown gender: repeat the name)
    past: bool = False
    context: list[str] = field(default_factory=list)  # entities of the subject's other facts
    labels: dict[str, str] = field(default_factory=dict)
    chain_count: int = 0

    def entity_ids(self) -> set[str]:
        ids = {self.subject}
        for f in self.facts:
            ids.update(f.entity_ids())
        return ids | set(self.context)


@dataclass
class _Unit:
    relation: str
    facts: list[Fact]
    order: int

    @property
    def size(self) -> int:
        return len(self.facts)


def pronoun_for(own: list[Fact]) -> str:
    """he / she for people with a known sex or gender, "" for other people, else it."""
    human = any(f.relation == "P31" and f.value.v == HUMAN for f in own) or any(
        f.relation == "rdf:type" and f.value.v.rsplit("/", 1)[-1] in ("Person", "foaf:Person") for f in own) or (
        not any(f.relation == "P31" for f in own) and any(f.relation in PERSON_RELATIONS for f in own))
    genders = {f.value.v for f in own if f.relation in ("P21", "foaf:gender")}
    if genders & MALE or genders == {"male"}:
        return "he"
    if genders & FEMALE or genders == {"female"}:
        return "she"
    return "" if human else "it"


def _units(own: list[Fact], k: int) -> list[_Unit]:
    by_rel: dict[str, list[Fact]] = {}
    for f in own:
        by_rel.setdefault(f.relation, []).append(f)
    units = []
    for rel in sorted(by_rel):
        facts = by_rel[rel]
        for i in range(0, len(facts), k):
            units.append(_Unit(rel, facts[i:i + k], len(units)))
    return units


def partition(subject: str, own: list[Fact], chains: dict[str, list[Fact]], cooc: Cooccurrence,
              params: SubgraphParams, relation_order: dict[str, int] | None = None
              ) -> tuple[list[Subgraph], dict[str, int]]:
    """The subject's subgraphs, in a deterministic order, and counts (chains, orphan chains, ...).

    ``relation_order`` (the templates' clause order) breaks ties between equally weighted
    edges in favour of relations verbalized next to each other (birth date with birth place).
    """
    order = relation_order or {}
    k = params.max_facts
    counts = {"chains": 0, "orphan_chains": 0, "chain_overflow": 0}
    units = _units(own, k)
    graph = entity_graph(subject, own, chains) if chains else None
    for chained in sorted(chains):
        facts = chains[chained]
        links = linking_facts(graph, subject, chained)
        host = next((u for u in units if any(f in links for f in u.facts)), None)
        if host is None:
            counts["orphan_chains"] += 1
            for i in range(0, len(facts), k):
                units.append(_Unit(f"chain:{chained}", facts[i:i + k], len(units)))
            continue
        counts["chains"] += 1
        room = k - host.size
        host.facts = host.facts + facts[:room]
        if len(facts) > room:
            counts["chain_overflow"] += 1
            rest = facts[room:]
            for i in range(0, len(rest), k):
                units.append(_Unit(f"chain:{chained}", rest[i:i + k], len(units)))
    weighted = []  # (unit, unit, weight): each pair of units once
    for i, a in enumerate(units):
        for b in units[i + 1:]:
            if a.relation != b.relation:
                w = cooc.weight(a.relation, b.relation, params.min_pair_count)
                if w > 0 and w >= params.min_weight:
                    weighted.append((a.order, b.order, round(w, 6)))
    group = {u.order: u.order for u in units}
    members = {u.order: [u] for u in units}

    def find(x: int) -> int:
        while group[x] != x:
            group[x] = group[group[x]]
            x = group[x]
        return x

    sizes = {u.order: u.size for u in units}

    def size(root: int) -> int:
        return sizes[root]

    rank = [order.get(u.relation) for u in units]  # unit order == index

    def gap(a: int, b: int) -> int:
        return abs(rank[a] - rank[b]) if rank[a] is not None and rank[b] is not None else 10**6

    edges = sorted(weighted, key=lambda e: (-e[2], gap(e[0], e[1]), min(e[0], e[1]), max(e[0], e[1])))
    for a, b, _ in edges:
        ra, rb = find(a), find(b)
        if ra != rb and size(ra) + size(rb) <= k:
            keep, gone = min(ra, rb), max(ra, rb)
            group[gone] = keep
            members[keep] += members.pop(gone)
            sizes[keep] += sizes.pop(gone)
    roots = sorted(members)
    if params.pack_leftovers:
        freq = lambda r: -sum(cooc.relations.get(u.relation, 0) for u in members[r])  # noqa: E731
        small = sorted((r for r in roots if size(r) < k), key=lambda r: (freq(r), r))
        bins: list[int] = []
        for r in small:
            target = next((b for b in bins if size(b) + size(r) <= k), None)
            if target is None:
                bins.append(r)
            else:
                members[target] += members.pop(r)
                sizes[target] += sizes.pop(r)
        roots = sorted(members)
    pronoun = pronoun_for(own)
    past = any(f.relation in PAST_RELATIONS for f in own)
    all_objects = sorted({f.value.v for f in own if f.value.kind == ENTITY})
    out = []
    for i, root in enumerate(roots):
        us = sorted(members[root], key=lambda u: u.order)
        facts = [f for u in us for f in u.facts]
        inside = {f.value.v for f in facts if f.value.kind == ENTITY}
        context = [e for e in all_objects if e not in inside][:MAX_CONTEXT_IDS]
        chained = sum(1 for f in facts if f.subject != subject)
        out.append(Subgraph(f"{subject}#{i}", subject, facts, pronoun, past, context, chain_count=chained))
    return out, counts

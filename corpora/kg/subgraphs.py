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
MALE = {"Q6581097", "Q2449503", "Q44148", "male", "dbr:Male", "Male"}
FEMALE = {"Q6581072", "Q1052281", "Q43445", "female", "dbr:Female", "Female"}
# Evidence of a subject's kind, by relation (Wikidata ids, and DBpedia / WebNLG / DART names by their
# letters only: "birthPlace", "dbo:birthPlace" and "BIRTH_PLACE" are all "birthplace")
KIND_RELATIONS = {
    "person": {"p19", "p20", "p569", "p570", "p21", "p106", "p26", "p22", "p25", "p27", "p69", "p735", "p734",
               "p1412", "p40", "p3373", "p108", "p463", "p166", "p1303", "p509", "p119", "birthplace", "birthdate",
               "deathplace", "deathdate", "birthname", "almamater", "occupation", "nationality", "spouse",
               "dateofretirement", "wasacrewmemberof", "wasselectedbynasa", "timeinspace", "backuppilot",
               "gender", "parent", "child", "relative", "residence", "award", "awards", "profession", "club",
               "position", "height", "weight", "team", "draftteam", "debutteam", "formerteam"},
    "place": {"p625", "p1082", "p36", "p35", "p6", "p30", "p2046", "p47", "p1376", "p190", "p150", "p37", "p38",
              "p206", "p2044", "p421", "capital", "largestcity", "populationtotal", "areatotal", "leadername",
              "leadertitle", "ethnicgroup", "demonym", "hastoitswest", "hastoitsnortheast", "hastoitseast",
              "hastoitssouth", "hastoitsnorth", "elevation", "populationdensity", "currency", "language",
              "officiallanguage", "patronsaint", "senators", "areacode", "postalcode", "timezone"},
    "organisation": {"p112", "p159", "p1128", "p452", "p169", "p488", "p1454", "p355", "p749", "p2139",
                     "founder", "headquarters", "numberofstudents", "academicstaffsize", "dean", "president",
                     "numberofpostgraduatestudents", "affiliation", "affiliations", "campus", "keyperson",
                     "numberofemployees", "industry", "sportsoffered", "sportsgoverningbody"},
    "work": {"p50", "p57", "p577", "p136", "p161", "p123", "p364", "p495", "p86", "p175", "p162", "p58", "p407",
             "p437", "p179", "p155", "p156", "author", "director", "starring", "publisher", "releasedate",
             "genre", "writer", "producer", "composer", "recordlabel", "runtime"},
}
KIND_CLASSES = {  # values of P31 (instance of) / rdf:type that settle the kind
    "person": {HUMAN, "dbo:Person", "foaf:Person", "schema:Person"},
    "place": {"Q515", "Q6256", "Q3624078", "Q1549591", "Q5119", "Q486972", "Q532", "Q3957", "Q35657", "Q1637706",
              "Q15284", "Q747074", "Q484170", "Q2221906", "Q8502", "Q23397", "Q4022", "dbo:Place", "dbo:City",
              "dbo:Country", "schema:Place"},
    "organisation": {"Q43229", "Q4830453", "Q3918", "Q783794", "Q891723", "Q7278", "Q163740", "Q902104",
                     "Q2385804", "dbo:Organisation", "dbo:University", "schema:Organization"},
    "work": {"Q7725634", "Q571", "Q11424", "Q482994", "Q134556", "Q5398426", "Q47461344", "Q7366", "Q838948",
             "Q3305213", "dbo:Work", "dbo:Film", "dbo:Book", "schema:CreativeWork"},
}
PERSON_RELATIONS = KIND_RELATIONS["person"]
PAST_RELATIONS = {"p570", "p576", "p730", "p20", "p509", "p1196", "p119", "deathdate", "deathplace", "dissolved",
                  "dissolutiondate", "dateofdeath", "closingdate"}  # the subject died or ended
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
    kind: str = "thing"  # person, place, organisation, work, thing (subject_kind)

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


def relation_key(relation: str) -> str:
    """A relation by its letters and digits, case-folded: ``P19`` -> ``p19``, ``dbo:birthPlace`` and
    ``BIRTH_PLACE`` -> ``birthplace``."""
    local = relation.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    local = local.split(":", 1)[1] if ":" in local and not local.startswith("http") else local
    return "".join(ch for ch in local.casefold() if ch.isalnum())


def _is_type(f: Fact) -> bool:
    return f.relation in ("P31", "rdf:type") or relation_key(f.relation) in ("type", "p31", "instanceof")


def subject_kind(own: list[Fact]) -> str:
    """person, place, organisation, work or thing: from its classes (P31 / rdf:type) when they settle
    it, else from the relations it has (a birth place: a person; a population: a place)."""
    classes = {f.value.v for f in own if _is_type(f)}
    for kind, known in KIND_CLASSES.items():
        if classes & known:
            return kind
    votes = {kind: sum(1 for f in own if relation_key(f.relation) in rels) for kind, rels in KIND_RELATIONS.items()}
    best = max(votes, key=lambda k: (votes[k], k == "person"))
    return best if votes[best] else "thing"


def pronoun_for(own: list[Fact], kind: str | None = None) -> str:
    """he / she for people with a known sex or gender, "" for other people (the name is repeated), else it."""
    kind = kind or subject_kind(own)
    if kind != "person":
        return "it"
    genders = {f.value.v for f in own if relation_key(f.relation) in ("p21", "gender", "sexorgender")}
    if genders & MALE:
        return "he"
    if genders & FEMALE:
        return "she"
    return ""


def is_past(own: list[Fact]) -> bool:
    """The subject died or ended (a date or place of death, a dissolution): its facts read in the past."""
    return any(relation_key(f.relation) in PAST_RELATIONS for f in own)


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
    kind = subject_kind(own)
    pronoun = pronoun_for(own, kind)
    past = is_past(own)
    all_objects = sorted({f.value.v for f in own if f.value.kind == ENTITY})
    out = []
    for i, root in enumerate(roots):
        us = sorted(members[root], key=lambda u: u.order)
        facts = [f for u in us for f in u.facts]
        inside = {f.value.v for f in facts if f.value.kind == ENTITY}
        context = [e for e in all_objects if e not in inside][:MAX_CONTEXT_IDS]
        chained = sum(1 for f in facts if f.subject != subject)
        out.append(Subgraph(f"{subject}#{i}", subject, facts, pronoun, past, context, chain_count=chained,
                            kind=kind))
    return out, counts

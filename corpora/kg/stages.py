"""The kg job's stages as pure callables (no Beam): what each returns is counted by the stage
wrappers of ``pipeline.beam_steps`` (``pipeline.outcomes``), composed in ``transforms.py``.

Stages: ``read`` (a chunk -> facts, labels, statement parts), ``statements`` (value nodes resolved,
statement nodes assembled), ``facts`` (routing: identifiers left out, hub cap, duplicates,
chains), ``labels`` (the label join), ``subgraphs`` (grouping, labels attached: the ``labels``
stage's lookups), ``verbalize`` and ``faithfulness``. ``encoded``: facts, parts and routed groups
travel as ``codec`` bytes (the kg job's shuffles); kg-align keeps them as records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

from corpora.kg.codec import (
    decode_fact,
    decode_part,
    encode_fact,
    encode_group,
    encode_label,
    encode_part,
    referenced_entity,
    split_owner_values,
)
from corpora.kg.faithfulness import FaithfulnessChecker
from corpora.kg.graph import Cooccurrence, route_entity
from corpora.kg.identifiers import IdentifierFilter
from corpora.kg.labels import attach_labels, ids_to_name
from corpora.kg.model import Fact, Label, StatementPart
from corpora.kg.readers import Chunk, ReadOptions, ReadStats, read_chunk
from corpora.kg.statements import LINK_KINDS, assemble_statement, resolve_value_node
from corpora.kg.subgraphs import Subgraph, SubgraphParams, partition
from corpora.kg.templates import TemplateSet
from pipeline.outcomes import At, Count, Forward, Kept, To, Weighted
from pipeline.records import Drop

LABELS_STAGE = "labels"
# the named outputs of stages with more than one kind of record
LABELS = "labels"  # read: (entity, Label)
PARTS = "parts"  # read: statement parts, keyed by statement node
VALUE_PARTS = "value_parts"  # read: value-node fields and the statement links to them, keyed by value node
RELSETS = "relsets"  # facts: the relations of each entity that owns its facts (co-occurrence)
REQUESTS = "requests"  # facts: (id, owner) for every id an owner needs named


class ReadChunk:
    """``read``: a chunk -> its facts (main), labels (``LABELS``) and statement parts (``PARTS``,
    ``VALUE_PARTS``), each input record one in; drops by reason; the readers' counts. An unreadable
    file is one record, dropped as ``unreadable_file``."""

    def __init__(self, options: ReadOptions, encoded: bool = False,
                 open_fn: Callable[[str], BinaryIO] | None = None) -> None:
        self.options, self.encoded, self.open_fn = options, encoded, open_fn

    def __call__(self, chunk: Chunk) -> Iterator[Any]:
        stats, seen = ReadStats(), Counter()
        labels_only = chunk.fmt == "labels-tsv" or getattr(chunk, "labels_only", False)
        drops = 0
        try:
            for rec in read_chunk(chunk, self.options, stats, open_fn=self.open_fn):
                if isinstance(rec, Drop):
                    drops += 1
                    yield rec
                elif isinstance(rec, Label):
                    seen["labels"] += 1
                    yield To(LABELS, Forward((rec.entity, rec)))
                elif labels_only:
                    seen["ignored_in_labels_file"] += 1
                elif isinstance(rec, StatementPart):
                    seen["statement_parts"] += 1
                    yield To(*self._keyed_part(rec))
                elif isinstance(rec, Fact):
                    seen["facts"] += 1
                    yield Forward((rec.subject, encode_fact(rec)) if self.encoded else rec)
        except OSError as exc:
            stats.records += 1
            drops += 1
            yield Drop("", "unreadable_file", id=chunk.path, source_file=chunk.path, detail=str(exc))
        counts = dict(stats.counts)
        for name, n in seen.items():
            counts[name] = counts.get(name, 0) + n
        yield Weighted(Kept([], counts), stats.records - drops)  # the records read whole (their outputs above)

    def _keyed_part(self, rec: StatementPart) -> tuple[str, Forward]:
        """(output, its value): value-node fields by their node, links to a value node by it, the rest
        by statement node."""
        part = encode_part(rec) if self.encoded else rec
        if rec.kind == "field":
            return VALUE_PARTS, Forward((rec.node, part))
        if rec.kind in LINK_KINDS:
            return VALUE_PARTS, Forward((rec.value.v, part))
        return PARTS, Forward((rec.node, part))


def _parts(parts: Iterable, encoded: bool) -> list[StatementPart]:
    return [decode_part(p) for p in parts] if encoded else list(parts)


def resolve_value_nodes(element: tuple[str, Iterable], encoded: bool = False) -> Iterator[Any]:
    """``statements`` (first half): (value node, its fields and the statement links to it) -> one full
    value part per link, keyed by statement node (passed on); counted as ``value_nodes`` or why
    none came out (``value_node_missing``, ``value_node_unused``)."""
    _, parts = element
    resolved, why = resolve_value_node(_parts(parts, encoded))
    yield Count(why or "value_nodes")
    for part in resolved:
        yield Forward((part.node, encode_part(part) if encoded else part))


def assemble(element: tuple[str, Iterable], encoded: bool = False) -> Any:
    """``statements``: (statement node, its parts) -> the statement's Fact (keyed by subject, as bytes,
    when ``encoded``), or a Drop naming why it has none (``statements.assemble_statement``)."""
    node, parts = element
    result = assemble_statement(node, _parts(parts, encoded))
    if isinstance(result, str):
        return Drop("", result, id=node, detail=f"statement node {node}")
    return (result.subject, encode_fact(result)) if encoded else result


def ref_pairs(keyed_fact: tuple[str, bytes]) -> Iterator[tuple[str, str]]:
    """(object entity, subject) of an encoded fact pointing at another entity: the referrers routing
    needs (combined by ``graph.CapReferrers``)."""
    pair = referenced_entity(keyed_fact[1])
    if pair is not None:
        yield pair


class RouteEntity:
    """``facts``: (entity, its codec facts and referrer tuples) -> one routed group (owner, codec bytes)
    standing for the facts routed, identifiers left out, hub-capped and duplicate facts dropped
    by reason; on ``RELSETS`` the relations of an entity that owns its facts, on ``REQUESTS``
    (id, owner) for every id the owner needs named. Facts and referrers share one GroupByKey
    (told apart by type): a CoGroupByKey would wrap every value in a tagged tuple."""

    def __init__(self, max_facts: int, max_chain_facts: int, known: frozenset = frozenset(),
                 keep_identifiers: bool = False) -> None:
        self.max_facts, self.max_chain_facts, self.known = max_facts, max_chain_facts, known
        self.identifiers = IdentifierFilter(keep_identifiers)

    def __call__(self, element: tuple[str, Iterable]) -> Iterator[Any]:
        entity, values = element
        blobs, refs = [], set()
        for v in values:
            if isinstance(v, bytes):
                blobs.append(v)
            else:
                refs.update(v)
        facts, left_out = self.identifiers.split(map(decode_fact, blobs))
        for why, n in left_out.items():
            yield Weighted(Drop("", why, id=entity), n)
        routing = route_entity(entity, facts, refs, self.max_facts, self.max_chain_facts)
        if not routing.facts:
            return
        if routing.hub_capped:
            yield Weighted(Drop("", "hub_cap", id=entity), routing.hub_capped)
            yield Count("hub_entities")
        if routing.duplicates:
            yield Weighted(Drop("", "duplicate_fact", id=entity), routing.duplicates)
        if routing.role == "chain":
            yield Count("chained_entities")
        else:
            yield To(RELSETS, Forward(sorted({f.relation for f in routing.facts})))
        for eid in sorted(ids_to_name(routing.owner, routing.facts, self.known)):
            yield To(REQUESTS, Forward((eid, routing.owner)))
        yield Weighted(Kept([(routing.owner, encode_group(routing.role, entity, routing.facts))]), len(routing.facts))


def resolve_labels(element: tuple[str, dict]) -> Iterator[Any]:
    """``labels`` (the join): (entity, {label, requests: owners}) -> (owner, codec (entity, label)) for
    each distinct owner, passed on; an entity requested without a label is counted
    (``entities_without_label``: its id will stand in)."""
    eid, groups = element
    owners = set(groups["requests"])
    if not owners:
        return
    label = next((lab[0] for lab in groups["label"] if lab is not None), None)
    if label is None:
        yield Count("entities_without_label")
        return
    encoded = encode_label(eid, label)
    for owner in sorted(owners):
        yield Forward((owner, encoded))


class PartitionOwner:
    """``subgraphs``: (owner, its routed groups and resolved labels) and the co-occurrence counts (a
    side input) -> the owner's labelled subgraphs, standing for the facts routed to it (every one
    is placed); counts ``subgraphs`` and the grouping's counts. Each subgraph's label lookups are
    the ``labels`` stage's inputs, those without a label counted (``no_label_fallback_to_id``)."""

    def __init__(self, params: SubgraphParams, relation_order: dict[str, int] | None = None,
                 known: frozenset = frozenset()) -> None:
        self.params, self.relation_order, self.known = params, relation_order or {}, known

    def __call__(self, element: tuple[str, Iterable[bytes]], cooc: Cooccurrence) -> Iterator[Any]:
        owner, values = element
        routed, labels = split_owner_values(values)
        if not routed:
            return
        own: list[Fact] = []
        chains: dict[str, list[Fact]] = {}
        for role, entity, facts in routed:
            if role == "own":
                own.extend(facts)
            else:
                chains[entity] = list(facts)
        n = len(own) + sum(len(f) for f in chains.values())
        subgraphs, grouping = partition(owner, own, chains, cooc, self.params, self.relation_order)
        for sg in subgraphs:
            lookups, unlabelled = attach_labels(sg, labels, self.known)
            yield At(LABELS_STAGE, Weighted(Kept([]), lookups))
            yield At(LABELS_STAGE, Count("no_label_fallback_to_id", unlabelled))
        counts = {"subgraphs": len(subgraphs), **{k: v for k, v in grouping.items() if v}}
        yield Weighted(Kept(subgraphs, counts), n)


class TemplateVerbalize:
    """``verbalize``: a subgraph -> (subgraph, text, relations verbalized by the generic pattern), with
    the template verbalizer; counts ``template_relations`` and ``generic_relations``; an empty
    text is dropped (``empty_output``). The template set is read on the driver."""

    def __init__(self, templates: TemplateSet, lang: str) -> None:
        self.templates, self.lang = templates, lang
        self.verbalizer = None

    def setup(self) -> None:
        from corpora.kg.verbalize import TemplateVerbalizer

        self.verbalizer = TemplateVerbalizer(self.templates, self.lang)

    def __call__(self, sg: Subgraph) -> Any:
        if self.verbalizer is None:
            self.setup()
        result = self.verbalizer.verbalize(sg)
        if not result.text.strip():
            return Drop("", "empty_output", id=sg.id)
        counts = {"template_relations": len(result.relations) - len(result.generic)}
        if result.generic:
            counts["generic_relations"] = len(result.generic)
        return Kept([(sg, result.text, result.generic)], counts)


class CheckFaithful:
    """``faithfulness``: (subgraph, text, generic) -> (..., verdict); an unfaithful sentence is dropped
    by reason, or kept and counted as ``flagged_<reason>`` with ``keep_unfaithful``."""

    def __init__(self, lang: str, keep_unfaithful: bool, templates: TemplateSet | None = None) -> None:
        self.lang, self.keep_unfaithful, self.templates = lang, keep_unfaithful, templates
        self.checker = None

    def setup(self) -> None:
        self.checker = FaithfulnessChecker(self.lang, templates=self.templates)

    def __call__(self, element: tuple[Subgraph, str, list[str]]) -> Any:
        if self.checker is None:
            self.setup()
        sg, text, generic = element
        verdict = self.checker.check(text, sg)
        if verdict.ok:
            return sg, text, generic, verdict
        if not self.keep_unfaithful:
            return Drop("", verdict.reason, id=sg.id, detail=verdict.detail, text=text)
        return Kept([(sg, text, generic, verdict)], {f"flagged_{verdict.reason}": 1})

"""The thin Beam shell of the KG jobs: DoFns and composite transforms around the pure core.

Every stage emits its main output, per-bundle counts on ``stats`` and dropped records on
``rejects`` (as in ``pipeline.beam_steps``). Shuffles: statement parts by node, facts and
back-references by entity (routing), label requests by entity (the label join), routed facts
and resolved labels by owner (subgraphs, labelled where they are made). What crosses a
shuffle is compact: facts, parts and routed groups as ``codec`` bytes, labels as (id, text);
subgraphs are never shuffled. No stage needs all the data on one worker; the co-occurrence
counts (relations x relations) are the only side input.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam

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
from corpora.kg.labels import attach_labels, ids_to_name, label_rank
from corpora.kg.model import Fact, Label, StatementPart
from corpora.kg.readers import Chunk, ReadOptions, ReadStats, read_chunk
from corpora.kg.statements import LINK_KINDS, assemble_statement, resolve_value_node
from corpora.kg.subgraphs import Subgraph, SubgraphParams, partition
from corpora.kg.templates import TemplateSet
from pipeline import beam_io
from pipeline.beam_steps import REJECTS, STATS, CountingDoFn, stage_outputs
from pipeline.records import Drop
from pipeline.stats import IN, OUT, count_key, drop_key

LABELS = "labels"
PARTS = "parts"
VALUE_PARTS = "value_parts"  # value-node fields and the statement links to them, keyed by value node
RELSETS = "relsets"
REQUESTS = "requests"


class _ReadChunk(CountingDoFn):
    """A chunk -> facts (main), labels, statement parts; counts records and drops.

    ``encoded``: facts come as (subject, ``codec`` bytes) and parts as (node, bytes), ready to shuffle.
    """

    def __init__(self, options: ReadOptions, keep_rejects: bool, encoded: bool = False) -> None:
        super().__init__(keep_rejects)
        self.options = options
        self.encoded = encoded

    def process(self, chunk: Chunk):
        stats = ReadStats()
        labels_only = chunk.fmt == "labels-tsv" or getattr(chunk, "labels_only", False)
        drops = 0
        try:
            for rec in read_chunk(chunk, self.options, stats, open_fn=beam_io.open_raw):
                if isinstance(rec, Drop):
                    drops += 1
                    yield from self._dropped(rec)
                elif isinstance(rec, Label):
                    self._counter.add("read", count_key("labels"))
                    yield beam.pvalue.TaggedOutput(LABELS, (rec.entity, rec))
                elif labels_only:
                    self._counter.add("read", count_key("ignored_in_labels_file"))
                elif isinstance(rec, StatementPart):
                    self._counter.add("read", count_key("statement_parts"))
                    part = encode_part(rec) if self.encoded else rec
                    if rec.kind == "field":
                        yield beam.pvalue.TaggedOutput(VALUE_PARTS, (rec.node, part))
                    elif rec.kind in LINK_KINDS:
                        yield beam.pvalue.TaggedOutput(VALUE_PARTS, (rec.value.v, part))
                    else:
                        yield beam.pvalue.TaggedOutput(PARTS, (rec.node, part))
                elif isinstance(rec, Fact):
                    self._counter.add("read", count_key("facts"))
                    yield (rec.subject, encode_fact(rec)) if self.encoded else rec
        except OSError as exc:
            stats.records += 1
            drops += 1
            yield from self._dropped(Drop("read", "unreadable_file", id=chunk.path, source_file=chunk.path,
                                          detail=str(exc)))
        self._counter.add("read", IN, stats.records)
        self._counter.add("read", OUT, stats.records - drops)
        for name, n in stats.counts.items():
            self._counter.add("read", count_key(name), n)


class _AssembleStatements(CountingDoFn):
    """(node, parts) -> the statement's Fact, or a drop by reason; parts and the Fact as ``codec``
    bytes (the Fact keyed by its subject) when ``encoded``."""

    def __init__(self, keep_rejects: bool, encoded: bool = False) -> None:
        super().__init__(keep_rejects)
        self.encoded = encoded

    def process(self, element):
        node, parts = element
        self._counter.add("statements", IN)
        result = assemble_statement(node, [decode_part(p) for p in parts] if self.encoded else list(parts))
        if isinstance(result, str):
            yield from self._dropped(Drop("statements", result, id=node, detail=f"statement node {node}"))
            return
        self._counter.add("statements", OUT)
        yield (result.subject, encode_fact(result)) if self.encoded else result


class _ResolveValueNodes(CountingDoFn):
    """(value node, its fields and the statement links to it) -> (statement node, full value part) per
    link; counted in the ``statements`` stage (``value_nodes``, ``value_node_missing``, ...)."""

    def __init__(self, encoded: bool = False) -> None:
        super().__init__(keep_rejects=False)
        self.encoded = encoded

    def process(self, element):
        _, parts = element
        resolved, why = resolve_value_node([decode_part(p) for p in parts] if self.encoded else list(parts))
        self._counter.add("statements", count_key(why or "value_nodes"))
        for part in resolved:
            yield part.node, encode_part(part) if self.encoded else part


class AssembleStatements(beam.PTransform):
    """Statement parts (node, part) and value-node parts (value node, part) -> the statements'
    Facts (keyed by subject when ``encoded``), with ``stats`` and ``rejects``."""

    def __init__(self, keep_rejects: bool, encoded: bool = False) -> None:
        super().__init__()
        self.keep_rejects = keep_rejects
        self.encoded = encoded

    def expand(self, inputs):
        parts, value_parts = inputs
        full = (value_parts | "GroupValueNodes" >> beam.GroupByKey()
                | "ResolveValueNodes" >> beam.ParDo(_ResolveValueNodes(self.encoded)).with_outputs(STATS, main="out"))
        assembled = ((parts, full["out"]) | "StatementParts" >> beam.Flatten()
                     | "GroupStatements" >> beam.GroupByKey()
                     | "Assemble" >> stage_outputs(_AssembleStatements(self.keep_rejects, self.encoded)))
        return {"out": assembled["out"], STATS: (full[STATS], assembled[STATS]) | "StatementStats" >> beam.Flatten(),
                REJECTS: assembled[REJECTS]}


class _Route(CountingDoFn):
    """(entity, [codec fact bytes and referrer lists]) -> (owner, codec group bytes); on the side:
    relation sets (co-occurrence) and label requests (id, owner) for every id the owner will need
    named. Facts and referrers share one GroupByKey (told apart by type): a CoGroupByKey would
    wrap every value in a tagged tuple, which the local runner holds per fact."""

    def __init__(self, max_facts: int, max_chain_facts: int, known: frozenset = frozenset(),
                 keep_identifiers: bool = False) -> None:
        super().__init__(keep_rejects=False)
        self.max_facts = max_facts
        self.max_chain_facts = max_chain_facts
        self.known = known
        self.identifiers = IdentifierFilter(keep_identifiers)

    def process(self, element) -> Iterator[Any]:
        entity, values = element
        blobs, refs = [], set()
        for v in values:
            if isinstance(v, bytes):
                blobs.append(v)
            else:
                refs.update(v)
        facts, left_out = self.identifiers.split(map(decode_fact, blobs))
        routing = route_entity(entity, facts, refs, self.max_facts, self.max_chain_facts)
        total = len(routing.facts) + routing.hub_capped + routing.duplicates + sum(left_out.values())
        if total == 0:
            return
        self._counter.add("facts", IN, total)
        self._counter.add("facts", OUT, len(routing.facts))
        for why, n in left_out.items():
            self._counter.add("facts", drop_key(why), n)
        if not routing.facts:
            return
        if routing.hub_capped:
            self._counter.add("facts", drop_key("hub_cap"), routing.hub_capped)
            self._counter.add("facts", count_key("hub_entities"))
        if routing.duplicates:
            self._counter.add("facts", drop_key("duplicate_fact"), routing.duplicates)
        if routing.role == "chain":
            self._counter.add("facts", count_key("chained_entities"))
        else:
            yield beam.pvalue.TaggedOutput(RELSETS, sorted({f.relation for f in routing.facts}))
        for eid in sorted(ids_to_name(routing.owner, routing.facts, self.known)):
            yield beam.pvalue.TaggedOutput(REQUESTS, (eid, routing.owner))
        yield routing.owner, encode_group(routing.role, entity, routing.facts)


class CapReferrers(beam.CombineFn):
    """Up to two distinct entities that point at an entity (all that chain routing needs)."""

    def create_accumulator(self):
        return ()

    def add_input(self, acc, subject):
        return acc if subject in acc or len(acc) >= 2 else tuple(sorted(acc + (subject,)))

    def merge_accumulators(self, accs):
        out: tuple = ()
        for acc in accs:
            for s in acc:
                out = self.add_input(out, s)
        return out

    def extract_output(self, acc):
        return list(acc)


class CountCooccurrence(beam.CombineFn):
    """Relation sets of subjects -> their Cooccurrence counts (the Partition side input)."""

    def create_accumulator(self):
        return Cooccurrence()

    def add_input(self, acc, relations):
        acc.add_subject(relations)
        return acc

    def merge_accumulators(self, accs):
        out = Cooccurrence()
        for a in accs:
            out.merge(a)
        return out

    def extract_output(self, acc):
        return acc


class BestLabelFn(beam.CombineFn):
    """Labels of one entity -> the best (text, lang) for the wanted languages (aliases skipped)."""

    def __init__(self, langs: tuple[str, ...]) -> None:
        self.langs = langs

    def create_accumulator(self):
        return None

    def add_input(self, acc, label: Label):
        if label.alias:
            return acc
        cand = (label_rank(label, self.langs), label.text, label.lang)
        return cand if acc is None or cand < acc else acc

    def merge_accumulators(self, accs):
        best = None
        for a in accs:
            if a is not None and (best is None or a < best):
                best = a
        return best

    def extract_output(self, acc):
        return None if acc is None else (acc[1], acc[2])


class _Partition(CountingDoFn):
    """(owner, codec values: routed groups and labels) -> the owner's labelled subgraphs (facts in =
    facts placed); counts the ``labels`` stage's lookups per subgraph."""

    def __init__(self, params: SubgraphParams, relation_order: dict[str, int] | None = None,
                 known: frozenset = frozenset()) -> None:
        super().__init__(keep_rejects=False)
        self.params = params
        self.relation_order = relation_order or {}
        self.known = known

    def process(self, element, cooc):
        owner, values = element
        own: list[Fact] = []
        chains: dict[str, list[Fact]] = {}
        routed, labels = split_owner_values(values)
        if not routed:
            return
        for role, entity, facts in routed:
            if role == "own":
                own.extend(facts)
            else:
                chains[entity] = list(facts)
        n = len(own) + sum(len(f) for f in chains.values())
        subgraphs, counts = partition(owner, own, chains, cooc, self.params, self.relation_order)
        self._counter.add("subgraphs", IN, n)
        self._counter.add("subgraphs", OUT, sum(len(sg.facts) for sg in subgraphs))
        self._counter.add("subgraphs", count_key("subgraphs"), len(subgraphs))
        for name, v in counts.items():
            if v:
                self._counter.add("subgraphs", count_key(name), v)
        for sg in subgraphs:
            lookups, unlabelled = attach_labels(sg, labels, self.known)
            self._counter.add("labels", IN, lookups)
            self._counter.add("labels", OUT, lookups)
            if unlabelled:
                self._counter.add("labels", count_key("no_label_fallback_to_id"), unlabelled)
            yield sg


class _ResolveLabels(CountingDoFn):
    """(entity, {label, requests: owners}) -> (owner, codec (entity, label)) for each distinct owner when
    the entity has a label; an entity with none is counted (its id will stand in)."""

    def process(self, element):
        eid, groups = element
        owners = set(groups["requests"])
        if not owners:
            return
        label = next((lab[0] for lab in groups["label"] if lab is not None), None)
        if label is None:
            self._counter.add("labels", count_key("entities_without_label"))
            return
        encoded = encode_label(eid, label)
        for owner in sorted(owners):
            yield owner, encoded


class _Verbalize(CountingDoFn):
    """Subgraph -> (subgraph, text, generic relations) with the template verbalizer (the template
    set is read on the driver and travels with the step)."""

    def __init__(self, templates: TemplateSet, lang: str, keep_rejects: bool) -> None:
        super().__init__(keep_rejects)
        self.templates = templates
        self.lang = lang
        self.verbalizer = None

    def setup(self) -> None:
        from corpora.kg.verbalize import TemplateVerbalizer

        self.verbalizer = TemplateVerbalizer(self.templates, self.lang)

    def process(self, sg: Subgraph):
        self._counter.add("verbalize", IN)
        result = self.verbalizer.verbalize(sg)
        if not result.text.strip():
            yield from self._dropped(Drop("verbalize", "empty_output", id=sg.id))
            return
        self._counter.add("verbalize", OUT)
        self._counter.add("verbalize", count_key("template_relations"), len(result.relations) - len(result.generic))
        if result.generic:
            self._counter.add("verbalize", count_key("generic_relations"), len(result.generic))
        yield sg, result.text, result.generic


class _Faithfulness(CountingDoFn):
    """(subgraph, text, ...) -> kept, dropped by reason, or kept with a flag (``keep_unfaithful``)."""

    def __init__(self, lang: str, keep_unfaithful: bool, keep_rejects: bool, templates: TemplateSet | None = None) -> None:
        super().__init__(keep_rejects)
        self.lang = lang
        self.keep_unfaithful = keep_unfaithful
        self.templates = templates

    def setup(self) -> None:
        self.checker = FaithfulnessChecker(self.lang, templates=self.templates)

    def process(self, element):
        sg, text, generic = element
        self._counter.add("faithfulness", IN)
        verdict = self.checker.check(text, sg)
        if not verdict.ok and not self.keep_unfaithful:
            yield from self._dropped(Drop("faithfulness", verdict.reason, id=sg.id, detail=verdict.detail,
                                          text=text))
            return
        if not verdict.ok:
            self._counter.add("faithfulness", count_key(f"flagged_{verdict.reason}"))
        self._counter.add("faithfulness", OUT)
        yield sg, text, generic, verdict


def _ref_pairs(keyed_fact: tuple[str, bytes]):
    pair = referenced_entity(keyed_fact[1])
    if pair is not None:
        yield pair


class BuildSubgraphs(beam.PTransform):
    """Facts + labels -> labelled Subgraphs (statements, routing, label join, grouping).

    Inputs: ``facts`` (subject, codec bytes) and ``parts`` (node, codec bytes), as ``_ReadChunk``
    emits them with ``encoded=True``, and ``labels`` (entity, Label). Outputs: ``out``
    (subgraphs), ``stats``, ``rejects``; ``cooccurrence`` is None (learn from the input) or a
    Cooccurrence learned elsewhere (aligned data).
    """

    def __init__(self, params: SubgraphParams, max_facts_per_entity: int, langs: tuple[str, ...],
                 cooccurrence: Cooccurrence | None = None, labelled_relations: frozenset = frozenset(),
                 relation_order: dict[str, int] | None = None, keep_identifiers: bool = False) -> None:
        super().__init__()
        self.keep_identifiers = keep_identifiers
        self.relation_order = relation_order or {}
        self.labelled_relations = labelled_relations
        self.params = params
        self.max_facts_per_entity = max_facts_per_entity
        self.langs = langs
        self.cooccurrence = cooccurrence

    def expand(self, inputs):
        facts, labels = inputs["facts"], inputs["labels"]
        assembled = (inputs["parts"], inputs["value_parts"]) | "Statements" >> AssembleStatements(False, encoded=True)
        all_facts = (facts, assembled["out"]) | "AllFacts" >> beam.Flatten()
        refs = (all_facts | "Refs" >> beam.FlatMap(_ref_pairs)
                | "CapRefs" >> beam.CombinePerKey(CapReferrers()))
        known = self.labelled_relations
        routed = ((all_facts, refs) | "EntityValues" >> beam.Flatten() | "JoinEntity" >> beam.GroupByKey()
                  | "Route" >> beam.ParDo(_Route(self.max_facts_per_entity, self.params.max_chain_facts, known,
                                                self.keep_identifiers))
                  .with_outputs(STATS, REJECTS, RELSETS, REQUESTS, main="out"))
        if self.cooccurrence is not None:
            cooc = beam.pvalue.AsSingleton(facts.pipeline | "GivenCooc" >> beam.Create([self.cooccurrence]))
        else:
            cooc = beam.pvalue.AsSingleton(routed[RELSETS] | "Cooccurrence" >> beam.CombineGlobally(CountCooccurrence()))
        best = labels | "BestLabel" >> beam.CombinePerKey(BestLabelFn(self.langs))
        resolved = ({"label": best, "requests": routed[REQUESTS]} | "JoinLabels" >> beam.CoGroupByKey()
                    | "Resolve" >> stage_outputs(_ResolveLabels(False)))
        subgraphs = ((routed["out"], resolved["out"]) | "OwnerValues" >> beam.Flatten() | "ByOwner" >> beam.GroupByKey()
                     | "Partition" >> beam.ParDo(_Partition(self.params, self.relation_order, known), cooc)
                     .with_outputs(STATS, REJECTS, main="out"))
        stats = [assembled[STATS], routed[STATS], subgraphs[STATS], resolved[STATS]]
        rejects = [assembled[REJECTS]]
        return {"out": subgraphs["out"], STATS: stats | "FlattenGraphStats" >> beam.Flatten(),
                REJECTS: rejects | "FlattenGraphRejects" >> beam.Flatten()}

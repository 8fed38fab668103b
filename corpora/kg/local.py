"""The kg job's pure core run in one process on small inputs: the same readers, statement and
value-node assembly, routing, grouping, labels, verbalizer and faithfulness filter as the Beam
job, without Beam. For tests, benches (``bench/kg_quality.py``) and reading output quickly;
the whole graph is held in memory, so it is for samples, not dumps (use the ``kg`` job).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from corpora.kg.faithfulness import FaithfulnessChecker, Verdict
from corpora.kg.graph import Cooccurrence, route_entity
from corpora.kg.identifiers import IdentifierFilter
from corpora.kg.labels import best_label
from corpora.kg.model import ENTITY, Fact, Label, StatementPart
from corpora.kg.readers import (
    Chunk,
    ReadOptions,
    ReadStats,
    detect_format,
    read_chunk,
    read_head,
    sniff_format,
)
from corpora.kg.statements import LINK_KINDS, assemble_statement, resolve_value_node
from corpora.kg.subgraphs import Subgraph, SubgraphParams, partition
from corpora.kg.templates import TemplateSet, load_templates
from corpora.kg.verbalize import TemplateVerbalizer
from pipeline.records import Drop

ALIGN_MAX_FACTS = 1000
"""``align_local``'s hub cap per subject: kg-align's ``--max-facts-per-entity`` default."""


@dataclass
class LocalDoc:
    """One verbalized subgraph: the text, the relations that fell back to the generic pattern, the verdict."""

    subgraph: Subgraph
    text: str
    generic: list[str]
    verdict: Verdict


@dataclass
class LocalRun:
    docs: list[LocalDoc] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)  # every fact that reached the subgraphs
    counts: Counter = field(default_factory=Counter)  # reasons and counts of every stage, flat
    labels: dict[str, str] = field(default_factory=dict)


def read_records(paths: Iterable[str], options: ReadOptions, counts: Counter, fmt: str | None = None):
    """Every record of the files (format from the name, then the first bytes), Drops counted in ``counts``."""
    for path in paths:
        f = fmt or detect_format(path)
        f = sniff_format(read_head(path, lambda p: open(p, "rb")), f, path)
        stats = ReadStats()
        for rec in read_chunk(Chunk(path, f), options, stats):
            if isinstance(rec, Drop):
                counts[f"read/{rec.reason}"] += 1
            else:
                yield rec
        counts["read/records"] += stats.records
        counts.update({f"read/{k}": v for k, v in stats.counts.items()})


def run_local(paths: Iterable[str], labels_paths: Iterable[str] = (), templates: TemplateSet | None = None,
              langs: tuple[str, ...] = ("en", "mul"), params: SubgraphParams | None = None,
              keep_identifiers: bool = False, fmt: str | None = None) -> LocalRun:
    """Verbalize the files as the ``kg`` job would (see the module doc)."""
    templates = templates or load_templates()
    params = params or SubgraphParams()
    out = LocalRun()
    options = ReadOptions(langs=langs, keep_aliases=False)
    facts: dict[str, list[Fact]] = {}
    labels: dict[str, list[Label]] = {}
    parts: dict[str, list[StatementPart]] = {}
    value_parts: dict[str, list[StatementPart]] = {}
    identifiers = IdentifierFilter(keep=keep_identifiers)
    for rec in read_records(paths, options, out.counts, fmt):
        if isinstance(rec, Label):
            labels.setdefault(rec.entity, []).append(rec)
        elif isinstance(rec, StatementPart):
            if rec.kind == "field":
                value_parts.setdefault(rec.node, []).append(rec)
            elif rec.kind in LINK_KINDS:
                value_parts.setdefault(rec.value.v, []).append(rec)
            else:
                parts.setdefault(rec.node, []).append(rec)
        elif isinstance(rec, Fact):
            facts.setdefault(rec.subject, []).append(rec)
    for rec in read_records(labels_paths, options, out.counts):
        if isinstance(rec, Label):
            labels.setdefault(rec.entity, []).append(rec)
    for vparts in value_parts.values():
        resolved, why = resolve_value_node(vparts)
        out.counts[f"statements/{why or 'value_nodes'}"] += 1
        for p in resolved:
            parts.setdefault(p.node, []).append(p)
    for node, ps in parts.items():
        f = assemble_statement(node, ps)
        if isinstance(f, Fact):
            facts.setdefault(f.subject, []).append(f)
        else:
            out.counts[f"statements/{f}"] += 1
    refs: dict[str, set] = {}
    for s, fs in facts.items():
        for f in fs:
            if f.value.kind == ENTITY and f.value.v != s:
                r = refs.setdefault(f.value.v, set())
                if len(r) < 2:
                    r.add(s)
    owned: dict[str, list] = {}
    cooc = Cooccurrence()
    for e, fs in facts.items():
        kept, left_out = identifiers.split(fs)
        out.counts.update({f"facts/{k}": v for k, v in left_out.items()})
        routing = route_entity(e, kept, refs.get(e, ()), 1000, params.max_chain_facts)
        out.counts["facts/duplicate_fact"] += routing.duplicates
        if not routing.facts:
            continue
        owned.setdefault(routing.owner, []).append(routing)
        if routing.role == "own":
            cooc.add_subject({f.relation for f in routing.facts})
    out.labels = {e: best_label(ls, langs)[0] for e, ls in labels.items() if any(not x.alias for x in ls)}
    order = {r: t.order for r, t in templates.relations.items()}
    verbalizer, checker = TemplateVerbalizer(templates), FaithfulnessChecker(templates=templates)
    for owner in sorted(owned):
        routings = owned[owner]
        own = [f for r in routings if r.role == "own" for f in r.facts]
        chains = {r.facts[0].subject: r.facts for r in routings if r.role == "chain"}
        sgs, _ = partition(owner, own, chains, cooc, params, order)
        for sg in sgs:
            sg.labels = {i: out.labels[i] for i in sg.entity_ids() if i in out.labels}
            out.facts.extend(sg.facts)
            result = verbalizer.verbalize(sg)
            out.docs.append(LocalDoc(sg, result.text, result.generic, checker.check(result.text, sg)))
    return out


def align_local(docs: Iterable[tuple[str, str]], facts: Iterable[Fact], labels: Iterable[Label],
                lang: str = "en", resolve: bool = True,
                max_facts: int = ALIGN_MAX_FACTS) -> list[tuple[str, str, list[Fact]]]:
    """``kg-align`` in one process: (sentence id, subject, facts the sentence states) for documents
    given as (id, text), with the same name keys, short names, document resolution, subject facts
    (``align_stages.subject_facts``: at most ``max_facts`` a subject, as ``--max-facts-per-entity``)
    and fact matching as the Beam job."""
    from corpora.kg.align import (
        match_facts,
        name_keys,
        resolve_document,
        sentence_keys,
        sentence_size,
        split_sentences,
    )
    from corpora.kg.align_stages import subject_facts

    by_entity: dict[str, list[Label]] = {}
    for lab in labels:
        by_entity.setdefault(lab.entity, []).append(lab)
    best = {e: best_label(ls, (lang,))[0] for e, ls in by_entity.items() if any(not x.alias for x in ls)}
    index: dict[str, list[tuple[str, str, str, str]]] = {}
    for e, ls in by_entity.items():
        if e not in best:
            continue
        for key, kind in name_keys([(x.text, x.alias) for x in ls]):
            index.setdefault(key, []).append((e, best[e], key, kind))
    grouped: dict[str, list[Fact]] = {}
    for f in facts:
        grouped.setdefault(f.subject, []).append(f)
    by_subject = {s: subject_facts(fs, max_facts) for s, fs in grouped.items()}
    label = lambda eid: best.get(eid, eid)  # noqa: E731
    out = []
    for doc_id, text in docs:
        sentences, mentions = [], []
        for i, sentence in enumerate(split_sentences(text)):
            if sentence_size(sentence):
                continue
            sid = f"{doc_id}#{i}"
            sentences.append((i, sid, sentence))
            for key in sentence_keys(sentence):
                mentions += [(sid, *m) for m in index.get(key, [])]
        for sid, sentence, mentioned in resolve_document(sentences, mentions, resolve):
            for subject in sorted(mentioned):
                matched = match_facts(sentence, subject, by_subject.get(subject, []), set(mentioned), label, lang)
                if matched:
                    out.append((sid, subject, matched))
    return out

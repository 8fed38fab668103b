"""Choosing one label per entity: the wanted language first, then the fallbacks, in order.

``label_rank`` orders candidates; the best one wins (ties broken by the text, so every
worker picks the same). Entities with no label at all fall back to a readable form of the
id (``humanize_id``), which the job counts.
"""

from __future__ import annotations

from collections.abc import Iterable

from corpora.kg.model import Fact, Label
from corpora.kg.subgraphs import Subgraph
from pipeline.stats import stage

UNTAGGED = ""


def label_rank(label: Label, langs: tuple[str, ...]) -> tuple:
    """Smaller is better: language position in ``langs`` (untagged after them), then the text."""
    lang = label.lang or UNTAGGED
    if lang in langs:
        pos = langs.index(lang)
    elif lang.split("-")[0] in langs:
        pos = langs.index(lang.split("-")[0]) + 0.5
    elif lang == UNTAGGED:
        pos = len(langs)
    else:
        pos = len(langs) + 1
    return (pos, label.text)


def best_label(labels, langs: tuple[str, ...]) -> tuple[str, str | None]:
    """(text, lang) of the best of an entity's labels (aliases excluded)."""
    names = [lab for lab in labels if not lab.alias]
    best = min(names, key=lambda lab: label_rank(lab, langs))
    return best.text, best.lang


class BestLabelCombiner:
    """Labels of one entity -> the best (text, lang) for the wanted languages, aliases skipped (a
    combiner: Beam's ``PureCombine`` wraps it; ties broken by the text, so every worker agrees)."""

    def __init__(self, langs: tuple[str, ...]) -> None:
        self.langs = langs

    def create_accumulator(self) -> tuple | None:
        return None

    def add_input(self, acc: tuple | None, label: Label) -> tuple | None:
        if label.alias:
            return acc
        cand = (label_rank(label, self.langs), label.text, label.lang)
        return cand if acc is None or cand < acc else acc

    def merge_accumulators(self, accs: Iterable[tuple | None]) -> tuple | None:
        best = None
        for a in accs:
            if a is not None and (best is None or a < best):
                best = a
        return best

    def extract_output(self, acc: tuple | None) -> tuple[str, str | None] | None:
        return None if acc is None else (acc[1], acc[2])


def fact_ids_to_name(f: Fact, known: frozenset = frozenset()) -> set[str]:
    """The ids a fact needs named: its subject, objects and units always; its relation and qualifier
    relations unless the templates give their label (``known``). A property that is itself a
    subject or an object (a property entity, "P19 is a Wikidata property") is always named."""
    ids = {f.subject, *f.value.entity_ids()}
    if f.relation not in known:
        ids.add(f.relation)
    for rel, val in f.qualifiers:
        if rel not in known:
            ids.add(rel)
        ids.update(val.entity_ids())
    return ids


def ids_to_name(owner: str, facts: Iterable[Fact], known: frozenset = frozenset()) -> set[str]:
    """Every id the subgraphs of ``owner`` will need named: the owner and what its routed facts need
    (``fact_ids_to_name``). It is the union of ``subgraph_ids_to_name`` over the owner's subgraphs,
    so labels can be joined per owner."""
    ids = {owner}
    for f in facts:
        ids |= fact_ids_to_name(f, known)
    return ids


def subgraph_ids_to_name(sg: Subgraph, known: frozenset = frozenset()) -> set[str]:
    """The ids a subgraph's text and checks need named (its facts', its subject, its context)."""
    ids = {sg.subject} | set(sg.context)
    for f in sg.facts:
        ids |= fact_ids_to_name(f, known)
    return ids


def attach_labels(sg: Subgraph, labels: dict[str, str], known: frozenset = frozenset()) -> tuple[int, int]:
    """Give ``sg`` the labels of the ids it mentions; returns (label lookups, lookups without a label),
    the ``labels`` stage's per-subgraph counts."""
    lookups = subgraph_ids_to_name(sg, known)
    sg.labels = {eid: labels[eid] for eid in lookups if eid in labels}
    return len(lookups), len(lookups) - len(sg.labels)


UNLABELLED_HINT_SHARE = 0.1  # of the labels stage's lookups: below it, a few ids are the input's gaps


def unlabelled_hint(report: dict, langs: tuple[str, ...]) -> str | None:
    """A line for the job's summary when many entity mentions had no label (a Wikidata slice given
    without its objects' labels writes "worked as a Q4853732"): how many, and how to give labels.
    None when the share is small or the report has no ``labels`` stage."""
    try:
        labels_stage = stage(report, "labels")
    except KeyError:
        return None
    lookups = labels_stage["in"]
    missing = labels_stage.get("counts", {}).get("no_label_fallback_to_id", 0)
    if not lookups or missing < UNLABELLED_HINT_SHARE * lookups:
        return None
    return (f"note: {missing:,} of {lookups:,} entity mentions ({100 * missing / lookups:.0f}%) had no label in "
            f"{', '.join(langs)} or untagged and are written as their ids (a Wikidata id as it is, an IRI as its "
            "local name); give their labels with --labels "
            "(a labels TSV or JSON, or a triples file with rdfs:label), see docs/kg.md")

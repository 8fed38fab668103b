"""Choosing one label per entity: the wanted language first, then the fallbacks, in order.

``label_rank`` orders candidates; the best one wins (ties broken by the text, so every
worker picks the same). Entities with no label at all fall back to a readable form of the
id (``humanize_id``), which the job counts.
"""

from __future__ import annotations

from collections.abc import Iterable

from corpora.kg.model import Fact, Label
from corpora.kg.subgraphs import Subgraph

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


class BestLabel:
    """A combiner-style accumulator: keep only the best (label, lang) seen so far."""

    def __init__(self, langs: tuple[str, ...]) -> None:
        self.langs = langs

    def better(self, a: Label | None, b: Label | None) -> Label | None:
        if a is None:
            return b
        if b is None:
            return a
        return a if label_rank(a, self.langs) <= label_rank(b, self.langs) else b


def ids_to_name(owner: str, facts: Iterable[Fact], known: frozenset = frozenset()) -> set[str]:
    """Every id the subgraphs of ``owner`` will need named: the owner and every id its routed facts
    mention (relations whose label the templates give excepted). It is the union of
    ``Subgraph.entity_ids()`` over the owner's subgraphs, so labels can be joined per owner."""
    ids = {owner}
    for f in facts:
        ids.update(f.entity_ids())
    return ids - known


def attach_labels(sg: Subgraph, labels: dict[str, str], known: frozenset = frozenset()) -> tuple[int, int]:
    """Give ``sg`` the labels of the ids it mentions; returns (label lookups, lookups without a label),
    the ``labels`` stage's per-subgraph counts."""
    lookups = sg.entity_ids() - known
    sg.labels = {eid: labels[eid] for eid in lookups if eid in labels}
    return len(lookups), len(lookups) - len(sg.labels)

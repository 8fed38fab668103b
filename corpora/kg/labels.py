"""Choosing one label per entity: the wanted language first, then the fallbacks, in order.

``label_rank`` orders candidates; the best one wins (ties broken by the text, so every
worker picks the same). Entities with no label at all fall back to a readable form of the
id (``humanize_id``), which the job counts.
"""

from __future__ import annotations

from corpora.kg.model import Label

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

"""The faithfulness filter: a generated sentence must mention every object of its subgraph
and no other entity the subject is known to be linked to.

* **missing_object**: some object (entity label, date, number, string; qualifier values
  included) appears in none of its rendered forms (``values.surface_forms``: "11 March
  1952", "March 11, 1952", "1952-03-11"; "1,234" or "1234"; ...).
* **hallucinated_entity**: the label of a known entity that is not in the subgraph appears.
  Known entities are the subject's other neighbours (``Subgraph.context``: objects of its
  facts that went to other subgraphs), which is what a model mixing up facts brings in;
  mentions of the subgraph's own values are masked first, so "Cambridge" inside
  "University of Cambridge" does not count.

Matching is case-insensitive, on collapsed whitespace, at word boundaries; thousands
separators are ignored.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from corpora.kg.rdf import humanize_id
from corpora.kg.subgraphs import Subgraph
from corpora.kg.values import surface_forms

MISSING = "missing_object"
HALLUCINATED = "hallucinated_entity"
_DIGIT_COMMA = re.compile(r"(?<=\d),(?=\d{3}\b)")
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


@functools.lru_cache(maxsize=1 << 14)  # labels and rendered values recur across subgraphs
def normalize(text: str) -> str:
    return " ".join(_DIGIT_COMMA.sub("", text.translate(_QUOTES)).casefold().split())


def _bounded_spans(text_norm: str, form_norm: str) -> list[tuple[int, int]]:
    """Where ``form_norm`` occurs in ``text_norm`` with no word character touching either end."""
    spans = []
    start = text_norm.find(form_norm)
    while start >= 0:
        end = start + len(form_norm)
        before = text_norm[start - 1] if start > 0 else " "
        after = text_norm[end] if end < len(text_norm) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            spans.append((start, end))
        start = text_norm.find(form_norm, start + 1)
    return spans


def mentions(text_norm: str, form: str) -> bool:
    """Whether a (normalized) text mentions ``form`` at word boundaries."""
    f = normalize(form)
    return bool(f) and bool(_bounded_spans(text_norm, f))


@dataclass
class Verdict:
    ok: bool
    reason: str | None = None
    detail: str = ""


class FaithfulnessChecker:
    """Checks sentences against their subgraph (labels must be resolved on the subgraph)."""

    def __init__(self, lang: str = "en", min_label_chars: int = 3) -> None:
        self.lang = lang
        self.min_label_chars = min_label_chars

    def _label(self, sg: Subgraph) -> Callable[[str], str]:
        return lambda eid: sg.labels.get(eid) or humanize_id(eid)

    def expected(self, sg: Subgraph) -> list[tuple[str, list[str]]]:
        """(what, accepted forms) for every object and qualifier value of the subgraph."""
        label = self._label(sg)
        out = []
        for f in sg.facts:
            out.append((f"{f.relation}={f.value.v}", surface_forms(f.value, label, self.lang)))
            for rel, v in f.qualifiers:
                out.append((f"{f.relation}/{rel}={v.v}", surface_forms(v, label, self.lang)))
        return out

    def check(self, sentence: str, sg: Subgraph) -> Verdict:
        text = normalize(sentence)
        expected = [(what, [f for f in (normalize(x) for x in forms) if f]) for what, forms in self.expected(sg)]
        missing = [what for what, forms in expected if not any(_bounded_spans(text, f) for f in forms)]
        if missing:
            return Verdict(False, MISSING, ", ".join(missing)[:500])
        own = {normalize(self._label(sg)(sg.subject))} | {f for _, forms in expected for f in forms}
        masked = text
        for form in sorted(own, key=len, reverse=True):
            for start, end in reversed(_bounded_spans(masked, form) if form else []):
                masked = masked[:start] + " " * (end - start) + masked[end:]
        found = []
        for eid in sg.context:
            name = sg.labels.get(eid)
            if not name or len(name) < self.min_label_chars or normalize(name) in own:
                continue
            if mentions(masked, name):
                found.append(f"{eid} ({name})")
        if found:
            return Verdict(False, HALLUCINATED, ", ".join(found)[:500])
        return Verdict(True)

"""The faithfulness filter: a sentence must state every fact of its subgraph, each with its own
relation, and nothing else: no entity, date or number that is not in the subgraph, no negation.

* **missing_object**: some object (entity label, date, number, string; qualifier values
  included) appears in none of its rendered forms (``values.surface_forms``: "11 March
  1952", "March 11, 1952", "1952-03-11"; "1,234" or "1234"; ...).
* **misattributed**: an object is mentioned, but not next to its relation: the relation cue
  words nearest to it (before it, or after it) belong to other relations only ("born in
  Santa Barbara and died in Cambridge" for a birth in Cambridge). A relation's cue words are
  the content words of its templates and of its label.
* **negated**: a negation ("not", "never", "no", ...) that no template or label of the
  subgraph has.
* **hallucinated_entity**: the label of a known entity that is not in the subgraph appears
  (the subject's other neighbours, ``Subgraph.context``: what a model mixing up facts brings
  in), or a capitalized name, or a number, that none of the subgraph's names, values and
  relation labels accounts for (an invented award or year).

The subgraph's own mentions (subject and chained subjects, values in every form, relation
and qualifier labels) are masked before the last two checks, so "Cambridge" inside
"University of Cambridge", or "BBC" inside the relation label "BBC Things ID", do not count.
Matching is case-insensitive, on collapsed whitespace, at word boundaries; thousands
separators are ignored.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from corpora.kg.rdf import humanize_id
from corpora.kg.subgraphs import Subgraph, subject_kind
from corpora.kg.templates import TemplateSet
from corpora.kg.values import LANGUAGE_NAMES, surface_forms

MISSING = "missing_object"
HALLUCINATED = "hallucinated_entity"
MISATTRIBUTED = "misattributed"
NEGATED = "negated"
_DIGIT_COMMA = re.compile(r"(?<=\d),(?=\d{3}\b)")
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_DIGITS = re.compile(r"\d+")
_CAPITALIZED = re.compile(r"(?<![\w'])[A-Z][\w'-]*")
NEGATIONS = {"not", "never", "no", "neither", "nor", "without", "none", "nobody", "nothing", "n't", "cannot"}
STOPWORDS = {
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "by", "with", "from", "as", "into", "and", "or",
    "is", "was", "are", "were", "be", "been", "being", "has", "had", "have", "his", "her", "its", "their",
    "he", "she", "it", "they", "who", "which", "that", "this", "these", "those", "s", "also", "one", "there",
    "until", "since", "after", "before", "during", "than", "then", "where", "when", "while", "about", "does", "did",
}
_SENTENCE_START = re.compile(r"(?:^|[.!?;:]\s+|\(\s*)$")


@functools.lru_cache(maxsize=1 << 14)  # labels and rendered values recur across subgraphs
def normalize(text: str) -> str:
    return " ".join(_DIGIT_COMMA.sub("", text.translate(_QUOTES)).casefold().split())


def _cased(text: str) -> str:
    """``normalize`` without the case folding (same length when folding keeps lengths)."""
    return " ".join(_DIGIT_COMMA.sub("", text.translate(_QUOTES)).split())


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


def content_words(text: str) -> set[str]:
    """The case-folded words of a text that are not slots or function words (a relation's cues)."""
    text = re.sub(r"\{[^}]*\}", " ", text)
    return {w for w in _WORD.findall(text.casefold()) if w not in STOPWORDS and len(w) > 1}


def _stem(word: str) -> str:
    """A crude stem, enough to match a label's noun with its plural ("food", "foods", "countries")."""
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", "")):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)] + repl
    return word


def _same_cue(word: str, cues: set[str]) -> bool:
    return word in cues or any(_stem(word) == _stem(c) or (len(word) >= 5 and len(c) >= 5 and c[:5] == word[:5])
                               for c in cues)


def _mask(text: str, forms: set[str]) -> str:
    """``text`` with every bounded mention of the forms (longest first) blanked out, same length."""
    for form in sorted(forms, key=len, reverse=True):
        for start, end in reversed(_bounded_spans(text, form)):
            text = text[:start] + " " * (end - start) + text[end:]
    return text


def _mask_like(cased: str, masked: str) -> str:
    """``cased`` blanked where ``masked`` (its case-folded form, same length) is blanked."""
    return "".join(" " if m == " " else c for c, m in zip(cased, masked, strict=True))


@dataclass
class Verdict:
    ok: bool
    reason: str | None = None
    detail: str = ""


class FaithfulnessChecker:
    """Checks sentences against their subgraph (labels must be resolved on the subgraph)."""

    def __init__(self, lang: str = "en", min_label_chars: int = 3, templates: TemplateSet | None = None) -> None:
        self.lang = lang
        self.min_label_chars = min_label_chars
        if templates is None:
            from corpora.kg.templates import load_templates

            templates = load_templates()
        self.templates = templates  # relation cues and labels come from the templates (default: bundled)
        self._cue_cache: dict[tuple[str, str], frozenset[str]] = {}

    def _label(self, sg: Subgraph) -> Callable[[str], str]:
        return lambda eid: sg.labels.get(eid) or humanize_id(eid)

    def relation_label(self, sg: Subgraph, relation: str) -> str:
        label = sg.labels.get(relation)
        if label is None and self.templates is not None:
            label = self.templates.label_of(relation)
        return label or humanize_id(relation)

    def cues(self, sg: Subgraph, relation: str, kind: str = "thing") -> frozenset[str]:
        """Content words that state ``relation`` for a subject of this kind: its templates' when it has
        some (none for "{subject} is in {object}": such a fact is not checked for attribution), else its
        label's (the generic pattern)."""
        label = self.relation_label(sg, relation)
        key = (relation, label, kind)
        found = self._cue_cache.get(key)
        if found is None:
            t = self.templates.find(relation, label) if self.templates is not None else None
            q = self.templates.qualifiers.get(relation) if self.templates is not None else None
            texts = (t.texts_for(kind, False) + t.texts_for(kind, True)) if t is not None else ()
            if texts:
                words = set()
                for text in texts:
                    words |= content_words(text)
            elif q:
                words = content_words(q)
            else:
                words = content_words(label)
            found = self._cue_cache[key] = frozenset(words)
        return found

    def expected(self, sg: Subgraph) -> list[tuple[str, list[str]]]:
        """(what, accepted forms) for every object and qualifier value of the subgraph."""
        label = self._label(sg)
        out = []
        for f in sg.facts:
            out.append((f"{f.relation}={f.value.v}", surface_forms(f.value, label, self.lang)))
            for rel, v in f.qualifiers:
                out.append((f"{f.relation}/{rel}={v.v}", surface_forms(v, label, self.lang)))
        return out

    def _own_forms(self, sg: Subgraph, expected, with_relations: bool = True) -> set[str]:
        """Everything the subgraph accounts for: names of its subjects, values (and relation labels)."""
        label = self._label(sg)
        own = {normalize(label(f.subject)) for f in sg.facts} | {normalize(label(sg.subject))}
        own |= {f for _, forms in expected for f in forms}
        if not with_relations:
            return {f for f in own if f}
        for f in sg.facts:
            own.add(normalize(self.relation_label(sg, f.relation)))
            own |= {normalize(self.relation_label(sg, r)) for r, _ in f.qualifiers}
        own |= {normalize(n) for n in LANGUAGE_NAMES.values()}
        return {f for f in own if f}

    def _attributed(self, sg: Subgraph, text: str, masked: str) -> list[str]:
        """Facts whose object no cue of their relation stands next to (see the module doc)."""
        kinds = {sg.subject: sg.kind}
        for subj in {f.subject for f in sg.facts} - {sg.subject}:
            kinds[subj] = subject_kind([f for f in sg.facts if f.subject == subj])
        by_clause: dict[tuple[str, str], set[str]] = {}  # one clause per subject and relation, qualifiers inside
        for f in sg.facts:
            words = by_clause.setdefault((f.subject, f.relation), set(self.cues(sg, f.relation, kinds[f.subject])))
            for r, _ in f.qualifiers:
                words |= self.cues(sg, r)
        # a template with no word of its own ("X is in Y"): not checked
        cue_sets = {f: by_clause[(f.subject, f.relation)] for f in sg.facts
                    if self.cues(sg, f.relation, kinds[f.subject])}
        vocabulary = set().union(*cue_sets.values()) if cue_sets else set()
        cues = [(m.start(), m.group()) for m in _WORD.finditer(masked) if _same_cue(m.group(), vocabulary)]
        if not cues:
            return []
        label = self._label(sg)
        wrong = []
        for f in cue_sets:
            spans = [s for form in surface_forms(f.value, label, self.lang) if normalize(form)
                     for s in _bounded_spans(text, normalize(form))]
            if not spans or any(_same_cue(normalize(form), cue_sets[f])
                                 for form in surface_forms(f.value, label, self.lang) if normalize(form)):
                continue  # not mentioned (caught before), or named like its relation ("its report is Report")
            ok = False
            for start, end in spans:
                before = [w for pos, w in cues if pos < start]
                after = [w for pos, w in cues if pos >= end]
                near = ([before[-1]] if before else []) + ([after[0]] if after else [])
                if any(_same_cue(w, cue_sets[f]) for w in near):
                    ok = True
                    break
            if not ok:
                wrong.append(f"{f.relation}={f.value.v}")
        return wrong

    def check(self, sentence: str, sg: Subgraph) -> Verdict:
        text = normalize(sentence)
        expected = [(what, [f for f in (normalize(x) for x in forms) if f]) for what, forms in self.expected(sg)]
        missing = [what for what, forms in expected if not any(_bounded_spans(text, f) for f in forms)]
        if missing:
            return Verdict(False, MISSING, ", ".join(missing)[:500])
        names_and_values = self._own_forms(sg, expected, with_relations=False)
        own = self._own_forms(sg, expected)
        cased = _cased(sentence)
        keep_case = len(cased) == len(text)
        values_masked = _mask(text, names_and_values)  # relation words left: the cues
        masked = _mask(values_masked, own)
        masked_cased = _mask_like(cased, masked) if keep_case else cased
        vocabulary = set()
        for f in sg.facts:
            vocabulary |= self.cues(sg, f.relation, sg.kind) | self.cues(sg, f.relation)
        negations = [w for w in _WORD.findall(masked) if (w in NEGATIONS or w.endswith("n't")) and w not in vocabulary]
        if negations:
            return Verdict(False, NEGATED, ", ".join(negations)[:500])
        found = []
        for eid in sg.context:
            name = sg.labels.get(eid)
            if not name or len(name) < self.min_label_chars or normalize(name) in own:
                continue
            if mentions(masked, name):
                found.append(f"{eid} ({name})")
        found += [f"number {n}" for n in _DIGITS.findall(masked)]
        if keep_case:
            for m in _CAPITALIZED.finditer(masked_cased):
                word = m.group().casefold()
                at_start = bool(_SENTENCE_START.search(cased[:m.start()]))
                if word in vocabulary or (at_start and (word in STOPWORDS or word in NEGATIONS)):
                    continue
                found.append(f"name {m.group()}")
        if found:
            return Verdict(False, HALLUCINATED, ", ".join(found)[:500])
        wrong = self._attributed(sg, text, values_masked)
        if wrong:
            return Verdict(False, MISATTRIBUTED, ", ".join(wrong)[:500])
        return Verdict(True)

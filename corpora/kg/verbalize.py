"""The template verbalizer: a subgraph's facts as fluent English sentences.

Facts are grouped into clauses (one per subject and relation; several values read as a list
"A, B and C", each value followed by its qualifiers: "from 1991 until 2001"). Clauses are
ordered by their template's ``order``. The subject is named once: the first sentence joins
up to three clauses ("X, who was born in Y, worked as a writer and died in Z" when the first
template allows a relative clause, else "X was born in Y and died in Z"); later sentences
start with a pronoun (he / she / it; for a person of unknown gender the name is repeated).
Templates that do not start with the subject are sentences of their own ("His father is
Y."). Templates are chosen for the subject's kind (person, place, ...: ``Subgraph.kind``). A
relation with no template (or none for such a subject) falls back to a clause built from the
form of its label (``lexicalize.py``: "Its record label is Y.", "It is located in Y.", "He is a
member of Y."). Only clauses of one event merge ("was born on 11 March 1952 in Cambridge").
Facts of chained entities follow, with the chained entity named as their subject.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from corpora.kg.lexicalize import generic_clause
from corpora.kg.model import TIME, Fact, Value
from corpora.kg.rdf import humanize_id
from corpora.kg.subgraphs import Subgraph, subject_kind
from corpora.kg.templates import DEFAULT_ORDER, RelationTemplate, TemplateSet
from corpora.kg.values import (
    indefinite_article,
    join_list,
    render_value,
    time_preposition,
    with_definite_article,
)

MAX_CLAUSES_PER_SENTENCE = 3
_YEAR = re.compile(r"^\d{3,4}$")
PREPOSITIONS = ("of", "in", "by", "for", "to", "from", "with", "at", "on", "as", "into")
POSSESSIVE = {"he": "his", "she": "her", "it": "its"}


@dataclass
class Verbalization:
    text: str
    relations: list[str] = field(default_factory=list)  # relations verbalized
    generic: list[str] = field(default_factory=list)  # relations that fell back to the generic pattern


@dataclass
class _Clause:
    subject: str
    relation: str
    facts: list[Fact]
    template: RelationTemplate | None
    order: int
    texts: tuple[str, ...] = ()  # the template's texts for this subject (its kind and tense)


def _pick(texts: tuple[str, ...], key: str) -> str:
    if len(texts) == 1:
        return texts[0]
    h = int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=4).digest(), "little")
    return texts[h % len(texts)]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _end(sentence: str) -> str:
    sentence = sentence.strip()
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


def _merge_shared(preds: list[tuple[str, bool, list[str], str | None]]) -> list[tuple[str, bool, list[str], str | None]]:
    """Join predicates of one event that repeat their verb: "was born on 11 March 1952" + "was born in
    Cambridge" -> "was born on 11 March 1952 in Cambridge". Items are (text, relative, relations,
    event); only clauses of the same event merge (a birth happens once, so its date and place
    belong together; "worked as a comedian" and "worked for the BBC" do not: the merged "worked
    as a comedian for the BBC" would claim more than either fact)."""
    out: list[tuple[str, bool, list[str], str | None]] = []
    for text, relative, rels, event in preds:
        b = text.split(" ")
        for j, (prev, prev_rel, prev_rels, prev_event) in enumerate(out):
            if event is None or prev_event != event:
                continue
            a = prev.split(" ")
            n = 0
            while n < min(len(a), len(b)) - 1 and a[n] == b[n]:
                n += 1
            if n >= 1 and b[n] in PREPOSITIONS and a[n] in PREPOSITIONS and a[n] != b[n] and len(prev_rels) == 1:
                out[j] = (prev + " " + " ".join(b[n:]), prev_rel and relative, prev_rels + rels, event)
                break
        else:
            out.append((text, relative, rels, event))
    return out


class TemplateVerbalizer:
    """Subgraph (with labels) -> Verbalization, using a TemplateSet; English output."""

    def __init__(self, templates: TemplateSet, lang: str = "en") -> None:
        self.templates = templates
        self.lang = lang

    # -------------------------------------------------------------- values
    def label_fn(self, sg: Subgraph) -> Callable[[str], str]:
        """Entity names as they read in a sentence ("the United Kingdom")."""
        return lambda eid: with_definite_article(sg.labels.get(eid) or humanize_id(eid))

    def relation_label(self, sg: Subgraph, relation: str) -> str:
        return sg.labels.get(relation) or self.templates.label_of(relation) or humanize_id(relation)

    def qualifier_phrase(self, sg: Subgraph, rel: str, value: Value) -> str:
        label = self.label_fn(sg)
        rendered = render_value(value, label, self.lang)
        template = self.templates.qualifiers.get(rel)
        if template is None:
            return f"({self.relation_label(sg, rel)}: {rendered})"
        when = f"{time_preposition(value)} {rendered}" if value.kind == TIME else rendered
        return template.replace("{value|when}", when).replace("{value}", rendered)

    def value_text(self, sg: Subgraph, fact: Fact, mode: str = "") -> str:
        text = render_value(fact.value, self.label_fn(sg), self.lang)
        if mode == "when" and fact.value.kind == TIME:
            text = f"{time_preposition(fact.value)} {text}"
        elif mode == "when" and _YEAR.match(text):  # a year given as a plain number (DBpedia "1928")
            text = f"in {text}"
        quals = [self.qualifier_phrase(sg, r, v) for r, v in fact.qualifiers]
        return " ".join([text] + quals)

    def objects(self, sg: Subgraph, facts: list[Fact], mode: str = "") -> str:
        # values without qualifiers first: "A, B and C from 1971 until 1974", never "A until 1974, B and C"
        ordered = sorted(facts, key=lambda f: bool(f.qualifiers))
        parts = [self.value_text(sg, f, mode) for f in ordered]
        joined = join_list(parts)
        if mode == "a":
            joined = f"{indefinite_article(joined)} {joined}"
        return joined

    # -------------------------------------------------------------- clauses
    def _clauses(self, sg: Subgraph) -> list[_Clause]:
        groups: dict[tuple[str, str], list[Fact]] = {}
        for f in sg.facts:
            groups.setdefault((f.subject, f.relation), []).append(f)
        clauses = []
        kinds = {sg.subject: sg.kind}
        for subj in {f.subject for f in sg.facts} - {sg.subject}:
            kinds[subj] = subject_kind([f for f in sg.facts if f.subject == subj])
        for (subj, rel), facts in groups.items():
            t = self.templates.find(rel, sg.labels.get(rel))
            texts = t.texts_for(kinds[subj], sg.past and subj == sg.subject) if t else ()
            if not texts:
                t = None
            clauses.append(_Clause(subj, rel, facts, t, t.order if t else DEFAULT_ORDER + 1000, texts))
        main = sorted((c for c in clauses if c.subject == sg.subject), key=lambda c: c.order)
        chained = sorted((c for c in clauses if c.subject != sg.subject), key=lambda c: (c.subject, c.order))
        return main + chained

    def _fill(self, sg: Subgraph, clause: _Clause, text: str, subject_text: str) -> str:
        objects = {
            "{object|when}": lambda: self.objects(sg, clause.facts, "when"),
            "{object|a}": lambda: self.objects(sg, clause.facts, "a"),
            "{object}": lambda: self.objects(sg, clause.facts),
        }
        for slot, fn in objects.items():
            if slot in text:
                text = text.replace(slot, fn())
        return text.replace("{subject}", subject_text)

    def _template_text(self, sg: Subgraph, clause: _Clause) -> str:
        return _pick(clause.texts, f"{sg.id}/{clause.relation}")

    def _generic(self, sg: Subgraph, clause: _Clause, named: bool, pronoun: str, subject_label: str) -> str:
        label = self.relation_label(sg, clause.relation)
        objects = self.objects(sg, clause.facts)
        one_date = len(clause.facts) == 1 and clause.facts[0].value.kind == TIME and not clause.facts[0].qualifiers
        who = _cap(pronoun) if named and pronoun else subject_label
        possessive = (_cap(POSSESSIVE[pronoun]) if pronoun else f"{subject_label}'s") if named else None
        return generic_clause(label, objects, len(clause.facts), who, possessive,
                              sg.past and clause.subject == sg.subject,
                              time_preposition(clause.facts[0].value) if one_date else None)

    # -------------------------------------------------------------- sentences
    def _sentences_for(self, sg: Subgraph, clauses: list[_Clause], subject_label: str, pronoun: str,
                       out: Verbalization) -> list[str]:
        sentences: list[str] = []
        named = False
        joinable = [c for c in clauses if c.template and all(x.startswith("{subject} ") for x in c.texts)]
        standalone = [c for c in clauses if c not in joinable]
        i = 0
        preds = _merge_shared([(self._fill(sg, c, self._template_text(sg, c), "").strip(), c.template.relative,
                                [c.relation], c.template.event) for c in joinable])
        if len(preds) >= 2:  # lead with a clause that can be relative ("X, who was born in Y, ...")
            lead = next((p for p in preds[:MAX_CLAUSES_PER_SENTENCE] if p[1]), None)
            if lead is not None:
                preds.remove(lead)
                preds.insert(0, lead)
        while i < len(preds):
            chunk = preds[i:i + MAX_CLAUSES_PER_SENTENCE]
            i += len(chunk)
            texts = [p[0] for p in chunk]
            subject_text = subject_label if not named or pronoun == "" else _cap(pronoun)
            if not named and len(chunk) >= 2 and chunk[0][1]:
                rel = "who" if pronoun in ("he", "she", "") else "which"
                sentences.append(f"{subject_text}, {rel} {texts[0]}, {join_list(texts[1:])}")
            else:
                sentences.append(f"{subject_text} {join_list(texts)}")
            named = True
            out.relations += [r for p in chunk for r in p[2]]
        for c in standalone:
            if c.template is None:
                sentences.append(_cap(self._generic(sg, c, named, pronoun, subject_label)))
                out.generic.append(c.relation)
            else:
                text = self._template_text(sg, c)
                if named and pronoun and text.startswith("{subject}'s "):
                    text = _cap(POSSESSIVE[pronoun]) + text[len("{subject}"):].replace("'s ", " ", 1)
                sentences.append(_cap(self._fill(sg, c, text, subject_label)) if not text.startswith("{subject}")
                                 else self._fill(sg, c, text, subject_label))
            out.relations.append(c.relation)
            named = True
        return sentences

    def verbalize(self, sg: Subgraph) -> Verbalization:
        out = Verbalization("")
        clauses = self._clauses(sg)
        label = self.label_fn(sg)
        sentences: list[str] = []
        subjects = list(dict.fromkeys(c.subject for c in clauses))
        for subj in subjects:
            mine = [c for c in clauses if c.subject == subj]
            pronoun = sg.pronoun if subj == sg.subject else "it"
            sentences += self._sentences_for(sg, mine, label(subj), pronoun, out)
        out.text = " ".join(_end(s[:1].upper() + s[1:] if s.startswith("the ") else s) for s in sentences)
        return out

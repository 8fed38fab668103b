"""kg-align's stages and joins as pure callables (no Beam), composed in ``transforms.py``: ``corpus``
(a row -> its sentences and their n-gram keys), the name index and mention joins (uncounted),
``sentences`` (those that mention an entity, per document) and ``align`` (each sentence with the
facts of its subject it states, as a pairs.jsonl line). Counted by ``pipeline.beam_steps``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from corpora.kg.align import (
    match_facts,
    name_keys,
    resolve_document,
    sentence_keys,
    sentence_size,
    split_sentences,
)
from corpora.kg.graph import cap_facts, dedupe_facts
from corpora.kg.identifiers import IdentifierFilter
from corpora.kg.model import Fact
from corpora.kg.rdf import humanize_id
from corpora.kg.values import render_value
from pipeline.outcomes import Forward, Kept, To
from pipeline.records import Drop

SENTENCES = "sentences"  # the corpus stage's second output: (document id, (index, sentence id, text))


class SplitSentences:
    """``corpus``: a row -> its usable sentences (``SENTENCES``) and their word n-gram keys (key, sentence
    id), passed on to the joins that count them (``sentences``); sentences too short or too long
    are counted by that name. A row is one in and one out."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens

    def __call__(self, row: dict) -> Iterator[Any]:
        skipped: Counter = Counter()
        for i, sentence in enumerate(split_sentences(row.get("text") or "")):
            skip = sentence_size(sentence)
            if skip:
                skipped[skip] += 1
                continue
            sid = f"{row['id']}#{i}"
            yield To(SENTENCES, Forward((row["id"], (i, sid, sentence))))
            for key in sentence_keys(sentence, self.max_tokens):
                yield Forward((key, sid))
        yield Kept([], dict(skipped))


def entity_names(element: tuple[str, dict]) -> Iterator[tuple[str, tuple[str, str, str, str]]]:
    """(entity, {best, labels}) -> (name key, (entity, best label, key, kind)) for each of its names:
    ``full`` (labels and aliases) and ``short`` (the family name of a label, used once named in full)."""
    entity, groups = element
    best = next((b for b in groups["best"] if b is not None), None)
    if best is None:
        return
    for key, kind in name_keys([(lab.text, lab.alias) for lab in groups["labels"]]):
        yield key, (entity, best[0], key, kind)


def mentions(element: tuple[str, dict]) -> Iterator[tuple[str, tuple[str, str, str, str, str]]]:
    """(n-gram key, {names, ngrams}) -> (document id, (sentence id, entity, label, key, kind))."""
    _, groups = element
    entities = list(groups["names"])
    if not entities:
        return
    for sid in set(groups["ngrams"]):
        for entity, label, key, kind in entities:
            yield sid.rsplit("#", 1)[0], (sid, entity, label, key, kind)


def candidates(doc_id: str, groups: dict[str, list]) -> Iterator[Any]:
    """``sentences``: (document id, {text: its sentences, mentions}) -> per sentence that mentions an
    entity (short names and pronouns resolved in the document, ``align.resolve_document``), one
    (subject, (sentence id, text, {entity: label})) per entity it mentions; others dropped
    (``no_entity_mention``)."""
    sentences = groups["text"]
    if not sentences:
        return
    for sid, text, mentioned in resolve_document(sentences, groups["mentions"]):
        if not mentioned:
            yield Drop("", "no_entity_mention", id=sid)
            continue
        yield Kept([(entity, (sid, text, mentioned)) for entity in sorted(mentioned)])


def relation_label(element: tuple[str, dict], given: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(relation, {rel, best}) -> (relation, label) for a relation of the facts: its best label from the
    input, else the templates' (``given``), else its id."""
    rel, groups = element
    if not list(groups["rel"]):
        return
    best = next((b for b in groups["best"] if b is not None), None)
    yield rel, (best[0] if best else given.get(rel) or rel)


def subject_facts(facts: Iterable[Fact], max_facts: int) -> list[Fact]:
    """The facts of one subject that sentences are matched against (the Beam job's ``align`` stage and
    ``corpora.kg.local.align_local``): external ids left out, the hub cap (``cap_facts``), repeats
    dropped (``dedupe_facts``)."""
    capped, _ = cap_facts(IdentifierFilter().keep_facts(facts), max_facts)
    return dedupe_facts(capped)[0]


class AlignSentences:
    """``align``: (subject, {facts, sentences}) and the relation labels (a side input) -> a pairs.jsonl
    line per sentence stating facts of the subject (counted as ``facts``); dropped:
    ``subject_has_no_facts``, ``no_object_in_sentence``. External ids are no sentence's content:
    never aligned."""

    def __init__(self, max_facts: int, lang: str) -> None:
        self.max_facts, self.lang = max_facts, lang

    def __call__(self, subject: str, groups: dict[str, list], relation_labels: dict[str, str]) -> Iterator[Any]:
        sentences = groups["sentences"]
        if not sentences:
            return
        facts = subject_facts(groups["facts"], self.max_facts)
        for sid, text, mentioned in sentences:
            if not facts:
                yield Drop("", "subject_has_no_facts", id=sid)
                continue
            label = lambda eid, m=mentioned: m.get(eid) or humanize_id(eid)  # noqa: E731
            matched = match_facts(text, subject, facts, set(mentioned), label, self.lang)
            if not matched:
                yield Drop("", "no_object_in_sentence", id=sid)
                continue
            row = pair_row(sid, text, subject, matched, label, relation_labels, self.lang)
            yield Kept([json.dumps(row, ensure_ascii=False)], {"facts": len(matched)})


def pair_row(sid: str, text: str, subject: str, facts: Iterable, label, relation_labels: dict, lang: str) -> dict:
    """One line of pairs.jsonl: the sentence, its document, and the facts it states (ids and labels)."""
    items, triples = [], []
    for f in facts:
        p_label = relation_labels.get(f.relation) or humanize_id(f.relation)
        o_text = render_value(f.value, label, lang)
        items.append({"s": f.subject, "p": f.relation, "p_label": p_label, "o": f.value.to_json(), "o_text": o_text})
        triples.append([label(subject), p_label, o_text])
    serialized = " ".join([label(subject)] + [x for t in triples for x in t[1:]])
    return {"sentence": text, "doc_id": sid.rsplit("#", 1)[0], "sentence_id": sid, "subject": subject,
            "subject_label": label(subject), "facts": items, "triples": triples, "serialized_triples": serialized}

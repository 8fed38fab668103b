"""Beam shell of ``kg-align``: the name index joined to sentence n-grams, then to subjects' facts.

Shuffles: names and n-grams by key (mentions), mentions and sentence texts by sentence,
candidate sentences and facts by subject. Nothing is held whole on one worker; the relation
labels (a few thousand at most) are the only side input.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import apache_beam as beam

from corpora.kg.align import (
    match_facts,
    name_keys,
    resolve_document,
    sentence_keys,
    sentence_size,
    split_sentences,
)
from corpora.kg.beam_kg import AssembleStatements, BestLabelFn
from corpora.kg.graph import cap_facts, dedupe_facts
from corpora.kg.identifiers import IdentifierFilter
from corpora.kg.rdf import humanize_id
from corpora.kg.values import render_value
from pipeline.beam_steps import STATS, CountingDoFn
from pipeline.stats import IN, OUT, count_key, drop_key

SENTENCES = "sentences"


class _SplitSentences(CountingDoFn):
    """Corpus row -> (document id, (index, sentence id, text)) on ``sentences`` and (n-gram key, sentence id)
    on the main output."""

    def __init__(self, max_tokens: int) -> None:
        super().__init__(keep_rejects=False)
        self.max_tokens = max_tokens

    def process(self, row) -> Iterator[Any]:
        self._counter.add("corpus", IN)
        self._counter.add("corpus", OUT)
        for i, sentence in enumerate(split_sentences(row.get("text") or "")):
            skip = sentence_size(sentence)
            if skip:
                self._counter.add("corpus", count_key(skip))
                continue
            sid = f"{row['id']}#{i}"
            self._counter.add("sentences", IN)
            yield beam.pvalue.TaggedOutput(SENTENCES, (row["id"], (i, sid, sentence)))
            for key in sentence_keys(sentence, self.max_tokens):
                yield key, sid


def _names(element):
    """(entity, {best, labels}) -> (name key, (entity, best label, key, kind)) for each of its names: ``full``
    (labels and aliases) and ``short`` (the family name of a label, used once named in full)."""
    entity, groups = element
    best = next((b for b in groups["best"] if b is not None), None)
    if best is None:
        return
    for key, kind in name_keys([(lab.text, lab.alias) for lab in groups["labels"]]):
        yield key, (entity, best[0], key, kind)


def _mentions(element):
    """(n-gram key, {names, ngrams}) -> (document id, (sentence id, entity, label, key, kind))."""
    _, groups = element
    entities = list(groups["names"])
    if not entities:
        return
    for sid in set(groups["ngrams"]):
        for entity, label, key, kind in entities:
            yield sid.rsplit("#", 1)[0], (sid, entity, label, key, kind)


class _Candidates(CountingDoFn):
    """(document id, {text, mentions}) -> (subject, (sentence id, text, {entity: label})) per entity each
    sentence mentions, once short names and pronouns are resolved in the document (``resolve_document``)."""

    def process(self, element) -> Iterator[Any]:
        _, groups = element
        sentences = list(groups["text"])
        if not sentences:
            return
        for sid, text, mentioned in resolve_document(sentences, groups["mentions"]):
            if not mentioned:
                self._counter.add("sentences", drop_key("no_entity_mention"))
                continue
            self._counter.add("sentences", OUT)
            for entity in sorted(mentioned):
                yield entity, (sid, text, mentioned)


class _Align(CountingDoFn):
    """(subject, {facts, sentences}) -> pairs: each sentence with the subject's facts it mentions."""

    def __init__(self, max_facts: int, lang: str) -> None:
        super().__init__(keep_rejects=False)
        self.max_facts = max_facts
        self.lang = lang

    def process(self, element, relation_labels) -> Iterator[Any]:
        subject, groups = element
        sentences = list(groups["sentences"])
        if not sentences:
            return
        facts, _ = cap_facts(IdentifierFilter().keep_facts(groups["facts"]), self.max_facts)
        facts, _ = dedupe_facts(facts)  # external ids are no sentence's content: never aligned
        for sid, text, mentioned in sentences:
            self._counter.add("align", IN)
            if not facts:
                self._counter.add("align", drop_key("subject_has_no_facts"))
                continue
            label = lambda eid, m=mentioned: m.get(eid) or humanize_id(eid)  # noqa: E731
            matched = match_facts(text, subject, facts, set(mentioned), label, self.lang)
            if not matched:
                self._counter.add("align", drop_key("no_object_in_sentence"))
                continue
            self._counter.add("align", OUT)
            self._counter.add("align", count_key("facts"), len(matched))
            yield json.dumps(pair_row(sid, text, subject, matched, label, relation_labels, self.lang),
                             ensure_ascii=False)


def pair_row(sid: str, text: str, subject: str, facts, label, relation_labels: dict, lang: str) -> dict:
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


# ---------------------------------------------------------------- the job's composite transforms


class SubjectFacts(beam.PTransform):
    """The ``read`` stage's facts (``out``), ``parts`` and ``value_parts`` -> (subject, Fact) of every
    fact (statement nodes assembled, stage ``statements``), with ``stats``."""

    def expand(self, read):
        assembled = (read["parts"], read["value_parts"]) | "Statements" >> AssembleStatements(False)
        facts = (read["out"], assembled["out"]) | "AllFacts" >> beam.Flatten()
        return {"out": facts | "BySubject" >> beam.Map(lambda f: (f.subject, f)), STATS: assembled[STATS]}


class NameIndex(beam.PTransform):
    """(entity, Label) -> ``names``: (name key, (entity, best label, key, kind)) for every label and
    alias, and ``best``: (entity, (text, lang)) the best label in ``langs``."""

    def __init__(self, langs: tuple[str, ...]) -> None:
        super().__init__()
        self.langs = langs

    def expand(self, labels):
        best = labels | "BestLabel" >> beam.CombinePerKey(BestLabelFn(self.langs))
        names = ({"best": best, "labels": labels} | "JoinNames" >> beam.CoGroupByKey()
                 | "Names" >> beam.FlatMap(_names))
        return {"names": names, "best": best}


class CorpusSentences(beam.PTransform):
    """Corpus Parquet files -> ``sentences`` (document id, (index, sentence id, text)) and word n-grams
    (key, sentence id) on ``out``, stages ``corpus`` and ``sentences``, with ``stats``."""

    def __init__(self, files: list[str], max_tokens: int = 8) -> None:
        super().__init__()
        self.files, self.max_tokens = files, max_tokens

    def expand(self, pbegin):
        rows = (pbegin | "CorpusFiles" >> beam.Create(self.files)
                | "ReadCorpus" >> beam.io.ReadAllFromParquet(columns=["id", "text"]))
        return rows | "Split" >> beam.ParDo(_SplitSentences(self.max_tokens)).with_outputs(
            STATS, SENTENCES, main="out")


class MentionedSubjects(beam.PTransform):
    """Name index + sentences -> (subject, (sentence id, text, {entity: label})) per entity a
    sentence mentions (names joined to n-grams, then resolved per document), with ``stats``."""

    def expand(self, inputs):
        mentions = ({"names": inputs["names"], "ngrams": inputs["ngrams"]} | "JoinMentions" >> beam.CoGroupByKey()
                    | "Mentions" >> beam.FlatMap(_mentions))
        return ({"text": inputs["sentences"], "mentions": mentions} | "JoinSentences" >> beam.CoGroupByKey()
                | "Candidates" >> beam.ParDo(_Candidates(False)).with_outputs(STATS, main="out"))


class RelationLabels(beam.PTransform):
    """The relations of the facts -> (relation, label): its best label from the input, else the
    templates' label (``given``), else its id."""

    def __init__(self, given: dict[str, str]) -> None:
        super().__init__()
        self.given = given

    def expand(self, inputs):
        relations = (inputs["facts"] | "Relations" >> beam.Map(lambda kv: (kv[1].relation, None))
                     | "DistinctRelations" >> beam.CombinePerKey(lambda xs: None))
        return ({"rel": relations, "best": inputs["best"]} | "JoinRelationLabels" >> beam.CoGroupByKey()
                | "RelationLabel" >> beam.FlatMap(_relation_label, self.given))


def _relation_label(element, given: dict):
    rel, groups = element
    if not list(groups["rel"]):
        return
    best = next((b for b in groups["best"] if b is not None), None)
    yield rel, (best[0] if best else given.get(rel) or rel)


class AlignPairs(beam.PTransform):
    """Subjects' facts + the sentences that mention them -> pairs.jsonl lines, stage ``align``
    (relation labels a side input), with ``stats``."""

    def __init__(self, max_facts: int, lang: str) -> None:
        super().__init__()
        self.max_facts, self.lang = max_facts, lang

    def expand(self, inputs):
        return ({"facts": inputs["facts"], "sentences": inputs["sentences"]} | "JoinFacts" >> beam.CoGroupByKey()
                | "Align" >> beam.ParDo(_Align(self.max_facts, self.lang), beam.pvalue.AsDict(inputs["relation_labels"]))
                .with_outputs(STATS, main="out"))

"""The thin Beam shell of doc2query: the pure stages of :mod:`corpora.doc2query.stages` wired with
the stage wrappers of :mod:`pipeline.beam_steps`, which do all the counting.

Every transform returns the outputs every stage has: kept elements (main), per-bundle counts
(``stats``, summed into stats.json) and drops (``rejects``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import apache_beam as beam

from corpora.doc2query import stages
from corpora.doc2query.expand import ExpandConfig, has_text
from corpora.doc2query.pairs import MiningConfig, normalize_query
from pipeline.beam_steps import REJECTS, STATS, ApplyStep, FlatStep, GroupStep


class ParseLines(ApplyStep):
    """``lines | ParseLines("collection", parse_id_text)`` -> outputs (main, stats, rejects)."""

    def __init__(self, stage: str, parse: Callable[[str], Any], max_line_bytes: int, keep_rejects: bool = False):
        super().__init__(stage, stages.ParseLine(parse, max_line_bytes), keep_rejects)


def join_msmarco(collection, queries, qrels, keep_rejects: bool = False, ids_stages=("collection_ids", "query_ids"),
                 stage: str = "join"):
    """(pid, text), (qid, query), (qid, pid, rel) -> (pairs, stats list, rejects list) of the stages
    collection_ids, query_ids and join (:func:`stages.join_on_query`, :func:`stages.join_on_passage`)."""
    collection_ids, query_ids = ids_stages
    judged = qrels | "KeyJudgements" >> beam.Map(lambda j: (j[0], j[1]))
    by_qid = {"query": queries, "judged": judged} | "GroupByQuery" >> beam.CoGroupByKey()
    first = by_qid | "JoinQueries" >> FlatStep(
        stage, lambda e: stages.join_on_query(*e, ids_stage=query_ids), keep_rejects)
    by_pid = {"passage": collection, "queries": first["out"]} | "GroupByPassage" >> beam.CoGroupByKey()
    second = by_pid | "JoinPassages" >> FlatStep(
        stage, lambda e: stages.join_on_passage(*e, ids_stage=collection_ids), keep_rejects)
    return second["out"], [first[STATS], second[STATS]], [first[REJECTS], second[REJECTS]]


def mine_corpus(rows, config: MiningConfig, max_query_docs: int, keep_rejects: bool,
                stage_names=("mine", "headings")):
    """Corpus rows -> (pairs, stats list, rejects list) of the ``mine`` and ``headings`` stages."""
    mine, headings = stage_names
    mined = rows | "Mine" >> ApplyStep(mine, stages.MineDocument(config), keep_rejects)
    kept = (
        mined["out"]
        | "KeyByHeading" >> beam.Map(lambda p: (normalize_query(p.query), p))
        | "GroupByHeading" >> beam.GroupByKey()
        | "DropBoilerplate" >> GroupStep(headings, partial(stages.boilerplate_heading, max_docs=max_query_docs),
                                         keep_rejects)
    )
    return kept["out"], [mined[STATS], kept[STATS]], [mined[REJECTS], kept[REJECTS]]


class SplitDocuments(ApplyStep):
    """Corpus rows -> PassageItems (stage ``split`` counts documents; ``count:passages``)."""

    def __init__(self, config: ExpandConfig, keep_rejects: bool = False, stage: str = "split") -> None:
        super().__init__(stage, stages.Split(config), keep_rejects)


class AssembleDocuments(beam.PTransform):
    """{"doc": (id, row), "queries": (id, (index, queries))} -> expanded Documents (stage ``expand``)."""

    def __init__(self, config: ExpandConfig, generator: str, keep_rejects: bool = False,
                 stage: str = "expand") -> None:
        super().__init__(label=stage)
        self.config, self.generator, self.keep_rejects, self.stage = config, generator, keep_rejects, stage

    def expand(self, inputs):
        return (
            inputs
            | "GroupByDocument" >> beam.CoGroupByKey()
            | "Assemble" >> GroupStep(self.stage, partial(stages.assemble, config=self.config,
                                                          generator=self.generator), self.keep_rejects, part="doc")
        )


class DedupeRows(beam.PTransform):
    """Corpus rows -> one row per id (the copy :func:`corpora.doc2query.ids.pick_copy` keeps), so a
    repeated id is expanded once, whatever order its copies arrive in (stage ``dedupe``)."""

    def __init__(self, keep_rejects: bool = False, stage: str = "dedupe") -> None:
        super().__init__(label=stage)
        self.keep_rejects, self.stage = keep_rejects, stage

    def expand(self, pcoll):
        return (pcoll | "KeyRows" >> beam.Map(lambda r: (r["id"], r)) | "GroupRows" >> beam.GroupByKey()
                | "PickCopy" >> GroupStep(self.stage, stages.one_row, self.keep_rejects))


class PrecomputedQueries(FlatStep):
    """Lines of keyed prediction files -> (id, (0, queries)) for AssembleDocuments (stage ``generate``)."""

    def __init__(self, limit: int, keep_rejects: bool = False, stage: str = "generate") -> None:
        super().__init__(stage, stages.PrecomputedLine(limit), keep_rejects)


def rows_with_text(rows):
    """(id, row) of the rows that have text (the others were dropped by ``split``)."""
    return rows | "KeepWithText" >> beam.Filter(has_text) | "KeyById" >> beam.Map(lambda r: (r["id"], r))

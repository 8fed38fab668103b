"""The thin Beam shell of doc2query: DoFns that adapt the pure cores (pairs, expand) and count.

Every DoFn here is a :class:`pipeline.beam_steps.CountingDoFn`: kept elements on the main
output, per-bundle counts on ``stats`` (summed into stats.json), drops on ``rejects``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import apache_beam as beam

from corpora.doc2query.expand import ExpandConfig, SplitPassages, assemble_document, has_text
from corpora.doc2query.ids import DUPLICATE_CONFLICT, DUPLICATE_ID, pick_copy
from corpora.doc2query.pairs import BadLine, MiningConfig, Pair, decode_line, mine_pairs, normalize_query
from pipeline.beam_steps import REJECTS, STATS, CountingDoFn, stage_outputs
from pipeline.records import Drop
from pipeline.stats import IN, OUT, count_key


class _ParseLines(CountingDoFn):
    """Raw text lines -> parsed values; bad lines counted by reason (stage = the file's role)."""

    def __init__(self, stage: str, parse: Callable[[str], Any], max_line_bytes: int, keep_rejects: bool) -> None:
        super().__init__(keep_rejects)
        self.stage, self.parse, self.max_line_bytes = stage, parse, max_line_bytes

    def process(self, raw: bytes):
        self._counter.add(self.stage, IN)
        line = decode_line(raw, self.max_line_bytes)
        parsed = line if isinstance(line, BadLine) else self.parse(line)
        if isinstance(parsed, BadLine):
            detail = parsed.detail or (line[:200] if isinstance(line, str) else "")
            yield from self._dropped(Drop(self.stage, parsed.reason, detail=detail))
        elif self.stage == "qrels" and parsed[2] <= 0:
            yield from self._dropped(Drop(self.stage, "not_relevant", id=parsed[0], detail=parsed[1]))
        else:
            self._counter.add(self.stage, OUT)
            yield parsed


class ParseLines(beam.PTransform):
    """``lines | ParseLines("collection", parse_id_text)`` -> outputs (main, stats, rejects)."""

    def __init__(self, stage: str, parse: Callable[[str], Any], max_line_bytes: int, keep_rejects: bool = False):
        super().__init__(label=stage)
        self.dofn = _ParseLines(stage, parse, max_line_bytes, keep_rejects)

    def expand(self, pcoll):
        return pcoll | stage_outputs(self.dofn)


class _JoinQueries(CountingDoFn):
    """qid -> {"query": [...], "judged": [pid, ...]} -> (pid, (qid, query)) per distinct judgement;
    repeated qids keep one query by the one duplicate-id rule (stage ``query_ids``)."""

    STAGE = "join"

    def process(self, element):
        qid, groups = element
        queries = list(groups["query"])
        if queries:
            query = yield from _dedupe(self, "query_ids", qid, queries)
        pids = list(groups["judged"])  # empty for a query nobody judged: not a pair, not a drop
        if pids:
            self._counter.add(self.STAGE, IN, len(pids))
        seen: set[str] = set()
        for pid in pids:
            if not queries:
                yield from self._dropped(Drop(self.STAGE, "unknown_query", id=qid, detail=f"pid {pid}"))
            elif pid in seen:
                yield from self._dropped(Drop(self.STAGE, "duplicate_judgement", id=qid, detail=f"pid {pid}"))
            else:
                seen.add(pid)
                yield pid, (qid, query)


def _dedupe(dofn: CountingDoFn, stage: str, key: str, texts: list[str]):
    """Count the copies of ``key`` under ``stage`` (in, out, ``duplicate_id`` drops, conflicts) and
    return the kept text (a generator: drops are yielded for --rejects)."""
    kept, dropped, conflict = pick_copy(texts, str)
    dofn._counter.add(stage, IN, len(texts))
    dofn._counter.add(stage, OUT)
    if conflict:
        dofn._counter.add(stage, count_key(DUPLICATE_CONFLICT))
    for text in dropped:
        yield from dofn._dropped(Drop(stage, DUPLICATE_ID, id=key, detail=text[:200]))
    return kept


class _JoinPassages(CountingDoFn):
    """pid -> {"passage": [...], "queries": [(qid, query)]} -> Pairs; repeated pids keep one passage
    by the one duplicate-id rule (stage ``collection_ids``); judgements of unknown passages are
    dropped (counted); they make the join stage's ``out``. Pairs are split by query."""

    STAGE = "join"

    def process(self, element):
        pid, groups = element
        passages = list(groups["passage"])
        if passages:
            passage = yield from _dedupe(self, "collection_ids", pid, passages)
        for qid, query in groups["queries"]:  # empty for a passage nobody judged
            if not passages:
                yield from self._dropped(Drop(self.STAGE, "unknown_passage", id=pid, detail=f"qid {qid}"))
            else:
                self._counter.add(self.STAGE, OUT)
                yield Pair(pid=pid, qid=qid, passage=passage, query=query, source="msmarco", split_key=qid)


def join_msmarco(collection, queries, qrels, keep_rejects: bool = False):
    """(pid, text), (qid, query), (qid, pid, rel) -> (pairs, stats list, rejects list) of the join stage."""
    judged = qrels | "KeyJudgements" >> beam.Map(lambda j: (j[0], j[1]))
    by_qid = {"query": queries, "judged": judged} | "GroupByQuery" >> beam.CoGroupByKey()
    first = by_qid | "JoinQueries" >> stage_outputs(_JoinQueries(keep_rejects))
    by_pid = {"passage": collection, "queries": first["out"]} | "GroupByPassage" >> beam.CoGroupByKey()
    second = by_pid | "JoinPassages" >> stage_outputs(_JoinPassages(keep_rejects))
    return second["out"], [first[STATS], second[STATS]], [first[REJECTS], second[REJECTS]]


class _MineDoFn(CountingDoFn):
    """Corpus rows -> mined Pairs (stage ``mine`` counts documents; ``count:pairs`` the pairs)."""

    STAGE = "mine"

    def __init__(self, config: MiningConfig, keep_rejects: bool) -> None:
        super().__init__(keep_rejects)
        self.config = config

    def process(self, row: dict):
        import json

        self._counter.add(self.STAGE, IN)
        title = None
        if self.config.use_meta_title and row.get("meta"):
            try:
                meta = json.loads(row["meta"])
                title = meta.get("title") if isinstance(meta, dict) and isinstance(meta.get("title"), str) else None
            except ValueError:
                pass
        pairs, reason = mine_pairs(row["id"], row.get("text") or "", row.get("source") or "corpus", title,
                                   self.config)
        if not pairs:
            yield from self._dropped(Drop(self.STAGE, reason or "no_pairs", id=row["id"], url=row.get("url")))
        else:
            self._counter.add(self.STAGE, OUT)
            self._counter.add(self.STAGE, count_key("pairs"), len(pairs))
            yield from pairs


class _DropBoilerplate(CountingDoFn):
    """(normalized query, pairs) -> the pairs, unless the query heads more than ``max_docs``
    documents (a site name or "Related articles": ``boilerplate_heading``)."""

    STAGE = "headings"

    def __init__(self, max_docs: int, keep_rejects: bool) -> None:
        super().__init__(keep_rejects)
        self.max_docs = max_docs

    def process(self, element):
        query, pairs = element
        pairs = list(pairs)
        self._counter.add(self.STAGE, IN, len(pairs))
        docs = {p.split_key for p in pairs}
        if self.max_docs and len(docs) > self.max_docs:
            for p in pairs:
                yield from self._dropped(Drop(self.STAGE, "boilerplate_heading", id=p.pid,
                                              detail=f"{query!r} heads {len(docs)} documents"))
        else:
            self._counter.add(self.STAGE, OUT, len(pairs))
            yield from pairs


def mine_corpus(rows, config: MiningConfig, max_query_docs: int, keep_rejects: bool):
    """Corpus rows -> (pairs, stats list, rejects list) of the ``mine`` and ``headings`` stages."""
    mined = rows | "Mine" >> stage_outputs(_MineDoFn(config, keep_rejects))
    kept = (
        mined["out"]
        | "KeyByHeading" >> beam.Map(lambda p: (normalize_query(p.query), p))
        | "GroupByHeading" >> beam.GroupByKey()
        | "DropBoilerplate" >> stage_outputs(_DropBoilerplate(max_query_docs, keep_rejects))
    )
    return kept["out"], [mined[STATS], kept[STATS]], [mined[REJECTS], kept[REJECTS]]


class _SplitDoFn(CountingDoFn):
    """Corpus rows -> PassageItems (stage ``split`` counts documents; ``count:passages``)."""

    STAGE = "split"

    def __init__(self, config: ExpandConfig, keep_rejects: bool) -> None:
        super().__init__(keep_rejects)
        self.step = SplitPassages(config.passage)

    def process(self, row: dict):
        self._counter.add(self.STAGE, IN)
        result = self.step(row)
        if isinstance(result, Drop):
            yield from self._dropped(result)
        else:
            self._counter.add(self.STAGE, OUT)
            self._counter.add(self.STAGE, count_key("passages"), len(result))
            yield from result


class SplitDocuments(beam.PTransform):
    def __init__(self, config: ExpandConfig, keep_rejects: bool = False) -> None:
        super().__init__(label="split")
        self.dofn = _SplitDoFn(config, keep_rejects)

    def expand(self, pcoll):
        return pcoll | stage_outputs(self.dofn)


class _AssembleDoFn(CountingDoFn):
    """doc id -> {"doc": [row], "queries": [(index, queries)]} -> the expanded Document."""

    STAGE = "expand"

    def __init__(self, config: ExpandConfig, generator: str, keep_rejects: bool = False) -> None:
        super().__init__(keep_rejects)
        self.config, self.generator = config, generator

    def process(self, element):
        _, groups = element
        rows = list(groups["doc"])  # one row: ids are made unique (DedupeRows) before passages are cut
        self._counter.add(self.STAGE, IN, len(rows))
        if rows:
            doc = assemble_document(rows[0], list(groups["queries"]), self.config, self.generator)
            n = len(doc.meta["predicted_queries"])
            self._counter.add(self.STAGE, count_key("queries"), n)
            if n == 0:
                self._counter.add(self.STAGE, count_key("documents_without_queries"))
            self._counter.add(self.STAGE, OUT)
            yield doc


class AssembleDocuments(beam.PTransform):
    """{"doc": (id, row), "queries": (id, (index, queries))} -> expanded Documents."""

    def __init__(self, config: ExpandConfig, generator: str, keep_rejects: bool = False) -> None:
        super().__init__(label="expand")
        self.config, self.generator, self.keep_rejects = config, generator, keep_rejects

    def expand(self, inputs):
        return (
            inputs
            | "GroupByDocument" >> beam.CoGroupByKey()
            | "Assemble" >> stage_outputs(_AssembleDoFn(self.config, self.generator, self.keep_rejects))
        )


class _DedupeRowsDoFn(CountingDoFn):
    """id -> [rows] -> the one row the duplicate-id rule keeps (stage ``dedupe``)."""

    STAGE = "dedupe"

    def process(self, element):
        key, rows = element
        rows = list(rows)
        self._counter.add(self.STAGE, IN, len(rows))
        kept, dropped, conflict = pick_copy(rows, lambda r: r.get("text") or "")
        if conflict:
            self._counter.add(self.STAGE, count_key(DUPLICATE_CONFLICT))
        for row in dropped:
            yield from self._dropped(Drop(self.STAGE, DUPLICATE_ID, id=key, url=row.get("url")))
        self._counter.add(self.STAGE, OUT)
        yield kept


class DedupeRows(beam.PTransform):
    """Corpus rows -> one row per id (the copy :func:`corpora.doc2query.ids.pick_copy` keeps), so a
    repeated id is expanded once, whatever order its copies arrive in."""

    def __init__(self, keep_rejects: bool = False) -> None:
        super().__init__(label="dedupe")
        self.keep_rejects = keep_rejects

    def expand(self, pcoll):
        return (pcoll | "KeyRows" >> beam.Map(lambda r: (r["id"], r)) | "GroupRows" >> beam.GroupByKey()
                | "PickCopy" >> stage_outputs(_DedupeRowsDoFn(self.keep_rejects)))


class _PrecomputedDoFn(CountingDoFn):
    """Keyed prediction lines -> (id, (0, queries)) capped at ``limit`` (0: all); stage ``generate``."""

    STAGE = "generate"

    def __init__(self, limit: int, keep_rejects: bool) -> None:
        super().__init__(keep_rejects)
        self.limit = limit

    def process(self, raw: bytes):
        from corpora.doc2query.precomputed import parse_keyed_line

        line = decode_line(raw)
        parsed = line if isinstance(line, BadLine) else parse_keyed_line(line)
        if isinstance(parsed, BadLine) and parsed.reason == "blank_line":
            return
        self._counter.add(self.STAGE, IN)
        if isinstance(parsed, BadLine):  # only a line-aligned collection line that was dropped gets here
            yield from self._dropped(Drop(self.STAGE, parsed.reason, detail=parsed.detail))
        elif not parsed[0]:
            yield from self._dropped(Drop(self.STAGE, "collection_line_dropped"))
        else:
            queries = parsed[1][:self.limit] if self.limit else parsed[1]
            self._counter.add(self.STAGE, OUT)
            self._counter.add(self.STAGE, count_key("queries"), len(queries))
            yield parsed[0], (0, queries)


class PrecomputedQueries(beam.PTransform):
    """Lines of keyed prediction files -> (id, (0, queries)) for AssembleDocuments."""

    def __init__(self, limit: int, keep_rejects: bool = False) -> None:
        super().__init__(label="generate")
        self.dofn = _PrecomputedDoFn(limit, keep_rejects)

    def expand(self, pcoll):
        return pcoll | stage_outputs(self.dofn)


def rows_with_text(rows):
    """(id, row) of the rows that have text (the others were dropped by ``split``)."""
    return rows | "KeepWithText" >> beam.Filter(has_text) | "KeyById" >> beam.Map(lambda r: (r["id"], r))

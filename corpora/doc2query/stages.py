"""The doc2query stages as pure callables and their decision rules (no Beam).

Each returns what ``pipeline.beam_steps`` counts (records, Drops and ``pipeline.outcomes``); the
Beam shell (``transforms.py``) only wires them. The rules: a parsed line or a Drop per raw line;
a judgement counts only with relevance above 0; one copy per repeated id
(:func:`corpora.doc2query.ids.pick_copy`); a judgement needs its query and its passage and counts
once; a heading that heads too many documents is boilerplate.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from corpora.doc2query.expand import ExpandConfig, SplitPassages, assemble_document
from corpora.doc2query.ids import DUPLICATE_CONFLICT, DUPLICATE_ID, pick_copy
from corpora.doc2query.pairs import BadLine, MiningConfig, Pair, decode_line, mine_pairs, parse_qrels
from pipeline.outcomes import At, Count, Kept
from pipeline.records import Drop


class ParseLine:
    """A raw text line -> its parsed value, or a Drop (the line's BadLine reason, or a Drop the
    parser returned)."""

    def __init__(self, parse: Callable[[str], Any], max_line_bytes: int) -> None:
        self.parse, self.max_line_bytes = parse, max_line_bytes

    def __call__(self, raw: bytes):
        line = decode_line(raw, self.max_line_bytes)
        parsed = line if isinstance(line, BadLine) else self.parse(line)
        if isinstance(parsed, BadLine):
            return Drop("", parsed.reason, detail=parsed.detail or (line[:200] if isinstance(line, str) else ""))
        return parsed


def parse_relevant_qrels(line: str) -> tuple[str, str, int] | BadLine | Drop:
    """A qrels line -> (qid, pid, relevance), or why not: a judgement of relevance 0 or less is
    ``not_relevant`` (it makes no pair)."""
    parsed = parse_qrels(line)
    if not isinstance(parsed, BadLine) and parsed[2] <= 0:
        return Drop("", "not_relevant", id=parsed[0], detail=parsed[1])
    return parsed


def one_copy(key: str, copies: Sequence, text: Callable[[Any], str] = str,
             url: Callable[[Any], str | None] | None = None, detail: bool = True) -> Iterator:
    """The copies of one id -> the copy kept, a ``duplicate_id`` Drop per other copy, and
    ``duplicate_id_conflict`` counted when their texts differ."""
    kept, dropped, conflict = pick_copy(copies, text)
    if conflict:
        yield Count(DUPLICATE_CONFLICT)
    for copy in dropped:
        yield Drop("", DUPLICATE_ID, id=key, url=url(copy) if url else None,
                   detail=text(copy)[:200] if detail else "")
    yield kept


def _kept_copy(ids_stage: str, key: str, texts: list[str]):
    """The id stage's outcomes (``At(ids_stage, ...)``) and the text kept; None when no copy."""
    if not texts:
        return [], None
    outcomes = [At(ids_stage, o) for o in one_copy(key, texts)]
    return outcomes, outcomes[-1].item


def join_on_query(qid: str, groups: dict, ids_stage: str) -> Iterator:
    """The first half of the MS MARCO join, per query id: its copies picked (``ids_stage``), and
    each judged passage forwarded with the query, or dropped (``unknown_query``,
    ``duplicate_judgement``)."""
    from pipeline.outcomes import Forward

    outcomes, query = _kept_copy(ids_stage, qid, list(groups["query"]))
    yield from outcomes
    seen: set[str] = set()
    for pid in groups["judged"]:  # empty for a query nobody judged: not a pair, not a drop
        if query is None:
            yield Drop("", "unknown_query", id=qid, detail=f"pid {pid}")
        elif pid in seen:
            yield Drop("", "duplicate_judgement", id=qid, detail=f"pid {pid}")
        else:
            seen.add(pid)
            yield Forward((pid, (qid, query)))


def join_on_passage(pid: str, groups: dict, ids_stage: str) -> Iterator:
    """The second half, per passage id: its copies picked (``ids_stage``), and a Pair per query
    judged for it, or ``unknown_passage`` when the collection has no such passage."""
    outcomes, passage = _kept_copy(ids_stage, pid, list(groups["passage"]))
    yield from outcomes
    for qid, query in groups["queries"]:  # empty for a passage nobody judged
        if passage is None:
            yield Drop("", "unknown_passage", id=pid, detail=f"qid {qid}")
        else:
            yield Pair(pid=pid, qid=qid, passage=passage, query=query, source="msmarco", split_key=qid)


class MineDocument:
    """A corpus row -> its mined Pairs (one kept document; ``pairs`` counted), or a Drop."""

    def __init__(self, config: MiningConfig) -> None:
        self.config = config

    def __call__(self, row: dict):
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
            return Drop("", reason or "no_pairs", id=row["id"], url=row.get("url"))
        return Kept(pairs, {"pairs": len(pairs)})


def boilerplate_heading(query: str, pairs: list[Pair], max_docs: int) -> Iterator:
    """The pairs of one normalized heading: kept, or all dropped as ``boilerplate_heading`` when it
    heads more than ``max_docs`` documents (a site name, "Related articles"); 0: no limit."""
    docs = {p.split_key for p in pairs}
    if max_docs and len(docs) > max_docs:
        for p in pairs:
            yield Drop("", "boilerplate_heading", id=p.pid, detail=f"{query!r} heads {len(docs)} documents")
    else:
        yield from pairs


class Split:
    """A corpus row -> its passages (one kept document; ``passages`` counted), or a Drop."""

    def __init__(self, config: ExpandConfig) -> None:
        self.step = SplitPassages(config.passage)

    def __call__(self, row: dict):
        result = self.step(row)
        return result if isinstance(result, Drop) else Kept(result, {"passages": len(result)})


def assemble(_doc_id: str, groups: dict, config: ExpandConfig, generator: str) -> Iterator:
    """doc id -> {"doc": [row], "queries": [(index, queries)]} -> the expanded Document, with its
    ``queries`` counted and ``documents_without_queries`` when it got none."""
    rows = groups["doc"]  # one row: ids are made unique (dedupe) before passages are cut
    if rows:
        doc = assemble_document(rows[0], list(groups["queries"]), config, generator)
        n = len(doc.meta["predicted_queries"])
        yield Kept([doc], {"queries": n, **({"documents_without_queries": 1} if n == 0 else {})})


def one_row(key: str, rows: list[dict]) -> Iterator:
    """The rows of one id -> the row :func:`pick_copy` keeps; the others ``duplicate_id``."""
    return one_copy(key, rows, text=lambda r: r.get("text") or "", url=lambda r: r.get("url"), detail=False)


class PrecomputedLine:
    """A keyed prediction line -> (id, (0, queries)) capped at ``limit`` (0: all), with ``queries``
    counted; a bad line (or a dropped collection line's) as a Drop; blank lines are no record."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __call__(self, raw: bytes) -> Iterator:
        from corpora.doc2query.precomputed import parse_keyed_line

        line = decode_line(raw)
        parsed = line if isinstance(line, BadLine) else parse_keyed_line(line)
        if isinstance(parsed, BadLine) and parsed.reason == "blank_line":
            return
        if isinstance(parsed, BadLine):  # only a line-aligned collection line that was dropped gets here
            yield Drop("", parsed.reason, detail=parsed.detail)
        elif not parsed[0]:
            yield Drop("", "collection_line_dropped")
        else:
            queries = parsed[1][:self.limit] if self.limit else parsed[1]
            yield Kept([(parsed[0], (0, queries))], {"queries": len(queries)})


def count_written(pair: Pair, fraction: float, seed: int):
    """A pair on its way to the writer, with ``heldout`` counted when the split holds it out."""
    from corpora.doc2query.pairs import is_heldout

    return Kept([pair], {"heldout": 1} if is_heldout(pair.split_key, fraction, seed) else {})

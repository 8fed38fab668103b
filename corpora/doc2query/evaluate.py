"""Retrieval evaluation of document expansion: BM25 (bm25s) over original vs expanded passages.

Reports MRR@10 and Recall@100 / Recall@1000 for the same queries and qrels over both
collections, side by side. Conventions (as the MS MARCO passage-ranking evaluation):

* a query counts when it has at least one relevant (relevance > 0) passage in the original
  collection; qrels naming passages that are not in the collection are counted and ignored;
* MRR@10 is the mean over queries of 1 / rank of the first relevant passage in the top 10
  (0 when none); Recall@k is the mean over queries of the fraction of their relevant
  passages found in the top k;
* a passage with a BM25 score of 0 (no query term in common) is never a hit, whatever its
  position: the ranker returns arbitrary zero-score passages to fill k.

The collection is indexed in memory on one machine (bm25s); this step is not a Beam
pipeline. Collections of a few million passages need a few GB of memory. Files are read through
:mod:`pipeline.fileio` (local, ``gs://``, ``s3://``).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from corpora.corpus_files import NoCorpusFiles, corpus_parquet_files
from corpora.doc2query.collection import (
    COLLECTION_SUFFIXES,
    CollectionError,
    collection_files,
    is_corpus_dir,
    line_format,
    parse_collection_line,
    read_lines,
)
from corpora.doc2query.collection import fix_mojibake as fix_text
from corpora.doc2query.ids import DUPLICATE_CONFLICT, DUPLICATE_ID, id_order, keeps_new
from corpora.doc2query.pairs import BadLine, decode_line, parse_qrels
from pipeline import fileio

DEFAULT_K1 = 0.9  # Anserini's BM25 defaults
DEFAULT_B = 0.4
CUTOFFS = (10, 100, 1000)


class EvalInputError(ValueError):
    """An evaluation input that cannot be read at all (missing, unknown format, no columns), or
    a task that cannot be evaluated (no evaluable query, an empty or unrelated expansion)."""


@dataclass
class Collection:
    """Passages by id, with what was skipped while reading them (reasons, and ``count:`` notes)."""

    path: str
    texts: dict[str, str]
    skipped: Counter = field(default_factory=Counter)


def read_collection(path: str, fix_mojibake: bool = False, flag: str = "--input") -> Collection:
    """Passages from a corpus directory (data/*.parquet), a collection file or a folder of them
    (TSV ``pid<TAB>text``, JSONL ``id``/``contents`` or ``id``/``text``, ``.gz`` too, Anserini's
    ``docsNN.json``). Repeated ids follow :func:`corpora.doc2query.ids.pick_copy`."""
    coll = Collection(path, {})
    if is_corpus_dir(path) or (not os.path.exists(path) and "://" in path and not path.endswith(COLLECTION_SUFFIXES)):
        import pyarrow.parquet as pq

        try:
            files = [f for f, _ in corpus_parquet_files(path, flag)]
        except NoCorpusFiles as exc:
            raise EvalInputError(str(exc)) from exc
        for f in files:
            with fileio.open_read(f) as fh:
                table = pq.read_table(fh, columns=["id", "text"])
            for pid, text in zip(table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True):
                if not pid:
                    coll.skipped["empty_id"] += 1
                elif not isinstance(text, str) or not text.strip():
                    coll.skipped["empty_text"] += 1
                else:
                    _add(coll, pid, fix_text(text) if fix_mojibake else text)
        return coll
    try:
        files = collection_files(path, flag)
    except CollectionError as exc:
        raise EvalInputError(str(exc)) from exc
    for f in files:
        fmt = line_format(f)
        for parsed in _parsed_lines(f, flag, lambda line, fmt=fmt: parse_collection_line(line, fmt, fix_mojibake),
                                    coll.skipped):
            _add(coll, *parsed)
    return coll


def _add(coll: Collection, pid: str, text: str) -> None:
    """Add a passage; a repeated id keeps the copy the one duplicate-id rule keeps, and counts the other."""
    kept = coll.texts.get(pid)
    if kept is None:
        coll.texts[pid] = text
        return
    coll.skipped[DUPLICATE_ID] += 1
    if kept != text:
        coll.skipped[f"count:{DUPLICATE_CONFLICT}"] += 1
    if keeps_new(kept, text):
        coll.texts[pid] = text


def _parsed_lines(path: str, flag: str, parse: Callable[[str], Any], skipped: Counter) -> Iterator[Any]:
    """The parsed lines of the text file ``flag`` names; bad lines are counted in ``skipped`` by reason."""
    if not fileio.exists(path):
        raise EvalInputError(f"{flag} {path}: no such file")
    for raw in read_lines(path):
        line = decode_line(raw)
        parsed = line if isinstance(line, BadLine) else parse(line)
        if isinstance(parsed, BadLine):
            skipped[parsed.reason] += 1
        else:
            yield parsed


def read_queries(path: str, fix_mojibake: bool = False) -> tuple[dict[str, str], Counter]:
    """``qid<TAB>query`` lines -> {qid: query}, and the skipped lines by reason (repeated qids
    follow the one duplicate-id rule)."""
    coll = Collection(path, {})
    for qid, query in _parsed_lines(path, "--queries", lambda line: parse_collection_line(line, "tsv", fix_mojibake),
                                    coll.skipped):
        _add(coll, qid, query)
    return coll.texts, coll.skipped


def read_qrels(path: str) -> tuple[dict[str, set[str]], Counter]:
    """qrels lines -> {qid: relevant pids (relevance > 0)}, and the skipped lines by reason
    (a judgement repeated is counted as ``duplicate_judgement``)."""
    qrels: dict[str, set[str]] = {}
    skipped: Counter = Counter()
    for qid, pid, rel in _parsed_lines(path, "--qrels", parse_qrels, skipped):
        if rel <= 0:
            skipped["not_relevant"] += 1
        elif pid in qrels.get(qid, ()):
            skipped["duplicate_judgement"] += 1
        else:
            qrels.setdefault(qid, set()).add(pid)
    return qrels, skipped


@dataclass
class EvalTask:
    """The queries that can be evaluated, their relevant passages, and what was left out."""

    queries: dict[str, str]
    relevant: dict[str, set[str]]
    counts: Counter


def build_task(collection: dict[str, str], queries: dict[str, str], qrels: dict[str, set[str]]) -> EvalTask:
    """Keep queries with qrels and at least one relevant passage in ``collection``; count the rest."""
    counts: Counter = Counter()
    kept_q: dict[str, str] = {}
    relevant: dict[str, set[str]] = {}
    for qid, pids in qrels.items():
        if qid not in queries:
            counts["qrels_unknown_query"] += len(pids)
            continue
        known = {p for p in pids if p in collection}
        counts["qrels_unknown_passage"] += len(pids) - len(known)
        if not known:
            counts["queries_no_known_relevant"] += 1
            continue
        kept_q[qid] = queries[qid]
        relevant[qid] = known
    counts["queries_without_qrels"] = sum(1 for q in queries if q not in qrels)
    counts["queries_evaluated"] = len(kept_q)
    return EvalTask(kept_q, relevant, counts)


class BM25Index:
    """A bm25s index over a collection: ``search(queries, k)`` -> ranked (pid, score) lists, tied
    scores ranked by passage id (:func:`corpora.doc2query.ids.id_order`), whatever the input order."""

    def __init__(self, texts: dict[str, str], k1: float = DEFAULT_K1, b: float = DEFAULT_B,
                 stopwords: str | None = "en") -> None:
        import logging

        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG
        self._bm25s = bm25s
        self.ids = sorted(texts, key=id_order)  # index position = rank among tied scores
        self.stopwords = stopwords
        self.retriever = bm25s.BM25(k1=k1, b=b)
        tokens = bm25s.tokenize([texts[i] for i in self.ids], stopwords=stopwords, show_progress=False)
        self.retriever.index(tokens, show_progress=False)
        self.vocab = tokens.vocab

    def tokenize(self, queries: list[str]) -> list[list[str]]:
        """Query terms as the index saw them; terms the collection never saw are left out."""
        toks = self._bm25s.tokenize(queries, stopwords=self.stopwords, return_ids=False, show_progress=False)
        return [[t for t in q if t in self.vocab] for q in toks]

    def search(self, queries: list[str], k: int) -> list[list[tuple[str, float]]]:
        k = min(k, len(self.ids))
        results: list[list[tuple[str, float]]] = []
        for terms in self.tokenize(queries):  # an empty query retrieves nothing
            if not terms or k == 0:
                results.append([])
                continue
            results.append(top_k(self.retriever.get_scores(terms), k))
        return [[(self.ids[i], s) for i, s in r] for r in results]


def top_k(scores, k: int) -> list[tuple[int, float]]:
    """(position, score) of the ``k`` best positive scores, higher first, ties by lower position."""
    import numpy as np

    positive = np.flatnonzero(scores > 0)
    if len(positive) > k:  # everything tied with the k-th best score stays in the running
        threshold = np.partition(scores[positive], len(positive) - k)[len(positive) - k]
        positive = positive[scores[positive] >= threshold]
    ranked = positive[np.lexsort((positive, -scores[positive]))][:k]
    return [(int(i), float(scores[i])) for i in ranked]


def metrics(ranked: dict[str, list[str]], relevant: dict[str, set[str]], cutoffs=CUTOFFS) -> dict[str, float]:
    """MRR@10 and Recall@k (k in ``cutoffs`` above 10) averaged over the queries of ``relevant``."""
    n = len(relevant)
    if n == 0:
        return {"MRR@10": 0.0, **{f"Recall@{k}": 0.0 for k in cutoffs if k > 10}}
    mrr = 0.0
    recall = {k: 0.0 for k in cutoffs if k > 10}
    for qid, rel in relevant.items():
        ranking = ranked.get(qid, [])
        for rank, pid in enumerate(ranking[:10], start=1):
            if pid in rel:
                mrr += 1.0 / rank
                break
        for k in recall:
            recall[k] += len(rel.intersection(ranking[:k])) / len(rel)
    out = {"MRR@10": mrr / n}
    out.update({f"Recall@{k}": v / n for k, v in recall.items()})
    return out


def evaluate_collection(texts: dict[str, str], task: EvalTask, k1: float = DEFAULT_K1, b: float = DEFAULT_B,
                        stopwords: str | None = "en", depth: int = 1000) -> dict[str, float]:
    """Index ``texts``, run the task's queries to ``depth``, and score them."""
    index = BM25Index(texts, k1, b, stopwords)
    qids = list(task.queries)
    results = index.search([task.queries[q] for q in qids], depth)
    ranked = {q: [pid for pid, _ in r] for q, r in zip(qids, results, strict=True)}
    return metrics(ranked, task.relevant, tuple(c for c in CUTOFFS if c <= depth or c == 10))


def check_task(task: EvalTask, original: dict[str, str], expanded: dict[str, str]) -> int:
    """Refuse a task that would print a meaningless MRR: an empty collection, no evaluable query,
    or an expansion that holds none of the relevant passages (ids rewritten); returns how many
    relevant passages the expansion lacks."""
    if not original:
        raise EvalInputError("--input: no passages")
    if not expanded:
        raise EvalInputError("--expanded: no passages")
    if not task.queries:
        left = ", ".join(f"{k}={v}" for k, v in sorted(task.counts.items()) if v and k != "queries_evaluated")
        raise EvalInputError("no query can be evaluated: none has a relevant passage in --input "
                             f"({left or 'no qrels'}); do the collection's ids match the qrels' pids?")
    relevant = {p for rel in task.relevant.values() for p in rel}
    missing = sum(1 for rel in task.relevant.values() for p in rel if p not in expanded)
    if not relevant & expanded.keys():
        raise EvalInputError(f"--expanded holds none of the {len(relevant)} relevant passages of the evaluated "
                             "queries: its ids do not match --input (were they rewritten?)")
    return missing


def compare(original: dict[str, str], expanded: dict[str, str], queries: dict[str, str],
            qrels: dict[str, set[str]], k1: float = DEFAULT_K1, b: float = DEFAULT_B,
            stopwords: str | None = "en") -> dict:
    """Both runs on the same evaluable queries: {"original": metrics, "expanded": metrics, "counts"}.

    Raises :class:`EvalInputError` (before indexing) when nothing can be evaluated (see :func:`check_task`).
    """
    task = build_task(original, queries, qrels)
    missing = check_task(task, original, expanded)
    report = {
        "original": evaluate_collection(original, task, k1, b, stopwords),
        "expanded": evaluate_collection(expanded, task, k1, b, stopwords),
        "counts": dict(task.counts),
        "passages": {"original": len(original), "expanded": len(expanded)},
        "bm25": {"k1": k1, "b": b, "stopwords": stopwords or "none", "library": "bm25s"},
    }
    report["counts"]["relevant_missing_from_expanded"] = missing
    return report


def render_comparison(report: dict) -> str:
    """The side-by-side table: one row per metric, original | expanded | change."""
    lines = [f"{'metric':<12} {'original':>9} {'expanded':>9} {'change':>9}"]
    for name, before in report["original"].items():
        after = report["expanded"][name]
        rel = f"{(after - before) / before:+.0%}" if before > 0 else "n/a"
        lines.append(f"{name:<12} {before:>9.4f} {after:>9.4f} {after - before:>+9.4f}  ({rel})")
    c = report["counts"]
    lines.append(f"\n{c.get('queries_evaluated', 0)} queries evaluated over {report['passages']['original']} "
                 f"original / {report['passages']['expanded']} expanded passages (BM25 k1={report['bm25']['k1']}, "
                 f"b={report['bm25']['b']})")
    left = {k: v for k, v in c.items() if k != "queries_evaluated" and v}
    if left:
        lines.append("left out: " + ", ".join(f"{k}={v}" for k, v in sorted(left.items())))
    return "\n".join(lines)

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
pipeline. Collections of a few million passages need a few GB of memory.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from corpora.doc2query.pairs import BadLine, decode_line, parse_id_text, parse_qrels

DEFAULT_K1 = 0.9  # Anserini's BM25 defaults
DEFAULT_B = 0.4
CUTOFFS = (10, 100, 1000)


class EvalInputError(ValueError):
    """An evaluation input that cannot be read at all (missing, unknown format, no columns)."""


@dataclass
class Collection:
    """Passages by id, with what was skipped while reading them."""

    path: str
    texts: dict[str, str]
    skipped: Counter = field(default_factory=Counter)


def _open_lines(path: str):
    """Raw lines (bytes, newline removed) of a local or remote, optionally gzipped, text file."""
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(path) as fh:  # compression from the file name (.gz, .bz2, ...)
        for line in fh:
            yield line.rstrip(b"\n")


def _is_corpus_dir(path: str) -> bool:
    return os.path.isdir(path) or (not path.endswith((".tsv", ".jsonl", ".json", ".gz", ".txt")) and "://" in path)


def read_collection(path: str) -> Collection:
    """Passages from a corpus directory (data/*.parquet), a collection TSV (``pid<TAB>text``) or
    JSONL (Anserini ``id``/``contents`` or our ``id``/``text``). Duplicate ids keep the first."""
    coll = Collection(path, {})
    if _is_corpus_dir(path) or path.endswith(".parquet") or "*" in path:
        import pyarrow.parquet as pq
        from apache_beam.io.filesystems import FileSystems

        from corpora.tokenize import corpus_files

        try:
            files = corpus_files(path)
        except ValueError as exc:
            raise EvalInputError(str(exc)) from exc
        for f in files:
            with FileSystems.open(f) as fh:
                table = pq.read_table(fh, columns=["id", "text"])
            for pid, text in zip(table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True):
                _add(coll, pid, text)
        return coll
    if not _exists(path):
        raise EvalInputError(f"{path}: no such file")
    jsonl = path.endswith((".jsonl", ".jsonl.gz", ".json"))
    for raw in _open_lines(path):
        line = decode_line(raw)
        if isinstance(line, BadLine):
            coll.skipped[line.reason] += 1
            continue
        if jsonl:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                _add(coll, str(obj["id"]), obj.get("contents", obj.get("text")))
            except (ValueError, KeyError, TypeError):
                coll.skipped["bad_json"] += 1
            continue
        parsed = parse_id_text(line)
        if isinstance(parsed, BadLine):
            coll.skipped[parsed.reason] += 1
        else:
            _add(coll, *parsed)
    return coll


def _add(coll: Collection, pid, text) -> None:
    if not pid:
        coll.skipped["empty_id"] += 1
    elif not isinstance(text, str) or not text.strip():
        coll.skipped["empty_text"] += 1
    elif pid in coll.texts:
        coll.skipped["duplicate_id"] += 1
    else:
        coll.texts[pid] = text


def _exists(path: str) -> bool:
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.exists(path)


def _parsed_lines(path: str, flag: str, parse: Callable[[str], Any], skipped: Counter) -> Iterator[Any]:
    """The parsed lines of the text file ``flag`` names; bad lines are counted in ``skipped`` by reason."""
    if not _exists(path):
        raise EvalInputError(f"{flag} {path}: no such file")
    for raw in _open_lines(path):
        line = decode_line(raw)
        parsed = line if isinstance(line, BadLine) else parse(line)
        if isinstance(parsed, BadLine):
            skipped[parsed.reason] += 1
        else:
            yield parsed


def read_queries(path: str) -> tuple[dict[str, str], Counter]:
    """``qid<TAB>query`` lines -> {qid: query}, and the skipped lines by reason."""
    queries: dict[str, str] = {}
    skipped: Counter = Counter()
    for parsed in _parsed_lines(path, "--queries", parse_id_text, skipped):
        if parsed[0] in queries:
            skipped["duplicate_id"] += 1
        else:
            queries[parsed[0]] = parsed[1]
    return queries, skipped


def read_qrels(path: str) -> tuple[dict[str, set[str]], Counter]:
    """qrels lines -> {qid: relevant pids (relevance > 0)}, and the skipped lines by reason."""
    qrels: dict[str, set[str]] = {}
    skipped: Counter = Counter()
    for parsed in _parsed_lines(path, "--qrels", parse_qrels, skipped):
        if parsed[2] <= 0:
            skipped["not_relevant"] += 1
        else:
            qrels.setdefault(parsed[0], set()).add(parsed[1])
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
    """A bm25s index over a collection: ``search(queries, k)`` -> ranked (pid, score) lists."""

    def __init__(self, texts: dict[str, str], k1: float = DEFAULT_K1, b: float = DEFAULT_B,
                 stopwords: str | None = "en") -> None:
        import logging

        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG
        self._bm25s = bm25s
        self.ids = sorted(texts)  # ties rank by id, whatever order the files were read in
        self.stopwords = stopwords
        self.retriever = bm25s.BM25(k1=k1, b=b)
        tokens = bm25s.tokenize([texts[i] for i in self.ids], stopwords=stopwords, show_progress=False)
        self.retriever.index(tokens, show_progress=False)
        self.vocab = tokens.vocab

    def search(self, queries: list[str], k: int) -> list[list[tuple[str, float]]]:
        k = min(k, len(self.ids))
        toks = self._bm25s.tokenize(queries, stopwords=self.stopwords, return_ids=False, show_progress=False)
        # Terms the collection never saw cannot match; an empty query retrieves nothing.
        toks = [[t for t in q if t in self.vocab] for q in toks]
        results: list[list[tuple[str, float]]] = [[] for _ in queries]
        nonempty = [i for i, q in enumerate(toks) if q]
        if not nonempty or k == 0:
            return results
        docs, scores = self.retriever.retrieve([toks[i] for i in nonempty], k=k, show_progress=False)
        for row, i in enumerate(nonempty):
            results[i] = [(self.ids[d], float(s)) for d, s in zip(docs[row], scores[row], strict=True) if s > 0]
        return results


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


def compare(original: dict[str, str], expanded: dict[str, str], queries: dict[str, str],
            qrels: dict[str, set[str]], k1: float = DEFAULT_K1, b: float = DEFAULT_B,
            stopwords: str | None = "en") -> dict:
    """Both runs on the same evaluable queries: {"original": metrics, "expanded": metrics, "counts"}."""
    task = build_task(original, queries, qrels)
    missing = sum(1 for rel in task.relevant.values() for p in rel if p not in expanded)
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

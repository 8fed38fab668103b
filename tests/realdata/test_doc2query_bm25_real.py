"""Our evaluator's BM25 (bm25s, k1=0.9, b=0.4, English stop words) against an independent one
(rank_bm25 with Lucene's idf, tokenization written out: tests/realdata/bm25_reference.py) on MS
MARCO's real passages (pids 0-100, with the release's mojibake) and 3,000 dev/small queries: a change
in our tokenization or scoring shows here as a score or ranking difference."""

from __future__ import annotations

import numpy as np
import pytest

from corpora.doc2query.evaluate import DEFAULT_B, DEFAULT_K1, BM25Index, read_collection, read_queries
from corpora.doc2query.expand import expanded_text

pytest.importorskip("rank_bm25", reason="rank_bm25 (the independent BM25) is not installed: pip install -e '.[dev]'")

from tests.realdata.bm25_reference import ReferenceBM25  # noqa: E402

# bm25s scores in float32, the reference in float64: scores agree to this fraction of a query's best score
TOLERANCE = 1e-5
QUERIES = 3000  # of the 6,980 dev/small queries, by qid: enough to cover every passage, under 10 s


@pytest.fixture(scope="module")
def real(realdata):
    msmarco = realdata / "msmarco"
    passages = read_collection(str(msmarco / "collection-pids-0-100.tsv")).texts
    queries, _ = read_queries(str(msmarco / "topics.msmarco-passage.dev-subset.txt"))
    return passages, [queries[q] for q in sorted(queries, key=int)][:QUERIES]


def expanded_with_real_queries(passages: dict[str, str], queries: list[str]) -> dict[str, str]:
    """Passages expanded as doc2query writes them, real dev queries standing in for predictions
    (three per passage, the first one twice, as sampled predictions repeat)."""
    return {pid: expanded_text(text, [queries[3 * n], *queries[3 * n:3 * n + 3]])
            for n, (pid, text) in enumerate(sorted(passages.items(), key=lambda kv: int(kv[0])))}


def compare_with_reference(passages: dict[str, str], queries: list[str]) -> int:
    """Assert score and top-10 agreement for every query; return how many queries matched a passage."""
    ours = BM25Index(passages, DEFAULT_K1, DEFAULT_B)
    ref = ReferenceBM25(passages, DEFAULT_K1, DEFAULT_B)
    matched = 0
    for query, terms, top10 in zip(queries, ours.tokenize(queries), ours.search(queries, 10), strict=True):
        ref_scores = ref.scores(query)
        expected = np.array([ref_scores[pid] for pid in ours.ids])
        got = ours.retriever.get_scores(terms) if terms else np.zeros(len(ours.ids))
        tol = TOLERANCE * max(1.0, float(expected.max()))
        assert np.abs(got - expected).max() <= tol, f"BM25 scores differ from the reference for {query!r}"
        want = ref.ranking(query, 10)
        assert len(top10) == len(want), f"{query!r}: {len(top10)} hits, reference {len(want)}"
        for (pid, _), (ref_pid, ref_score) in zip(top10, want, strict=True):
            # the same passage, or (float32 vs float64) one whose reference score is within tol but not equal
            assert pid == ref_pid or 0 < abs(ref_scores[pid] - ref_score) <= tol, \
                f"{query!r}: ranking {[p for p, _ in top10]} vs reference {[p for p, _ in want]}"
        matched += bool(want)
    return matched


def test_bm25_matches_rank_bm25_on_real_passages(real):
    passages, queries = real
    assert len(passages) == 101 and len(queries) == QUERIES
    # most dev queries (2,436 of these) share a term with some passage, so rankings are compared, not just empty lists
    assert compare_with_reference(passages, queries) > 2000


def test_bm25_matches_rank_bm25_on_expanded_real_passages(real):
    passages, queries = real
    assert compare_with_reference(expanded_with_real_queries(passages, queries), queries) > 2000

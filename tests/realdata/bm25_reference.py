"""An independent BM25 to check ours against: rank_bm25's BM25Okapi with Lucene's idf, and the
tokenization and tie order written out here rather than taken from bm25s or our evaluator.

Scores: rank_bm25 computes ``idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))``; Lucene
(and bm25s' ``lucene`` method, which our evaluator uses) leaves out the constant ``k1 + 1``, so
:meth:`ReferenceBM25.scores` divides by it. BM25Okapi's own idf (``log((N - df + .5) / (df + .5))``
with an epsilon floor) is replaced by Lucene's ``log(1 + (N - df + .5) / (df + .5))``.
Tokens: lower case, runs of two or more word characters, Lucene's 33 English stop words removed.
Ties: integer ids by value, then other ids in code-point order.
"""

from __future__ import annotations

import math
import re

LUCENE_STOP_WORDS = frozenset((
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these "
    "they this to was will with").split())
TOKEN = re.compile(r"(?u)\b\w\w+\b")


def tokenize(text: str, stopwords: bool = True) -> list[str]:
    """Lower-cased runs of 2+ word characters, without Lucene's English stop words (``stopwords``)."""
    return [t for t in TOKEN.findall(text.lower()) if not (stopwords and t in LUCENE_STOP_WORDS)]


def tie_order(pid: str) -> tuple[int, int, str]:
    """Rank of a passage among equal scores: integer ids by value, before other ids by code point."""
    return (0, int(pid), "") if re.fullmatch(r"[0-9]+", pid) else (1, 0, pid)


class ReferenceBM25:
    """BM25 over ``texts`` ({pid: text}) by rank_bm25 with Lucene's idf; scores on Lucene's scale."""

    def __init__(self, texts: dict[str, str], k1: float, b: float, stopwords: bool = True) -> None:
        from rank_bm25 import BM25Okapi

        class LuceneIdf(BM25Okapi):
            def _calc_idf(self, nd: dict[str, int]) -> None:
                for word, df in nd.items():
                    self.idf[word] = math.log(1 + (self.corpus_size - df + 0.5) / (df + 0.5))

        self.ids = sorted(texts, key=tie_order)
        self.k1 = k1
        self.stopwords = stopwords
        self.model = LuceneIdf([tokenize(texts[i], stopwords) for i in self.ids], k1=k1, b=b)

    def scores(self, query: str) -> dict[str, float]:
        """Every passage's score for ``query`` (0 where no query term occurs)."""
        raw = self.model.get_scores(tokenize(query, self.stopwords))
        return {pid: float(s) / (self.k1 + 1) for pid, s in zip(self.ids, raw, strict=True)}

    def ranking(self, query: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` best passages with a positive score, higher first, ties by :func:`tie_order`."""
        scored = [(pid, s) for pid, s in self.scores(query).items() if s > 0]
        scored.sort(key=lambda ps: (-ps[1], tie_order(ps[0])))
        return scored[:k]

"""Near-duplicate clustering on one machine: the reference composition of the pure core.

``near_duplicate_clusters`` runs exactly the steps the Beam pipeline distributes:

1. signatures per document, in batches (:meth:`MinHasher.signatures`);
2. LSH band keys per document (:meth:`MinHasher.band_key_array`); an empty document has
   none and so is never a candidate;
3. buckets = documents sharing a band key; each bucket of ``m >= 2`` documents yields the
   ``m - 1`` *star edges* from its smallest id to every other member (:func:`star_edges`)
   -- enough for connectivity, and linear in the bucket size;
4. optional verification (``params.verify_threshold``): an edge is kept only when the exact
   Jaccard similarity of the two shingle-hash sets reaches the threshold;
5. union-find over the edges; clusters are the components of size >= 2, each sorted, and
   the documents to remove are every member but the smallest id (:func:`documents_to_remove`).

Everything here holds all band keys in memory: it is for tests, benchmarks and modest
corpora; the Beam shell does the same with GroupByKey and a union-find CombineFn.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from pipeline.dedup.minhash import MinHasher, MinHashParams
from pipeline.dedup.shingles import jaccard, shingle_hash_set
from pipeline.dedup.unionfind import UnionFind

__all__ = ["candidate_edges", "documents_to_remove", "near_duplicate_clusters", "star_edges"]

# Documents per signature batch (bounds the memory of one vectorized step).
BATCH_DOCS = 256


def star_edges(members: Iterable[str]) -> list[tuple[str, str]]:
    """Edges ``(smallest, other)`` for one bucket's members (duplicates ignored)."""
    uniq = sorted(set(members))
    return [(uniq[0], m) for m in uniq[1:]]


def candidate_edges(ids: Sequence[str], hasher: MinHasher, texts: Sequence[str]) -> set[tuple[str, str]]:
    """Star edges of every LSH bucket with at least two documents (unverified)."""
    buckets: dict[tuple[int, int], list[str]] = {}
    for start in range(0, len(texts), BATCH_DOCS):
        sigs = hasher.signatures(texts[start : start + BATCH_DOCS])
        keys, empty = hasher.band_key_array(sigs)
        rows = keys.tolist()
        for j, row in enumerate(rows):
            if empty[j]:
                continue
            doc_id = ids[start + j]
            for band, key in enumerate(row):
                buckets.setdefault((band, key), []).append(doc_id)
    edges: set[tuple[str, str]] = set()
    for members in buckets.values():
        if len(members) >= 2:
            edges.update(star_edges(members))
    return edges


def near_duplicate_clusters(
    ids: Sequence[str], texts: Sequence[str], params: MinHashParams | None = None
) -> list[list[str]]:
    """Clusters of near-duplicate documents: lists of ids (size >= 2, sorted), ordered by
    their smallest id. Documents in no cluster are unique and kept."""
    if len(ids) != len(texts):
        raise ValueError(f"ids and texts differ in length: {len(ids)} != {len(texts)}")
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        dup = next(i for i in ids if i in seen or seen.add(i))
        raise ValueError(f"ids must be unique; {dup!r} appears more than once")
    params = params or MinHashParams()
    hasher = MinHasher(params)
    edges = candidate_edges(ids, hasher, texts)
    if params.verify_threshold is not None and edges:
        index = {doc_id: i for i, doc_id in enumerate(ids)}
        cfg = params.shingle_config
        sets: dict[str, np.ndarray] = {}

        def shingle_set(doc_id: str) -> np.ndarray:
            if doc_id not in sets:
                sets[doc_id] = shingle_hash_set(texts[index[doc_id]], cfg)
            return sets[doc_id]

        edges = {
            (a, b) for a, b in edges if jaccard(shingle_set(a), shingle_set(b)) >= params.verify_threshold
        }
    uf = UnionFind(sorted(edges))
    return uf.clusters(min_size=2)


def documents_to_remove(clusters: Iterable[Sequence[str]]) -> list[str]:
    """Every member of every cluster except its smallest id (the one kept), sorted."""
    return sorted(doc_id for cluster in clusters for doc_id in sorted(cluster)[1:])

"""Exact and near-duplicate removal: the pure core (no Apache Beam import).

- :mod:`pipeline.dedup.shingles` -- text normalization (``simplify_text``), word / character
  shingles, the 32-bit shingle hash, exact Jaccard of shingle-hash sets.
- :mod:`pipeline.dedup.minhash` -- :class:`MinHashParams` (112 permutations as 14 bands x 8
  rows by default) and :class:`MinHasher`: batched, vectorized MinHash signatures that are
  bit-identical to ``datasketch.MinHash(scheme="legacy")`` with our shingle hash, and LSH
  band keys.
- :mod:`pipeline.dedup.unionfind` -- :class:`UnionFind` whose cluster root is the smallest id,
  mergeable (for a Beam ``CombineFn``).
- :mod:`pipeline.dedup.exact` -- a stable 128-bit hash of the normalized text.
- :mod:`pipeline.dedup.local` -- ``near_duplicate_clusters``: the whole near-dedup on one
  machine (signatures -> band buckets -> star edges -> optional verification -> union-find),
  used by tests and benchmarks and as the reference for the Beam composition.
"""

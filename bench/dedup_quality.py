"""Benchmark: near-duplicate detection quality (recall / precision) at the default settings.

Run from the repository root::

    python bench/dedup_quality.py                     # ~2,500 groups, ~9,000 documents
    python bench/dedup_quality.py --groups 5000 --unrelated 5000 --verify 0.7

The corpus: unrelated synthetic documents (300-800 words, Zipfian vocabulary) plus planted
groups -- a base document and 1-3 variants, each made from the base at a target Jaccard
similarity drawn uniformly from [0.5, 1.0] (1.0 = exact copy) by word substitutions (and,
for a third of them, a changed boilerplate header/footer). The ground truth is measured,
not assumed: the exact Jaccard similarity of the shingle sets of every pair inside a group
(pairs across groups are unrelated by construction; any that get flagged are measured too).

``near_duplicate_clusters`` runs with the default ``MinHashParams`` (14 bands x 8 rows), and
we report:

- **recall**: of the pairs with exact Jaccard >= 0.85, the share that end up in the same
  cluster (goal >= 0.95);
- **precision**: LSH has no hard threshold -- a pair at similarity ``s`` shares a band with
  probability ``1 - (1 - s^8)^14``, an S-curve through 50% at s ~ 0.72 -- so a flagged pair
  is counted correct when its exact Jaccard is at least a *floor* (default 0.7, the foot of
  the curve the configuration is designed around), and precision is reported over the
  *candidate pairs* (documents sharing a band: what LSH itself claims) and over the
  *removals* (each removed document against the document kept for its cluster: what the
  corpus loses); pairs in one cluster only through a chain are not claims of similarity;
- per Jaccard bucket: pairs, the share sharing a band (vs the S-curve's prediction) and
  the share ending up in one cluster;
- the accounting check: documents removed == documents - clusters, singletons counted as
  clusters.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import shlex
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import numpy as np  # noqa: E402

from pipeline.dedup.local import documents_to_remove, near_duplicate_clusters  # noqa: E402
from pipeline.dedup.minhash import MinHasher, MinHashParams  # noqa: E402
from pipeline.dedup.shingles import batch_shingle_hashes, jaccard  # noqa: E402


def _speed_bench():
    spec = importlib.util.spec_from_file_location(
        "bench_dedup", os.path.join(os.path.dirname(__file__), "dedup.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUCKETS = [
    (0.0, 0.5),
    (0.5, 0.6),
    (0.6, 0.7),
    (0.7, 0.75),
    (0.75, 0.8),
    (0.8, 0.85),
    (0.85, 0.9),
    (0.9, 0.95),
    (0.95, 1.0),
    (1.0, 1.01),
]


def make_variant(rng: random.Random, base: str, target: float, vocab: list[str], boilerplate: bool) -> str:
    """A copy of ``base`` whose word-5-gram Jaccard with it is about ``target``.

    Substituting each word with probability r keeps a 5-gram with probability ~(1-r)^5 = x,
    and J = x / (2 - x), so x = 2J / (1 + J)."""
    if target >= 1.0:
        return base
    words = base.split()
    if boilerplate:  # a template header and footer of a few sentences, then the substitutions
        header = " ".join(rng.choice(vocab) for _ in range(rng.randint(10, 25)))
        footer = " ".join(rng.choice(vocab) for _ in range(rng.randint(10, 25)))
        cut = rng.randint(0, 15)
        words = header.split() + words[cut : len(words) - cut] + footer.split()
        target = min(1.0, target + 0.05)
    x = 2 * target / (1 + target)
    r = 1 - x ** (1 / 5)
    return " ".join(rng.choice(vocab) if rng.random() < r else w for w in words)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--groups", type=int, default=2500, help="planted near-duplicate groups")
    ap.add_argument("--unrelated", type=int, default=2500, help="unrelated documents")
    ap.add_argument(
        "--floor", type=float, default=0.7, help="exact Jaccard at which a flagged pair counts as correct"
    )
    ap.add_argument(
        "--recall-at", type=float, default=0.85, help="recall over pairs at or above this Jaccard"
    )
    ap.add_argument("--verify", type=float, default=None, help="also run with verify_threshold=VALUE")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.groups < 1 or args.unrelated < 0 or not 0 < args.floor <= 1 or not 0 < args.recall_at <= 1:
        ap.error("--groups >= 1, --unrelated >= 0, --floor and --recall-at in (0, 1]")
    started = time.perf_counter()
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")

    rng = random.Random(args.seed)
    bases = _speed_bench().synthetic_corpus(args.groups + args.unrelated, seed=args.seed)
    vocab = sorted({w.strip(".,").lower() for d in bases[:200] for w in d.split()})
    ids, texts, group_of = [], [], []
    for g in range(args.groups):
        ids.append(f"g{g:05d}-0")
        texts.append(bases[g])
        group_of.append(g)
        for v in range(1, rng.randint(2, 4)):
            target = rng.choice([1.0, rng.uniform(0.5, 1.0), rng.uniform(0.5, 1.0), rng.uniform(0.5, 1.0)])
            ids.append(f"g{g:05d}-{v}")
            texts.append(make_variant(rng, bases[g], target, vocab, boilerplate=rng.random() < 1 / 3))
            group_of.append(g)
    for u in range(args.unrelated):
        ids.append(f"u{u:06d}")
        texts.append(bases[args.groups + u])
        group_of.append(-1 - u)
    order = list(range(len(ids)))
    rng.shuffle(order)
    ids = [ids[i] for i in order]
    texts = [texts[i] for i in order]
    group_of = [group_of[i] for i in order]
    index = {doc_id: i for i, doc_id in enumerate(ids)}

    params = MinHashParams()
    hashes, counts = batch_shingle_hashes(texts, params.shingle_config)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    sets = [np.unique(hashes[offsets[i] : offsets[i + 1]].astype(np.uint32)) for i in range(len(texts))]

    def exact(a: int, b: int) -> float:
        return jaccard(sets[a], sets[b])

    members: dict[int, list[int]] = {}
    for i, g in enumerate(group_of):
        members.setdefault(g, []).append(i)
    truth = {}  # (i, j) with i < j -> exact Jaccard, every pair inside a planted group
    for docs in members.values():
        for x in range(len(docs)):
            for y in range(x + 1, len(docs)):
                a, b = sorted((docs[x], docs[y]))
                truth[(a, b)] = exact(a, b)
    print(
        f"corpus: {len(texts)} documents ({args.groups} planted groups, {args.unrelated} unrelated), "
        f"{len(truth)} within-group pairs (ground truth by exact Jaccard), defaults {params.bands} bands x "
        f"{params.rows} rows, {params.ngram}-gram words"
    )

    hasher = MinHasher(params)
    sigs = hasher.signatures(texts)
    keys, empty = hasher.band_key_array(sigs)
    buckets: dict[int, list[int]] = {}
    for i in range(len(texts)):
        if not empty[i]:
            for k in keys[i].tolist():
                buckets.setdefault(k, []).append(i)
    share_band = set()
    for docs in buckets.values():
        for x in range(len(docs)):
            for y in range(x + 1, len(docs)):
                share_band.add((min(docs[x], docs[y]), max(docs[x], docs[y])))

    runs = [("default (no verification)", params)]
    if args.verify is not None:
        runs.append((f"verify_threshold={args.verify}", params.with_(verify_threshold=args.verify)))
    for label, p in runs:
        t0 = time.perf_counter()
        clusters = near_duplicate_clusters(ids, texts, p)
        elapsed = time.perf_counter() - t0
        cluster_of = {}
        for c, cl in enumerate(clusters):
            for doc_id in cl:
                cluster_of[index[doc_id]] = c

        def same_cluster(a: int, b: int, cluster_of: dict = cluster_of) -> bool:
            return a in cluster_of and cluster_of.get(a) == cluster_of.get(b)

        high = [pair for pair, j in truth.items() if j >= args.recall_at]
        found = sum(same_cluster(a, b) for a, b in high)
        recall = found / len(high) if high else float("nan")
        cand_j = [truth[pair] if pair in truth else exact(*pair) for pair in share_band]
        cand_ok = sum(j >= args.floor for j in cand_j)
        removed = documents_to_remove(clusters)
        rem_j = []
        for cl in clusters:
            keep = index[cl[0]]
            rem_j.extend(exact(keep, index[d]) for d in cl[1:])
        rem_ok = sum(j >= args.floor for j in rem_j)
        singletons = len(texts) - sum(len(c) for c in clusters)
        n_clusters = len(clusters) + singletons

        print()
        print(f"== {label}: near_duplicate_clusters on {len(texts)} documents in {elapsed:.1f}s")
        print(
            f"{'exact Jaccard':>15s} {'pairs':>7s} {'share a band':>13s} {'S-curve':>8s} {'same cluster':>13s}"
        )
        for lo, hi in BUCKETS:
            pairs = [(pair, j) for pair, j in truth.items() if lo <= j < hi]
            if not pairs:
                continue
            band = np.mean([pair in share_band for pair, _ in pairs])
            curve = np.mean([p.collision_probability(j) for _, j in pairs])
            same = np.mean([same_cluster(*pair) for pair, _ in pairs])
            name = "1.0 (copies)" if lo == 1.0 else f"[{lo:.2f}, {hi:.2f})"
            print(f"{name:>15s} {len(pairs):7d} {band:13.3f} {curve:8.3f} {same:13.3f}")
        print(
            f"recall (pairs with J >= {args.recall_at}): {found}/{len(high)} = {recall:.4f} "
            f"(goal >= 0.95: {'met' if recall >= 0.95 else 'NOT met'})"
        )
        print(
            f"precision, candidate pairs (share a band) with J >= {args.floor}: {cand_ok}/{len(cand_j)} = "
            f"{cand_ok / max(1, len(cand_j)):.4f}; with J >= 0.5: "
            f"{sum(j >= 0.5 for j in cand_j) / max(1, len(cand_j)):.4f}"
        )
        print(
            f"precision, removals (J with the kept document >= {args.floor}): {rem_ok}/{len(rem_j)} = "
            f"{rem_ok / max(1, len(rem_j)):.4f}; unrelated documents removed: "
            f"{sum(d.startswith('u') for d in removed)}"
        )
        ok = len(removed) == len(texts) - n_clusters
        print(
            f"accounting: removed {len(removed)} == documents {len(texts)} - clusters {n_clusters} "
            f"({len(clusters)} multi + {singletons} singletons): {ok}"
        )
    print(f"\ntotal wall time {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

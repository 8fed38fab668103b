"""Train/dev/test splits by situation, per area, deterministic from a seed, in the release's layout.

A file's existing splits are kept: a situation with any row in train/dev/test (or their -extra)
keeps every row as it is, and only situations whose rows all have split ``none`` are split;
``resplit=True`` splits every situation again. ``analysis`` rows (the release's 50-annotator
sample) always stay where they are.

Within each ``area``, the situations to split are ordered by a keyed hash of (seed,
situation-short-id) and cut at 80%/90%: the first 80% train, the next 10% dev, the rest test
(rounded so that every split of an area with at least three situations gets one). All RoTs and
breakdowns of a situation follow it. The order does not depend on the input order or runner.

The release's layout: one breakdown per RoT in train/dev/test (for a multiply-annotated RoT the
one with the smallest keyed hash of (seed, rot-id, breakdown-worker-id)); every breakdown of a
multiply-annotated dev/test RoT also in ``dev-extra``/``test-extra`` (so that one repeats there,
as in the release); the other breakdowns of a multiply-annotated train RoT in ``none``. With
aggregated rows (from the ``agreement`` step) given, a multiply-annotated dev/test RoT's row in
dev/test is its aggregated row instead.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from corpora.socialchem.schema import SPLIT_FAMILY

MAIN_SPLITS = ("train", "dev", "test")


def _rank(seed: int, situation_id: str) -> bytes:
    return hashlib.blake2b(f"{seed}\x00{situation_id}".encode(), digest_size=16).digest()


def cut_points(n: int, fractions: tuple[float, float, float]) -> tuple[int, int]:
    """How many situations of ``n`` go to train and to dev (test gets the rest)."""
    n_dev = round(n * fractions[1])
    n_test = round(n * fractions[2])
    if n >= 3:
        n_dev, n_test = max(1, n_dev), max(1, n_test)
    n_train = n - n_dev - n_test
    return n_train, n_dev


def assign_situations(situations: dict[str, str], seed: int = 0,
                      fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> dict[str, str]:
    """{situation-short-id: area} -> {situation-short-id: train|dev|test}, per area."""
    if abs(sum(fractions) - 1.0) > 1e-9 or any(f < 0 for f in fractions):
        raise ValueError(f"split fractions must be non-negative and sum to 1 (got {fractions})")
    by_area: dict[str, list[str]] = defaultdict(list)
    for sid, area in situations.items():
        by_area[area].append(sid)
    out: dict[str, str] = {}
    for area in sorted(by_area):
        ordered = sorted(by_area[area], key=lambda s: _rank(seed, s))
        n_train, n_dev = cut_points(len(ordered), fractions)
        for i, sid in enumerate(ordered):
            out[sid] = "train" if i < n_train else "dev" if i < n_train + n_dev else "test"
    return out


@dataclass
class SplitResult:
    rows: list[dict[str, str]] = field(default_factory=list)
    situations: dict[str, str] = field(default_factory=dict)  # situation-short-id -> split (family)
    crossing: list[dict] = field(default_factory=list)
    kept: int = 0  # situations whose existing splits were kept
    assigned: int = 0  # situations split now
    repeated: int = 0  # breakdowns written twice (dev/test and dev-extra/test-extra)

    def table(self) -> dict:
        """Situations and rows per (area, split)."""
        areas: dict[str, str] = {}
        rows = Counter()
        for r in self.rows:
            areas[r["situation-short-id"]] = r["area"]
            rows[(r["area"], r["split"])] += 1
        sits = Counter((areas[s], split) for s, split in self.situations.items() if s in areas)
        return {"situations": {f"{a}/{s}": n for (a, s), n in sorted(sits.items())},
                "rows": {f"{a}/{s}": n for (a, s), n in sorted(rows.items())}}


def existing_splits(rows: list[dict[str, str]]) -> dict[str, str]:
    """{situation-short-id: split family} of situations that already have a train/dev/test row."""
    out: dict[str, str] = {}
    for r in rows:
        family = SPLIT_FAMILY.get(r["split"])
        if family is not None:
            out.setdefault(r["situation-short-id"], family)
    return out


def _layout(group: list[dict[str, str]], split: str, seed: int, aggregate: dict[str, str] | None) -> list[dict]:
    """The rows of one RoT (its breakdowns) in the release's layout for its situation's split."""
    if len(group) == 1:
        return [{**group[0], "split": split}]
    chosen = min(range(len(group)), key=lambda i: _rank(seed, f"{group[i]['rot-id']}\x00"
                                                               f"{group[i]['breakdown-worker-id']}"))
    if split == "train":
        return [{**r, "split": "train" if i == chosen else "none"} for i, r in enumerate(group)]
    main = {**(aggregate or group[chosen]), "split": split}
    return [main] + [{**r, "split": f"{split}-extra"} for r in group]


def split_rows(rows: list[dict[str, str]], seed: int = 0, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
               aggregated: list[dict[str, str]] | None = None, resplit: bool = False) -> SplitResult:
    """Split the situations without a split (all of them with ``resplit``) in the release's layout
    (see the module docstring), keep the others' rows as they are, and check for crossing."""
    existing = {} if resplit else existing_splits(rows)
    todo = {r["situation-short-id"]: r["area"] for r in rows if r["situation-short-id"] not in existing}
    assignment = assign_situations(todo, seed, fractions)
    agg = {r["rot-id"]: r for r in aggregated or []}
    out: list[dict[str, str]] = []
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        if r["situation-short-id"] in existing or r["split"] == "analysis":
            out.append(dict(r))
        else:
            groups[r["rot-id"]].append(r)
    repeated = 0
    for rid, group in groups.items():
        split = assignment[group[0]["situation-short-id"]]
        laid = _layout(group, split, seed, agg.get(rid) if len(group) > 1 else None)
        repeated += len(laid) - len(group) - (1 if len(laid) > len(group) and rid in agg else 0)
        out += laid
    return SplitResult(out, {**existing, **assignment}, check_crossing(out), kept=len(existing),
                       assigned=len(assignment), repeated=repeated)


def check_crossing(rows: list[dict[str, str]]) -> list[dict]:
    """Situations whose rows are in more than one split family (dev and dev-extra are one;
    analysis and none conflict with nothing)."""
    families: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        family = SPLIT_FAMILY.get(r["split"], r["split"])
        if family is not None:
            families[r["situation-short-id"]].add(family)
    return [{"situation-short-id": sid, "splits": sorted(f)} for sid, f in sorted(families.items()) if len(f) > 1]

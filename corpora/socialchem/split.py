"""Train/dev/test splits by situation, per area, deterministic from a seed, with a crossing check.

Within each ``area``, situations are ordered by a keyed hash of (seed, situation-short-id)
and cut at 80%/90%: the first 80% train, the next 10% dev, the rest test (rounded so that
every split of an area with at least three situations gets one). All RoTs and breakdowns of
a situation follow it. The order does not depend on the input order or on the runner.

Multi-annotated RoTs (more than one breakdown) in dev/test situations go to
``dev-extra``/``test-extra`` (the release's layout for agreement and majority scoring); with
aggregated rows (from the ``agreement`` step) given, each such RoT's aggregated row is added
to ``dev``/``test``. Train keeps every breakdown.
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
    situations: dict[str, str] = field(default_factory=dict)  # situation-short-id -> split
    crossing: list[dict] = field(default_factory=list)

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


def split_rows(rows: list[dict[str, str]], seed: int = 0, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
               aggregated: list[dict[str, str]] | None = None) -> SplitResult:
    """Fill the ``split`` column of every row (see the module docstring) and check for crossing."""
    situations = {r["situation-short-id"]: r["area"] for r in rows}
    assignment = assign_situations(situations, seed, fractions)
    per_rot = Counter(r["rot-id"] for r in rows)
    agg = {r["rot-id"]: r for r in aggregated or []}
    out = []
    for r in rows:
        split = assignment[r["situation-short-id"]]
        if split != "train" and per_rot[r["rot-id"]] > 1:
            split += "-extra"
        out.append({**r, "split": split})
    added = set()
    for r in rows:
        rid = r["rot-id"]
        split = assignment[r["situation-short-id"]]
        if split != "train" and per_rot[rid] > 1 and rid in agg and rid not in added:
            added.add(rid)
            out.append({**agg[rid], "split": split})
    return SplitResult(out, assignment, check_crossing(out))


def check_crossing(rows: list[dict[str, str]]) -> list[dict]:
    """Situations whose rows are in more than one split family (dev and dev-extra are one;
    analysis and none conflict with nothing)."""
    families: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        family = SPLIT_FAMILY.get(r["split"], r["split"])
        if family is not None:
            families[r["situation-short-id"]].add(family)
    return [{"situation-short-id": sid, "splits": sorted(f)} for sid, f in sorted(families.items()) if len(f) > 1]

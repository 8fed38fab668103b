"""Inter-annotator agreement and aggregation for RoTs with several breakdowns.

Agreement is Krippendorff's alpha (the ``krippendorff`` package) per dimension, at the level
of measurement the dimension has: nominal for categories (agency, legal, character
targeting, rot-bad), ordinal for the scales (the 0..4 agreement buckets, the -2..2
judgment and pressure, and the five-step hypothetical scale). Multi-label dimensions
(categorization, moral foundations) get one binary nominal alpha per label. Alpha is computed
from per-item value counts, so it needs no annotator x item matrix and scales to any
number of workers.

Aggregation (one row per RoT): nominal -> the most frequent answer (an unanswered "" is an
answer too; ties prefer an answered value, then the schema's order); ordinal -> the median
of the answered values, the lower middle value when two differ (reported as a tie), and
unanswered when most annotators left it unanswered; multi-label -> labels chosen by at least
half (exactly half is a tie, reported, label kept); rot-bad -> majority, a tie counts as bad;
free text -> the most frequent text, ties to the smallest worker id. Every tie is reported.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from corpora.socialchem.schema import (
    BREAKDOWN_TEXT,
    CHAR_VALUES,
    DIMENSIONS,
    MULTI,
    MULTI_SEP,
    SCHEMA,
)

AGGREGATE_WORKER = "aggregate"
DEFAULT_LOW_AGREEMENT = 0.5


def level_of(dimension: str) -> str:
    """``nominal``, ``ordinal`` or ``multi-label`` (per-label nominal)."""
    col = SCHEMA[dimension]
    if col.kind == MULTI:
        return "multi-label"
    return "ordinal" if col.ordered else "nominal"


def domain(dimension: str) -> list[str]:
    """The answers of a (single-valued) dimension in scale order, as TSV strings."""
    col = SCHEMA[dimension]
    if col.kind == "int":
        return [str(v) for v in range(col.lo, col.hi + 1)]
    if col.kind == "char":
        return list(CHAR_VALUES)
    return list(col.values)


def krippendorff_alpha(units: list[list[str]], values: list[str], level: str) -> float | None:
    """Alpha over units (each a list of answers, "" = missing); None when undefined.

    Undefined: fewer than one unit with two answers, or no variation at all (every answer
    the same), where alpha's expected disagreement is zero.
    """
    import krippendorff

    index = {v: i for i, v in enumerate(values)}
    counts = np.zeros((len(units), len(values)), dtype=float)
    for u, answers in enumerate(units):
        for a in answers:
            if a != "":
                counts[u, index[a]] += 1
    pairable = counts[counts.sum(axis=1) >= 2]
    if len(pairable) == 0 or np.count_nonzero(pairable.sum(axis=0)) < 2:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = krippendorff.alpha(value_counts=pairable, value_domain=list(range(len(values))),
                                   level_of_measurement=level)
    return None if alpha is None or math.isnan(alpha) else float(alpha)


@dataclass
class DimensionAgreement:
    dimension: str
    level: str
    alpha: float | None
    items: int  # RoTs with at least two answers to this dimension
    answers: int
    note: str = ""


@dataclass
class AgreementResult:
    """Agreement per dimension, the aggregated rows, ties and low-agreement items."""

    dimensions: list[DimensionAgreement] = field(default_factory=list)
    aggregated: list[dict[str, str]] = field(default_factory=list)
    ties: list[dict] = field(default_factory=list)
    low_agreement: list[dict] = field(default_factory=list)
    rots: int = 0
    multi_annotated: int = 0
    breakdowns: int = 0

    def as_dict(self) -> dict:
        return {
            "rots": self.rots, "multi_annotated_rots": self.multi_annotated, "breakdowns": self.breakdowns,
            "dimensions": [d.__dict__ for d in self.dimensions], "ties": len(self.ties),
            "low_agreement_items": len(self.low_agreement),
        }

    def table(self) -> str:
        rows = [("dimension", "level", "alpha", "items", "answers", "note")]
        for d in self.dimensions:
            alpha = "n/a" if d.alpha is None else f"{d.alpha:.3f}"
            rows.append((d.dimension, d.level, alpha, str(d.items), str(d.answers), d.note))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        out = []
        for i, r in enumerate(rows):
            out.append("  ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1])] +
                                 [r[j].rjust(widths[j]) for j in (2, 3, 4)] + [r[5]]).rstrip())
            if i == 0:
                out.append("  ".join("-" * w for w in widths) + "  ----")
        return "\n".join(out)


def group_by_rot(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    """Breakdowns per rot-id, each list ordered by breakdown-worker-id (deterministic)."""
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        groups[row["rot-id"]].append(row)
    return {k: sorted(v, key=lambda r: r["breakdown-worker-id"]) for k, v in sorted(groups.items())}


def _labels(value: str) -> set[str]:
    return set(value.split(MULTI_SEP)) if value else set()


def dimension_units(groups: dict[str, list[dict]], dimension: str) -> dict[str, tuple[list[list[str]], list[str]]]:
    """Units for alpha: {name: (answers per multi-annotated RoT, value domain)}; one name per label."""
    multi = [g for g in groups.values() if len(g) >= 2]
    col = SCHEMA[dimension]
    if col.kind == MULTI:
        return {f"{dimension}:{label}": ([["1" if label in _labels(r[dimension]) else "0" for r in g]
                                          for g in multi], ["0", "1"]) for label in col.values}
    return {dimension: ([[r[dimension] for r in g] for g in multi], domain(dimension))}


def compute_alphas(groups: dict[str, list[dict]]) -> list[DimensionAgreement]:
    out = []
    for dim in DIMENSIONS:
        level = level_of(dim)
        for name, (units, values) in dimension_units(groups, dim).items():
            answered = [[a for a in u if a != ""] for u in units]
            items = sum(1 for a in answered if len(a) >= 2)
            alpha = krippendorff_alpha(units, values, "nominal" if level == "multi-label" else level)
            note = "" if alpha is not None else ("no items" if items == 0 else "no variation (alpha undefined)")
            out.append(DimensionAgreement(name, level, alpha, items, sum(len(a) for a in answered), note))
    return out


def _vote(values: list[str], order: list[str]) -> tuple[str, list[str]]:
    """Most frequent value; ties prefer an answered value, then ``order``. Returns (value, tied)."""
    counts = Counter(values)
    top = max(counts.values())
    tied = [v for v in counts if counts[v] == top]
    rank = {v: i for i, v in enumerate(order)}
    tied.sort(key=lambda v: (v == "", rank.get(v, len(rank)), v))
    return tied[0], (tied if len(tied) > 1 else [])


def aggregate_rot(group: list[dict[str, str]]) -> tuple[dict[str, str], list[dict]]:
    """One aggregated row for a RoT's breakdowns, and the ties met on the way."""
    base = dict(group[0])
    ties = []
    n = len(group)
    for dim in DIMENSIONS:
        col, answers = SCHEMA[dim], [r[dim] for r in group]
        if col.kind == MULTI:
            counts = Counter(label for a in answers for label in _labels(a))
            kept = [lab for lab in col.values if counts[lab] * 2 >= n]
            tied = [lab for lab in col.values if counts[lab] * 2 == n]
            value = MULTI_SEP.join(kept)
            if tied:
                ties.append({"dimension": dim, "labels_at_half": tied, "kept": tied})
        elif dim == "rot-bad":
            ones = answers.count("1")
            value = "1" if ones * 2 >= n else "0"
            if ones * 2 == n:
                ties.append({"dimension": dim, "tied": ["0", "1"], "chose": "1"})
        elif col.ordered:
            answered = [a for a in answers if a != ""]
            if len(answered) * 2 < n or not answered:
                value = ""
            else:
                order = domain(dim)
                ranks = sorted(order.index(a) for a in answered)
                lo, hi = ranks[(len(ranks) - 1) // 2], ranks[len(ranks) // 2]
                value = order[lo]
                if lo != hi:
                    ties.append({"dimension": dim, "tied": [order[lo], order[hi]], "chose": order[lo]})
        else:
            value, tied = _vote(answers, domain(dim))
            if tied:
                ties.append({"dimension": dim, "tied": tied, "chose": value})
        base[dim] = value
    for name in BREAKDOWN_TEXT:
        value, tied = _vote([r[name] for r in group], [])
        if tied:
            ties.append({"dimension": name, "tied": tied, "chose": value})
        base[name] = value
    base["breakdown-worker-id"] = AGGREGATE_WORKER
    base["m"] = str(n)
    return base, ties


def item_agreement(group: list[dict[str, str]]) -> tuple[float, dict[str, float]]:
    """Mean pairwise agreement of one RoT's breakdowns over the 12 dimensions (multi-label: Jaccard)."""
    per_dim = {}
    pairs = [(a, b) for i, a in enumerate(group) for b in group[i + 1:]]
    for dim in DIMENSIONS:
        scores = []
        for a, b in pairs:
            if SCHEMA[dim].kind == MULTI:
                la, lb = _labels(a[dim]), _labels(b[dim])
                scores.append(1.0 if not la and not lb else len(la & lb) / len(la | lb))
            else:
                scores.append(1.0 if a[dim] == b[dim] else 0.0)
        per_dim[dim] = sum(scores) / len(scores)
    return sum(per_dim.values()) / len(per_dim), per_dim


def compute_agreement(rows: list[dict[str, str]], low_threshold: float = DEFAULT_LOW_AGREEMENT) -> AgreementResult:
    """Alpha per dimension, aggregated rows (one per RoT), ties and low-agreement items."""
    groups = group_by_rot(rows)
    result = AgreementResult(rots=len(groups), breakdowns=len(rows))
    result.multi_annotated = sum(1 for g in groups.values() if len(g) >= 2)
    result.dimensions = compute_alphas(groups)
    for rot_id, group in groups.items():
        if len(group) < 2:
            result.aggregated.append(dict(group[0]))
            continue
        row, ties = aggregate_rot(group)
        result.aggregated.append(row)
        for t in ties:
            result.ties.append({"rot-id": rot_id, "breakdowns": len(group), **t})
        score, per_dim = item_agreement(group)
        if score < low_threshold:
            worst = sorted(per_dim.items(), key=lambda kv: kv[1])[:4]
            result.low_agreement.append({
                "rot-id": rot_id, "rot": group[0]["rot"], "situation": group[0]["situation"],
                "breakdowns": len(group), "agreement": round(score, 3),
                "least_agreed": {k: round(v, 3) for k, v in worst},
            })
    result.low_agreement.sort(key=lambda r: (r["agreement"], r["rot-id"]))
    return result

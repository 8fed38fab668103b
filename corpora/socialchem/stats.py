"""Statistics of a SOCIAL-CHEM set: distributions per dimension and split, situations per area,
RoTs per situation; as JSON, a Markdown table and PNG plots (matplotlib, no display needed).

Counting streams over rows, so a release-sized file is summarised without being held.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from corpora.socialchem.files import write_json, write_text_atomic
from corpora.socialchem.schema import DIMENSIONS, MULTI, SCHEMA, SPLITS
from pipeline import fileio
from tokenizer.special_tokens import SOCIALCHEM_ATTRIBUTES, socialchem_token

UNANSWERED = "(unanswered)"


@dataclass
class SetStats:
    """Counts gathered in one pass over the rows."""

    rows: int = 0
    per_split: Counter = field(default_factory=Counter)
    dimension: dict[str, dict[str, Counter]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Counter)))
    situations_by_area: dict[str, set] = field(default_factory=lambda: defaultdict(set))
    rots_by_situation: dict[str, set] = field(default_factory=lambda: defaultdict(set))
    breakdowns_by_rot: Counter = field(default_factory=Counter)

    def add(self, row: dict[str, str]) -> None:
        self.rows += 1
        split = row["split"]
        self.per_split[split] += 1
        for dim in DIMENSIONS:
            value = row[dim]
            counter = self.dimension[dim][split]
            if SCHEMA[dim].kind == MULTI:
                for label in value.split("|") if value else [UNANSWERED]:
                    counter[label] += 1
            else:
                counter[value or UNANSWERED] += 1
        sid = row["situation-short-id"]
        self.situations_by_area[row["area"]].add(sid)
        self.rots_by_situation[sid].add(row["rot-id"])
        if row["breakdown-worker-id"] != "aggregate":  # aggregated rows (agreement step) are not breakdowns
            self.breakdowns_by_rot[row["rot-id"]] += 1

    def summary(self) -> dict:
        rots_hist = Counter(len(r) for r in self.rots_by_situation.values())
        bd_hist = Counter(self.breakdowns_by_rot.values())
        return {
            "rows": self.rows,
            "rows_per_split": dict(sorted(self.per_split.items(), key=lambda kv: _split_order(kv[0]))),
            "situations_per_area": {a: len(s) for a, s in sorted(self.situations_by_area.items())},
            "situations": len(self.rots_by_situation),
            "rots": sum(len(r) for r in self.rots_by_situation.values()),
            "rots_per_situation": {str(k): v for k, v in sorted(rots_hist.items())},
            "breakdowns_per_rot": {str(k): v for k, v in sorted(bd_hist.items())},
            "dimensions": {dim: {split: dict(_ordered(dim, c)) for split, c in
                                 sorted(per.items(), key=lambda kv: _split_order(kv[0]))}
                           for dim, per in self.dimension.items()},
        }


def _split_order(split: str) -> int:
    return SPLITS.index(split) if split in SPLITS else len(SPLITS)


def _values(dim: str) -> list[str]:
    col = SCHEMA[dim]
    values = [str(v) for v in range(col.lo, col.hi + 1)] if col.kind == "int" else list(col.values)
    return values + [UNANSWERED]


def _ordered(dim: str, counter: Counter) -> list[tuple[str, int]]:
    known = _values(dim)
    return [(v, counter[v]) for v in known if counter[v]] + sorted((v, n) for v, n in counter.items()
                                                                    if v not in known)


def _label(dim: str, value: str) -> str:
    """Scale values with their words, as the attribute tokens spell them ("3 most")."""
    if SCHEMA[dim].kind != "int" or dim not in SOCIALCHEM_ATTRIBUTES or value == UNANSWERED:
        return value
    return f"{value} {socialchem_token(dim, value).split(':', 1)[1].rstrip('>')}"


def gather(rows: Iterable[dict[str, str]]) -> SetStats:
    stats = SetStats()
    for row in rows:
        stats.add(row)
    return stats


def markdown(summary: dict) -> str:
    """The summary as Markdown tables (what ``stats`` prints and saves as stats.md)."""
    out = ["# SOCIAL-CHEM set statistics", "",
           f"rows {summary['rows']:,}, situations {summary['situations']:,}, RoTs {summary['rots']:,}", "",
           "| split | rows |", "|---|---:|"]
    out += [f"| {s} | {n:,} |" for s, n in summary["rows_per_split"].items()]
    out += ["", "| area | situations |", "|---|---:|"]
    out += [f"| {a} | {n:,} |" for a, n in summary["situations_per_area"].items()]
    out += ["", "| RoTs per situation | situations |", "|---:|---:|"]
    out += [f"| {k} | {n:,} |" for k, n in summary["rots_per_situation"].items()]
    out += ["", "| breakdowns per RoT | RoTs |", "|---:|---:|"]
    out += [f"| {k} | {n:,} |" for k, n in summary["breakdowns_per_rot"].items()]
    for dim, per_split in summary["dimensions"].items():
        splits = list(per_split)
        values = []
        for counts in per_split.values():
            values += [v for v in counts if v not in values]
        out += ["", f"### {dim}", "", "| value | " + " | ".join(splits) + " |",
                "|---|" + "---:|" * len(splits)]
        for v in values:
            cells = []
            for s in splits:
                total = sum(per_split[s].values()) or 1
                n = per_split[s].get(v, 0)
                cells.append(f"{n:,} ({100 * n / total:.0f}%)")
            out.append(f"| {v} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def plot(summary: dict, out_dir: str) -> list[str]:
    """Write the PNG plots; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    dims = summary["dimensions"]
    fig, axes = plt.subplots(4, 3, figsize=(16, 17))
    for ax, dim in zip(axes.flat, DIMENSIONS, strict=True):
        per_split = dims.get(dim, {})
        splits = list(per_split)
        values = [v for v in _values(dim) if any(per_split[s].get(v) for s in splits)]
        width = 0.8 / max(1, len(splits))
        for i, s in enumerate(splits):
            total = sum(per_split[s].values()) or 1
            ax.bar([j + i * width for j in range(len(values))], [per_split[s].get(v, 0) / total for v in values],
                   width=width, label=s)
        ax.set_xticks([j + width * (len(splits) - 1) / 2 for j in range(len(values))])
        ax.set_xticklabels([_label(dim, v) for v in values], rotation=35, ha="right", fontsize=8)
        ax.set_title(dim)
        ax.set_ylabel("share of rows")
        if splits:
            ax.legend(fontsize=7)
    fig.suptitle("Answers per dimension and split", fontsize=14)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    paths.append(_save_png(fig, fileio.join(out_dir, "dimensions.png")))
    plt.close(fig)

    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(15, 4.5))
    areas = summary["situations_per_area"]
    a1.bar(list(areas), list(areas.values()), color="tab:blue")
    a1.set_title("situations per area")
    a1.tick_params(axis="x", rotation=20)
    rps = summary["rots_per_situation"]
    a2.bar(list(rps), list(rps.values()), color="tab:green")
    a2.set_title("RoTs per situation")
    a2.set_xlabel("RoTs")
    a2.set_ylabel("situations")
    bpr = summary["breakdowns_per_rot"]
    a3.bar(list(bpr), list(bpr.values()), color="tab:orange")
    a3.set_title("breakdowns per RoT")
    a3.set_xlabel("breakdowns")
    a3.set_ylabel("RoTs")
    fig.tight_layout()
    paths.append(_save_png(fig, fileio.join(out_dir, "situations.png")))
    plt.close(fig)
    return paths


def _save_png(fig, path: str) -> str:
    """The figure as a PNG at ``path``, written whole (atomically); the path."""
    buf = io.BytesIO()
    fig.savefig(buf, dpi=80, format="png")
    fileio.write_atomic(path, buf.getvalue())
    return path


def write_stats(rows: Iterable[dict[str, str]], out_dir: str, plots: bool = True) -> dict:
    """stats.json, stats.md and (unless ``plots`` is False) the PNGs of ``rows`` into ``out_dir``."""
    return write_summary(gather(rows).summary(), out_dir, plots)


def write_summary(summary: dict, out_dir: str, plots: bool = True) -> dict:
    """stats.json, stats.md and (unless ``plots`` is False) the PNGs of a summary into ``out_dir``."""
    write_json(fileio.join(out_dir, "stats.json"), summary)
    write_text_atomic(fileio.join(out_dir, "stats.md"), markdown(summary))
    summary["plots"] = plot(summary, out_dir) if plots else []
    return summary

"""Exact per-stage accounting: documents in, out, and dropped by reason.

Counts are keyed by ``(stage, key)`` where key is ``"in"``, ``"out"`` or ``"drop:<reason>"``;
they are summed across workers and turned into ``stats.json`` and the summary table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

IN = "in"
OUT = "out"
DROP_PREFIX = "drop:"
COUNT_PREFIX = "count:"  # things counted without dropping (e.g. emails redacted, cluster sizes)

StatKey = tuple[str, str]


def drop_key(reason: str) -> str:
    return DROP_PREFIX + reason


def count_key(name: str) -> str:
    return COUNT_PREFIX + name


class StageCounter:
    """Per-worker counts, cheap to update per element and flushed once per bundle."""

    def __init__(self) -> None:
        self.counts: Counter[StatKey] = Counter()

    def add(self, stage: str, key: str, n: int = 1) -> None:
        self.counts[(stage, key)] += n

    def drained(self) -> list[tuple[StatKey, int]]:
        items = list(self.counts.items())
        self.counts.clear()
        return items


def build_report(counts: Iterable[tuple[StatKey, int]], stage_order: list[str]) -> dict:
    """Turn summed counts into the ``stats.json`` structure, stages in pipeline order.

    ``accounting_ok`` is true when every stage satisfies in = out + sum(drops).
    """
    per_stage: dict[str, dict] = {}
    for (stage, key), n in counts:
        entry = per_stage.setdefault(stage, {"in": 0, "out": 0, "dropped": {}, "counts": {}})
        if key == IN:
            entry["in"] += n
        elif key == OUT:
            entry["out"] += n
        elif key.startswith(DROP_PREFIX):
            reason = key[len(DROP_PREFIX):]
            entry["dropped"][reason] = entry["dropped"].get(reason, 0) + n
        elif key.startswith(COUNT_PREFIX):
            name = key[len(COUNT_PREFIX):]
            entry["counts"][name] = entry["counts"].get(name, 0) + n
        else:
            raise ValueError(f"unknown stats key {key!r} for stage {stage!r}")
    ordered = [s for s in stage_order if s in per_stage] + sorted(set(per_stage) - set(stage_order))
    stages = []
    ok = True
    for name in ordered:
        e = per_stage[name]
        dropped = dict(sorted(e["dropped"].items()))
        balanced = e["in"] == e["out"] + sum(dropped.values())
        ok = ok and balanced
        item = {"stage": name, "in": e["in"], "out": e["out"], "dropped": dropped, "balanced": balanced}
        if e["counts"]:
            item["counts"] = dict(sorted(e["counts"].items()))
        stages.append(item)
    for name in stage_order:  # stages that saw nothing still appear, so the chain is complete
        if name not in per_stage:
            stages.insert(stage_order.index(name), {"stage": name, "in": 0, "out": 0, "dropped": {}, "balanced": True})
    return {"stages": stages, "accounting_ok": ok}


def stage(report: Mapping, name: str) -> dict:
    """The entry of one stage in a report (KeyError if absent)."""
    for entry in report["stages"]:
        if entry["stage"] == name:
            return entry
    raise KeyError(name)


def render_table(report: Mapping, title: str = "") -> str:
    """A plain-text table of what each stage read, wrote and dropped."""
    rows = [("stage", "in", "out", "dropped", "drop reasons (and counts)")]
    for e in report["stages"]:
        dropped = sum(e["dropped"].values())
        top = sorted(e["dropped"].items(), key=lambda kv: (-kv[1], kv[0]))
        reasons = ", ".join(f"{r}={n}" for r, n in top)
        if e.get("counts"):
            reasons += (" " if reasons else "") + "(" + ", ".join(f"{k}={v}" for k, v in e["counts"].items()) + ")"
        rows.append((e["stage"], str(e["in"]), str(e["out"]), str(dropped), reasons))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [title] if title else []
    for i, r in enumerate(rows):
        cells = [r[0].ljust(widths[0])] + [r[j].rjust(widths[j]) for j in (1, 2, 3)] + [r[4]]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 16)
    return "\n".join(lines)


# Read-stage reasons that are a choice (the record was read and is not wanted), not damage.
NOT_WANTED = frozenset({"skipped_record_type", "non_200", "not_html", "warc_truncated"})


def nothing_readable(report: Mapping) -> str | None:
    """Why a run read nothing usable (every input file failed, or every record was unreadable);
    None when something was read. A driver exits non-zero with this reason."""
    stages = {e["stage"]: e for e in report.get("stages", []) if isinstance(e, dict) and "stage" in e}
    read = stages.get("read")
    if read is None or read["out"] > 0:
        return None
    files = stages.get("files")
    if files and files["in"] > 0 and files["out"] == 0 and files["dropped"]:
        reasons = ", ".join(f"{r}={n}" for r, n in sorted(files["dropped"].items()))
        return f"none of the {files['in']} input file(s) could be read ({reasons}); see stats.json"
    dropped = read["dropped"]
    if read["in"] > 0 and dropped and not set(dropped) & NOT_WANTED:
        reasons = ", ".join(f"{r}={n}" for r, n in sorted(dropped.items()))
        return f"every one of the {read['in']} input record(s) was unreadable ({reasons}); see stats.json"
    return None

"""The plain-Python ``socialchem`` steps (export-tasks, import-annotations, agreement, split, stats,
validate): each takes its checked config (:mod:`corpora.socialchem.configs`), reads and writes
through :mod:`pipeline.fileio`, and counts every row it leaves out by reason in stats.json. No Beam."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Mapping

from corpora.socialchem import files as sc_files
from corpora.socialchem.configs import (
    AgreementConfig,
    ExportTasksConfig,
    ImportConfig,
    SplitConfig,
    StatsConfig,
    ValidateConfig,
)
from corpora.socialchem.step_io import prepare_dir
from pipeline import fileio
from pipeline.errors import UsageError
from pipeline.stats import IN, OUT, build_report, count_key, drop_key

READ_STAGE = "read"


def stage_counts(stage: str, n_in: int, n_out: int, dropped: Mapping[str, int],
                 counts: Mapping[str, int] | None = None) -> list[tuple[tuple[str, str], int]]:
    """One stage's counts in the form ``pipeline.stats.build_report`` sums."""
    out = [((stage, IN), n_in), ((stage, OUT), n_out)]
    out += [((stage, drop_key(r)), n) for r, n in dropped.items()]
    out += [((stage, count_key(k)), n) for k, n in (counts or {}).items()]
    return out


def read_counts(stage: str, kept: int, dropped: Mapping[str, int]) -> list[tuple[tuple[str, str], int]]:
    """A read stage's counts: every row read is kept or dropped by reason."""
    return stage_counts(stage, kept + sum(dropped.values()), kept, dropped)


def write_stats_json(output: str, job: str, counts: list, stage_order: list[str], **extra) -> dict:
    """stats.json of a plain step: its stages (in = out + dropped by reason), as every job's."""
    report = build_report(counts, stage_order)
    report.update(job=f"socialchem {job}", **extra)
    sc_files.write_json(fileio.join(output, "stats.json"), report)
    return report


def _read_rows(path: str, quiet: bool, dropped: Counter, allow_empty: bool = False) -> list[dict[str, str]]:
    try:
        rows, report = sc_files.read_tsv_rows(path, allow_empty=allow_empty, dropped=dropped)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if report.issues and not quiet:
        print(f"warning: {path}: {report.invalid_rows} invalid row(s) left out:\n{report.render()}", file=sys.stderr)
    return rows


def _table(rows: list[tuple], title: str = "") -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    out = [title] if title else []
    for i, r in enumerate(rows):
        out.append("  ".join(str(c).ljust(w) if j == 0 else str(c).rjust(w) for j, (c, w) in
                             enumerate(zip(r, widths, strict=True))).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


# -- export-tasks ------------------------------------------------------------------------------

def run_export_tasks(cfg: ExportTasksConfig, overwrite: bool = False, quiet: bool = False) -> dict:
    """Situations -> RoT tasks, or RoTs -> breakdown tasks; the tasks' manifest is written last."""
    from corpora.socialchem.assist import load_proposals
    from corpora.socialchem.tasks import ROT_KIND, breakdown_tasks, load_situations, rot_tasks, write_tasks

    kind = cfg.kind
    try:
        proposals = load_proposals(cfg.proposals_file) if cfg.proposals_file else None
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    prepare_dir(cfg.output, [f"{kind}_tasks.csv", f"{kind}_tasks.jsonl", f"{kind}_tasks.label_studio.json",
                             f"{kind}_label_config.xml", f"{kind}_tasks.manifest.json", f"{kind}_report.json"],
                overwrite)
    try:
        if kind == ROT_KIND:
            items = load_situations(cfg.source)
            tasks = rot_tasks(items, cfg.m, proposals)
        else:
            items = [obj for _, obj, _ in sc_files.read_jsonl(cfg.source) if obj]
            missing = [i for i, r in enumerate(items) if "rot-id" not in r]
            if missing:
                raise ValueError(f"{cfg.source}: record {missing[0] + 1} has no rot-id (is it rots.jsonl from "
                                 "import-annotations?)")
            tasks = breakdown_tasks(items, cfg.m, proposals)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    report: dict = {}

    def before_manifest(paths: dict[str, str]) -> None:
        report.update(step="export-tasks", kind=kind, items_in=len(items), tasks=len(tasks), m=cfg.m,
                      answers_expected=len(tasks) * cfg.m, files=paths)
        sc_files.write_json(fileio.join(cfg.output, f"{kind}_report.json"), report)

    paths = write_tasks(tasks, kind, cfg.output, before_manifest)
    if not quiet:
        print(f"export-tasks: {len(tasks)} {kind} task(s) (m={cfg.m}, {len(tasks) * cfg.m} answers expected) "
              f"from {len(items)} item(s)")
        for name, path in paths.items():
            print(f"  {name:<13} {path}")
    return report


# -- import-annotations ------------------------------------------------------------------------

def run_import(cfg: ImportConfig, overwrite: bool = False, quiet: bool = False) -> dict:
    """Completed tasks -> rots.jsonl or annotations.tsv, rejects/part-00000-of-00001.parquet and
    stats.json (stage ``import``: every answer kept or dropped by reason)."""
    from corpora.socialchem.annotations import IMPORT_STAGE, import_breakdowns, import_rots
    from corpora.socialchem.tasks import ROT_KIND, load_tasks
    from corpora.socialchem.validate import validate_file

    try:
        tasks = load_tasks(cfg.tasks_file)
    except ValueError as exc:
        raise UsageError(f"--tasks: {exc}") from exc
    if not tasks:
        raise UsageError(f"--tasks {cfg.tasks}: no tasks in the file")
    kinds = {t.get("kind") for t in tasks.values()}
    if len(kinds) != 1:
        raise UsageError(f"--tasks {cfg.tasks}: mixes task kinds {sorted(map(str, kinds))}")
    kind = kinds.pop()
    out_name = "rots.jsonl" if kind == ROT_KIND else "annotations.tsv"
    out = fileio.join(cfg.output, out_name)
    prepare_dir(cfg.output, [out_name, "rejects", "rejects.jsonl", "stats.json", "report.json"], overwrite)
    start = time.perf_counter()
    if kind == ROT_KIND:
        result = import_rots(cfg.input, tasks, cfg.allow_machine)
        sc_files.write_jsonl(out, result.accepted)
    else:
        result = import_breakdowns(cfg.input, tasks, cfg.allow_machine)
        sc_files.write_tsv(out, result.accepted)
    rejects = sc_files.write_rejects(cfg.output, (r.to_row() for r in result.rejects))
    seconds = time.perf_counter() - start
    summary = result.summary()
    report = {"step": "import-annotations", **summary, "output": out, "rejects": rejects}
    if kind != ROT_KIND:
        check = validate_file(out, check_splits=False)
        report["self_check_ok"] = check.ok
        if not check.ok:  # the assembled file must itself be valid; anything else is a bug worth seeing
            print(check.render(), file=sys.stderr)
    write_stats_json(cfg.output, "import-annotations",
                     stage_counts(IMPORT_STAGE, result.answers, summary["accepted_answers"], result.reasons,
                                  result.counts), [IMPORT_STAGE], kind=kind, records_out=len(result.accepted))
    sc_files.write_json(fileio.join(cfg.output, "report.json"), report)
    if not quiet:
        print(f"import-annotations ({kind}): {result.answers} answer(s) read, {len(result.rejects)} set aside, "
              f"{len(result.accepted)} {'RoTs' if kind == ROT_KIND else 'rows'} written to {out} "
              f"in {seconds:.1f}s")
        for reason, n in result.reasons.items():
            print(f"  rejected {reason}: {n}")
        for r in result.rejects[:10]:
            print(f"    {r}")
        if result.rejects:
            print(f"  all rejects with their reasons: {rejects}")
        for k, v in sorted(result.counts.items()):
            print(f"  {k}: {v}")
    return report


# -- agreement ---------------------------------------------------------------------------------

def run_agreement(cfg: AgreementConfig, overwrite: bool = False, quiet: bool = False) -> dict:
    """Alpha per dimension, aggregated.tsv, ties.jsonl, low_agreement.jsonl; stats.json counts the
    rows read and those left out by reason."""
    from corpora.socialchem.agreement import compute_agreement

    path = cfg.input_file
    dropped: Counter = Counter()
    rows = _read_rows(path, quiet, dropped)
    out = cfg.output
    prepare_dir(out, ["agreement.json", "aggregated.tsv", "ties.jsonl", "low_agreement.jsonl", "stats.json",
                      "report.json"], overwrite)
    result = compute_agreement(rows, cfg.low_agreement)
    sc_files.write_tsv(fileio.join(out, "aggregated.tsv"), result.aggregated)
    sc_files.write_jsonl(fileio.join(out, "ties.jsonl"), result.ties)
    sc_files.write_jsonl(fileio.join(out, "low_agreement.jsonl"), result.low_agreement)
    report = {"step": "agreement", "input": path, **result.as_dict()}
    sc_files.write_json(fileio.join(out, "agreement.json"), report)
    write_stats_json(out, "agreement", read_counts(READ_STAGE, len(rows), dropped), [READ_STAGE])
    sc_files.write_json(fileio.join(out, "report.json"), report)
    if not quiet:
        print(f"agreement: {result.breakdowns} breakdowns of {result.rots} RoTs, {result.multi_annotated} with "
              "several breakdowns\n")
        print(result.table())
        print(f"\n{len(result.ties)} tie(s) (ties.jsonl), {len(result.low_agreement)} low-agreement RoT(s) "
              f"(low_agreement.jsonl), aggregated rows: {fileio.join(out, 'aggregated.tsv')}")
        for item in result.low_agreement[:5]:
            print(f"  {item['agreement']:.2f}  {item['rot']}")
    return report


# -- split -------------------------------------------------------------------------------------

def run_split(cfg: SplitConfig, overwrite: bool = False, quiet: bool = False) -> dict:
    """The split column filled in; socialchem.tsv, the split report with the crossing check, and
    stats.json (rows read, of the input and of --aggregated, and those left out by reason)."""
    from corpora.socialchem.split import split_rows

    path, agg_path = cfg.input_file, cfg.aggregated_file
    dropped: Counter = Counter()
    agg_dropped: Counter = Counter()
    rows = _read_rows(path, quiet, dropped)
    aggregated = _read_rows(agg_path, quiet, agg_dropped, allow_empty=True) if agg_path else None
    prepare_dir(cfg.output, ["socialchem.tsv", "stats.json", "report.json"], overwrite)
    result = split_rows(rows, cfg.seed, cfg.shares, aggregated, resplit=cfg.resplit)
    if result.crossing:
        raise SystemExit(f"split: {len(result.crossing)} situation(s) cross splits (a bug): {result.crossing[:3]}")
    out = fileio.join(cfg.output, "socialchem.tsv")
    sc_files.write_tsv(out, result.rows)
    table = result.table()
    report = {"step": "split", "input": path, "seed": cfg.seed, "fractions": list(cfg.shares),
              "resplit": cfg.resplit, "kept_situations": result.kept, "split_situations": result.assigned,
              "repeated_in_extra": result.repeated,
              "rows": len(result.rows), "situations": len(result.situations), "crossing": len(result.crossing),
              "situations_per_area_split": table["situations"], "rows_per_area_split": table["rows"], "output": out}
    counts = read_counts(READ_STAGE, len(rows), dropped)
    if aggregated is not None:
        counts += read_counts("read_aggregated", len(aggregated), agg_dropped)
    write_stats_json(cfg.output, "split", counts, [READ_STAGE, "read_aggregated"], rows_out=len(result.rows))
    sc_files.write_json(fileio.join(cfg.output, "report.json"), report)
    if not quiet:
        rows_t = [("area/split", "situations", "rows")] + [
            (k, table["situations"].get(k, 0), n) for k, n in table["rows"].items()]
        if result.kept:
            print(f"kept the existing splits of {result.kept} situation(s); split {result.assigned} without one "
                  "(--resplit to split every situation again)")
        print(_table(rows_t, f"split (seed {cfg.seed}): {len(result.rows)} rows, no situation crosses splits"))
        print(f"\nwrote {out}")
    return report


# -- stats -------------------------------------------------------------------------------------

def run_stats(cfg: StatsConfig, overwrite: bool = False, quiet: bool = False) -> dict:
    """stats.json (the distributions, and the read stage: rows left out by reason), stats.md and
    PNG plots of a set."""
    from corpora.socialchem.stats import gather, markdown, write_summary
    from corpora.socialchem.validate import ValidationReport, input_problem

    path = cfg.input_file
    problem = input_problem(path)
    if problem:
        raise UsageError(f"--input {path}: {problem}")
    prepare_dir(cfg.output, ["stats.json", "stats.md", "dimensions.png", "situations.png", "report.json"], overwrite)
    report = ValidationReport(path=path)
    dropped: Counter = Counter()
    summary = gather(sc_files.valid_rows(path, report, dropped)).summary()
    summary.update(build_report(read_counts(READ_STAGE, summary["rows"], dropped), [READ_STAGE]))
    summary = write_summary(summary, cfg.output, plots=not cfg.no_plots)
    summary["invalid_rows_left_out"] = report.invalid_rows
    sc_files.write_json(fileio.join(cfg.output, "report.json"), {"step": "stats", "input": path, **summary})
    if not quiet:
        text = markdown(summary)
        print("\n".join(text.splitlines()[:40]))
        print(f"... full tables: {fileio.join(cfg.output, 'stats.md')}; plots: {', '.join(summary['plots'])}")
        if report.invalid_rows:
            print(f"warning: {report.invalid_rows} invalid row(s) left out (run validate for details)")
    return summary


# -- validate ----------------------------------------------------------------------------------

def run_validate(cfg: ValidateConfig, quiet: bool = False) -> int:
    """Validate a TSV and print the report; 0 when valid, 1 when not."""
    from corpora.socialchem.validate import validate_file

    start = time.perf_counter()
    report = validate_file(cfg.path, cfg.max_examples, check_splits=not cfg.no_split_check)
    if cfg.json:
        sc_files.write_json(cfg.json, report.as_dict())
    if not quiet:
        print(report.render())
        print(f"  checked in {time.perf_counter() - start:.1f}s")
    return 0 if report.ok else 1

"""The ``socialchem`` job: SOCIAL-CHEM-101-style annotated sets, step by step.

``python beam_runner.py socialchem <step> ...``; the data-parallel steps (``situations``,
``render``, ``propose``) are Beam pipelines (corpora/socialchem/pipelines.py), the small global
steps run in plain Python.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from corpora.socialchem import files as sc_files
from corpora.socialchem.pipelines import propose_main, render_main, situations_main
from corpora.socialchem.step_io import input_file as _input_file
from corpora.socialchem.step_io import prepare_dir as _prepare_dir
from corpora.socialchem.step_io import tsv_input as _tsv_in
from pipeline.flags import add_input, add_rejects, add_verbose
from pipeline.jobs import Job, Timer, UsageError, check_beam_args, configure_logging

DESCRIPTION = """\
Build SOCIAL-CHEM-101-style annotated sets (situations, rules of thumb, 12-dimension
breakdowns) in the exact 25-column format of social-chem-101.v1.0.tsv.

steps (python beam_runner.py socialchem <step> --help for each):
  situations          [Beam]   mine situations from a corpus (AITA/WIBTA/"Am I wrong to"/confessions)
  export-tasks        [Python] RoT-writing or breakdown tasks: CSV, Label Studio JSONL + config
  import-annotations  [Python] completed tasks -> rots.jsonl or the 25-column TSV; rejects with reasons
  propose             [Beam]   model-assisted proposals (hf:PATH or native:CKPT), marked machine-made
  agreement           [Python] Krippendorff's alpha per dimension, aggregated rows, ties, low agreement
  split               [Python] 80/10/10 by situation per area, seeded; dev-extra/test-extra
  render              [Beam]   rows -> attribute-conditioned training text, as a corpus (source socialchem)
  stats               [Python] distributions per dimension and split, as tables and PNG plots
  validate            [Python] check a released-format TSV: header, 25 columns, values, types

[Python] steps are small and global (one pass over a set of at most a few hundred thousand rows);
they take no Beam options.

workflow:
  python beam_runner.py socialchem situations --input out/web --output sc/situations
  python beam_runner.py socialchem export-tasks --situations sc/situations --m 1 --output sc/tasks
  python beam_runner.py socialchem import-annotations --tasks sc/tasks/rot_tasks.jsonl \\
      --input rot_answers.csv --output sc/rots
  python beam_runner.py socialchem export-tasks --rots sc/rots --m 3 --output sc/tasks
  python beam_runner.py socialchem import-annotations --tasks sc/tasks/breakdown_tasks.jsonl \\
      --input breakdowns.csv --output sc/annotations
  python beam_runner.py socialchem agreement --input sc/annotations --output sc/agreement
  python beam_runner.py socialchem split --input sc/annotations --aggregated sc/agreement \\
      --seed 0 --output sc/split
  python beam_runner.py socialchem render --input sc/split --splits train --output sc/corpus
  python beam_runner.py socialchem stats --input sc/split --output sc/stats
  python beam_runner.py socialchem validate social-chem-101.v1.0.tsv"""

OVERWRITE_HELP = "replace the outputs of an earlier run in DIR"
PLAIN_STEPS = {"export-tasks", "import-annotations", "agreement", "split", "stats", "validate"}


# -- arguments -------------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    subparsers = parser.add_subparsers(dest="step", metavar="STEP", required=True)
    fmt = argparse.RawDescriptionHelpFormatter

    class _Sub:  # every step's parser refuses abbreviated flags, like beam_runner's own parser
        @staticmethod
        def add_parser(name, **kw):
            return subparsers.add_parser(name, allow_abbrev=False, **kw)

    sub = _Sub()

    p = sub.add_parser("situations", help="[Beam] mine situations from a corpus", formatter_class=fmt,
                       description="Mine candidate situations from one of our corpora (see docs/socialchem.md "
                       "for the heuristics).\n\nexample:\n  python beam_runner.py socialchem situations "
                       "--input out/web --output sc/situations --blocklist words.txt")
    add_input(p, old="--corpus", action="append", metavar="DIR_OR_GLOB",
              help="corpus directory (its data/*.parquet) or Parquet glob; repeatable (required)")
    p.add_argument("--output", required=True, metavar="DIR")
    p.add_argument("--min-words", type=int, default=3, help="shortest situation in words (default 3)")
    p.add_argument("--max-words", type=int, default=30, help="longest situation in words (default 30)")
    p.add_argument("--blocklist", metavar="FILE", help="extra words/phrases to reject, one per line (# comments)")
    p.add_argument("--no-default-blocklist", action="store_true", help="do not use the built-in profanity list")
    p.add_argument("--id-prefix", default="web", help="first part of situation-short-id (default: web)")
    add_rejects(p)
    p.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    add_verbose(p)

    p = sub.add_parser("export-tasks", help="[Python] annotation tasks as CSV and Label Studio JSONL",
                       formatter_class=fmt, description="RoT-writing tasks from situations, or breakdown tasks "
                       "from imported RoTs.\n\nexamples:\n  python beam_runner.py socialchem export-tasks "
                       "--situations sc/situations --m 1 --output sc/tasks\n  python beam_runner.py socialchem "
                       "export-tasks --rots sc/rots --m 3 --output sc/tasks")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--situations", metavar="PATH", help="situations.jsonl or its directory -> RoT-writing tasks")
    src.add_argument("--rots", metavar="PATH", help="rots.jsonl or its directory -> breakdown tasks")
    p.add_argument("--m", type=int, default=1, help="annotators per item (default 1; 3 or 5 for agreement)")
    p.add_argument("--proposals", metavar="FILE", help="proposals.jsonl of the propose step: shown in the "
                   "tasks as MACHINE-MADE suggestions")
    p.add_argument("--output", required=True, metavar="DIR")
    p.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    add_verbose(p)

    p = sub.add_parser("import-annotations", help="[Python] completed tasks -> RoTs or 25-column rows",
                       formatter_class=fmt, description="Read completed tasks (crowdsourcing CSV, JSONL, Label "
                       "Studio JSON export), validate every value, assemble RoTs (rot tasks) or 25-column rows "
                       "(breakdown tasks). Bad answers go to DIR/rejects/ (every job's rejects layout; line, "
                       "column, value and allowed values as JSON in its detail column).\n\nexample:\n  python beam_runner.py socialchem import-annotations "
                       "--tasks sc/tasks/breakdown_tasks.jsonl --input results.csv --output sc/annotations")
    p.add_argument("--tasks", required=True, metavar="FILE", help="the exported *_tasks.jsonl")
    p.add_argument("--input", action="append", required=True, metavar="FILE",
                   help="completed tasks (.csv, .jsonl, Label Studio .json export); repeatable")
    p.add_argument("--allow-machine", action="store_true",
                   help="accept answers from machine:* workers (kept marked by their worker id)")
    p.add_argument("--output", required=True, metavar="DIR")
    p.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    add_verbose(p)

    p = sub.add_parser("propose", help="[Beam] model-assisted RoT and attribute proposals (machine-made)",
                       formatter_class=fmt, description="A generator proposes attributes and a RoT (or action) "
                       "per situation in the attribute-conditioned format; output is marked machine-made.\n\n"
                       "example:\n  python beam_runner.py socialchem propose --input sc/situations "
                       "--generator hf:models/nnt-t5 --output sc/proposals")
    add_input(p, old="--situations", metavar="PATH",
              help="situations.jsonl of the situations step, or its directory (required)")
    p.add_argument("--generator", required=True, metavar="SPEC", help="hf:PATH (local seq2seq) or native:CKPT")
    p.add_argument("--mode", default="rot", choices=("rot", "action"), help="what to propose (default rot)")
    p.add_argument("--num-proposals", type=int, default=1, help="proposals per situation (default 1)")
    p.add_argument("--max-new-tokens", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", required=True, metavar="DIR")
    p.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    add_verbose(p)

    p = sub.add_parser("agreement", help="[Python] agreement per dimension and aggregated rows",
                       formatter_class=fmt, description="Krippendorff's alpha per dimension (nominal / ordinal, "
                       "multi-label per label) over RoTs with several breakdowns; aggregated row per RoT "
                       "(majority / median), ties and low-agreement items listed.\n\nexample:\n  python "
                       "beam_runner.py socialchem agreement --input sc/annotations --output sc/agreement")
    p.add_argument("--input", required=True, metavar="TSV_OR_DIR")
    p.add_argument("--low-agreement", type=float, default=0.5,
                   help="list RoTs whose mean pairwise agreement is below this (default 0.5)")
    p.add_argument("--output", required=True, metavar="DIR")
    p.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    add_verbose(p)

    p = sub.add_parser("split", help="[Python] train/dev/test by situation, per area", formatter_class=fmt,
                       description="80/10/10 by situation, independently per area, from a seed, in the release's "
                       "layout: one breakdown per RoT in train/dev/test, every breakdown of a multi-annotated "
                       "dev/test RoT in dev-extra/test-extra, the other breakdowns of a train RoT in none. "
                       "Situations that already have a split keep it (--resplit to split them again)."
                       "\n\nexample:\n  python beam_runner.py "
                       "socialchem split --input sc/annotations --aggregated sc/agreement --output sc/split")
    p.add_argument("--input", required=True, metavar="TSV_OR_DIR")
    p.add_argument("--aggregated", metavar="TSV_OR_DIR", help="aggregated.tsv of the agreement step: its rows "
                   "of multi-annotated RoTs join dev/test")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fractions", default="0.8,0.1,0.1", help="train,dev,test (default 0.8,0.1,0.1)")
    p.add_argument("--resplit", action="store_true", help="split every situation again, also those that already "
                   "have a split (default: keep existing splits, split only rows with split none)")
    p.add_argument("--output", required=True, metavar="DIR")
    p.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    add_verbose(p)

    p = sub.add_parser("render", help="[Beam] rows -> attribute-conditioned training text corpus",
                       formatter_class=fmt, description="Render rows as training text (RoT and action modes) "
                       "into a corpus (source socialchem) for the tokenize job.\n\nexample:\n  python "
                       "beam_runner.py socialchem render --input sc/split --output sc/corpus --splits train\n"
                       "  python beam_runner.py tokenize --input sc/corpus --tokenizer tok --output shards")
    p.add_argument("--input", action="append", required=True, metavar="TSV_OR_DIR", help="repeatable; globs ok")
    p.add_argument("--output", required=True, metavar="DIR")
    p.add_argument("--modes", default="rot,action", help="rot, action or both (default rot,action)")
    p.add_argument("--splits", default="train", help="splits to render, comma-separated, or all (default train)")
    p.add_argument("--keep-bad", action="store_true", help="also render rows with rot-bad = 1")
    p.add_argument("--format", default="corpusforge", choices=("corpusforge", "official"),
                   help="corpusforge: our attribute tokens (<rot-agree:most>) as marked special tokens "
                   "(default); official: SOCIAL-CHEM-101's sc/ training text byte for byte (<most>, <eos>)")
    p.add_argument("--num-shards", type=int, default=0)
    add_rejects(p)
    p.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    add_verbose(p)

    p = sub.add_parser("stats", help="[Python] distributions as tables and PNG plots", formatter_class=fmt,
                       description="example:\n  python beam_runner.py socialchem stats --input sc/split "
                       "--output sc/stats")
    p.add_argument("--input", required=True, metavar="TSV_OR_DIR")
    p.add_argument("--output", required=True, metavar="DIR")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    add_verbose(p)

    p = sub.add_parser("validate", help="[Python] check a released-format TSV", formatter_class=fmt,
                       description="Check header, 25 columns, allowed values, types and cross-column rules; "
                       "exit status 1 when invalid.\n\nexample:\n  python beam_runner.py socialchem validate "
                       "social-chem-101.v1.0.tsv --json report.json")
    p.add_argument("path", metavar="PATH.tsv")
    p.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    p.add_argument("--max-examples", type=int, default=20, help="issues shown (default 20)")
    p.add_argument("--no-split-check", action="store_true", help="allow a situation in several splits")
    add_verbose(p)


# -- shared helpers ----------------------------------------------------------------------------

def _read_rows(path: str, quiet: bool, allow_empty: bool = False) -> list[dict[str, str]]:
    try:
        rows, report = sc_files.read_tsv_rows(path, allow_empty=allow_empty)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if report.issues and not quiet:
        print(f"warning: {path}: {report.invalid_rows} invalid row(s) left out:\n{report.render()}", file=sys.stderr)
    return rows


def _no_beam_options(step: str, beam_args: list[str]) -> None:
    check_beam_args(beam_args)
    if beam_args:
        raise UsageError(f"{step} runs in plain Python (a small, global step); Beam options do not apply: "
                         f"{' '.join(beam_args)}")


def _table(rows: list[tuple], title: str = "") -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    out = [title] if title else []
    for i, r in enumerate(rows):
        out.append("  ".join(str(c).ljust(w) if j == 0 else str(c).rjust(w) for j, (c, w) in
                             enumerate(zip(r, widths, strict=True))).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


# -- steps -----------------------------------------------------------------------------------

def run_export_tasks(args: argparse.Namespace, beam_args: list[str], quiet: bool = False) -> dict:
    """[Python] situations -> RoT tasks, or RoTs -> breakdown tasks."""
    from corpora.socialchem.assist import load_proposals
    from corpora.socialchem.tasks import (
        BREAKDOWN_KIND,
        ROT_KIND,
        breakdown_tasks,
        load_situations,
        rot_tasks,
        write_tasks,
    )

    _no_beam_options("export-tasks", beam_args)
    if args.m < 1:
        raise UsageError("--m must be at least 1 (annotators per item)")
    proposals = None
    if args.proposals:
        try:
            proposals = load_proposals(_input_file(args.proposals, "proposals.jsonl", "--proposals"))
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    kind = ROT_KIND if args.situations else BREAKDOWN_KIND
    _prepare_dir(args.output, [f"{kind}_tasks.csv", f"{kind}_tasks.jsonl", f"{kind}_tasks.label_studio.json",
                               f"{kind}_label_config.xml",
                               f"{kind}_tasks.manifest.json", f"{kind}_report.json"], args.overwrite)
    try:
        if kind == ROT_KIND:
            items = load_situations(_input_file(args.situations, "situations.jsonl", "--situations"))
            tasks = rot_tasks(items, args.m, proposals)
        else:
            path = _input_file(args.rots, "rots.jsonl", "--rots")
            items = [obj for _, obj, _ in sc_files.read_jsonl(path) if obj]
            missing = [i for i, r in enumerate(items) if "rot-id" not in r]
            if missing:
                raise ValueError(f"{path}: record {missing[0] + 1} has no rot-id (is it rots.jsonl from "
                                 "import-annotations?)")
            tasks = breakdown_tasks(items, args.m, proposals)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    paths = write_tasks(tasks, kind, args.output)
    report = {"step": "export-tasks", "kind": kind, "items_in": len(items), "tasks": len(tasks), "m": args.m,
              "answers_expected": len(tasks) * args.m, "files": paths}
    sc_files.write_json(os.path.join(args.output, f"{kind}_report.json"), report)
    if not quiet:
        print(f"export-tasks: {len(tasks)} {kind} task(s) (m={args.m}, {len(tasks) * args.m} answers expected) "
              f"from {len(items)} item(s)")
        for name, path in paths.items():
            print(f"  {name:<13} {path}")
    return report


def run_import(args: argparse.Namespace, beam_args: list[str], quiet: bool = False) -> dict:
    """[Python] completed tasks -> rots.jsonl or annotations.tsv, with rejects/part-00000-of-00001.parquet."""
    from corpora.socialchem.annotations import import_breakdowns, import_rots
    from corpora.socialchem.tasks import ROT_KIND, load_tasks
    from corpora.socialchem.validate import validate_file

    _no_beam_options("import-annotations", beam_args)
    for path in args.input:
        if not os.path.isfile(path):
            raise UsageError(f"--input {path}: no such file")
        if not path.endswith((".csv", ".jsonl", ".json")):
            raise UsageError(f"--input {path}: expected .csv, .jsonl or a Label Studio .json export")
    try:
        tasks = load_tasks(_input_file(args.tasks, "rot_tasks.jsonl", "--tasks"))
    except ValueError as exc:
        raise UsageError(f"--tasks: {exc}") from exc
    if not tasks:
        raise UsageError(f"--tasks {args.tasks}: no tasks in the file")
    kinds = {t.get("kind") for t in tasks.values()}
    if len(kinds) != 1:
        raise UsageError(f"--tasks {args.tasks}: mixes task kinds {sorted(map(str, kinds))}")
    kind = kinds.pop()
    out_name = "rots.jsonl" if kind == ROT_KIND else "annotations.tsv"
    _prepare_dir(args.output, [out_name, "rejects", "rejects.jsonl", "report.json"], args.overwrite)
    with Timer() as t:
        if kind == ROT_KIND:
            result = import_rots(args.input, tasks, args.allow_machine)
            sc_files.write_jsonl(os.path.join(args.output, out_name), result.accepted)
        else:
            result = import_breakdowns(args.input, tasks, args.allow_machine)
            sc_files.write_tsv(os.path.join(args.output, out_name), result.accepted)
        rejects = sc_files.write_rejects(args.output, (r.to_row() for r in result.rejects))
    report = {"step": "import-annotations", **result.summary(), "output": os.path.join(args.output, out_name),
              "rejects": rejects}
    if kind != ROT_KIND:
        check = validate_file(os.path.join(args.output, out_name), check_splits=False)
        report["self_check_ok"] = check.ok
        if not check.ok:  # the assembled file must itself be valid; anything else is a bug worth seeing
            print(check.render(), file=sys.stderr)
    sc_files.write_json(os.path.join(args.output, "report.json"), report)
    if not quiet:
        print(f"import-annotations ({kind}): {result.answers} answer(s) read, {len(result.rejects)} set aside, "
              f"{len(result.accepted)} {'RoTs' if kind == ROT_KIND else 'rows'} written to {report['output']} "
              f"in {t.seconds:.1f}s")
        for reason, n in result.reasons.items():
            print(f"  rejected {reason}: {n}")
        for r in result.rejects[:10]:
            print(f"    {r}")
        if result.rejects:
            print(f"  all rejects with their reasons: {rejects}")
        for k, v in sorted(result.counts.items()):
            print(f"  {k}: {v}")
    return report


def run_agreement(args: argparse.Namespace, beam_args: list[str], quiet: bool = False) -> dict:
    """[Python] alpha per dimension, aggregated.tsv, ties.jsonl, low_agreement.jsonl."""
    from corpora.socialchem.agreement import compute_agreement

    _no_beam_options("agreement", beam_args)
    if not 0 <= args.low_agreement <= 1:
        raise UsageError("--low-agreement must be in [0, 1]")
    path = _tsv_in(args.input, default="annotations.tsv")
    rows = _read_rows(path, quiet)
    _prepare_dir(args.output, ["agreement.json", "aggregated.tsv", "ties.jsonl", "low_agreement.jsonl",
                                "report.json"],
                 args.overwrite)
    result = compute_agreement(rows, args.low_agreement)
    sc_files.write_tsv(os.path.join(args.output, "aggregated.tsv"), result.aggregated)
    sc_files.write_jsonl(os.path.join(args.output, "ties.jsonl"), result.ties)
    sc_files.write_jsonl(os.path.join(args.output, "low_agreement.jsonl"), result.low_agreement)
    report = {"step": "agreement", "input": path, **result.as_dict()}
    sc_files.write_json(os.path.join(args.output, "agreement.json"), report)
    sc_files.write_json(os.path.join(args.output, "report.json"), report)
    if not quiet:
        print(f"agreement: {result.breakdowns} breakdowns of {result.rots} RoTs, {result.multi_annotated} with "
              "several breakdowns\n")
        print(result.table())
        print(f"\n{len(result.ties)} tie(s) (ties.jsonl), {len(result.low_agreement)} low-agreement RoT(s) "
              f"(low_agreement.jsonl), aggregated rows: {os.path.join(args.output, 'aggregated.tsv')}")
        for item in result.low_agreement[:5]:
            print(f"  {item['agreement']:.2f}  {item['rot']}")
    return report


def run_split(args: argparse.Namespace, beam_args: list[str], quiet: bool = False) -> dict:
    """[Python] the split column filled in; socialchem.tsv + split report with the crossing check."""
    from corpora.socialchem.split import split_rows

    _no_beam_options("split", beam_args)
    try:
        fractions = tuple(float(x) for x in args.fractions.split(","))
        if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-6 or min(fractions) < 0:
            raise ValueError
    except ValueError:
        raise UsageError(f"--fractions {args.fractions!r}: give three non-negative numbers summing to 1, "
                         "e.g. 0.8,0.1,0.1") from None
    path = _tsv_in(args.input, default="annotations.tsv")
    agg_path = _tsv_in(args.aggregated, "--aggregated", "aggregated.tsv") if args.aggregated else None
    rows = _read_rows(path, quiet)
    aggregated = _read_rows(agg_path, quiet, allow_empty=True) if agg_path else None
    _prepare_dir(args.output, ["socialchem.tsv", "report.json"], args.overwrite)
    result = split_rows(rows, args.seed, fractions, aggregated, resplit=args.resplit)
    if result.crossing:
        raise SystemExit(f"split: {len(result.crossing)} situation(s) cross splits (a bug): {result.crossing[:3]}")
    out = os.path.join(args.output, "socialchem.tsv")
    sc_files.write_tsv(out, result.rows)
    table = result.table()
    report = {"step": "split", "input": path, "seed": args.seed, "fractions": list(fractions),
              "resplit": args.resplit, "kept_situations": result.kept, "split_situations": result.assigned,
              "repeated_in_extra": result.repeated,
              "rows": len(result.rows), "situations": len(result.situations), "crossing": len(result.crossing),
              "situations_per_area_split": table["situations"], "rows_per_area_split": table["rows"], "output": out}
    sc_files.write_json(os.path.join(args.output, "report.json"), report)
    if not quiet:
        rows_t = [("area/split", "situations", "rows")] + [
            (k, table["situations"].get(k, 0), n) for k, n in table["rows"].items()]
        if result.kept:
            print(f"kept the existing splits of {result.kept} situation(s); split {result.assigned} without one "
                  "(--resplit to split every situation again)")
        print(_table(rows_t, f"split (seed {args.seed}): {len(result.rows)} rows, no situation crosses splits"))
        print(f"\nwrote {out}")
    return report


def run_stats(args: argparse.Namespace, beam_args: list[str], quiet: bool = False) -> dict:
    """[Python] stats.json, stats.md and PNG plots of a set."""
    from corpora.socialchem.stats import markdown, write_stats
    from corpora.socialchem.validate import ValidationReport, read_rows

    _no_beam_options("stats", beam_args)
    path = _tsv_in(args.input)
    from corpora.socialchem.validate import input_problem

    problem = input_problem(path)
    if problem:
        raise UsageError(f"--input {path}: {problem}")
    _prepare_dir(args.output, ["stats.json", "stats.md", "dimensions.png", "situations.png", "report.json"],
                 args.overwrite)
    report = ValidationReport(path=path)
    rows = (cells for _, cells, issues in read_rows(path, report, check_splits=False) if not issues)
    summary = write_stats(rows, args.output, plots=not args.no_plots)
    summary["invalid_rows_left_out"] = report.invalid_rows
    sc_files.write_json(os.path.join(args.output, "report.json"), {"step": "stats", "input": path, **summary})
    if not quiet:
        text = markdown(summary)
        print("\n".join(text.splitlines()[:40]))
        print(f"... full tables: {os.path.join(args.output, 'stats.md')}; plots: {', '.join(summary['plots'])}")
        if report.invalid_rows:
            print(f"warning: {report.invalid_rows} invalid row(s) left out (run validate for details)")
    return summary


def run_validate(args: argparse.Namespace, beam_args: list[str], quiet: bool = False) -> int:
    """[Python] validate a TSV and print the report; 0 when valid, 1 when not."""
    from corpora.socialchem.validate import validate_file

    _no_beam_options("validate", beam_args)
    if not os.path.isfile(args.path) and "://" not in args.path:
        raise UsageError(f"{args.path}: no such file")
    with Timer() as t:
        report = validate_file(args.path, args.max_examples, check_splits=not args.no_split_check)
    if args.json:
        sc_files.write_json(args.json, report.as_dict())
    if not quiet:
        print(report.render())
        print(f"  checked in {t.seconds:.1f}s")
    return 0 if report.ok else 1



STEPS = {
    "situations": situations_main, "export-tasks": run_export_tasks, "import-annotations": run_import,
    "propose": propose_main, "agreement": run_agreement, "split": run_split, "render": render_main,
    "stats": run_stats, "validate": run_validate,
}


def main(args: argparse.Namespace, beam_args: list[str]):
    configure_logging(args.verbose)
    if args.step in PLAIN_STEPS:
        logging.getLogger("corpusforge").info("socialchem %s: %s", args.step, {
            k: v for k, v in sorted(vars(args).items()) if k not in ("step", "verbose")})
    return STEPS[args.step](args, beam_args)


JOB = Job("socialchem", "SOCIAL-CHEM-101-style sets: situations, tasks, annotations, agreement, splits, text",
          DESCRIPTION, add_arguments, main)

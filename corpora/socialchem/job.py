"""The ``socialchem`` job: SOCIAL-CHEM-101-style annotated sets, step by step.

``python beam_runner.py socialchem <step> ...``: the step's flags make its config
(corpora/socialchem/configs.py, checked before any work), which its run function takes: the
data-parallel steps (``situations``, ``render``, ``propose``) are Beam pipelines
(corpora/socialchem/beam_pipelines.py), the small global steps run in plain Python
(corpora/socialchem/steps.py).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from corpora.socialchem import configs, steps
from corpora.socialchem.beam_pipelines import run_propose, run_render, run_situations
from pipeline.flags import add_input, add_rejects, add_verbose
from pipeline.jobs import Job, UsageError, check_beam_args, configure_logging

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


# -- arguments -------------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    subparsers = parser.add_subparsers(dest="step", metavar="STEP", required=True)
    fmt = argparse.RawDescriptionHelpFormatter

    class _Sub:  # every step's parser refuses abbreviated flags, like beam_runner's own parser
        def __init__(self) -> None:
            self.parsers: dict[str, argparse.ArgumentParser] = {}

        def add_parser(self, name, **kw):
            self.parsers[name] = subparsers.add_parser(name, allow_abbrev=False, **kw)
            return self.parsers[name]

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

    p = sub.add_parser("agreement", help="[Python] agreement per dimension and aggregated rows",
                       formatter_class=fmt, description="Krippendorff's alpha per dimension (nominal / ordinal, "
                       "multi-label per label) over RoTs with several breakdowns; aggregated row per RoT "
                       "(majority / median), ties and low-agreement items listed.\n\nexample:\n  python "
                       "beam_runner.py socialchem agreement --input sc/annotations --output sc/agreement")
    p.add_argument("--input", required=True, metavar="TSV_OR_DIR")
    p.add_argument("--low-agreement", type=float, default=0.5,
                   help="list RoTs whose mean pairwise agreement is below this (default 0.5)")
    p.add_argument("--output", required=True, metavar="DIR")

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

    p = sub.add_parser("stats", help="[Python] distributions as tables and PNG plots", formatter_class=fmt,
                       description="example:\n  python beam_runner.py socialchem stats --input sc/split "
                       "--output sc/stats")
    p.add_argument("--input", required=True, metavar="TSV_OR_DIR")
    p.add_argument("--output", required=True, metavar="DIR")
    p.add_argument("--no-plots", action="store_true")

    p = sub.add_parser("validate", help="[Python] check a released-format TSV", formatter_class=fmt,
                       description="Check header, 25 columns, allowed values, types and cross-column rules; "
                       "exit status 1 when invalid.\n\nexample:\n  python beam_runner.py socialchem validate "
                       "social-chem-101.v1.0.tsv --json report.json")
    p.add_argument("path", metavar="PATH.tsv")
    p.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    p.add_argument("--max-examples", type=int, default=20, help="issues shown (default 20)")
    p.add_argument("--no-split-check", action="store_true", help="allow a situation in several splits")

    for name, step_parser in sub.parsers.items():  # last in every step's --help, as each step takes them
        add_run_flags(step_parser, overwrite=STEPS[name].overwrite)


def add_run_flags(parser: argparse.ArgumentParser, overwrite: bool = True) -> None:
    """The flags every step shares, added once: ``--overwrite`` (not for ``validate``, which writes
    no output folder) and ``-v``/``--verbose``."""
    if overwrite:
        parser.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    add_verbose(parser)


# -- steps -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """A step of the job: its config class (flag renames: field -> flag), its run function, and
    whether it is a Beam pipeline (the others take no Beam options) and takes ``--overwrite``."""

    config: type
    run: Callable
    beam: bool = False
    renamed: dict[str, str] = field(default_factory=dict)
    overwrite: bool = True  # takes --overwrite (replaces an earlier run's outputs)


STEPS = {
    "situations": Step(configs.SituationsConfig, run_situations, beam=True),
    "export-tasks": Step(configs.ExportTasksConfig, steps.run_export_tasks),
    "import-annotations": Step(configs.ImportConfig, steps.run_import),
    "propose": Step(configs.ProposeConfig, run_propose, beam=True, renamed={"situations": "input"}),
    "agreement": Step(configs.AgreementConfig, steps.run_agreement),
    "split": Step(configs.SplitConfig, steps.run_split),
    "render": Step(configs.RenderStepConfig, run_render, beam=True),
    "stats": Step(configs.StatsConfig, steps.run_stats),
    "validate": Step(configs.ValidateConfig, steps.run_validate, overwrite=False),
}
PLAIN_STEPS = {name for name, step in STEPS.items() if not step.beam}


def _no_beam_options(step: str, beam_args: list[str]) -> None:
    check_beam_args(beam_args)
    if beam_args:
        raise UsageError(f"{step} runs in plain Python (a small, global step); Beam options do not apply: "
                         f"{' '.join(beam_args)}")


def main(args: argparse.Namespace, beam_args: list[str]):
    """The step's flags -> its config (checked before any work) -> its run function."""
    configure_logging(args.verbose)
    step = STEPS[args.step]
    if not step.beam:
        _no_beam_options(args.step, beam_args)
        logging.getLogger("corpusforge").info("socialchem %s: %s", args.step, {
            k: v for k, v in sorted(vars(args).items()) if k not in ("step", "verbose")})
    cfg = configs.from_args(step.config, args, **step.renamed)
    if step.beam:
        return step.run(cfg, beam_args, overwrite=args.overwrite, verbose=args.verbose)
    if not step.overwrite:
        return step.run(cfg)
    return step.run(cfg, overwrite=args.overwrite)


JOB = Job("socialchem", "SOCIAL-CHEM-101-style sets: situations, tasks, annotations, agreement, splits, text",
          DESCRIPTION, add_arguments, main)

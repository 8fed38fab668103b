"""The doc2query jobs: ``doc2query-pairs`` (training pairs), ``doc2query`` (expansion), ``doc2query-eval``,
``doc2query-train``.

See docs/doc2query.md. The pairs and expansion jobs are Beam pipelines (corpora/doc2query/pairs_job.py,
expand_job.py); the evaluation indexes both collections with bm25s in one process.
"""

from __future__ import annotations

import argparse

from corpora.doc2query import expand_job, pairs_job
from corpora.doc2query.expand_job import ExpandJobConfig, run_expand
from corpora.doc2query.expand_job import add_arguments as add_expand_arguments
from corpora.doc2query.expand_job import config_from_args as expand_config
from corpora.doc2query.pairs_job import PairsConfig, run_pairs
from corpora.doc2query.pairs_job import add_arguments as add_pairs_arguments
from corpora.doc2query.pairs_job import config_from_args as pairs_config
from pipeline import beam_io
from pipeline.flags import add_input, add_verbose, require_input
from pipeline.jobs import Job, Timer, UsageError, configure_logging

__all__ = ["ExpandJobConfig", "PairsConfig", "add_expand_arguments", "add_pairs_arguments", "expand_config",
           "pairs_config", "run_expand", "run_pairs", "run_eval", "JOBS"]


# ---------------------------------------------------------------------------------------------
# doc2query-eval

EVAL_DESCRIPTION = """\
BM25 retrieval over the original and the expanded passages, side by side: MRR@10,
Recall@100 and Recall@1000 on your held-out queries (bm25s, Anserini's k1=0.9, b=0.4 by
default). Collections: corpus directories, collection TSV (pid<TAB>text) or JSONL
(Anserini id/contents). Runs in one process (the index is in memory), not on a Beam runner.

examples:
  python beam_runner.py doc2query-eval --input collection.tsv --expanded out/d2q/anserini \\
      --queries queries.dev.small.tsv --qrels qrels.dev.small.tsv
  python beam_runner.py doc2query-eval --input out/pairs/passages --expanded out/passages-d2q \\
      --queries out/pairs/heldout/queries.tsv --qrels out/pairs/heldout/qrels.tsv --report eval.json"""


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    add_input(parser, old="--corpus", metavar="ORIGINAL",
              help="the original passages (the input; --expanded names their expanded copies)")
    parser.add_argument("--expanded", required=True, metavar="EXPANDED",
                        help="the expanded passages (same ids; a second input, compared with --input)")
    parser.add_argument("--queries", required=True, metavar="TSV", help="qid<TAB>query (held-out queries)")
    parser.add_argument("--qrels", required=True, metavar="FILE", help="qid 0 pid rel, or qid pid")
    parser.add_argument("--k1", type=float, default=0.9, help="BM25 k1 (default: %(default)s)")
    parser.add_argument("--b", type=float, default=0.4, help="BM25 b (default: %(default)s)")
    parser.add_argument("--stopwords", choices=("en", "none"), default="en", help="stop word list (default: en)")
    parser.add_argument("--fix-mojibake", action="store_true",
                        help="repair UTF-8 read as Latin-1 in passages and queries (MS MARCO's; ftfy)")
    parser.add_argument("--report", metavar="FILE.json", help="also write the report as JSON")
    add_verbose(parser)


def run_eval(args: argparse.Namespace, quiet: bool = False) -> dict:
    """Read everything and check the task (errors before any indexing), run both BM25 runs, print the table."""
    from corpora.doc2query.evaluate import (
        EvalInputError,
        build_task,
        check_task,
        compare,
        read_collection,
        read_qrels,
        read_queries,
        render_comparison,
    )

    if args.k1 < 0 or not 0 <= args.b <= 1:
        raise UsageError("--k1 must be >= 0 and --b in [0, 1]")
    require_input(args.input, "the original passages")
    fix = getattr(args, "fix_mojibake", False)
    try:
        queries, q_skipped = read_queries(args.queries, fix)
        qrels, r_skipped = read_qrels(args.qrels)
        original = read_collection(args.input, fix, "--input")
        expanded = read_collection(args.expanded, fix, "--expanded")
        check_task(build_task(original.texts, queries, qrels), original.texts, expanded.texts)
    except EvalInputError as exc:
        raise UsageError(str(exc)) from exc
    with Timer() as t:
        report = compare(original.texts, expanded.texts, queries, qrels, args.k1, args.b,
                         None if args.stopwords == "none" else "en")
    report["skipped_lines"] = {"queries": dict(q_skipped), "qrels": dict(r_skipped),
                               "corpus": dict(original.skipped), "expanded": dict(expanded.skipped)}
    report["seconds"] = round(t.seconds, 2)
    if args.report:
        beam_io.write_json_atomic(args.report, report)
    if not quiet:
        print(render_comparison(report))
        bad = {f"{k} ({name})": v for name, c in report["skipped_lines"].items() for k, v in c.items()}
        if bad:
            print("skipped lines: " + ", ".join(f"{k}={v}" for k, v in sorted(bad.items())))
        print(f"evaluated in {t.seconds:.1f}s" + (f"; report: {args.report}" if args.report else ""))
    return report


def eval_main(args: argparse.Namespace, beam_args: list[str]) -> dict:
    configure_logging(args.verbose)
    if beam_args:
        raise UsageError(f"unknown option(s): {' '.join(beam_args)} (doc2query-eval runs in one process)")
    return run_eval(args)


# ---------------------------------------------------------------------------------------------
# doc2query-train

TRAIN_DESCRIPTION = """\
Train the bundled query generator on doc2query-pairs output: every pair becomes one document
"passage <|sep|> query", a byte-level BPE tokenizer with <|sep|> is trained (or --tokenizer
reused), the tokenize job writes token shards, and the bundled trainer runs with
objective=prefix-lm (loss on the query only). key=value arguments go to the trainer. The run
directory is used as --generator native:RUN_DIR by the doc2query job. See docs/doc2query.md.

examples:
  python beam_runner.py doc2query-train --input out/d2q-pairs --output runs/d2q
  python beam_runner.py doc2query-train --input out/d2q-pairs --output runs/d2q max_steps=2000 lr=1e-3"""


def train_main(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Check the Beam options (used by the tokenize step), then train; errors are UsageErrors."""
    from corpora.doc2query.train_generator import TrainGeneratorError, training_from_args
    from corpora.doc2query.train_job import run_train_generator

    configure_logging(getattr(args, "verbose", False))
    from pipeline.jobs import check_beam_args

    check_beam_args(beam_args)
    try:
        run_train_generator(training_from_args(args, beam_args))
    except TrainGeneratorError as exc:
        raise UsageError(str(exc)) from exc
    return 0


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    from corpora.doc2query.train_generator import add_train_arguments as add

    add(parser)
    add_verbose(parser)


JOBS = [
    pairs_job.JOB,
    Job("doc2query-train", "train the bundled query generator (prefix-LM GPT) on doc2query-pairs output",
        TRAIN_DESCRIPTION, add_train_arguments, train_main),
    expand_job.JOB,
    Job("doc2query-eval", "BM25 MRR@10 / Recall@100/1000: original vs expanded passages", EVAL_DESCRIPTION,
        add_eval_arguments, eval_main),
]

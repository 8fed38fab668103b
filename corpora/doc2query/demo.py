"""The doc2query stage of the demo: mine pairs from a corpus, train the bundled generator briefly,
expand the mined passages, and evaluate retrieval on held-out headings.

    python -m corpora.doc2query.demo CORPUS_DIR OUT_DIR [--overwrite] [Beam options]

The held-out queries are the headings of a deterministic 20% of the documents; the generator
never sees those documents. The retrieval collection is every mined passage (the text under
a heading, without the heading), so BM25 on the original passages cannot read the answer off
the heading. With a tiny model trained for seconds the predicted queries are noisy, and on
a few hundred passages the change in MRR@10 is within noise either way: the demo shows the
chain working, not a quality claim (bench/doc2query.py measures that on a controlled task).
"""

from __future__ import annotations

import argparse
import os
import sys

from corpora.doc2query.job import (
    ExpandJobConfig,
    PairsConfig,
    add_eval_arguments,
    run_eval,
    run_expand,
    run_pairs,
)
from corpora.doc2query.train_generator import GeneratorTraining
from corpora.doc2query.train_job import run_train_generator
from pipeline.jobs import Timer

HELDOUT_FRACTION = 0.2
WINDOW = 4  # sentences per passage: short passages keep the tiny model's training and decoding fast
NUM_QUERIES = 10
TRAIN_OVERRIDES = ["max_steps=200", "seq_len=128", "micro_batch_size=8", "warmup_steps=30", "eval_interval=200",
                   "eval_batches=2", "checkpoint_interval=200", "log_interval=100"]
# One in-process worker for the local runner unless told otherwise: worker processes would each import
# torch and load the model, which costs more than generating a few hundred passages.
LOCAL_BEAM_ARGS = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]


def _local_args(beam_args: list[str]) -> list[str]:
    from pipeline.jobs import is_local_direct

    given = {a.split("=", 1)[0] for a in beam_args}
    if not is_local_direct(beam_args):
        return list(beam_args)
    return list(beam_args) + [a for a in LOCAL_BEAM_ARGS if a.split("=", 1)[0] not in given]


def eval_args(argv: list[str]) -> argparse.Namespace:
    """doc2query-eval's arguments (a one-process step, configured by its flags)."""
    parser = argparse.ArgumentParser()
    add_eval_arguments(parser)
    return parser.parse_args(argv)


def check_doc2query_demo_output(out_dir: str, overwrite: bool) -> None:
    """Raise UsageError (before any work) when ``out_dir`` holds an earlier run and ``overwrite`` is off."""
    from pipeline.jobs import UsageError

    found = [n for n in ("pairs", "generator", "expanded", "eval.json") if os.path.exists(os.path.join(out_dir, n))]
    if found and not overwrite:
        raise UsageError(f"{out_dir} already holds {', '.join(found)} of an earlier doc2query demo; pass --overwrite "
                         "or choose another directory")


def run_doc2query_demo(corpus_dir: str, out_dir: str, beam_args: list[str], overwrite: bool) -> dict:
    """Pairs -> generator -> expansion -> evaluation under ``out_dir``; prints each step's summary and
    returns {"pairs", "generator", "expand", "eval", "seconds"} (the stats reports and the eval report)."""
    check_doc2query_demo_output(out_dir, overwrite)
    pairs_dir, run_dir = os.path.join(out_dir, "pairs"), os.path.join(out_dir, "generator")
    expanded_dir = os.path.join(out_dir, "expanded")
    with Timer() as t:
        print("\n== doc2query: (heading, passage) pairs mined from the corpus (noisy heuristic)")
        pairs = run_pairs(PairsConfig(
            output=pairs_dir, input=[corpus_dir], max_heading_words=16, min_passage_words=20, pairs_per_section=1,
            max_query_docs=10, window=WINDOW, stride=WINDOW, heldout_fraction=HELDOUT_FRACTION, seed=0),
            _local_args(beam_args), overwrite=overwrite)

        print("\n== doc2query: bundled query generator (prefix-LM GPT, passage <|sep|> query)")
        generator = run_train_generator(GeneratorTraining(pairs=pairs_dir, output=run_dir, overrides=TRAIN_OVERRIDES,
                                                      vocab_size=2048, overwrite=overwrite))

        print(f"\n== doc2query: expand the mined passages with {NUM_QUERIES} sampled queries each")
        expand = run_expand(ExpandJobConfig(
            output=expanded_dir, generator=f"native:{run_dir}", input=[os.path.join(pairs_dir, "passages")],
            anserini=True, num_queries=NUM_QUERIES, max_new_tokens=24, window=WINDOW, stride=WINDOW),
            _local_args(beam_args), overwrite=overwrite)

        print("\n== doc2query: BM25 on held-out headings, original vs expanded passages")
        evaluation = run_eval(eval_args([
            "--input", os.path.join(pairs_dir, "passages"), "--expanded", expanded_dir,
            "--queries", os.path.join(pairs_dir, "heldout", "queries.tsv"),
            "--qrels", os.path.join(pairs_dir, "heldout", "qrels.tsv"), "--report", os.path.join(out_dir, "eval.json")]))
    print(f"doc2query demo finished in {t.seconds:.1f}s (generator {generator['seconds']:.1f}s): {expanded_dir}")
    return {"pairs": pairs, "generator": generator, "expand": expand, "eval": evaluation, "seconds": t.seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m corpora.doc2query.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", metavar="CORPUS_DIR")
    parser.add_argument("out", metavar="OUT_DIR")
    parser.add_argument("--overwrite", action="store_true")
    args, beam_args = parser.parse_known_args(argv)
    run_doc2query_demo(args.corpus, args.out, beam_args, args.overwrite)
    return 0


if __name__ == "__main__":
    sys.exit(main())

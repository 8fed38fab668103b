"""The shell of ``doc2query-train``: the generator's training chain (:mod:`corpora.doc2query.train_generator`)
with its tokenize step run as the ``tokenize`` Beam job, and the ``python -m`` entry point.

    python -m corpora.doc2query.train_job --input out/pairs --output runs/d2q [key=value ...]
"""

from __future__ import annotations

import argparse
import sys

from corpora.doc2query.train_generator import (
    GeneratorTraining,
    TrainGeneratorError,
    add_train_arguments,
    train_generator,
    training_from_args,
)
from corpora.tokenize import TokenizeConfig, run_tokenize


def tokenize_pairs(corpus: str, tokenizer_dir: str, shards: str, job: GeneratorTraining) -> None:
    """The chain's tokenize step: the ``tokenize`` job over the pair corpus, one shard file per split,
    with the run's Beam options."""
    run_tokenize(TokenizeConfig([corpus], tokenizer_dir, shards, shard_tokens=10**9, val_fraction=job.val_fraction),
                 list(job.beam_args), overwrite=True, quiet=True)


def run_train_generator(job: GeneratorTraining, log=print) -> dict:
    """Train the bundled generator (:func:`~corpora.doc2query.train_generator.train_generator`) with the
    tokenize job as its tokenize step."""
    return train_generator(job, tokenize_pairs, log)


def main(argv: list[str] | None = None) -> int:
    """``python -m corpora.doc2query.train_job``: the same as ``beam_runner.py doc2query-train``."""
    from corpora.doc2query import train_generator as chain

    parser = argparse.ArgumentParser(
        prog="python -m corpora.doc2query.train_job", description=chain.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    try:
        run_train_generator(training_from_args(args))
    except TrainGeneratorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

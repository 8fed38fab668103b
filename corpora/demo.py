"""The ``demo`` job: generate the bundled web sample and run the whole chain on it.

Today the chain is: sample WARC files -> web job (extract, normalize, language ID, quality
filters, exact and MinHash dedup, PII redaction) -> a byte-level BPE tokenizer trained on
the corpus -> token shards (Megatron-LM layout) -> verify-shards. Later stages (crawl, KG
sentences, doc2query, SOCIAL-CHEM sets, a short training run) join here as they land.
"""

from __future__ import annotations

import argparse
import os

from corpora.sample_web import write_sample
from corpora.tokenize import prepare_shard_output, run_tokenize
from corpora.web import WebConfig, run_web
from pipeline.jobs import Job, Timer, UsageError, check_beam_args, configure_logging, prepare_output
from pipeline.recipe import parse_steps
from pipeline.shards.megatron import verify_shards
from pipeline.shards.verify_cli import print_report
from tokenizer.train import TrainConfig, train
from tokenizer.train import check_output as check_tokenizer_output

# English-only rules (Gopher stop words, C4's sentence rules) apply to English pages; the
# repetition and FineWeb rules to every language written with spaces.
DEMO_STEPS: list = [
    "gopher_repetition",
    {"gopher_quality": {"langs": ["en"]}},
    {"c4": {"filter_terminal_punct": False, "langs": ["en"]}},
    {"fineweb": {"langs": ["en", "de", "fr", "es", "it", "nl", "pt"]}},
    "pii",
    "exact_dedup",
    "minhash_dedup",
]

DESCRIPTION = """\
Run the whole chain on a generated sample: a few hundred web pages in nine languages as
WARC files (with navigation boilerplate, near-duplicate and spam-like pages, non-HTML and
non-200 responses, a record with a wrong Content-Length and a truncated file), then the
web job on them. Ends with a table of what each stage read, wrote and dropped.

example:
  python beam_runner.py demo --output demo-out"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", required=True, metavar="DIR", help="where the sample and outputs go")
    parser.add_argument("--pages", type=int, default=300, help="HTML pages in the sample (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="sample seed (default 0)")
    parser.add_argument("--overwrite", action="store_true", help="replace outputs of an earlier demo in DIR")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress of every file")


def main(args: argparse.Namespace, beam_args: list[str]) -> dict:
    configure_logging(args.verbose)
    if args.pages < 1:
        raise UsageError("--pages must be at least 1")
    out = args.output.rstrip("/")
    sample_dir = os.path.join(out, "sample")
    check_beam_args(beam_args)  # fail on a typo before writing anything
    prepare_output(os.path.join(out, "web"), args.overwrite)
    tokenizer_dir, shards_dir = os.path.join(out, "tokenizer"), os.path.join(out, "shards")
    try:
        check_tokenizer_output(tokenizer_dir, args.overwrite)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    prepare_shard_output(shards_dir, args.overwrite)
    with Timer() as t:
        os.makedirs(sample_dir, exist_ok=True)
        counts = write_sample(sample_dir, seed=args.seed, pages=args.pages)
        print(f"demo: wrote sample of {counts['html_pages']} HTML pages in {counts['files']} WARC files to {sample_dir}")
        web_cfg = WebConfig(inputs=[os.path.join(sample_dir, "*.warc.gz")], output=os.path.join(out, "web"),
                            rejects=True, recipe=[s.describe() for s in parse_steps(DEMO_STEPS)])
        report = run_web(web_cfg, beam_args, overwrite=args.overwrite, verbose=args.verbose)

        print("\n== tokenizer: byte-level BPE trained on the corpus")
        trained = train(TrainConfig(inputs=[web_cfg.output], output=tokenizer_dir, model="bpe", vocab_size=4096,
                                    fim=True, overwrite=args.overwrite, show_progress=False), log=None)
        print(trained.summary())

        print("\n== token shards")
        run_tokenize(argparse.Namespace(input=[web_cfg.output], tokenizer=tokenizer_dir, output=shards_dir,
                                        shard_tokens=50_000, val_fraction=0.05, seed=0, overwrite=args.overwrite,
                                        verbose=args.verbose), beam_args)

        print("\n== verify-shards")
        ok, shard_report = verify_shards(shards_dir)
        print_report(shard_report)
        if not ok:
            raise SystemExit("demo: the token shards failed verification")
    print(f"\ndemo finished in {t.seconds:.1f}s: corpus {web_cfg.output}, tokenizer {tokenizer_dir}, "
          f"shards {shards_dir}")
    return report


JOB = Job("demo", "run the whole chain on a generated sample (start here)", DESCRIPTION, add_arguments, main)

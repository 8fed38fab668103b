"""The ``demo`` job: generate the bundled web sample and run the whole chain on it.

Today the chain is: sample WARC files -> web job (extract, normalize, language ID, quality
filters, exact and MinHash dedup, PII redaction).
Later stages (quality filters, dedup, KG sentences, doc2query, SOCIAL-CHEM, tokenizer,
token shards, a short training run) join here as they land.
"""

from __future__ import annotations

import argparse
import os

from corpora.sample_web import write_sample
from corpora.web import WebConfig, run_web
from pipeline.jobs import Job, Timer, UsageError, check_beam_args, configure_logging, prepare_output
from pipeline.recipe import parse_steps

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
    with Timer() as t:
        os.makedirs(sample_dir, exist_ok=True)
        counts = write_sample(sample_dir, seed=args.seed, pages=args.pages)
        print(f"demo: wrote sample of {counts['html_pages']} HTML pages in {counts['files']} WARC files to {sample_dir}")
        web_cfg = WebConfig(inputs=[os.path.join(sample_dir, "*.warc.gz")], output=os.path.join(out, "web"),
                            rejects=True, recipe=[s.describe() for s in parse_steps(DEMO_STEPS)])
        report = run_web(web_cfg, beam_args, overwrite=args.overwrite, verbose=args.verbose)
    print(f"\ndemo finished in {t.seconds:.1f}s")
    return report


JOB = Job("demo", "run the whole chain on a generated sample (start here)", DESCRIPTION, add_arguments, main)

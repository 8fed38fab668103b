"""The ``demo`` job: generate the bundled samples and run every corpus kind through to a model.

The chain: a local website served on 127.0.0.1 is crawled into WARC files (crawl job); the
crawl plus generated WARC files with deliberate faults go through the web job (extract,
normalize, language ID, quality filters, exact and MinHash dedup, PII); a shipped triples
file becomes KG sentences (kg job); situations mined from the web corpus go through the
SOCIAL-CHEM steps with shipped sample annotations; doc2query mines pairs, trains its bundled
query generator and expands passages; one byte-level BPE tokenizer is trained on all the
corpora; the tokenize job writes Megatron token shards, which are verified; and a tiny model
trains on them, mixing the corpora by weight, resumes from its checkpoint and plots its loss.
"""

from __future__ import annotations

import argparse
import os

from corpora.crawl import check_crawl_output, crawl_demo_site
from corpora.doc2query.demo import check_doc2query_demo_output, run_doc2query_demo
from corpora.kg.job import demo_config, prepare_kg_output, run_kg_demo
from corpora.sample_web import write_sample
from corpora.socialchem.demo import FORUM_PAGES, run_socialchem_demo
from corpora.tokenize import TokenizeConfig, prepare_shard_output, run_tokenize
from corpora.web import WebConfig, run_web
from pipeline.jobs import (
    Job,
    Timer,
    UsageError,
    check_beam_args,
    configure_logging,
    prepare_named_outputs,
    prepare_output,
)
from pipeline.recipe import parse_steps
from pipeline.shards.megatron import verify_shards
from pipeline.shards.verify_cli import print_report
from tokenizer.train import TrainConfig, train
from tokenizer.train import check_output as check_tokenizer_output
from trainer.demo import run_demo_training

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

# Sampling weights of the demo's training run, by corpus source.
DEMO_MIX = {"web": 0.55, "kg": 0.2, "socialchem": 0.15, "doc2query": 0.1}

DESCRIPTION = """\
Run the whole chain on bundled samples, offline: crawl a website the demo serves on
127.0.0.1 into WARC files; add generated WARC files (nine languages, boilerplate, near
duplicates, spam, non-HTML and non-200 responses, a wrong Content-Length, a truncated file,
advice-forum pages); build the web corpus from both; verbalize a shipped triples file (kg);
mine situations and build a SOCIAL-CHEM set with shipped sample annotations; expand
passages with a query generator trained on the spot (doc2query); train one tokenizer on all
corpora; write and verify token shards; train a tiny model mixing the corpora, resume it
from its checkpoint and plot its loss. Each stage prints what it read, wrote and dropped.

example:
  python beam_runner.py demo --output demo-out"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", required=True, metavar="DIR", help="where the sample and outputs go")
    parser.add_argument("--pages", type=int, default=300, help="HTML pages in the sample (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="sample seed (default 0)")
    parser.add_argument("--overwrite", action="store_true", help="replace outputs of an earlier demo in DIR")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress of every file")


def _check_outputs(out: str, overwrite: bool) -> dict[str, str]:
    """Every output directory of the demo, refused up front when it holds an earlier run and no --overwrite."""
    d = {name: os.path.join(out, name) for name in
         ("sample", "crawl", "web", "kg", "socialchem", "doc2query", "tokenizer", "shards", "train")}
    check_crawl_output(d["crawl"], overwrite)
    prepare_output(d["web"], overwrite)
    prepare_kg_output(d["kg"], overwrite)
    try:
        check_tokenizer_output(d["tokenizer"], overwrite)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    prepare_shard_output(d["shards"], overwrite)
    check_doc2query_demo_output(d["doc2query"], overwrite)
    prepare_named_outputs(out, ("socialchem", "train"), overwrite)
    return d


def main(args: argparse.Namespace, beam_args: list[str]) -> dict:
    configure_logging(args.verbose)
    if args.pages < 1:
        raise UsageError("--pages must be at least 1")
    check_beam_args(beam_args)  # fail on a typo before writing anything
    d = _check_outputs(args.output.rstrip("/"), args.overwrite)
    with Timer() as t:
        print("== crawl: the sample website, served on 127.0.0.1")
        crawl = crawl_demo_site(d["crawl"], beam_args, overwrite=args.overwrite, verbose=args.verbose, seed=args.seed)

        os.makedirs(d["sample"], exist_ok=True)
        counts = write_sample(d["sample"], seed=args.seed, pages=args.pages, forum_pages=FORUM_PAGES)
        print(f"\n== web: {len(crawl['warc_files'])} crawled WARC files plus a generated sample of "
              f"{counts['html_pages']} HTML pages in {counts['files']} WARC files ({d['sample']})")
        web_cfg = WebConfig(inputs=[crawl["warc_glob"], os.path.join(d["sample"], "*.warc.gz")], output=d["web"],
                            rejects=True, recipe=[s.describe() for s in parse_steps(DEMO_STEPS)])
        report = run_web(web_cfg, beam_args, overwrite=args.overwrite, verbose=args.verbose)

        print("\n== kg: shipped triples verbalized into sentences")
        run_kg_demo(demo_config(d["kg"]), beam_args, args.overwrite)

        socialchem = run_socialchem_demo(d["web"], d["socialchem"], beam_args, args.overwrite)
        run_doc2query_demo(d["web"], d["doc2query"], beam_args, args.overwrite)

        corpora = {"web": d["web"], "kg": d["kg"], "socialchem": socialchem["corpus"],
                   "doc2query": os.path.join(d["doc2query"], "expanded")}
        print("\n== tokenizer: byte-level BPE trained on every corpus (FIM and SOCIAL-CHEM attribute tokens)")
        trained = train(TrainConfig(inputs=list(corpora.values()), output=d["tokenizer"], model="bpe",
                                    vocab_size=4096, fim=True, socialchem=True, overwrite=args.overwrite,
                                    show_progress=False), log=None)
        print(trained.summary())

        print("\n== token shards")
        run_tokenize(TokenizeConfig([f"{k}={v}" for k, v in corpora.items()], d["tokenizer"], d["shards"],
                                    shard_tokens=50_000, val_fraction=0.05, seed=0),
                     beam_args, overwrite=args.overwrite, verbose=args.verbose)

        print("\n== verify-shards")
        ok, shard_report = verify_shards(d["shards"])
        print_report(shard_report)
        if not ok:
            raise SystemExit("demo: the token shards failed verification")

        print(f"\n== trainer: tiny GPT on the shards, mixing {DEMO_MIX}")
        run_demo_training([d["shards"]], d["train"], mix=DEMO_MIX)
    print(f"\ndemo finished in {t.seconds:.1f}s: corpora {', '.join(corpora.values())}; tokenizer {d['tokenizer']}; "
          f"shards {d['shards']}; model run {d['train']} (loss plot {d['train']}/loss.png)")
    return report


JOB = Job("demo", "run every stage on bundled samples, crawl to trained model (start here)", DESCRIPTION, add_arguments, main)

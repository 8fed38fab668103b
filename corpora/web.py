"""The ``web`` job: WARC / WET / JSONL / Parquet in, a clean Parquet corpus out.

Stages: files -> read -> extract -> normalize -> langid -> [recipe steps: quality filters,
exact and MinHash dedup, in the order given] -> write.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict, dataclass, field

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from pipeline import beam_io
from pipeline.beam_dedup import ExactDedup, MinHashDedup
from pipeline.beam_span_dedup import C4SpanDedup
from pipeline.beam_steps import ChainStep, CorpusRun
from pipeline.chain import StageChain
from pipeline.dedup.minhash import MinHashParams
from pipeline.dedup.spans import SpanDedupParams
from pipeline.extract import EXTRACTORS, TextExtractor
from pipeline.filters.base import FilterStep
from pipeline.flags import add_langs, add_rejects, add_verbose
from pipeline.jobs import (
    Job,
    PipelineJob,
    UsageError,
    configure_logging,
    drive,
    prepare_beam_args,
    prepare_output,
    print_summary,
)
from pipeline.langid import DEFAULT_THRESHOLD, LanguageFilter, LanguageIdentifier, parse_langs
from pipeline.limits import Limits
from pipeline.normalize import Normalizer
from pipeline.readers import FORMATS, ReaderConfig, detect_format
from pipeline.readers.ranges import SPLIT_BYTES, FileRange, plan_work, worth_cutting
from pipeline.recipe import (
    DEDUP_STEPS,
    RecipeStep,
    check_previous_build,
    known_steps,
    load_recipe,
    parse_steps,
    step_names,
    steps_from_flag,
    with_previous_build,
)

DESCRIPTION = """\
Build a clean text corpus from web archives: read WARC (HTML responses), WET (Common
Crawl's extracted text), JSONL or Parquet files; extract the main text from HTML; normalize
it; identify its language; and write Parquet with manifest.json and stats.json.

Malformed records are counted by reason and skipped; stats.json accounts for every one.
Options this job does not know are Apache Beam pipeline options (--runner, ...)."""

EXAMPLES = """\
examples:
  python beam_runner.py web --input 'crawl/*.warc.gz' --output out/web
  python beam_runner.py web --input 'cc/*.warc.wet.gz' --langs en,de --output out/web-en-de --rejects
  python beam_runner.py web --input 'cc/*.warc.gz' --langs en --output out/web-en \
      --filters gopher_repetition,gopher_quality,c4,fineweb,pii,exact_dedup,minhash_dedup
  python beam_runner.py web --input 'cc/*.warc.gz' --recipe recipes/fineweb.yaml --output out/fw
  python beam_runner.py web --input docs.jsonl.zst --text-field content --output out/docs \\
      --direct_num_workers=4 --direct_running_mode=multi_processing
  python beam_runner.py web --input 'gs://bucket/warc/*.warc.gz' --output gs://bucket/corpus \\
      --runner DataflowRunner --project P --region us-central1 --temp_location gs://bucket/tmp \
      --extra_package dist/corpusforge-0.1.0.tar.gz    (see docs/running-jobs.md)"""


@dataclass
class WebConfig:
    """Everything that decides the web job's output (saved into manifest.json)."""

    inputs: list[str]
    output: str
    input_format: str = "auto"
    text_field: str = "text"
    id_field: str | None = None
    url_field: str | None = "url"
    extractor: str = "resiliparse"
    langs: str | None = None
    lang_threshold: float = DEFAULT_THRESHOLD
    lid_model: str | None = None
    fix_mojibake: bool = False
    rejects: bool = False
    num_shards: int = 0
    limits: Limits = field(default_factory=Limits)
    recipe: list[dict] = field(default_factory=list)  # resolved steps, {name: params}, see pipeline/recipe.py
    annotate: bool = False
    drop_truncated: bool = False
    split_mb: float = SPLIT_BYTES >> 20  # WARC/WET/Parquet files of twice this or more: read in parts; 0: never

    @property
    def shuffles(self) -> bool:
        """A dedup step in the recipe: its shuffle spreads the documents over every worker again."""
        return any(name in DEDUP_STEPS for name in step_names(self.recipe))

    @property
    def split_bytes(self) -> int:
        """``split_mb`` in bytes, as the planner takes it."""
        return mb_to_bytes(self.split_mb)

    def reader_config(self) -> ReaderConfig:
        return ReaderConfig(self.input_format, self.text_field, self.id_field, self.url_field, self.limits,
                            self.drop_truncated)

    def as_dict(self) -> dict:
        return asdict(self)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    io = parser.add_argument_group("input and output")
    io.add_argument("--input", action="append", required=True, metavar="PATH_OR_GLOB",
                    help="input files (repeatable); local, gs:// or s3:// paths and globs")
    io.add_argument("--output", required=True, metavar="DIR", help="output directory of the corpus")
    io.add_argument("--input-format", default="auto", choices=("auto",) + FORMATS,
                    help="input format; auto tells it from the file name (default)")
    io.add_argument("--text-field", default="text", help="JSONL/Parquet field with the text (default: text)")
    io.add_argument("--id-field", default=None, help="JSONL/Parquet field with a stable record id")
    io.add_argument("--url-field", default="url", help="JSONL/Parquet field with the URL (default: url)")
    io.add_argument("--split-mb", type=float, default=SPLIT_BYTES >> 20, metavar="MB",
                    help="read a per-record gzip WARC/WET file or a Parquet file of twice this size or more in "
                         "parts of about this size, one worker each (default: %(default)s; 0: each file whole; "
                         "docs/running-jobs.md)")
    io.add_argument("--drop-truncated", action="store_true",
                    help="drop WARC/WET records marked WARC-Truncated (body cut at a size cap); default: keep them")
    add_rejects(io)
    io.add_argument("--overwrite", action="store_true", help="replace an existing corpus in DIR")
    io.add_argument("--num-shards", type=int, default=0, help="output files (default: chosen by the runner)")
    st = parser.add_argument_group("processing")
    st.add_argument("--extractor", default="resiliparse", choices=EXTRACTORS, help="HTML main-text extractor")
    add_langs(st, DEFAULT_THRESHOLD)
    st.add_argument("--lid-model", default=None, help="fastText model file (default: bundled lid.176.ftz)")
    st.add_argument("--fix-mojibake", action="store_true", help="repair mojibake with ftfy")
    lim = parser.add_argument_group("limits")
    d = Limits()
    lim.add_argument("--max-record-bytes", type=int, default=d.max_record_bytes, help="largest WARC record/page (default: %(default)s)")
    lim.add_argument("--max-line-bytes", type=int, default=d.max_line_bytes, help="longest JSONL line (default: %(default)s)")
    lim.add_argument("--max-doc-chars", type=int, default=d.max_doc_chars, help="longest document kept (default: %(default)s)")
    lim.add_argument("--max-html-depth", type=int, default=d.max_html_depth, help="deepest HTML nesting parsed (default: %(default)s)")
    rc = parser.add_argument_group("quality filters and dedup (see docs/quality-and-dedup.md)")
    how = rc.add_mutually_exclusive_group()
    how.add_argument("--filters", default=None, metavar="STEP,STEP,...",
                     help="steps in order, with published defaults: " + ", ".join(known_steps()))
    how.add_argument("--recipe", default=None, metavar="FILE.yaml", help="steps and their parameters from a YAML file")
    rc.add_argument("--annotate", action="store_true",
                    help="record each filter's verdict and signals in meta instead of dropping (dedup still runs)")
    rc.add_argument("--dedup-against", default=None, metavar="DIR",
                    help="also remove documents an earlier build (its output DIR) already has")
    add_verbose(parser)


def config_from_args(args: argparse.Namespace) -> WebConfig:
    """Validate the arguments into a WebConfig; raises UsageError before any work."""
    try:
        limits = Limits(args.max_record_bytes, args.max_line_bytes, args.max_doc_chars, args.max_html_depth)
        parse_langs(args.langs)
        LanguageIdentifier(args.lang_threshold)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if args.num_shards < 0:
        raise UsageError("--num-shards must be 0 (runner decides) or more")
    if args.split_mb < 0:
        raise UsageError("--split-mb must be 0 (read each file whole) or more")
    try:
        steps = load_recipe(args.recipe) if args.recipe else steps_from_flag(args.filters) if args.filters else []
        if args.dedup_against:
            steps = [with_previous_build(s, args.dedup_against) for s in steps]
            if not any(s.takes_previous_build for s in steps):
                raise ValueError("--dedup-against needs a dedup step (exact_dedup or minhash_dedup) in the recipe")
        for s in steps:
            if s.params.get("against"):
                s.params["against"] = beam_io.absolute(s.params["against"])  # workers run in other directories
                check_previous_build(s.name, s.params["against"], s.params)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if args.lid_model and not os.path.isfile(args.lid_model):
        raise UsageError(f"--lid-model {args.lid_model}: no such local file (the model is loaded from local disk)")
    return WebConfig(
        inputs=list(args.input), output=beam_io.absolute(args.output.rstrip("/")), input_format=args.input_format,
        text_field=args.text_field, id_field=args.id_field, url_field=args.url_field or None,
        extractor=args.extractor, langs=args.langs, lang_threshold=args.lang_threshold, lid_model=args.lid_model,
        fix_mojibake=args.fix_mojibake, rejects=args.rejects, num_shards=args.num_shards, limits=limits,
        recipe=[s.describe() for s in steps], annotate=args.annotate, drop_truncated=args.drop_truncated,
        split_mb=args.split_mb,
    )


def resolve_inputs(cfg: WebConfig) -> list[dict]:
    """Match the input globs; every file must have a format we can read."""
    try:
        files = beam_io.match_inputs(cfg.inputs)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if cfg.input_format == "auto":
        unknown = [f["path"] for f in files if detect_format(f["path"]) is None]
        if unknown:
            raise UsageError(f"cannot tell the format of {unknown[0]} from its name; pass --input-format")
    return files


def apply_recipe(run: CorpusRun, docs, steps: list[RecipeStep], annotate: bool = False):
    """Add the recipe's filters and dedup steps to a corpus job, in order (shared by all corpora)."""
    for s in steps:
        against = s.params.get("against")
        if s.name == "exact_dedup":
            docs = run.apply(s.name, docs, ExactDedup(s.name, run.output, run.keep_rejects, against))
        elif s.name == "minhash_dedup":
            params = MinHashParams(**{k: v for k, v in s.params.items() if k != "against"})
            docs = run.apply(s.name, docs, MinHashDedup(s.name, params, run.output, run.keep_rejects, against))
        elif s.name == "c4_span_dedup":
            docs = run.apply(s.name, docs, C4SpanDedup(s.name, SpanDedupParams(**s.params), run.keep_rejects))
        else:
            assert s.filter is not None
            docs = run.step(s.name, docs, FilterStep(s.filter, annotate, s.langs))
    return docs


def build_web(p: beam.Pipeline, cfg: WebConfig, inputs: list[dict], items: list | None = None) -> CorpusRun:
    """Compose the web job on pipeline ``p``; ``items``: the read's work items (``plan_work``),
    one per input file unless given."""
    run = CorpusRun(p, cfg.output, job="web", config=cfg.as_dict(), inputs=inputs,
                    keep_rejects=cfg.rejects, num_shards=cfg.num_shards)
    records = run.read(items or [f["path"] for f in inputs], cfg.reader_config())
    identifier = LanguageIdentifier(cfg.lang_threshold, cfg.lid_model)
    chain = StageChain([("extract", TextExtractor("web", cfg.extractor, cfg.limits)),
                        ("normalize", Normalizer(cfg.fix_mojibake, cfg.limits)),
                        ("langid", LanguageFilter(identifier, parse_langs(cfg.langs)))])
    docs = run.apply(chain.stages, records, ChainStep(chain, keep_rejects=run.keep_rejects))
    docs = apply_recipe(run, docs, parse_steps(cfg.recipe), cfg.annotate)
    run.write(docs)
    return run


def mb_to_bytes(mb: float) -> int:
    """``--split-mb``'s megabytes (MiB) in bytes."""
    return int(mb * (1 << 20))


def uncut_note(inputs: list[dict], items: list, split_mb: float) -> str:
    """A line for the header naming the files large enough to cut that are read whole (one
    worker each), and why; "" when there are none or cutting is off."""
    cut = {i.path for i in items if isinstance(i, FileRange)}
    large = [f["path"] for f in inputs if worth_cutting(f["bytes"], mb_to_bytes(split_mb)) and f["path"] not in cut]
    if not large:
        return ""
    return (f"\nnote: {len(large)} file(s) of {2 * split_mb:g} MB or more read whole, by one worker each "
            f"(e.g. {large[0].rsplit('/', 1)[-1]}): only per-record gzip WARC/WET files and Parquet files of two "
            "or more row groups are cut into parts (docs/running-jobs.md, 'How work is spread')")


def run_web(cfg: WebConfig, beam_args: list[str], overwrite: bool = False, quiet: bool = False,
            verbose: bool = False) -> dict | None:
    """Validate, run the pipeline, print the summary; return the stats report (None when only
    submitted, with --no_wait_until_finish)."""
    beam_args = prepare_beam_args(beam_args, verbose)
    inputs = resolve_inputs(cfg)
    prepare_output(cfg.output, overwrite)
    items = plan_work(inputs, cfg.input_format, cfg.split_bytes)
    input_bytes = sum(f["bytes"] for f in inputs)
    runner = PipelineOptions(beam_args).get_all_options().get("runner") or "DirectRunner"
    parts = sum(isinstance(i, FileRange) for i in items)
    cut = f" (in {len(items)} work items: {parts} parts of large files)" if parts else ""
    whole = uncut_note(inputs, items, cfg.split_mb)
    return drive(PipelineJob(
        "web", cfg.output, build=lambda p: build_web(p, cfg, inputs, items),
        header=f"web: reading {len(inputs)} file(s){cut}, {input_bytes / 1e6:.1f} MB, on {runner} -> {cfg.output}" + whole,
        summary=lambda report, seconds: print_summary("web", cfg.output, report, seconds, inputs),
        work_items=len(items), files_bound=not cfg.shuffles,
    ), beam_args, quiet, input_bytes=input_bytes)


def main(args: argparse.Namespace, beam_args: list[str]) -> dict:
    configure_logging(args.verbose)
    cfg = config_from_args(args)
    return run_web(cfg, beam_args, overwrite=args.overwrite, verbose=args.verbose)


JOB = Job("web", "web archives (WARC/WET/JSONL/Parquet) -> clean Parquet corpus", DESCRIPTION + "\n\n" + EXAMPLES,
          add_arguments, main)

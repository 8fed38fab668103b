"""The ``kg`` job (triples -> verbalized sentences, KELM-style); the ``kg-align`` job is in
``align_job`` and listed here too (``JOBS``).

kg stages: read (records) -> statements (Wikidata statement nodes) -> facts (routing: chains,
hub cap, duplicates) -> subgraphs (grouping) -> labels (label join) -> verbalize ->
faithfulness -> write. Output: the corpus (source ``kg``), ``kelm.jsonl``, stats.json,
manifest.json (last, listing kelm.jsonl), all written by the pipeline. See docs/kg.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from dataclasses import asdict, dataclass, field

import apache_beam as beam

from corpora.kg.align_job import ALIGN_JOB
from corpora.kg.allocator import local_allocator_settings
from corpora.kg.beam_inputs import load_cooccurrence, resolve_inputs
from corpora.kg.inputs import (
    GraphInputs,
    add_io_arguments,
    check_common,
    checked_templates,
    parse_langs,
)
from corpora.kg.labels import unlabelled_hint
from corpora.kg.subgraphs import SubgraphParams
from corpora.kg.templates import TemplateSet
from corpora.kg.transforms import (
    GRAPH_STAGES,
    CheckFaithfulness,
    GraphToSubgraphs,
    ToDocuments,
    ToKelmLines,
    Verbalize,
    WriteJsonLines,
    build_subgraphs,
)
from pipeline import beam_io
from pipeline.beam_steps import CorpusRun
from pipeline.flags import require_input
from pipeline.jobs import (
    Job,
    PipelineJob,
    UsageError,
    configure_logging,
    drive,
    is_local_direct,
    prepare_beam_args,
    prepare_output,
    print_summary,
)

SAMPLE_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "samples", "kg")
KELM_FILE = "kelm.jsonl"
KELM_PARTS_DIR = ".kelm-parts"  # per-bundle shards of kelm.jsonl, concatenated at the end of the run

DESCRIPTION = """\
Verbalize knowledge-graph triples into natural sentences (KELM-style): read N-Triples,
Turtle, Wikidata JSON dumps, TSV or WebNLG XML; group each entity's facts into subgraphs of
at most K facts (co-occurring relations together, short chains, hub caps); verbalize each
subgraph with templates (default, offline) or a seq2seq model; keep sentences that pass
the faithfulness filter. Writes the corpus (source kg) and kelm.jsonl.

examples:
  python beam_runner.py kg --input corpora/samples/kg/sample.nt --output out/kg
  python beam_runner.py kg --input 'dump/*.nt.gz' --lang en --max-facts 5 --rejects --output out/kg
  python beam_runner.py kg --input facts.tsv --labels labels.tsv --output out/kg
  python beam_runner.py kg --input latest-all.json.gz --verbalizer hf:models/kelm-t5 --output out/kg
  python beam_runner.py kg --input big.nt --output out/kg --direct_num_workers=4 \\
      --direct_running_mode=multi_processing         (cluster runners: docs/running-jobs.md)"""


@dataclass
class KgConfig:
    """Everything that decides the kg job's output (saved in manifest.json); checked when made
    (a UsageError names the flag), local paths made absolute (workers run elsewhere)."""

    triples: list[str]
    output: str
    labels: list[str] = field(default_factory=list)
    input_format: str = "auto"
    lang: str = "en"
    fallback_langs: list[str] = field(default_factory=lambda: ["mul"])
    max_facts: int = 5
    min_pair_count: int = 2
    min_weight: float = 0.05
    max_chain_facts: int = 3
    pack_leftovers: bool = True
    max_facts_per_entity: int = 1000
    cooccurrence: str | None = None
    verbalizer: str = "templates"
    templates: str | None = None
    keep_unfaithful: bool = False
    keep_identifiers: bool = False
    rejects: bool = False
    num_shards: int = 0
    chunk_mb: int = 16
    gen_batch_size: int = 16
    max_new_tokens: int = 64
    num_beams: int = 1

    def __post_init__(self) -> None:
        self.lang = self.lang.strip().lower()
        self.fallback_langs = [x.strip().lower() for x in self.fallback_langs if x.strip()]
        self.triples = [beam_io.absolute(p) for p in self.triples]
        self.labels = [beam_io.absolute(p) for p in self.labels]
        self.output = beam_io.absolute(self.output.rstrip("/"))
        self.cooccurrence = beam_io.absolute(self.cooccurrence) if self.cooccurrence else None
        self.templates = beam_io.absolute(self.templates) if self.templates else None
        if self.verbalizer != "templates":
            self.verbalizer = beam_io.absolute_spec(self.verbalizer)
        validate(self)

    def langs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([self.lang] + self.fallback_langs))

    def params(self) -> SubgraphParams:
        return SubgraphParams(self.max_facts, self.min_pair_count, self.min_weight, self.max_chain_facts,
                              self.pack_leftovers)

    def as_dict(self) -> dict:
        return asdict(self)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_io_arguments(parser)
    io = parser.add_argument_group("output")
    io.add_argument("--rejects", action="store_true", help="also write dropped records to DIR/rejects/")
    io.add_argument("--num-shards", type=int, default=0, help="output files (default: chosen by the runner)")
    g = parser.add_argument_group("subgraphs (see docs/kg.md)")
    d = SubgraphParams()
    g.add_argument("--max-facts", type=int, default=d.max_facts, help="K: most facts per subgraph (default 5)")
    g.add_argument("--min-pair-count", type=int, default=d.min_pair_count,
                   help="subjects two relations must share to be grouped (default 2)")
    g.add_argument("--min-weight", type=float, default=d.min_weight, help="least co-occurrence cosine (default 0.05)")
    g.add_argument("--max-chain-facts", type=int, default=d.max_chain_facts,
                   help="an object described only through its subject joins it if it has at most this many facts")
    g.add_argument("--no-pack-leftovers", action="store_true", help="do not pack ungrouped facts up to K")
    g.add_argument("--max-facts-per-entity", type=int, default=1000, help="hub cap (default 1000; the rest counted)")
    g.add_argument("--keep-identifiers", action="store_true",
                   help="keep external identifiers (VIAF, IMDb, ...) and media files, left out by default "
                        "(counted as identifier / media_file)")
    g.add_argument("--cooccurrence", default=None, metavar="PAIRS.jsonl",
                   help="learn relation co-occurrence from kg-align pairs instead of the input")
    v = parser.add_argument_group("verbalizer")
    v.add_argument("--verbalizer", default="templates",
                   help="templates (default) or a generator spec: hf:MODEL_DIR (seq2seq checkpoint)")
    v.add_argument("--templates", default=None, metavar="FILE", help="template YAML/JSON (default: bundled Wikidata)")
    v.add_argument("--gen-batch-size", type=int, default=16, help="model batch size (default 16)")
    v.add_argument("--max-new-tokens", type=int, default=64, help="model output length (default 64)")
    v.add_argument("--num-beams", type=int, default=1, help="beam search width (default 1: greedy)")
    v.add_argument("--keep-unfaithful", action="store_true",
                   help="keep sentences that fail the faithfulness filter, flagged in meta, instead of dropping")



def config_from_args(args: argparse.Namespace) -> KgConfig:
    require_input(args.input, "the triples files")
    return KgConfig(
        triples=list(args.input), output=args.output, labels=list(args.labels), input_format=args.input_format,
        lang=args.lang, fallback_langs=parse_langs(args.fallback_langs), max_facts=args.max_facts,
        min_pair_count=args.min_pair_count, min_weight=args.min_weight, max_chain_facts=args.max_chain_facts,
        pack_leftovers=not args.no_pack_leftovers, max_facts_per_entity=args.max_facts_per_entity,
        cooccurrence=args.cooccurrence, verbalizer=args.verbalizer, templates=args.templates,
        keep_unfaithful=args.keep_unfaithful, keep_identifiers=args.keep_identifiers, rejects=args.rejects,
        num_shards=args.num_shards, chunk_mb=args.chunk_mb, gen_batch_size=args.gen_batch_size,
        max_new_tokens=args.max_new_tokens, num_beams=args.num_beams)


def validate(cfg: KgConfig) -> None:
    """Every setting checked before any work; UsageError names the flag and the fix."""
    try:
        cfg.params()
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    check_common(cfg.lang, cfg.chunk_mb, cfg.max_facts_per_entity)
    if cfg.num_shards < 0:
        raise UsageError("--num-shards must be 0 (runner decides) or more")
    checked_templates(cfg.templates)
    if cfg.verbalizer != "templates":
        from pipeline.generation import GeneratorError, check_generator_spec

        try:
            check_generator_spec(cfg.verbalizer)
            generation_config(cfg)
        except GeneratorError as exc:
            raise UsageError(f"--verbalizer: {exc}") from exc
    if cfg.cooccurrence and not beam_io.FileSystems.exists(cfg.cooccurrence):
        raise UsageError(f"--cooccurrence {cfg.cooccurrence}: no such file (give the pairs.jsonl of kg-align)")


def generation_config(cfg: KgConfig):
    from pipeline.generation import GenerationConfig

    return GenerationConfig(batch_size=cfg.gen_batch_size, max_new_tokens=cfg.max_new_tokens, num_beams=cfg.num_beams)


def resolve_kg_inputs(cfg: KgConfig) -> GraphInputs:
    """The triples and labels files, described and planned as chunks (UsageError on anything unusable)."""
    return resolve_inputs(cfg.triples, cfg.labels, cfg.input_format, cfg.chunk_mb, flag="--input")


def build_kg(p: beam.Pipeline, cfg: KgConfig, inputs: GraphInputs | None = None) -> CorpusRun:
    """Compose the kg job on pipeline ``p``; its last step writes kelm.jsonl's entry, stats.json
    and manifest.json (last). Side files are read here, on the driver, and travel with the steps."""
    inputs = inputs or resolve_kg_inputs(cfg)
    templates = checked_templates(cfg.templates)
    cooc = load_cooccurrence(cfg.cooccurrence) if cfg.cooccurrence else None
    run = CorpusRun(p, cfg.output, job="kg", config=cfg.as_dict(), inputs=inputs.files, keep_rejects=cfg.rejects,
                    num_shards=cfg.num_shards)
    graph = build_subgraphs(cfg.params(), cfg.max_facts_per_entity, cfg.langs(), templates, cooc,
                            cfg.keep_identifiers)
    subgraphs = run.apply(GRAPH_STAGES, p, GraphToSubgraphs(inputs.chunks, cfg.langs(), cfg.rejects, graph))
    generation = None if cfg.verbalizer == "templates" else generation_config(cfg)
    verbalized = run.apply("verbalize", subgraphs, Verbalize(cfg.verbalizer, templates, cfg.lang, cfg.rejects,
                                                             generation))
    checked = run.apply("faithfulness", verbalized, CheckFaithfulness(cfg.lang, cfg.keep_unfaithful, cfg.rejects,
                                                                      templates))
    kelm = checked | "kelm" >> ToKelmLines(templates, cfg.lang) | "WriteKelm" >> WriteJsonLines(
        cfg.output, KELM_FILE, KELM_PARTS_DIR)
    run.add_output("kelm", kelm)
    run.remove_at_end(beam_io.join(cfg.output, KELM_PARTS_DIR))
    run.write(checked | "documents" >> ToDocuments(cfg.verbalizer, templates, cfg.lang, text_lang(cfg, templates)))
    return run


def text_lang(cfg: KgConfig, templates: TemplateSet) -> str:
    """The language the sentences are written in: the templates' (whatever --lang the labels are
    in), or --lang for a model (taken to write the labels' language)."""
    return templates.lang if cfg.verbalizer == "templates" else cfg.lang


def prepare_kg_output(output: str, overwrite: bool) -> None:
    """Refuse an earlier run's output unless ``overwrite``; then clear it (before the run, on the driver)."""
    kelm = beam_io.join(output, KELM_FILE)
    if beam_io.FileSystems.exists(kelm) and not overwrite:
        raise UsageError(f"--output {output} already holds {KELM_FILE}; choose another directory or pass --overwrite")
    prepare_output(output, overwrite)
    beam_io.delete_tree(kelm)
    beam_io.delete_tree(beam_io.join(output, KELM_PARTS_DIR))


def allocator_settings(beam_args: list[str]):
    """The glibc allocator tuning of ``corpora.kg.allocator`` for the local DirectRunner only: other
    runners' processes (a Dask cluster's workers, ...) keep their own settings."""
    return local_allocator_settings() if is_local_direct(beam_args) else contextlib.nullcontext({})


def run_kg(cfg: KgConfig, beam_args: list[str], overwrite: bool = False, quiet: bool = False,
           verbose: bool = False) -> dict | None:
    """Check the inputs, run the pipeline, print the summary; return the stats report (None when
    only submitted, with --no_wait_until_finish: the job writes kelm.jsonl, stats.json and
    manifest.json when it ends)."""
    beam_args = prepare_beam_args(beam_args, verbose)
    inputs = resolve_kg_inputs(cfg)
    prepare_kg_output(cfg.output, overwrite)
    header = (f"kg: reading {len(inputs.files)} file(s), {inputs.megabytes():.1f} MB in {len(inputs.chunks)} "
              f"chunk(s), verbalizer {cfg.verbalizer} -> {cfg.output}")

    def summary(report: dict, seconds: float) -> None:
        print_summary("kg", cfg.output, report, seconds, inputs.files)
        print(f"kelm: {cfg.output}/{KELM_FILE}")
        hint = unlabelled_hint(report, cfg.langs())
        if hint:
            print(hint)

    with allocator_settings(beam_args):
        return drive(PipelineJob("kg", cfg.output, build=lambda p: build_kg(p, cfg, inputs), header=header,
                                 summary=summary), beam_args, quiet)


def main(args: argparse.Namespace, beam_args: list[str]) -> int:
    """The command line: exit status 1 when the run wrote no document (every record unusable, or
    none at all), with the drop reasons named; stats.json is written either way."""
    configure_logging(args.verbose)
    cfg = config_from_args(args)
    report = run_kg(cfg, beam_args, overwrite=args.overwrite, verbose=args.verbose)
    return empty_run_status(report)


def empty_run_status(report: dict | None) -> int:
    """0 when documents were written (or the job was only submitted); else 1, after saying on
    stderr why none were."""
    import sys

    if report is None:
        return 0
    stages = report.get("stages") or []
    if stages and stages[-1]["out"] > 0:
        return 0
    reasons = {}
    for st in stages:
        for reason, n in (st.get("dropped") or {}).items():
            reasons[f"{st['stage']}/{reason}"] = reasons.get(f"{st['stage']}/{reason}", 0) + n
    read_in = stages[0]["in"] if stages else 0
    top = ", ".join(f"{k}={v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])[:5]) or "none"
    print(f"error: no documents written: {read_in} input record(s) read, drops: {top} "
          "(check --format and the input files; see stats.json)", file=sys.stderr)
    return 1


def demo_config(out_dir: str) -> KgConfig:
    """The demo's kg settings: the shipped sample (Wikidata-style N-Triples with labels, statement
    nodes and qualifiers) plus its labels TSV, with rejects."""
    return KgConfig(triples=[os.path.join(SAMPLE_DIR, "sample.nt")], output=out_dir,
                    labels=[os.path.join(SAMPLE_DIR, "labels.tsv")], rejects=True)


def run_kg_demo(cfg: KgConfig, beam_args: list[str], overwrite: bool) -> dict | None:
    """The demo's KG stage: the kg job (``demo_config``: the shipped sample); returns the stats report
    (and prints the summary table and two example sentences once the job has finished)."""
    import json

    report = run_kg(cfg, beam_args, overwrite=overwrite)
    if report is not None:
        with beam_io.FileSystems.open(beam_io.join(cfg.output, KELM_FILE)) as f:
            rows = [json.loads(line) for line in f.read().decode("utf-8").splitlines()[:2]]
        for row in rows:
            print(f"  e.g. {row['sentence']}")
    return report


JOBS = [
    Job("kg", "knowledge-graph triples -> verbalized sentences (KELM-style) + kelm.jsonl",
        DESCRIPTION, add_arguments, main),
    ALIGN_JOB,
]

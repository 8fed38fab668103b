"""The ``kg`` job (triples -> verbalized sentences, KELM-style) and the ``kg-align`` job
(distant supervision: (triples, sentence) pairs from one of our corpora).

kg stages: read (records) -> statements (Wikidata statement nodes) -> facts (routing: chains,
hub cap, duplicates) -> subgraphs (grouping) -> labels (label join) -> verbalize ->
faithfulness -> write. Output: the corpus (source ``kg``), ``kelm.jsonl``, stats.json,
manifest.json. See docs/kg.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from dataclasses import asdict, dataclass, field

import apache_beam as beam

from corpora.kg.allocator import local_allocator_settings
from corpora.kg.graph import Cooccurrence
from corpora.kg.readers import (
    FORMATS,
    Chunk,
    ReadOptions,
    UnreadableInput,
    detect_format,
    plan_chunks,
    read_head,
    sniff_format,
)
from corpora.kg.subgraphs import SubgraphParams
from corpora.kg.templates import TemplateError, load_templates
from pipeline import beam_io
from pipeline.jobs import (
    Job,
    Timer,
    UsageError,
    configure_logging,
    is_local_direct,
    make_pipeline,
    prepare_beam_args,
    prepare_named_outputs,
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
  python beam_runner.py kg --triples corpora/samples/kg/sample.nt --output out/kg
  python beam_runner.py kg --triples 'dump/*.nt.gz' --lang en --max-facts 5 --rejects --output out/kg
  python beam_runner.py kg --triples facts.tsv --labels labels.tsv --output out/kg
  python beam_runner.py kg --triples latest-all.json.gz --verbalizer hf:models/kelm-t5 --output out/kg
  python beam_runner.py kg --triples big.nt --output out/kg --direct_num_workers=4 \\
      --direct_running_mode=multi_processing         (cluster runners: docs/running-jobs.md)"""

ALIGN_DESCRIPTION = """\
Distant supervision: find sentences of a corpus that mention an entity (label or alias)
together with one or more of its objects, and write (triples, sentence) pairs as JSONL:
the data to fine-tune a model verbalizer. Matching is case- and whitespace-insensitive at
word boundaries.

examples:
  python beam_runner.py kg-align --triples corpora/samples/kg/sample.nt --corpus out/web --output out/align
  python beam_runner.py kg-align --triples 'dump/*.nt.gz' --corpus out/web --output out/align --lang en"""


@dataclass
class KgConfig:
    """Everything that decides the kg job's output (saved in manifest.json)."""

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

    def langs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([self.lang] + self.fallback_langs))

    def params(self) -> SubgraphParams:
        return SubgraphParams(self.max_facts, self.min_pair_count, self.min_weight, self.max_chain_facts,
                              self.pack_leftovers)

    def as_dict(self) -> dict:
        return asdict(self)


def add_io_arguments(parser: argparse.ArgumentParser) -> None:
    io = parser.add_argument_group("input and output")
    io.add_argument("--triples", action="append", required=True, metavar="PATH_OR_GLOB",
                    help="triples files (repeatable): .nt, .ttl, Wikidata .json, .tsv, WebNLG .xml (optionally .gz)")
    io.add_argument("--labels", action="append", default=[], metavar="PATH",
                    help="extra labels: a TSV (id<TAB>label[<TAB>lang]) or any triples file (its labels only)")
    io.add_argument("--format", dest="input_format", default="auto", choices=("auto",) + FORMATS,
                    help="input format (default: from the file name)")
    io.add_argument("--output", required=True, metavar="DIR", help="output directory")
    io.add_argument("--overwrite", action="store_true", help="replace an earlier run's output in DIR")
    io.add_argument("--lang", default="en", help="label language to use (default: en)")
    io.add_argument("--fallback-langs", default="mul", metavar="L,L",
                    help="label languages to fall back to, in order (default: mul); then untagged labels")
    io.add_argument("--chunk-mb", type=int, default=16,
                    help="split line-based inputs into byte ranges of this size (default 16: a work item each)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")


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


def _langs(value: str) -> list[str]:
    return [x.strip().lower() for x in value.split(",") if x.strip()]


def config_from_args(args: argparse.Namespace) -> KgConfig:
    cfg = KgConfig(
        triples=list(args.triples), output=args.output.rstrip("/"), labels=list(args.labels),
        input_format=args.input_format, lang=args.lang.strip().lower(), fallback_langs=_langs(args.fallback_langs),
        max_facts=args.max_facts, min_pair_count=args.min_pair_count, min_weight=args.min_weight,
        max_chain_facts=args.max_chain_facts, pack_leftovers=not args.no_pack_leftovers,
        max_facts_per_entity=args.max_facts_per_entity, cooccurrence=args.cooccurrence, verbalizer=args.verbalizer,
        templates=args.templates, keep_unfaithful=args.keep_unfaithful, keep_identifiers=args.keep_identifiers,
        rejects=args.rejects,
        num_shards=args.num_shards, chunk_mb=args.chunk_mb, gen_batch_size=args.gen_batch_size,
        max_new_tokens=args.max_new_tokens, num_beams=args.num_beams)
    validate(cfg)
    return cfg


def validate(cfg: KgConfig) -> None:
    """Every argument checked before any work; UsageError names the flag and the fix."""
    try:
        cfg.params()
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if cfg.max_facts_per_entity < 1:
        raise UsageError("--max-facts-per-entity must be at least 1")
    if cfg.chunk_mb < 1:
        raise UsageError("--chunk-mb must be at least 1")
    if cfg.num_shards < 0:
        raise UsageError("--num-shards must be 0 (runner decides) or more")
    if not cfg.lang:
        raise UsageError("--lang must name a language, e.g. en")
    try:
        load_templates(cfg.templates)
    except TemplateError as exc:
        raise UsageError(str(exc)) from exc
    if cfg.verbalizer != "templates":
        from pipeline.generation import GeneratorError, check_generator_spec

        try:
            check_generator_spec(cfg.verbalizer)
            generation_config(cfg)
        except GeneratorError as exc:
            raise UsageError(f"--verbalizer: {exc}") from exc
    if cfg.cooccurrence and not os.path.isfile(cfg.cooccurrence):
        raise UsageError(f"--cooccurrence {cfg.cooccurrence}: no such file (give the pairs.jsonl of kg-align)")


def generation_config(cfg: KgConfig):
    from pipeline.generation import GenerationConfig

    return GenerationConfig(batch_size=cfg.gen_batch_size, max_new_tokens=cfg.max_new_tokens, num_beams=cfg.num_beams)


def resolve_inputs(patterns: list[str], labels: list[str], input_format: str, chunk_mb: int,
                   flag: str = "--triples") -> tuple[list[dict], list[Chunk]]:
    """Match globs; tell each file's format; plan byte-range chunks. UsageError on anything unusable."""
    files, chunks = [], []
    for role, pats in (("triples", patterns), ("labels", labels)):
        if not pats:
            continue
        try:
            matched = beam_io.match_inputs(pats)
        except ValueError as exc:
            raise UsageError(str(exc).replace("--input", flag if role == "triples" else "--labels")) from exc
        for f in matched:
            fmt = input_format if (input_format != "auto" and role == "triples") else detect_format(f["path"])
            if role == "labels" and fmt == "tsv":
                fmt = "labels-tsv"
            if fmt is None:
                raise UsageError(f"cannot tell the format of {f['path']} from its name; pass --format "
                                 f"({', '.join(FORMATS)})")
            try:
                fmt = sniff_format(read_head(f["path"], beam_io.open_raw), fmt, f["path"])
            except UnreadableInput as exc:
                raise UsageError(f"{flag if role == 'triples' else '--labels'} {exc}") from exc
            except OSError as exc:
                raise UsageError(f"{f['path']}: cannot read it ({exc})") from exc
            files.append({**f, "role": role, "format": fmt})
            planned = plan_chunks(f["path"], f["bytes"], fmt, chunk_mb * 1024 * 1024)
            if role == "labels" and fmt != "labels-tsv":
                planned = [LabelsChunk(c.path, c.fmt, c.start, c.end) for c in planned]
            chunks += planned
    return files, chunks


@dataclass(frozen=True)
class LabelsChunk(Chunk):
    """A chunk of a --labels file: only its labels are used."""

    labels_only: bool = True


def load_cooccurrence(path: str) -> Cooccurrence:
    """Relation co-occurrence from kg-align pairs: relations stated together in one sentence."""
    import json

    cooc = Cooccurrence()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                cooc.add_subject([t["p"] for t in row.get("facts", [])])
    return cooc


class _Tee(beam.PTransform):
    """Apply a transform and keep all of its tagged outputs (CorpusRun.apply returns only the main one)."""

    def __init__(self, transform: beam.PTransform, label: str) -> None:
        super().__init__(label)
        self.transform = transform
        self.result = None

    def expand(self, pcoll):
        self.result = pcoll | self.transform
        return self.result


def build_kg(p: beam.Pipeline, cfg: KgConfig, inputs: list[dict], chunks: list[Chunk]):
    """Compose the kg job on pipeline ``p``."""
    from corpora.kg import beam_kg
    from corpora.kg.output import kelm_line, make_document
    from pipeline.beam_steps import REJECTS, STATS, CorpusRun, stage_outputs

    templates = load_templates(cfg.templates)
    run = CorpusRun(p, cfg.output, job="kg", config=cfg.as_dict(), inputs=inputs, keep_rejects=cfg.rejects,
                    num_shards=cfg.num_shards)
    options = ReadOptions(langs=cfg.langs(), keep_aliases=False)
    read = _Tee(beam.ParDo(beam_kg._ReadChunk(options, cfg.rejects, encoded=True)).with_outputs(
        STATS, REJECTS, beam_kg.LABELS, beam_kg.PARTS, beam_kg.VALUE_PARTS, main="out"), "ReadChunks")
    chunk_pc = p | "Chunks" >> beam.Create(chunks) | "SpreadChunks" >> beam.Reshuffle()
    facts = run.apply("read", chunk_pc, read)
    cooc = load_cooccurrence(cfg.cooccurrence) if cfg.cooccurrence else None
    labelled = frozenset([r for r, t in templates.relations.items() if t.label] + list(templates.qualifier_labels))
    order = {r: t.order for r, t in templates.relations.items()}
    graph = beam_kg.BuildSubgraphs(cfg.params(), cfg.max_facts_per_entity, cfg.langs(), cooc, labelled, order,
                                   cfg.keep_identifiers)
    run.stage_order += ["statements", "facts", "subgraphs"]  # BuildSubgraphs counts these and "labels"
    subgraphs = run.apply("labels", {"facts": facts, "labels": read.result[beam_kg.LABELS],
                                     "parts": read.result[beam_kg.PARTS],
                                     "value_parts": read.result[beam_kg.VALUE_PARTS]}, graph)
    if cfg.verbalizer == "templates":
        verbalized = run.apply("verbalize", subgraphs, stage_outputs(
            beam_kg._Verbalize(cfg.templates, cfg.lang, cfg.rejects)))
        name = "templates"
        text_lang = templates.lang  # English templates write English, whatever --lang the labels are in
    else:
        from corpora.kg.model_verbalizer import ModelPrompt, attach_generated
        from pipeline.beam_generation import GenerateText

        verbalized = run.apply("verbalize", subgraphs, GenerateText(
            "verbalize", cfg.verbalizer, generation_config(cfg), ModelPrompt(templates, cfg.lang), attach_generated,
            cfg.rejects))
        name = cfg.verbalizer
        text_lang = cfg.lang  # the model is taken to write the labels' language
    checked = run.apply("faithfulness", verbalized, stage_outputs(
        beam_kg._Faithfulness(cfg.lang, cfg.keep_unfaithful, cfg.rejects, cfg.templates)))
    docs = checked | "ToDocument" >> beam.Map(
        lambda e: make_document(e[0], e[1], e[2], e[3].ok, e[3].reason, name, templates, cfg.lang, text_lang))
    # kelm.jsonl: one shard per bundle, concatenated once all are written (a single-shard write would
    # shuffle every line onto one worker, and the local runner would hold them all in memory)
    _ = (checked | "ToKelm" >> beam.Map(lambda e: kelm_line(e[0], e[1], templates, cfg.lang))
         | "WriteKelmParts" >> beam.io.WriteToText(beam_io.join(cfg.output, KELM_PARTS_DIR, "kelm"),
                                                   file_name_suffix=".jsonl")
         | "KelmPartList" >> beam.combiners.ToList()
         | "ConcatKelm" >> beam.Map(_concat_kelm, cfg.output))
    run.write(docs)
    return run


def _concat_kelm(parts: list[str], output: str) -> None:
    beam_io.concat_atomic(sorted(parts), beam_io.join(output, KELM_FILE))
    beam_io.delete_tree(beam_io.join(output, KELM_PARTS_DIR))


def prepare_kg_output(output: str, overwrite: bool) -> None:
    kelm = beam_io.join(output, KELM_FILE)
    if beam_io.FileSystems.exists(kelm) and not overwrite:
        raise UsageError(f"--output {output} already holds {KELM_FILE}; choose another directory or pass --overwrite")
    prepare_output(output, overwrite)
    beam_io.delete_tree(kelm)
    beam_io.delete_tree(beam_io.join(output, KELM_PARTS_DIR))


def run_kg(cfg: KgConfig, beam_args: list[str], overwrite: bool = False, quiet: bool = False,
           verbose: bool = False) -> dict:
    """Validate, run the pipeline, print the summary; return the stats report."""
    beam_args = prepare_beam_args(beam_args, verbose)
    validate(cfg)
    inputs, chunks = resolve_inputs(cfg.triples, cfg.labels, cfg.input_format, cfg.chunk_mb)
    prepare_kg_output(cfg.output, overwrite)
    if not quiet:
        size = sum(f["bytes"] for f in inputs) / 1e6
        print(f"kg: reading {len(inputs)} file(s), {size:.1f} MB in {len(chunks)} chunk(s), verbalizer "
              f"{cfg.verbalizer} -> {cfg.output}", flush=True)
    allocator = local_allocator_settings() if is_local_direct(beam_args) else contextlib.nullcontext()
    with Timer() as t:
        with allocator, make_pipeline(beam_args) as p:
            build_kg(p, cfg, inputs, chunks)
        beam_io.add_manifest_outputs(cfg.output, "kelm", [beam_io.join(cfg.output, KELM_FILE)])
    report = beam_io.read_json(beam_io.join(cfg.output, "stats.json"))
    if not quiet:
        print_summary("kg", cfg.output, report, t.seconds, inputs)
        print(f"kelm: {cfg.output}/{KELM_FILE}")
    return report


def main(args: argparse.Namespace, beam_args: list[str]) -> int:
    """The command line: exit status 1 when the run wrote no document (every record unusable, or
    none at all), with the drop reasons named; stats.json is written either way."""
    configure_logging(args.verbose)
    cfg = config_from_args(args)
    report = run_kg(cfg, beam_args, overwrite=args.overwrite, verbose=args.verbose)
    return empty_run_status(report)


def empty_run_status(report: dict) -> int:
    """0 when documents were written; else 1, after saying on stderr why none were."""
    import sys

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


def run_kg_demo(out_dir: str, beam_args: list[str], overwrite: bool) -> dict:
    """The demo's KG stage: the kg job on the shipped sample (Wikidata-style N-Triples with
    labels, statement nodes and qualifiers, plus a labels TSV) into ``out_dir``; returns the
    stats report (and prints the summary table and two example sentences)."""
    cfg = KgConfig(triples=[os.path.join(SAMPLE_DIR, "sample.nt")], output=out_dir.rstrip("/"),
                   labels=[os.path.join(SAMPLE_DIR, "labels.tsv")], rejects=True)
    report = run_kg(cfg, beam_args, overwrite=overwrite)
    with open(os.path.join(cfg.output, KELM_FILE), encoding="utf-8") as f:
        import json

        rows = [json.loads(line) for line in f][:2]
    for row in rows:
        print(f"  e.g. {row['sentence']}")
    return report


# ---------------------------------------------------------------- kg-align

PAIRS_FILE = "pairs.jsonl"
ALIGN_STAGES = ["read", "statements", "corpus", "sentences", "align"]


def add_align_arguments(parser: argparse.ArgumentParser) -> None:
    add_io_arguments(parser)
    a = parser.add_argument_group("alignment")
    a.add_argument("--corpus", action="append", required=True, metavar="CORPUS",
                   help="a corpus directory (its data/*.parquet) or a Parquet glob (repeatable)")
    a.add_argument("--max-facts-per-entity", type=int, default=1000, help="hub cap per subject (default 1000)")
    a.add_argument("--templates", default=None, metavar="FILE", help="relation labels from this template file")


def _write_align_report(output, config, inputs, stats, pairs_files) -> None:
    from pipeline.manifest import build_manifest
    from pipeline.stats import build_report

    report = build_report(stats, ALIGN_STAGES)
    report["job"] = "kg-align"
    beam_io.write_json_atomic(beam_io.join(output, "stats.json"), report)
    described = [{**beam_io.describe_lines(path, output), "path": PAIRS_FILE} for path in pairs_files]
    manifest = build_manifest("kg-align", config, inputs, described)
    beam_io.write_json_atomic(beam_io.join(output, "manifest.json"), manifest)


def run_align(args: argparse.Namespace, beam_args: list[str], quiet: bool = False) -> dict:
    """Validate, run kg-align, print the summary; return the stats report."""
    from corpora.kg import beam_align, beam_kg
    from corpora.tokenize import checked_corpus_files
    from pipeline.beam_steps import REJECTS, STATS, finalize, summed_stats
    from pipeline.stats import render_table

    beam_args = prepare_beam_args(beam_args, getattr(args, "verbose", False))
    if args.max_facts_per_entity < 1:
        raise UsageError("--max-facts-per-entity must be at least 1")
    if args.chunk_mb < 1:
        raise UsageError("--chunk-mb must be at least 1")
    try:
        templates = load_templates(args.templates)
    except TemplateError as exc:
        raise UsageError(str(exc)) from exc
    langs = tuple(dict.fromkeys([args.lang.strip().lower()] + _langs(args.fallback_langs)))
    inputs, chunks = resolve_inputs(list(args.triples), list(args.labels), args.input_format, args.chunk_mb)
    corpus = checked_corpus_files(args.corpus)
    output = args.output.rstrip("/")
    prepare_named_outputs(output, (PAIRS_FILE, "manifest.json", "stats.json"), args.overwrite)
    config = {"triples": list(args.triples), "labels": list(args.labels), "corpus": list(args.corpus),
              "lang": langs[0], "fallback_langs": list(langs[1:]), "max_facts_per_entity": args.max_facts_per_entity,
              "templates": args.templates}
    if not quiet:
        print(f"kg-align: {len(inputs)} triples/labels file(s), {len(corpus)} corpus file(s) -> {output}", flush=True)
    with Timer() as t:
        with make_pipeline(beam_args) as p:
            options = ReadOptions(langs=langs, keep_aliases=True)
            read = (p | "Chunks" >> beam.Create(chunks) | "SpreadChunks" >> beam.Reshuffle()
                    | "ReadChunks" >> beam.ParDo(beam_kg._ReadChunk(options, False)).with_outputs(
                        STATS, REJECTS, beam_kg.LABELS, beam_kg.PARTS, beam_kg.VALUE_PARTS, main="out"))
            assembled = ((read[beam_kg.PARTS], read[beam_kg.VALUE_PARTS])
                         | "Statements" >> beam_kg.AssembleStatements(False))
            facts = (read["out"], assembled["out"]) | "AllFacts" >> beam.Flatten()
            by_subject = facts | "BySubject" >> beam.Map(lambda f: (f.subject, f))
            labels = read[beam_kg.LABELS]
            best = labels | "BestLabel" >> beam.CombinePerKey(beam_kg.BestLabelFn(langs))
            names = ({"best": best, "labels": labels} | "JoinNames" >> beam.CoGroupByKey()
                     | "Names" >> beam.FlatMap(beam_align._names))
            rows = (p | "CorpusFiles" >> beam.Create(corpus)
                    | "ReadCorpus" >> beam.io.ReadAllFromParquet(columns=["id", "text"]))
            split = rows | "Split" >> beam.ParDo(beam_align._SplitSentences(8)).with_outputs(
                STATS, beam_align.SENTENCES, main="ngrams")
            mentions = ({"names": names, "ngrams": split["ngrams"]} | "JoinMentions" >> beam.CoGroupByKey()
                        | "Mentions" >> beam.FlatMap(beam_align._mentions))
            candidates = ({"text": split[beam_align.SENTENCES], "mentions": mentions}
                          | "JoinSentences" >> beam.CoGroupByKey()
                          | "Candidates" >> beam.ParDo(beam_align._Candidates(False)).with_outputs(STATS, main="out"))
            relations = (facts | "Relations" >> beam.Map(lambda f: (f.relation, None))
                         | "DistinctRelations" >> beam.CombinePerKey(lambda xs: None))
            given = {r: t.label for r, t in templates.relations.items() if t.label}
            relation_labels = ({"rel": relations, "best": best} | "JoinRelationLabels" >> beam.CoGroupByKey()
                               | "RelationLabel" >> beam.FlatMap(_relation_label, given))
            pairs = ({"facts": by_subject, "sentences": candidates["out"]} | "JoinFacts" >> beam.CoGroupByKey()
                     | "Align" >> beam.ParDo(beam_align._Align(args.max_facts_per_entity, langs[0]),
                                             beam.pvalue.AsDict(relation_labels)).with_outputs(STATS, main="out"))
            written = pairs["out"] | "WritePairs" >> beam.io.WriteToText(
                beam_io.join(output, "pairs"), file_name_suffix=".jsonl", num_shards=1, shard_name_template="")
            finalize(p, _write_align_report, output=output, config=config, inputs=inputs,
                     stats=summed_stats([read[STATS], assembled[STATS], split[STATS], candidates[STATS],
                                         pairs[STATS]]),
                     pairs_files=written | "PairsList" >> beam.combiners.ToList())
    report = beam_io.read_json(beam_io.join(output, "stats.json"))
    if not quiet:
        print()
        print(render_table(report))
        pairs_n = next((s["out"] for s in report["stages"] if s["stage"] == "align"), 0)
        print(f"\nwrote {pairs_n} (triples, sentence) pairs to {output}/{PAIRS_FILE} in {t.seconds:.1f}s")
    return report


def _relation_label(element, given: dict):
    rel, groups = element
    if not list(groups["rel"]):
        return
    best = next((b for b in groups["best"] if b is not None), None)
    yield rel, (best[0] if best else given.get(rel) or rel)


def align_main(args: argparse.Namespace, beam_args: list[str]) -> dict:
    configure_logging(args.verbose)
    return run_align(args, beam_args)


JOBS = [
    Job("kg", "knowledge-graph triples -> verbalized sentences (KELM-style) + kelm.jsonl",
        DESCRIPTION, add_arguments, main),
    Job("kg-align", "distant supervision: (triples, sentence) pairs from a corpus, to train a verbalizer",
        ALIGN_DESCRIPTION, add_align_arguments, align_main),
]

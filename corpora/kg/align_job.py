"""The ``kg-align`` job (distant supervision): (triples, sentence) pairs from one of our corpora,
the training data of a model verbalizer for ``kg``.

Stages: read (triples and labels) -> statements -> corpus (rows) -> sentences (that mention an
entity) -> align (sentences stating a fact of their subject). Output: ``pairs.jsonl``,
stats.json, manifest.json (last), all written by the pipeline. See docs/kg.md.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import apache_beam as beam

from corpora.kg.beam_inputs import resolve_inputs
from corpora.kg.inputs import (
    GraphInputs,
    add_io_arguments,
    check_common,
    checked_templates,
    parse_langs,
)
from corpora.kg.readers import ReadOptions
from corpora.kg.stages import LABELS, PARTS, VALUE_PARTS
from corpora.kg.transforms import (
    AlignPairs,
    CorpusSentences,
    MentionedSubjects,
    NameIndex,
    ReadGraph,
    RelationLabels,
    SubjectFacts,
    WriteJsonLines,
)
from pipeline import beam_io
from pipeline.beam_steps import STATS, finalize, summed_stats
from pipeline.flags import require_input
from pipeline.jobs import Job, PipelineJob, configure_logging, drive, prepare_beam_args, prepare_named_outputs

PAIRS_FILE = "pairs.jsonl"
PAIRS_PARTS_DIR = ".pairs-parts"  # per-bundle parts of pairs.jsonl, removed by the last step
ALIGN_STAGES = ["read", "statements", "corpus", "sentences", "align"]

ALIGN_DESCRIPTION = """\
Distant supervision: find sentences of a corpus that mention an entity (label or alias)
together with one or more of its objects, and write (triples, sentence) pairs as JSONL:
the data to fine-tune a model verbalizer. Matching is case- and whitespace-insensitive at
word boundaries.

examples:
  python beam_runner.py kg-align --triples corpora/samples/kg/sample.nt --input out/web --output out/align
  python beam_runner.py kg-align --triples 'dump/*.nt.gz' --input out/web --output out/align --lang en"""


@dataclass
class AlignConfig:
    """Everything that decides kg-align's output; checked when made (a UsageError names the flag),
    local paths made absolute (workers run elsewhere)."""

    triples: list[str]
    corpus: list[str]
    output: str
    labels: list[str] = field(default_factory=list)
    input_format: str = "auto"
    lang: str = "en"
    fallback_langs: list[str] = field(default_factory=lambda: ["mul"])
    chunk_mb: int = 16
    max_facts_per_entity: int = 1000
    templates: str | None = None

    def __post_init__(self) -> None:
        self.lang = self.lang.strip().lower()
        self.fallback_langs = [x.strip().lower() for x in self.fallback_langs if x.strip()]
        self.triples = [beam_io.absolute(p) for p in self.triples]
        self.labels = [beam_io.absolute(p) for p in self.labels]
        self.corpus = [beam_io.absolute(p) for p in self.corpus]
        self.output = beam_io.absolute(self.output.rstrip("/"))
        self.templates = beam_io.absolute(self.templates) if self.templates else None
        check_common(self.lang, self.chunk_mb, self.max_facts_per_entity)
        checked_templates(self.templates)

    def langs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([self.lang] + self.fallback_langs))

    def recorded(self) -> dict:
        """The config saved into manifest.json."""
        langs = self.langs()
        return {"triples": list(self.triples), "labels": list(self.labels), "corpus": list(self.corpus),
                "lang": langs[0], "fallback_langs": list(langs[1:]), "max_facts_per_entity": self.max_facts_per_entity,
                "templates": self.templates}


@dataclass
class AlignInputs:
    """kg-align's inputs resolved on the driver: the graph's files and chunks, the corpus files."""

    graph: GraphInputs
    corpus: list[str]


def add_align_arguments(parser: argparse.ArgumentParser) -> None:
    add_io_arguments(parser, align=True)
    a = parser.add_argument_group("alignment")
    a.add_argument("--max-facts-per-entity", type=int, default=1000, help="hub cap per subject (default 1000)")
    a.add_argument("--templates", default=None, metavar="FILE", help="relation labels from this template file")


def config_from_args(args: argparse.Namespace) -> AlignConfig:
    require_input(args.input, "the corpus the sentences come from")
    return AlignConfig(triples=list(args.triples), corpus=list(args.input), output=args.output,
                       labels=list(args.labels), input_format=args.input_format, lang=args.lang,
                       fallback_langs=parse_langs(args.fallback_langs), chunk_mb=args.chunk_mb,
                       max_facts_per_entity=args.max_facts_per_entity, templates=args.templates)


def resolve_align_inputs(cfg: AlignConfig) -> AlignInputs:
    """Triples, labels and corpus files matched and checked (UsageError on anything unusable)."""
    from corpora.tokenize import checked_corpus_files

    graph = resolve_inputs(cfg.triples, cfg.labels, cfg.input_format, cfg.chunk_mb)
    return AlignInputs(graph, [beam_io.absolute(f) for f in checked_corpus_files(cfg.corpus)])


def build_kg_align(p: beam.Pipeline, cfg: AlignConfig, inputs: AlignInputs | None = None) -> None:
    """Compose kg-align on pipeline ``p``; its last step writes stats.json and manifest.json (last)."""
    inputs = inputs or resolve_align_inputs(cfg)
    templates = checked_templates(cfg.templates)
    read = p | "read" >> ReadGraph(inputs.graph.chunks, ReadOptions(langs=cfg.langs(), keep_aliases=True),
                                   keep_rejects=False, encoded=False)
    facts = {"out": read["out"], "parts": read[PARTS], "value_parts": read[VALUE_PARTS]} | (
        "statements" >> SubjectFacts())
    names = read[LABELS] | "names" >> NameIndex(cfg.langs())
    split = p | "corpus" >> CorpusSentences(inputs.corpus)
    candidates = {"names": names["names"], "ngrams": split["out"], "sentences": split["sentences"]} | (
        "sentences" >> MentionedSubjects())
    given = {r: t.label for r, t in templates.relations.items() if t.label}
    relation_labels = {"facts": facts["out"], "best": names["best"]} | "relations" >> RelationLabels(given)
    pairs = {"facts": facts["out"], "sentences": candidates["out"], "relation_labels": relation_labels} | (
        "align" >> AlignPairs(cfg.max_facts_per_entity, cfg.lang))
    written = pairs["out"] | "WritePairs" >> WriteJsonLines(cfg.output, PAIRS_FILE, PAIRS_PARTS_DIR)
    stats = summed_stats([read[STATS], facts[STATS], split[STATS], candidates[STATS], pairs[STATS]])
    finalize(p, _write_align_report, output=cfg.output, config=cfg.recorded(), inputs=inputs.graph.files,
             stats=stats, pairs_files=written)


def _write_align_report(output, config, inputs, stats, pairs_files) -> None:
    from pipeline.manifest import build_manifest
    from pipeline.stats import build_report

    beam_io.delete_tree(beam_io.join(output, PAIRS_PARTS_DIR))
    report = build_report(stats, ALIGN_STAGES)
    report["job"] = "kg-align"
    beam_io.write_json_atomic(beam_io.join(output, "stats.json"), report)
    manifest = build_manifest("kg-align", config, inputs, pairs_files)
    beam_io.write_json_atomic(beam_io.join(output, "manifest.json"), manifest)


def run_align(cfg: AlignConfig, beam_args: list[str], overwrite: bool = False, quiet: bool = False,
              verbose: bool = False) -> dict | None:
    """Check the inputs, run kg-align, print the summary; return the stats report (None when only
    submitted, with --no_wait_until_finish)."""
    beam_args = prepare_beam_args(beam_args, verbose)
    inputs = resolve_align_inputs(cfg)
    prepare_named_outputs(cfg.output, (PAIRS_FILE, PAIRS_PARTS_DIR, "manifest.json", "stats.json"), overwrite)
    header = (f"kg-align: {len(inputs.graph.files)} triples/labels file(s), {len(inputs.corpus)} corpus file(s) "
              f"-> {cfg.output}")
    return drive(PipelineJob("kg-align", cfg.output, build=lambda p: build_kg_align(p, cfg, inputs), header=header,
                             summary=lambda report, seconds: _print_summary(cfg, report, seconds)), beam_args, quiet)


def _print_summary(cfg: AlignConfig, report: dict, seconds: float) -> None:
    from pipeline.stats import render_table

    print()
    print(render_table(report))
    pairs_n = next((s["out"] for s in report["stages"] if s["stage"] == "align"), 0)
    print(f"\nwrote {pairs_n} (triples, sentence) pairs to {cfg.output}/{PAIRS_FILE} in {seconds:.1f}s")


def align_main(args: argparse.Namespace, beam_args: list[str]) -> dict | None:
    configure_logging(args.verbose)
    return run_align(config_from_args(args), beam_args, overwrite=args.overwrite, verbose=args.verbose)


ALIGN_JOB = Job("kg-align", "distant supervision: (triples, sentence) pairs from a corpus, to train a verbalizer",
                ALIGN_DESCRIPTION, add_align_arguments, align_main)

"""The ``doc2query`` expansion job: documents + predicted queries -> an expanded corpus (and the
Anserini JsonCollection). ``ExpandJobConfig`` -> ``build_expand(p, cfg, plan)`` -> ``run_expand``."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import apache_beam as beam
from apache_beam import coders

from corpora.doc2query.beam_common import (
    ReadCollection,
    collection_inputs,
    corpus_inputs,
    nothing_written,
    unescape,
    write_lines,
)
from corpora.doc2query.expand import ExpandConfig, anserini_record, attach_queries, passage_prompt
from corpora.doc2query.pairs import MAX_LINE_BYTES
from corpora.doc2query.passages import PassageConfig
from corpora.doc2query.precomputed import is_precomputed
from corpora.doc2query.transforms import (
    AssembleDocuments,
    DedupeRows,
    PrecomputedQueries,
    SplitDocuments,
    rows_with_text,
)
from pipeline import beam_io
from pipeline.beam_steps import CorpusRun
from pipeline.flags import add_rejects, add_verbose
from pipeline.generation import GenerationConfig, GeneratorError, check_generator_spec
from pipeline.jobs import (
    Job,
    PipelineJob,
    UsageError,
    configure_logging,
    drive,
    prepare_beam_args,
    prepare_named_outputs,
    prepare_output,
    print_summary,
)

DESCRIPTION = """\
Expand documents with predicted queries (doc2query / docTTTTTquery): split each document
into passages (sentence windows with a stride), generate --num-queries queries per passage
(top-k sampling), and write the original text + separator + the queries as a corpus
(source doc2query; the queries also in meta.predicted_queries; ids unchanged), plus, with
--anserini, the Anserini JsonCollection ({"id", "contents"} JSONL) for Pyserini.

Generators: hf:PATH (a local Hugging Face seq2seq checkpoint, e.g. a doc2query-T5) or
native:CHECKPOINT (the bundled query generator, see corpora/doc2query/train_generator.py).
Models load once per worker; passages are generated in batches; on a GPU when one is there.

examples:
  python beam_runner.py doc2query --input out/web --generator hf:models/doc2query-t5-base-msmarco \\
      --num-queries 20 --output out/web-d2q --anserini
  python beam_runner.py doc2query --input out/pairs/passages --generator native:runs/d2q \\
      --num-queries 10 --top-k 10 --output out/passages-d2q --direct_num_workers=2"""

STAGED = ".staged"  # files the driver stages for the workers under the output; removed by the last step


@dataclass
class ExpandJobConfig:
    """The expansion job's settings (its flags); ``expand`` and ``generation`` are the checked
    configs of the core, made when the config is (a UsageError names the flag)."""

    output: str
    generator: str
    input: list[str] | None = None
    collection: str | None = None
    fix_mojibake: bool = False
    max_line_bytes: int = MAX_LINE_BYTES
    anserini: bool = False
    rejects: bool = False
    num_shards: int = 0
    num_queries: int | None = None
    decode: str = "sample"
    top_k: int = 10
    temperature: float = 1.0
    max_input_tokens: int = 512
    max_new_tokens: int = 64
    batch_size: int = 16
    device: str = "auto"
    seed: int = 0
    window: int = PassageConfig().window
    stride: int = PassageConfig().stride
    max_passages: int = 0
    separator: str = "\\n\\n"
    expand: ExpandConfig = field(init=False, repr=False)
    generation: GenerationConfig | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.expand, self.generation = _core_configs(self)
        if self.num_shards < 0:
            raise UsageError("--num-shards must be 0 (runner decides) or more")
        if bool(self.input) == bool(self.collection):
            raise UsageError("give the passages as --input CORPUS_DIR (repeatable) or --collection FILE|DIR, one of them")
        if self.max_line_bytes < 1:
            raise UsageError("--max-line-bytes must be positive")
        self.output = beam_io.absolute(self.output.rstrip("/"))

    @property
    def precomputed(self) -> bool:
        return self.generation is None

    def recorded(self, predicted: dict) -> dict:
        """The config saved into manifest.json."""
        e = self.expand
        return {"inputs": list(self.input or [self.collection]), "generator": self.generator, "expand": {
            "num_queries": e.num_queries, "separator": e.separator, "window": e.passage.window,
            "stride": e.passage.stride, "max_passages": e.passage.max_passages},
            "generation": self.generation.as_dict() if self.generation else {"precomputed": predicted},
            "fix_mojibake": self.fix_mojibake}


def _core_configs(cfg: ExpandJobConfig) -> tuple[ExpandConfig, GenerationConfig | None]:
    """Validate the expansion settings into the core's configs (UsageError names the flag); no
    generation config for precomputed queries."""
    precomputed = is_precomputed(cfg.generator)
    num_queries = cfg.num_queries if cfg.num_queries is not None else (0 if precomputed else 5)
    if cfg.num_queries is not None and cfg.num_queries < 1:
        raise UsageError(f"--num-queries must be at least 1 (got {cfg.num_queries})")
    try:
        passage = PassageConfig(cfg.window, cfg.stride, cfg.max_passages)
        expand = ExpandConfig(num_queries, unescape(cfg.separator), passage)
        if precomputed:
            return expand, None
        beam_search = cfg.decode == "beam"
        gen = GenerationConfig(
            max_input_tokens=cfg.max_input_tokens, max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size,
            do_sample=not beam_search, top_k=None if beam_search else cfg.top_k, temperature=cfg.temperature,
            num_beams=num_queries if beam_search else 1, num_return_sequences=num_queries,
            seed=cfg.seed, device=cfg.device)
    except ValueError as exc:
        raise UsageError(str(exc).replace("generation: ", "")) from exc
    try:
        check_generator_spec(cfg.generator)
    except GeneratorError as exc:
        raise UsageError(f"--generator: {exc}") from exc
    return expand, gen


def add_arguments(parser: argparse.ArgumentParser) -> None:
    io = parser.add_argument_group("input and output")
    io.add_argument("--input", action="append", metavar="CORPUS", help="corpus directory (repeatable)")
    io.add_argument("--collection", metavar="FILE|DIR",
                    help="instead of --input: a passage collection, pid<TAB>passage or JSONL {id, contents} (.gz ok), "
                         "or a folder of them (Anserini/docTTTTTquery docsNN.json); its ids are kept")
    io.add_argument("--fix-mojibake", action="store_true",
                    help="repair UTF-8 read as Latin-1 in --collection passages (MS MARCO's; ftfy)")
    io.add_argument("--max-line-bytes", type=int, default=MAX_LINE_BYTES,
                    help="longest --collection line (default: %(default)s)")
    io.add_argument("--output", required=True, metavar="DIR", help="output corpus directory")
    io.add_argument("--anserini", action="store_true", help="also write DIR/anserini/*.jsonl (Anserini JsonCollection)")
    add_rejects(io)
    io.add_argument("--num-shards", type=int, default=0, help="output files (default: chosen by the runner)")
    io.add_argument("--overwrite", action="store_true", help="replace an existing output in DIR")
    g = parser.add_argument_group("generation")
    g.add_argument("--generator", required=True, metavar="hf:PATH|native:CKPT|precomputed:FILES",
                   help="the query generator, or precomputed queries: docTTTTTquery's line-per-passage files "
                        "(aligned with --collection, one file per sample, comma-separated or a glob) or JSONL "
                        "{id, predicted_queries}")
    g.add_argument("--num-queries", type=int, default=None,
                   help="queries per passage (default: 5; precomputed: all of them)")
    g.add_argument("--decode", choices=("sample", "beam"), default="sample",
                   help="top-k sampling (default, as docTTTTTquery) or beam search (hf: only)")
    g.add_argument("--top-k", type=int, default=10, help="sampling: top-k (default: %(default)s)")
    g.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default: %(default)s)")
    g.add_argument("--max-input-tokens", type=int, default=512, help="longer passages are truncated (default: %(default)s)")
    g.add_argument("--max-new-tokens", type=int, default=64, help="longest query, in tokens (default: %(default)s)")
    g.add_argument("--batch-size", type=int, default=16, help="passages per model call (default: %(default)s)")
    g.add_argument("--device", default="auto", help="auto (GPU when available), cpu, cuda, cuda:1 ...")
    g.add_argument("--seed", type=int, default=0, help="sampling seed (default: %(default)s)")
    s = parser.add_argument_group("passages and expansion")
    s.add_argument("--window", type=int, default=PassageConfig().window, help="sentences per passage (default: %(default)s)")
    s.add_argument("--stride", type=int, default=PassageConfig().stride, help="sentences between windows (default: %(default)s)")
    s.add_argument("--max-passages", type=int, default=0, help="expand only the first N passages of a document (0: all)")
    s.add_argument("--separator", default="\\n\\n", help="between the text and the queries (escapes allowed; default: \\n\\n)")
    add_verbose(parser)


def config_from_args(args: argparse.Namespace) -> ExpandJobConfig:
    """The job's flags as a checked ExpandJobConfig (UsageError before any work)."""
    names = [n for n, f in ExpandJobConfig.__dataclass_fields__.items() if f.init]
    return ExpandJobConfig(**{n: getattr(args, n) for n in names})


@dataclass
class ExpandPlan:
    """What the driver found before any work: the described inputs, their Parquet columns (None
    for a collection) and, for precomputed queries, the keyed prediction files and their counts."""

    inputs: list[dict]
    columns: list[str] | None
    predictions: list[str] = field(default_factory=list)
    predicted: dict = field(default_factory=dict)
    staged: str | None = None  # a folder the driver wrote for the workers, removed by the last step


def resolve_inputs(cfg: ExpandJobConfig) -> ExpandPlan:
    """The described inputs and columns, checked before any work (UsageError)."""
    if cfg.collection:
        return ExpandPlan(collection_inputs(cfg.collection, "--collection"), None)
    return ExpandPlan(*corpus_inputs(cfg.input, "--input"))


def check_precomputed(cfg: ExpandJobConfig, plan: ExpandPlan):
    """Check precomputed queries against the inputs before any work; returns the function that
    stages them for the workers once the output is prepared. Keyed JSONL files are checked (count
    and ids) now and read where they are; line-aligned files are zipped with the collection's ids
    into one keyed file under the output's ``.staged/`` folder (read on the driver, written once,
    removed by the job's last step), a mismatch a UsageError."""
    from corpora.doc2query import precomputed as pc

    try:
        pre = pc.parse_spec(cfg.generator)
        if plan.columns is not None and not pre.keyed:
            raise pc.PrecomputedError("line-per-passage predictions are aligned with a collection's line order: "
                                      "give the passages as --collection FILE (or use JSONL {id, predicted_queries})")
        if pre.keyed:
            ids = _corpus_ids(plan.inputs) if plan.columns is not None else pc.collection_ids(
                [f["path"] for f in plan.inputs], cfg.fix_mojibake, beam_io.open_raw)
            plan.predictions = [beam_io.absolute(f) for f in pre.files]
            plan.predicted = pc.check_keyed(pre, ids, beam_io.open_raw)
            return lambda: None
    except pc.PrecomputedError as exc:
        raise UsageError(f"--generator: {exc}") from exc

    def stage() -> None:
        staged = beam_io.join(cfg.output, STAGED)
        aligned = beam_io.join(staged, "precomputed-queries.jsonl")
        ids = pc.collection_ids([f["path"] for f in plan.inputs], cfg.fix_mojibake, beam_io.open_raw)
        try:
            plan.predicted = pc.align_lines(pre, ids, aligned, create=beam_io.FileSystems.create,
                                            open_fn=beam_io.open_raw)
        except pc.PrecomputedError as exc:
            beam_io.delete_tree(staged)
            raise UsageError(f"--generator: {exc}") from exc
        plan.predictions, plan.staged = [aligned], staged

    return stage


def _corpus_ids(inputs: list[dict]):
    """The ids of corpus rows that have text (the rows the expansion keeps)."""
    import pyarrow.parquet as pq

    for f in inputs:
        with beam_io.FileSystems.open(f["path"]) as fh:
            table = pq.read_table(fh, columns=["id", "text"])
        for pid, text in zip(table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True):
            if pid and text and text.strip():
                yield pid


class ReadPassageRows(beam.PTransform):
    """Corpus Parquet files -> rows; or collection files -> rows ``{id, text, source: collection}``
    (outputs main, ``stats``, ``rejects`` of the ``collection`` stage)."""

    def __init__(self, cfg: ExpandJobConfig, plan: ExpandPlan) -> None:
        super().__init__(label="read_passages")
        self.cfg, self.plan = cfg, plan

    def expand(self, pbegin):
        paths = [f["path"] for f in self.plan.inputs]
        if self.plan.columns is not None:
            rows = (pbegin | "CorpusFiles" >> beam.Create(paths)
                    | "ReadCorpus" >> beam.io.ReadAllFromParquet(columns=self.plan.columns))
            return {"out": rows}
        cfg = self.cfg
        lines = pbegin | ReadCollection(paths, cfg.fix_mojibake, cfg.max_line_bytes, cfg.rejects)
        rows = lines["out"] | "CollectionRows" >> beam.Map(lambda e: {"id": e[0], "text": e[1], "source": "collection"})
        return {**lines, "out": rows}


class ReadPredictions(beam.PTransform):
    """Keyed prediction files -> raw lines (for PrecomputedQueries)."""

    def __init__(self, files: list[str]) -> None:
        super().__init__(label="read_predictions")
        self.files = files

    def expand(self, pbegin):
        return (pbegin | "PredictionFiles" >> beam.Create(self.files)
                | "ReadPredictions" >> beam.io.ReadAllFromText(coder=coders.BytesCoder()))


class WriteAnserini(beam.PTransform):
    """Expanded documents -> output/anserini/docs-*.jsonl ({"id", "contents"}); the described files."""

    def __init__(self, output: str) -> None:
        super().__init__(label="anserini")
        self.output = output

    def expand(self, docs):
        lines = docs | "AnseriniJson" >> beam.Map(lambda d: anserini_record({"id": d.id, "text": d.text}))
        return write_lines(lines, self.output, "anserini/docs", "Anserini")


def build_expand(p: beam.Pipeline, cfg: ExpandJobConfig, plan: ExpandPlan) -> CorpusRun:
    """Compose the expansion job on pipeline ``p``; its last step writes stats.json and manifest.json."""
    from pipeline.beam_generation import GenerateText

    run = CorpusRun(p, cfg.output, job="doc2query", config=cfg.recorded(plan.predicted), inputs=plan.inputs,
                    keep_rejects=cfg.rejects, num_shards=cfg.num_shards)
    if plan.columns is None:
        rows = run.apply("collection", p, ReadPassageRows(cfg, plan))
    else:
        rows = (p | ReadPassageRows(cfg, plan))["out"]
    rows = run.apply("dedupe", rows, DedupeRows(cfg.rejects))
    if cfg.precomputed:
        lines = p | ReadPredictions(plan.predictions)
        queries = run.apply("generate", lines, PrecomputedQueries(cfg.expand.num_queries, cfg.rejects))
    else:
        passages = run.apply("split", rows, SplitDocuments(cfg.expand, cfg.rejects))
        queries = run.apply("generate", passages, GenerateText(
            "generate", beam_io.absolute_spec(cfg.generator), cfg.generation, passage_prompt, attach_queries, cfg.rejects))
    docs = run.apply("expand", {"doc": rows_with_text(rows), "queries": queries},
                     AssembleDocuments(cfg.expand, cfg.generator, cfg.rejects))
    if cfg.anserini:
        run.add_output("anserini", docs | WriteAnserini(cfg.output))
    if plan.staged:
        run.remove_at_end(plan.staged)
    run.write(docs)
    return run


def run_expand(cfg: ExpandJobConfig, beam_args: list[str], overwrite: bool = False, quiet: bool = False,
               verbose: bool = False) -> dict | None:
    """Check the inputs, run the expansion pipeline, print the summary; return the stats report
    (None when only submitted, with --no_wait_until_finish)."""
    beam_args = prepare_beam_args(beam_args, verbose)
    plan = resolve_inputs(cfg)
    stage = check_precomputed(cfg, plan) if cfg.precomputed else (lambda: None)
    prepare_output(cfg.output, overwrite)
    prepare_named_outputs(cfg.output, ("anserini", STAGED), overwrite)
    stage()
    header = (f"doc2query: {len(plan.inputs)} {'collection' if plan.columns is None else 'corpus'} file(s) -> "
              f"{cfg.output}, {cfg.expand.num_queries or 'all'} queries per passage with {cfg.generator}")
    return drive(PipelineJob("doc2query", cfg.output, build=lambda p: build_expand(p, cfg, plan), header=header,
                             summary=lambda report, seconds: _print_summary(cfg, plan, report, seconds)),
                 beam_args, quiet, input_bytes=sum(f["bytes"] for f in plan.inputs))


def _print_summary(cfg: ExpandJobConfig, plan: ExpandPlan, report: dict, seconds: float) -> None:
    print_summary("doc2query", cfg.output, report, seconds, plan.inputs)
    if cfg.anserini:
        print(f"anserini JsonCollection: {cfg.output}/anserini/ (index with pyserini.index.lucene "
              f"--collection JsonCollection --input {cfg.output}/anserini ...)")


def main(args: argparse.Namespace, beam_args: list[str]) -> int:
    configure_logging(args.verbose)
    report = run_expand(config_from_args(args), beam_args, overwrite=args.overwrite, verbose=args.verbose)
    return nothing_written(report, report["stages"][-1]["out"] if report and report["stages"] else 0, "documents")


JOB = Job("doc2query", "expand documents with predicted queries (hf: or native: generator)", DESCRIPTION,
          add_arguments, main)

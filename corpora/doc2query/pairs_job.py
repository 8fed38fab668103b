"""The ``doc2query-pairs`` job: (passage, query) training pairs as JSONL, from MS MARCO-format files
or mined from our corpora. ``PairsConfig`` -> ``build_pairs(p, cfg, inputs)`` -> ``run_pairs``."""

from __future__ import annotations

import argparse
import functools
import json
from dataclasses import asdict, dataclass, field

import apache_beam as beam

from corpora.doc2query.beam_common import (
    ReadCollection,
    collection_inputs,
    corpus_inputs,
    nothing_written,
    read_lines_stage,
    refuse_empty,
    write_lines,
)
from corpora.doc2query.collection import parse_collection_line
from corpora.doc2query.pairs import MAX_LINE_BYTES, MiningConfig, is_heldout
from corpora.doc2query.passages import PassageConfig
from corpora.doc2query.stages import count_written, parse_relevant_qrels
from corpora.doc2query.transforms import join_msmarco, mine_corpus
from pipeline import beam_io
from pipeline.beam_steps import REJECTS, STATS, ApplyStep, finalize, summed_stats, write_rejects
from pipeline.flags import add_input, add_rejects, add_verbose
from pipeline.jobs import (
    Job,
    PipelineJob,
    UsageError,
    configure_logging,
    drive,
    prepare_beam_args,
    prepare_named_outputs,
)
from pipeline.records import Document
from pipeline.stats import build_report, render_table

DESCRIPTION = """\
Write (passage, query) training pairs as JSONL for a query generator, from either

* MS MARCO-format files: --collection (pid<TAB>passage, or JSONL {id, contents}, .gz ok,
  or a folder of them; pids kept), --queries (qid<TAB>query) and --qrels (qid<TAB>0<TAB>pid<TAB>rel,
  or qid<TAB>pid); --fix-mojibake repairs MS MARCO's mojibake (ftfy); or
* our own corpora (--input DIR, repeatable), mined without labels: a page's title or
  section headings paired with the passage under them. This is a noisy heuristic (see
  docs/doc2query.md): headings shared by many documents are dropped as boilerplate.

With --heldout-fraction F, a deterministic fraction of queries (with all their judgements; of
documents, for mined pairs) goes to DIR/heldout/ instead, with queries.tsv and qrels.tsv for
doc2query-eval. A repeated passage or query id keeps one copy (see docs/doc2query.md), counted.
Mined runs also write every mined passage as a corpus (DIR/passages/) to expand and index.

examples:
  python beam_runner.py doc2query-pairs --collection collection.tsv --queries queries.train.tsv \\
      --qrels qrels.train.tsv --output out/d2q-pairs
  python beam_runner.py doc2query-pairs --input out/web --heldout-fraction 0.1 --output out/web-pairs"""

OUTPUTS = ("pairs", "heldout", "passages", "rejects", "stats.json", "manifest.json")
MSMARCO_STAGES = ["collection", "queries", "qrels", "collection_ids", "query_ids", "join", "write"]
MINED_STAGES = ["mine", "headings", "write"]


@dataclass
class PairsConfig:
    """Everything that decides the pairs job's output (saved into manifest.json); checked when made.

    Give either ``collection``, ``queries`` and ``qrels`` (MS MARCO files) or ``input`` (corpora, mined)."""

    output: str
    collection: str | None = None
    fix_mojibake: bool = False
    queries: str | None = None
    qrels: str | None = None
    input: list[str] | None = None
    max_heading_words: int = MiningConfig().max_heading_words
    min_passage_words: int = MiningConfig().min_passage_words
    pairs_per_section: int = MiningConfig().pairs_per_section
    max_query_docs: int = 10
    window: int = PassageConfig().window
    stride: int = PassageConfig().stride
    heldout_fraction: float = 0.0
    seed: int = 0
    max_line_bytes: int = MAX_LINE_BYTES
    rejects: bool = False
    mining: MiningConfig | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        msmarco = [self.collection, self.queries, self.qrels]
        if self.input and any(msmarco):
            raise UsageError("give either MS MARCO files (--collection/--queries/--qrels) or --input, not both")
        if not self.input and not all(msmarco):
            missing = [f for f, v in zip(("--collection", "--queries", "--qrels"), msmarco, strict=True) if not v]
            raise UsageError(f"MS MARCO input needs --collection, --queries and --qrels (missing {', '.join(missing)}); "
                             "or mine pairs from a corpus with --input DIR")
        if not 0.0 <= self.heldout_fraction < 1.0:
            raise UsageError("--heldout-fraction must be in [0, 1)")
        if self.max_line_bytes < 1:
            raise UsageError("--max-line-bytes must be positive")
        if self.max_query_docs < 0:
            raise UsageError("--max-query-docs must be 0 (keep all) or more")
        self.output = beam_io.absolute(self.output.rstrip("/"))
        if not self.input:
            self.collection, self.queries, self.qrels = map(beam_io.absolute, msmarco)
            return
        try:
            self.mining = MiningConfig(max_heading_words=self.max_heading_words,
                                       min_passage_words=self.min_passage_words,
                                       pairs_per_section=self.pairs_per_section,
                                       passage=PassageConfig(self.window, self.stride))
        except ValueError as exc:
            raise UsageError(str(exc)) from exc

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "mining"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    ms = parser.add_argument_group("MS MARCO-format input")
    ms.add_argument("--collection", metavar="FILE|DIR",
                    help="pid<TAB>passage lines or JSONL {id, contents} (local, gs://, s3://; .gz ok; a folder of them)")
    ms.add_argument("--fix-mojibake", action="store_true",
                    help="repair UTF-8 read as Latin-1 in passages and queries (MS MARCO's; ftfy)")
    ms.add_argument("--queries", metavar="TSV", help="qid<TAB>query lines")
    ms.add_argument("--qrels", metavar="FILE", help="qid 0 pid rel (TREC) or qid pid lines")
    mined = parser.add_argument_group("mined from our corpora (noisy heuristics)")
    add_input(mined, old="--corpus", action="append", metavar="DIR", help="corpus directory (repeatable)")
    d = PairsConfig.__dataclass_fields__
    mined.add_argument("--max-heading-words", type=int, default=d["max_heading_words"].default,
                       help="longest heading, in words (default: %(default)s)")
    mined.add_argument("--min-passage-words", type=int, default=d["min_passage_words"].default,
                       help="shortest passage paired with a heading (default: %(default)s)")
    mined.add_argument("--pairs-per-section", type=int, default=d["pairs_per_section"].default,
                       help="sentence windows under a heading paired with it (default: %(default)s)")
    mined.add_argument("--max-query-docs", type=int, default=d["max_query_docs"].default,
                       help="drop a heading that heads more documents than this (boilerplate; 0: keep all; "
                            "default: %(default)s)")
    mined.add_argument("--window", type=int, default=d["window"].default, help="sentences per passage (default: %(default)s)")
    mined.add_argument("--stride", type=int, default=d["stride"].default, help="sentences between windows (default: %(default)s)")
    out = parser.add_argument_group("output")
    out.add_argument("--output", required=True, metavar="DIR", help="output directory")
    out.add_argument("--heldout-fraction", type=float, default=0.0,
                     help="fraction of queries (mined: documents) held out for evaluation (default: %(default)s)")
    out.add_argument("--seed", type=int, default=0, help="seed of the held-out hash (default: %(default)s)")
    out.add_argument("--max-line-bytes", type=int, default=MAX_LINE_BYTES, help="longest TSV line (default: %(default)s)")
    add_rejects(out)
    out.add_argument("--overwrite", action="store_true", help="replace outputs of an earlier run in DIR")
    add_verbose(parser)


def config_from_args(args: argparse.Namespace) -> PairsConfig:
    """The job's flags as a checked PairsConfig (UsageError before any work)."""
    names = [f for f in PairsConfig.__dataclass_fields__ if f != "mining"]
    return PairsConfig(**{n: getattr(args, n) for n in names})


def resolve_inputs(cfg: PairsConfig) -> tuple[list[dict], list[str] | None]:
    """The described input files (collection files, then queries and qrels; or corpus files) and,
    for a corpus, its Parquet columns; missing or empty inputs are UsageErrors."""
    if cfg.input:
        return corpus_inputs(cfg.input, "--input")
    for flag, path in (("--queries", cfg.queries), ("--qrels", cfg.qrels)):
        if not beam_io.FileSystems.exists(path):
            raise UsageError(f"{flag} {path}: no such file")
    inputs = collection_inputs(cfg.collection, "--collection")
    for flag, path in (("--queries", cfg.queries), ("--qrels", cfg.qrels)):
        described = beam_io.match_inputs([path], flag)
        refuse_empty(described, flag)
        inputs += described
    return inputs, None


class PairsFromMsmarco(beam.PTransform):
    """Collection, queries and qrels files -> joined Pairs (outputs main, ``stats``, ``rejects``:
    lists of the stages collection, queries, qrels, collection_ids, query_ids, join)."""

    def __init__(self, cfg: PairsConfig, collection_files: list[str]) -> None:
        super().__init__(label="msmarco_pairs")
        self.cfg, self.collection_files = cfg, collection_files

    def expand(self, pbegin):
        cfg = self.cfg
        collection = pbegin | ReadCollection(self.collection_files, cfg.fix_mojibake, cfg.max_line_bytes, cfg.rejects)
        parse_query = functools.partial(parse_collection_line, fmt="tsv", fix=cfg.fix_mojibake)
        parsed = {role: read_lines_stage(pbegin, role, [(path, parse)], cfg.max_line_bytes, cfg.rejects)
                  for role, path, parse in (("queries", cfg.queries, parse_query), ("qrels", cfg.qrels, parse_relevant_qrels))}
        pairs, join_stats, join_rejects = join_msmarco(collection["out"], parsed["queries"]["out"],
                                                       parsed["qrels"]["out"], cfg.rejects)
        stats = [collection[STATS]] + [parsed[r][STATS] for r in parsed] + join_stats
        rejects = [collection[REJECTS]] + [parsed[r][REJECTS] for r in parsed] + join_rejects
        return {"out": pairs, STATS: stats | "FlattenStats" >> beam.Flatten(),
                REJECTS: rejects | "FlattenRejects" >> beam.Flatten()}


class PairsFromCorpus(beam.PTransform):
    """Corpus Parquet files -> mined Pairs, boilerplate headings dropped (stages mine, headings)."""

    def __init__(self, cfg: PairsConfig, files: list[str], columns: list[str]) -> None:
        super().__init__(label="mined_pairs")
        self.cfg, self.files, self.columns = cfg, files, columns

    def expand(self, pbegin):
        rows = (pbegin | "CorpusFiles" >> beam.Create(self.files)
                | "ReadCorpus" >> beam.io.ReadAllFromParquet(columns=self.columns))
        pairs, stats, rejects = mine_corpus(rows, self.cfg.mining, self.cfg.max_query_docs, self.cfg.rejects)
        return {"out": pairs, STATS: stats | "FlattenStats" >> beam.Flatten(),
                REJECTS: rejects | "FlattenRejects" >> beam.Flatten()}


class CountWritten(ApplyStep):
    """Pairs -> the same pairs, counted as the ``write`` stage (``count:heldout``)."""

    def __init__(self, fraction: float, seed: int) -> None:
        super().__init__("write", functools.partial(count_written, fraction=fraction, seed=seed))


class WritePairs(beam.PTransform):
    """Pairs -> pairs/train JSONL, and with a held-out fraction heldout/ pairs, queries.tsv and
    qrels.tsv; returns {name: described files} (each one list)."""

    def __init__(self, output: str, fraction: float, seed: int) -> None:
        super().__init__(label="write_pairs")
        self.output, self.fraction, self.seed = output, fraction, seed

    def expand(self, kept):
        output, fraction, seed = self.output, self.fraction, self.seed
        train = kept | "Train" >> beam.Filter(lambda pr: not is_heldout(pr.split_key, fraction, seed))
        files = {"pairs": write_lines(train | "TrainJson" >> beam.Map(_pair_line), output, "pairs/train", "Train")}
        if fraction > 0:
            held = kept | "Heldout" >> beam.Filter(lambda pr: is_heldout(pr.split_key, fraction, seed))
            files["heldout"] = write_lines(held | "HeldJson" >> beam.Map(_pair_line), output, "heldout/pairs",
                                           "HeldPairs")
            qlines = (held | "QueryLines" >> beam.Map(lambda pr: f"{pr.qid}\t{' '.join(pr.query.split())}")
                      | "DistinctQueries" >> beam.Distinct())
            files["heldout_queries"] = write_lines(qlines, output, "heldout/queries.tsv", "Queries", True)
            rlines = (held | "QrelLines" >> beam.Map(lambda pr: f"{pr.qid}\t0\t{pr.pid}\t1")
                      | "DistinctQrels" >> beam.Distinct())
            files["heldout_qrels"] = write_lines(rlines, output, "heldout/qrels.tsv", "Qrels", True)
        return files


class WritePassages(beam.PTransform):
    """Mined pairs -> their passages as a corpus (id = pid) under output/passages/data/; the described files."""

    def __init__(self, output: str) -> None:
        super().__init__(label="write_passages")
        self.output = output

    def expand(self, pairs):
        from pipeline.schema import CORPUS_SCHEMA

        return (
            pairs | "PassageRows" >> beam.Map(_passage_row)
            | "WritePassages" >> beam.io.WriteToParquet(
                beam_io.join(self.output, "passages", "data", "part"), CORPUS_SCHEMA, codec="zstd",
                file_name_suffix=".parquet", shard_name_template="-SSSSS-of-NNNNN")
            | "DescribePassages" >> beam.Map(beam_io.describe_parquet, relative_to=self.output)
            | "ListPassages" >> beam.combiners.ToList()
        )


def build_pairs(p: beam.Pipeline, cfg: PairsConfig, inputs: list[dict], columns: list[str] | None) -> None:
    """Compose the pairs job on pipeline ``p``; its last step writes stats.json and manifest.json."""
    paths = [f["path"] for f in inputs]
    if cfg.input:
        found = p | PairsFromCorpus(cfg, paths, columns)
    else:
        found = p | PairsFromMsmarco(cfg, paths[:-2])  # the last two inputs are the queries and qrels
    written = found["out"] | CountWritten(cfg.heldout_fraction, cfg.seed)
    files = written["out"] | WritePairs(cfg.output, cfg.heldout_fraction, cfg.seed)
    if cfg.input:
        files["passages"] = written["out"] | WritePassages(cfg.output)
    if cfg.rejects:
        files["rejects"] = write_rejects(found[REJECTS], cfg.output)
    finalize(p, _write_report, output=cfg.output, config=cfg.as_dict(), inputs=inputs,
             stages=MINED_STAGES if cfg.input else MSMARCO_STAGES,
             stats=summed_stats([found[STATS], written[STATS]]), **files)


def run_pairs(cfg: PairsConfig, beam_args: list[str], overwrite: bool = False, quiet: bool = False,
              verbose: bool = False) -> dict | None:
    """Check the inputs, run the pairs pipeline, print the summary; return the stats report (None
    when only submitted, with --no_wait_until_finish)."""
    beam_args = prepare_beam_args(beam_args, verbose)
    inputs, columns = resolve_inputs(cfg)
    prepare_named_outputs(cfg.output, OUTPUTS, overwrite)
    return drive(PipelineJob("doc2query-pairs", cfg.output, build=lambda p: build_pairs(p, cfg, inputs, columns),
                             summary=lambda report, seconds: _print_summary(cfg, report, seconds)), beam_args, quiet,
                 input_bytes=sum(f["bytes"] for f in inputs))


def _print_summary(cfg: PairsConfig, report: dict, seconds: float) -> None:
    print()
    print(render_table(report))
    rows = report.get("files", {})
    print(f"\nwrote {rows.get('pairs', 0)} training pairs to {cfg.output}/pairs"
          + (f", {rows.get('heldout', 0)} held-out pairs to {cfg.output}/heldout" if cfg.heldout_fraction > 0 else "")
          + (f", {rows.get('passages', 0)} passages to {cfg.output}/passages" if cfg.input else "")
          + f" in {seconds:.1f}s")


def _pair_line(pair) -> str:
    return json.dumps(pair.to_json(), ensure_ascii=False)


def _passage_row(pair) -> dict:
    return Document(id=pair.pid, text=pair.passage, source=pair.source,
                    meta={"doc_id": pair.split_key, "heading": pair.query, "qid": pair.qid}).to_row()


def _write_report(output, config, inputs, stages, stats, **files) -> None:
    from pipeline.manifest import build_manifest

    report = build_report(stats, stages)
    report["job"] = "doc2query-pairs"
    report["files"] = {name: sum(f["rows"] for f in described) for name, described in files.items()}
    beam_io.write_json_atomic(beam_io.join(output, "stats.json"), report)
    data = [f for name, described in files.items() if name != "rejects" for f in described]
    beam_io.write_json_atomic(beam_io.join(output, "manifest.json"),
                              build_manifest("doc2query-pairs", config, inputs, data, files.get("rejects")))


def main(args: argparse.Namespace, beam_args: list[str]) -> int:
    configure_logging(args.verbose)
    report = run_pairs(config_from_args(args), beam_args, overwrite=args.overwrite, verbose=args.verbose)
    files = (report or {}).get("files", {})
    return nothing_written(report, files.get("pairs", 0) + files.get("heldout", 0), "pairs")


JOB = Job("doc2query-pairs", "(passage, query) training pairs: MS MARCO files or mined headings", DESCRIPTION,
          add_arguments, main)

"""The doc2query jobs: ``doc2query-pairs`` (training pairs), ``doc2query`` (expansion), ``doc2query-eval``.

See docs/doc2query.md. The pairs and expansion jobs are Beam pipelines; the evaluation
indexes both collections with bm25s in one process.
"""

from __future__ import annotations

import argparse
import codecs
import functools
import json
import os
import shutil
import sys
import tempfile

import apache_beam as beam
from apache_beam import coders

from corpora.doc2query.collection import CollectionError, collection_files, line_format, parse_collection_line
from corpora.doc2query.expand import ExpandConfig, anserini_record, attach_queries, passage_prompt
from corpora.doc2query.pairs import MAX_LINE_BYTES, MiningConfig, is_heldout, parse_qrels
from corpora.doc2query.passages import PassageConfig
from corpora.doc2query.precomputed import is_precomputed
from corpora.doc2query.transforms import (
    AssembleDocuments,
    DedupeRows,
    ParseLines,
    PrecomputedQueries,
    SplitDocuments,
    join_msmarco,
    mine_corpus,
    rows_with_text,
)
from pipeline import beam_io
from pipeline.beam_steps import CorpusRun, finalize, summed_stats
from pipeline.generation import GenerationConfig, GeneratorError, check_generator_spec
from pipeline.jobs import (
    Job,
    Timer,
    UsageError,
    configure_logging,
    make_pipeline,
    prepare_beam_args,
    prepare_named_outputs,
    prepare_output,
    print_summary,
)
from pipeline.records import Document
from pipeline.stats import build_report, render_table

CORPUS_COLUMNS = ("id", "text", "source", "url", "lang", "lang_score", "meta")


# ---------------------------------------------------------------------------------------------
# shared helpers


def _corpus_inputs(paths: list[str], flag: str) -> tuple[list[dict], list[str]]:
    """Parquet files of corpus directories (or globs) with sizes, and the corpus columns they share;
    a corpus without a row is refused (read from the files' footers, before any work)."""
    import pyarrow.parquet as pq

    from corpora.tokenize import checked_corpus_files

    files = checked_corpus_files(paths, flag)
    rows = 0
    for i, f in enumerate(files):
        with beam_io.FileSystems.open(f) as fh:
            meta = pq.ParquetFile(fh)
            rows += meta.metadata.num_rows
            if i == 0:
                names = set(meta.schema_arrow.names)
    if not rows:
        raise UsageError(f"{flag} {' '.join(paths)}: the corpus has no rows")
    columns = [c for c in CORPUS_COLUMNS if c in names]
    described = beam_io.match_inputs(files)  # sizes from the file system's listing (no read of the data)
    return described, columns


def _collection_inputs(path: str, flag: str) -> list[dict]:
    """The collection files of ``path`` (a file or a folder of them) with sizes; an empty one is refused."""
    try:
        files = collection_files(path, flag)
        described = beam_io.match_inputs(files)
    except (CollectionError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    _refuse_empty(described, flag)
    return described


def _refuse_empty(described: list[dict], flag: str) -> None:
    """A UsageError when every file of an input is empty (0 bytes): the job would write nothing."""
    if described and not any(f["bytes"] for f in described):
        raise UsageError(f"{flag} {', '.join(f['path'] for f in described)}: empty input (0 bytes)")


def _read_collection(p, files: list[str], fix: bool, max_line_bytes: int, keep_rejects: bool):
    """The (id, text) lines of collection files (TSV or JSONL each by its name), as one stage
    ``collection``: returns (out, stats list, rejects list)."""
    outs, stats, rejects = [], [], []
    for i, path in enumerate(files):
        parse = functools.partial(parse_collection_line, fmt=line_format(path), fix=fix)
        lines = p | f"Read_collection_{i}" >> beam.io.ReadFromText(path, coder=coders.BytesCoder())
        parsed = lines | f"Parse_collection_{i}" >> ParseLines("collection", parse, max_line_bytes, keep_rejects)
        outs.append(parsed["out"])
        stats.append(parsed["stats"])
        rejects.append(parsed["rejects"])
    return outs | "FlattenCollection" >> beam.Flatten(), stats, rejects


def _write_lines(pcoll, output: str, rel: str, label: str, single: bool = False):
    """Write text lines under ``output/rel`` (Beam writes temporary files, then renames) and
    return the described files as one list."""
    prefix = beam_io.join(output, rel)
    if single:
        written = pcoll | f"Write{label}" >> beam.io.WriteToText(prefix, num_shards=1, shard_name_template="")
    else:
        written = pcoll | f"Write{label}" >> beam.io.WriteToText(prefix, file_name_suffix=".jsonl",
                                                                  shard_name_template="-SSSSS-of-NNNNN")
    return (written | f"Describe{label}" >> beam.Map(beam_io.describe_lines, relative_to=output)
            | f"List{label}" >> beam.combiners.ToList())


def _unescape(value: str) -> str:
    """``--separator '\\n\\n'`` on a shell gives backslashes: read them as escapes."""
    try:
        return codecs.decode(value, "unicode_escape")
    except UnicodeDecodeError as exc:
        raise UsageError(f"--separator {value!r}: bad escape sequence ({exc})") from exc


# ---------------------------------------------------------------------------------------------
# doc2query-pairs

PAIRS_DESCRIPTION = """\
Write (passage, query) training pairs as JSONL for a query generator, from either

* MS MARCO-format files: --collection (pid<TAB>passage, or JSONL {id, contents}, .gz ok,
  or a folder of them; pids kept), --queries (qid<TAB>query) and --qrels (qid<TAB>0<TAB>pid<TAB>rel,
  or qid<TAB>pid); --fix-mojibake repairs MS MARCO's mojibake (ftfy); or
* our own corpora (--corpus DIR, repeatable), mined without labels: a page's title or
  section headings paired with the passage under them. This is a noisy heuristic (see
  docs/doc2query.md): headings shared by many documents are dropped as boilerplate.

With --heldout-fraction F, a deterministic fraction of queries (with all their judgements; of
documents, for mined pairs) goes to DIR/heldout/ instead, with queries.tsv and qrels.tsv for
doc2query-eval. A repeated passage or query id keeps one copy (see docs/doc2query.md), counted.
Mined runs also write every mined passage as a corpus (DIR/passages/) to expand and index.

examples:
  python beam_runner.py doc2query-pairs --collection collection.tsv --queries queries.train.tsv \\
      --qrels qrels.train.tsv --output out/d2q-pairs
  python beam_runner.py doc2query-pairs --corpus out/web --heldout-fraction 0.1 --output out/web-pairs"""

PAIRS_OUTPUTS = ("pairs", "heldout", "passages", "rejects", "stats.json", "manifest.json")


def add_pairs_arguments(parser: argparse.ArgumentParser) -> None:
    ms = parser.add_argument_group("MS MARCO-format input")
    ms.add_argument("--collection", metavar="FILE|DIR",
                    help="pid<TAB>passage lines or JSONL {id, contents} (local, gs://, s3://; .gz ok; a folder of them)")
    ms.add_argument("--fix-mojibake", action="store_true",
                    help="repair UTF-8 read as Latin-1 in passages and queries (MS MARCO's; ftfy)")
    ms.add_argument("--queries", metavar="TSV", help="qid<TAB>query lines")
    ms.add_argument("--qrels", metavar="FILE", help="qid 0 pid rel (TREC) or qid pid lines")
    mined = parser.add_argument_group("mined from our corpora (noisy heuristics)")
    mined.add_argument("--corpus", action="append", metavar="DIR", help="corpus directory (repeatable)")
    d = MiningConfig()
    mined.add_argument("--max-heading-words", type=int, default=d.max_heading_words,
                       help="longest heading, in words (default: %(default)s)")
    mined.add_argument("--min-passage-words", type=int, default=d.min_passage_words,
                       help="shortest passage paired with a heading (default: %(default)s)")
    mined.add_argument("--pairs-per-section", type=int, default=d.pairs_per_section,
                       help="sentence windows under a heading paired with it (default: %(default)s)")
    mined.add_argument("--max-query-docs", type=int, default=10,
                       help="drop a heading that heads more documents than this (boilerplate; 0: keep all; "
                            "default: %(default)s)")
    mined.add_argument("--window", type=int, default=PassageConfig().window, help="sentences per passage (default: %(default)s)")
    mined.add_argument("--stride", type=int, default=PassageConfig().stride, help="sentences between windows (default: %(default)s)")
    out = parser.add_argument_group("output")
    out.add_argument("--output", required=True, metavar="DIR", help="output directory")
    out.add_argument("--heldout-fraction", type=float, default=0.0,
                     help="fraction of queries (mined: documents) held out for evaluation (default: %(default)s)")
    out.add_argument("--seed", type=int, default=0, help="seed of the held-out hash (default: %(default)s)")
    out.add_argument("--max-line-bytes", type=int, default=MAX_LINE_BYTES, help="longest TSV line (default: %(default)s)")
    out.add_argument("--rejects", action="store_true", help="also write dropped lines and documents to DIR/rejects/")
    out.add_argument("--overwrite", action="store_true", help="replace outputs of an earlier run in DIR")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")


def _pair_line(pair) -> str:
    return json.dumps(pair.to_json(), ensure_ascii=False)


def _check_pairs_args(args: argparse.Namespace) -> MiningConfig | None:
    msmarco = [args.collection, args.queries, args.qrels]
    if args.corpus and any(msmarco):
        raise UsageError("give either MS MARCO files (--collection/--queries/--qrels) or --corpus, not both")
    if not args.corpus and not all(msmarco):
        missing = [f for f, v in zip(("--collection", "--queries", "--qrels"), msmarco, strict=True) if not v]
        raise UsageError(f"MS MARCO input needs --collection, --queries and --qrels (missing {', '.join(missing)}); "
                         "or mine pairs from a corpus with --corpus DIR")
    if not 0.0 <= args.heldout_fraction < 1.0:
        raise UsageError("--heldout-fraction must be in [0, 1)")
    if args.max_line_bytes < 1:
        raise UsageError("--max-line-bytes must be positive")
    if args.max_query_docs < 0:
        raise UsageError("--max-query-docs must be 0 (keep all) or more")
    if not args.corpus:
        for flag, path in (("--queries", args.queries), ("--qrels", args.qrels)):
            if not beam_io.FileSystems.exists(path):
                raise UsageError(f"{flag} {path}: no such file")
        _collection_inputs(args.collection, "--collection")
        return None
    try:
        return MiningConfig(max_heading_words=args.max_heading_words, min_passage_words=args.min_passage_words,
                            pairs_per_section=args.pairs_per_section,
                            passage=PassageConfig(args.window, args.stride))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def run_pairs(args: argparse.Namespace, beam_args: list[str], quiet: bool = False) -> dict:
    """Validate, run the pairs pipeline, print the summary; return the stats report."""
    beam_args = prepare_beam_args(beam_args, getattr(args, "verbose", False))
    mining = _check_pairs_args(args)
    output = args.output.rstrip("/")
    if args.corpus:
        inputs, columns = _corpus_inputs(args.corpus, "--corpus")
    else:
        inputs = _collection_inputs(args.collection, "--collection")
        for flag, path in (("--queries", args.queries), ("--qrels", args.qrels)):
            described = beam_io.match_inputs([path])
            _refuse_empty(described, flag)
            inputs += described
    prepare_named_outputs(output, PAIRS_OUTPUTS, args.overwrite)
    config = {k: v for k, v in vars(args).items() if k not in ("overwrite", "verbose")}
    fraction, seed = args.heldout_fraction, args.seed
    with Timer() as t:
        with make_pipeline(beam_args) as p:
            if mining is not None:
                stages = ["mine", "headings", "write"]
                rows = (p | "CorpusFiles" >> beam.Create([f["path"] for f in inputs])
                        | "ReadCorpus" >> beam.io.ReadAllFromParquet(columns=columns))
                pairs, stats, rejects = mine_corpus(rows, mining, args.max_query_docs, args.rejects)
            else:
                stages = ["collection", "queries", "qrels", "collection_ids", "query_ids", "join", "write"]
                collection, stats, rejects = _read_collection(
                    p, [f["path"] for f in inputs[:-2]], args.fix_mojibake, args.max_line_bytes, args.rejects)
                parsed = {}
                parse_query = functools.partial(parse_collection_line, fmt="tsv", fix=args.fix_mojibake)
                for role, path, parse in (("queries", args.queries, parse_query), ("qrels", args.qrels, parse_qrels)):
                    lines = p | f"Read_{role}" >> beam.io.ReadFromText(path, coder=coders.BytesCoder())
                    parsed[role] = lines | f"Parse_{role}" >> ParseLines(role, parse, args.max_line_bytes,
                                                                         args.rejects)
                pairs, join_stats, join_rejects = join_msmarco(collection, parsed["queries"]["out"],
                                                               parsed["qrels"]["out"], args.rejects)
                stats += [parsed[r]["stats"] for r in parsed] + join_stats
                rejects += [parsed[r]["rejects"] for r in parsed] + join_rejects
            counted = pairs | "CountWritten" >> beam.Map(_count_write, fraction=fraction, seed=seed)
            stats.append(counted | "WriteStats" >> beam.FlatMap(lambda e: e[1]))
            kept = counted | "Pairs" >> beam.Map(lambda e: e[0])
            train = kept | "Train" >> beam.Filter(lambda pr: not is_heldout(pr.split_key, fraction, seed))
            files = {"pairs": _write_lines(train | "TrainJson" >> beam.Map(_pair_line), output, "pairs/train",
                                           "Train")}
            if fraction > 0:
                held = kept | "Heldout" >> beam.Filter(lambda pr: is_heldout(pr.split_key, fraction, seed))
                files["heldout"] = _write_lines(held | "HeldJson" >> beam.Map(_pair_line), output,
                                                "heldout/pairs", "HeldPairs")
                qlines = (held | "QueryLines" >> beam.Map(lambda pr: f"{pr.qid}\t{' '.join(pr.query.split())}")
                          | "DistinctQueries" >> beam.Distinct())
                files["heldout_queries"] = _write_lines(qlines, output, "heldout/queries.tsv", "Queries", True)
                rlines = (held | "QrelLines" >> beam.Map(lambda pr: f"{pr.qid}\t0\t{pr.pid}\t1")
                          | "DistinctQrels" >> beam.Distinct())
                files["heldout_qrels"] = _write_lines(rlines, output, "heldout/qrels.tsv", "Qrels", True)
            if mining is not None:
                files["passages"] = _write_passages(kept, output)
            if args.rejects:
                files["rejects"] = _write_rejects(rejects, output)
            finalize(p, _write_pairs_report, output=output, config=config, inputs=inputs, stages=stages,
                     stats=summed_stats(stats), **files)
    report = beam_io.read_json(beam_io.join(output, "stats.json"))
    if not quiet:
        print()
        print(render_table(report))
        rows = report.get("files", {})
        print(f"\nwrote {rows.get('pairs', 0)} training pairs to {output}/pairs"
              + (f", {rows.get('heldout', 0)} held-out pairs to {output}/heldout" if fraction > 0 else "")
              + (f", {rows.get('passages', 0)} passages to {output}/passages" if mining is not None else "")
              + f" in {t.seconds:.1f}s")
    return report


def _count_write(pair, fraction: float, seed: int):
    """Pass a pair through, with its ``write`` stage counts as a second value."""
    counts = [(("write", "in"), 1), (("write", "out"), 1)]
    if is_heldout(pair.split_key, fraction, seed):
        counts.append((("write", "count:heldout"), 1))
    return pair, counts


def _write_passages(pairs, output: str):
    """The mined passages as a corpus (id = pid) under output/passages/data/."""
    from pipeline.schema import CORPUS_SCHEMA

    def to_row(pair):
        doc_id = pair.split_key
        return Document(id=pair.pid, text=pair.passage, source=pair.source,
                        meta={"doc_id": doc_id, "heading": pair.query, "qid": pair.qid}).to_row()

    passages_dir = beam_io.join(output, "passages")
    return (
        pairs | "PassageRows" >> beam.Map(to_row)
        | "WritePassages" >> beam.io.WriteToParquet(
            beam_io.join(passages_dir, "data", "part"), CORPUS_SCHEMA, codec="zstd", file_name_suffix=".parquet",
            shard_name_template="-SSSSS-of-NNNNN")
        | "DescribePassages" >> beam.Map(beam_io.describe_parquet, relative_to=output)
        | "ListPassages" >> beam.combiners.ToList()
    )


def _write_rejects(rejects: list, output: str):
    """Dropped lines and documents with their stage and reason, as Parquet under output/rejects/."""
    from pipeline.schema import REJECTS_SCHEMA

    return (
        rejects | "FlattenRejects" >> beam.Flatten()
        | "WriteRejects" >> beam.io.WriteToParquet(
            beam_io.join(output, "rejects", "part"), REJECTS_SCHEMA, codec="zstd", file_name_suffix=".parquet",
            shard_name_template="-SSSSS-of-NNNNN")
        | "DescribeRejects" >> beam.Map(beam_io.describe_parquet, relative_to=output)
        | "ListRejects" >> beam.combiners.ToList()
    )


def _write_pairs_report(output, config, inputs, stages, stats, **files) -> None:
    from pipeline.manifest import build_manifest

    report = build_report(stats, stages)
    report["job"] = "doc2query-pairs"
    report["files"] = {name: sum(f["rows"] for f in described) for name, described in files.items()}
    beam_io.write_json_atomic(beam_io.join(output, "stats.json"), report)
    data = [f for name, described in files.items() if name != "rejects" for f in described]
    beam_io.write_json_atomic(beam_io.join(output, "manifest.json"),
                              build_manifest("doc2query-pairs", config, inputs, data, files.get("rejects")))


def pairs_main(args: argparse.Namespace, beam_args: list[str]) -> int:
    configure_logging(args.verbose)
    report = run_pairs(args, beam_args)
    files = report.get("files", {})
    return _nothing_written(report, files.get("pairs", 0) + files.get("heldout", 0), "pairs")


def _nothing_written(report: dict, written: int, what: str) -> int:
    """Exit status of a finished run: 1, with the reason on stderr, when it wrote no record."""
    if written:
        return 0
    dropped = {k: v for s in report.get("stages", []) for k, v in s.get("dropped", {}).items()}
    reasons = ", ".join(f"{k}={v}" for k, v in sorted(dropped.items())) or "no input record"
    print(f"error: no {what} written: every input record was dropped ({reasons}); see stats.json", file=sys.stderr)
    return 1


# ---------------------------------------------------------------------------------------------
# doc2query (expansion)

EXPAND_DESCRIPTION = """\
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


def add_expand_arguments(parser: argparse.ArgumentParser) -> None:
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
    io.add_argument("--rejects", action="store_true", help="also write dropped documents to DIR/rejects/")
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
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")


def expand_configs(args: argparse.Namespace) -> tuple[ExpandConfig, GenerationConfig | None]:
    """Validate the expansion flags into configs (UsageError names the flag); no generation
    config for precomputed queries."""
    precomputed = is_precomputed(args.generator)
    num_queries = args.num_queries if args.num_queries is not None else (0 if precomputed else 5)
    if args.num_queries is not None and args.num_queries < 1:
        raise UsageError(f"--num-queries must be at least 1 (got {args.num_queries})")
    try:
        passage = PassageConfig(args.window, args.stride, args.max_passages)
        expand = ExpandConfig(num_queries, _unescape(args.separator), passage)
        if precomputed:
            return expand, None
        beam_search = args.decode == "beam"
        gen = GenerationConfig(
            max_input_tokens=args.max_input_tokens, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size,
            do_sample=not beam_search, top_k=None if beam_search else args.top_k, temperature=args.temperature,
            num_beams=num_queries if beam_search else 1, num_return_sequences=num_queries,
            seed=args.seed, device=args.device)
    except ValueError as exc:
        raise UsageError(str(exc).replace("generation: ", "")) from exc
    try:
        check_generator_spec(args.generator)
    except GeneratorError as exc:
        raise UsageError(f"--generator: {exc}") from exc
    return expand, gen


def _expand_inputs(args: argparse.Namespace) -> tuple[list[dict], list[str] | None]:
    """(described input files, Parquet columns or None for a --collection), checked before any work."""
    if bool(args.input) == bool(args.collection):
        raise UsageError("give the passages as --input CORPUS_DIR (repeatable) or --collection FILE|DIR, one of them")
    if args.max_line_bytes < 1:
        raise UsageError("--max-line-bytes must be positive")
    if args.collection:
        return _collection_inputs(args.collection, "--collection"), None
    return _corpus_inputs(args.input, "--input")


def _precomputed_files(args: argparse.Namespace, inputs: list[dict], columns: list[str] | None,
                       work: str) -> tuple[list[str], dict]:
    """Check precomputed queries against the collection (count and ids) before any work; returns
    the keyed JSONL files the pipeline reads (line-aligned files are zipped with the collection's
    ids into ``work``) and their counts."""
    from corpora.doc2query import precomputed as pc

    try:
        pre = pc.parse_spec(args.generator)
        if columns is None:
            ids = pc.collection_ids([f["path"] for f in inputs], args.fix_mojibake)
        elif not pre.keyed:
            raise pc.PrecomputedError("line-per-passage predictions are aligned with a collection's line order: "
                                      "give the passages as --collection FILE (or use JSONL {id, predicted_queries})")
        else:
            ids = _corpus_ids(inputs)
        if pre.keyed:
            return list(pre.files), pc.check_keyed(pre, ids)
        aligned = os.path.join(work, "precomputed-queries.jsonl")
        return [aligned], pc.align_lines(pre, ids, aligned)
    except pc.PrecomputedError as exc:
        raise UsageError(f"--generator: {exc}") from exc


def _corpus_ids(inputs: list[dict]):
    """The ids of corpus rows that have text (the rows the expansion keeps)."""
    import pyarrow.parquet as pq

    for f in inputs:
        with beam_io.FileSystems.open(f["path"]) as fh:
            table = pq.read_table(fh, columns=["id", "text"])
        for pid, text in zip(table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True):
            if pid and text and text.strip():
                yield pid


def run_expand(args: argparse.Namespace, beam_args: list[str], quiet: bool = False) -> dict:
    """Validate, run the expansion pipeline, print the summary; return the stats report."""

    beam_args = prepare_beam_args(beam_args, getattr(args, "verbose", False))
    for name, default in (("collection", None), ("fix_mojibake", False), ("max_line_bytes", MAX_LINE_BYTES)):
        if not hasattr(args, name):  # callers that build the Namespace themselves (the demo)
            setattr(args, name, default)
    expand, gen = expand_configs(args)
    if args.num_shards < 0:
        raise UsageError("--num-shards must be 0 (runner decides) or more")
    inputs, columns = _expand_inputs(args)
    output = args.output.rstrip("/")
    work = tempfile.mkdtemp(prefix="d2q-precomputed-")  # line-aligned queries zipped with the collection's ids
    try:
        predictions, predicted = _precomputed_files(args, inputs, columns, work) if gen is None else ([], {})
        prepare_output(output, args.overwrite)
        prepare_named_outputs(output, ("anserini",), args.overwrite)
        return _expand_pipeline(args, beam_args, expand, gen, inputs, columns, output, predictions, predicted, quiet)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _expand_pipeline(args, beam_args, expand, gen, inputs, columns, output, predictions, predicted, quiet) -> dict:
    """The expansion pipeline itself, once every input has been checked."""
    from pipeline.beam_generation import GenerateText

    config = {"inputs": list(args.input or [args.collection]), "generator": args.generator, "expand": {
        "num_queries": expand.num_queries, "separator": expand.separator, "window": expand.passage.window,
        "stride": expand.passage.stride, "max_passages": expand.passage.max_passages},
        "generation": gen.as_dict() if gen else {"precomputed": predicted}, "fix_mojibake": args.fix_mojibake}
    if not quiet:
        per = f"{expand.num_queries or 'all'} queries per passage"
        print(f"doc2query: {len(inputs)} {'collection' if columns is None else 'corpus'} file(s) -> {output}, "
              f"{per} with {args.generator}", flush=True)
    with Timer() as t:
        with make_pipeline(beam_args) as p:
            run = CorpusRun(p, output, job="doc2query", config=config, inputs=inputs, keep_rejects=args.rejects,
                            num_shards=args.num_shards)
            if columns is None:
                run.stage_order.append("collection")
                lines, stats, rejects = _read_collection(p, [f["path"] for f in inputs], args.fix_mojibake,
                                                         args.max_line_bytes, args.rejects)
                run._stats += stats
                run._rejects += rejects
                rows = lines | "CollectionRows" >> beam.Map(lambda e: {"id": e[0], "text": e[1], "source": "collection"})
            else:
                rows = (p | "CorpusFiles" >> beam.Create([f["path"] for f in inputs])
                        | "ReadCorpus" >> beam.io.ReadAllFromParquet(columns=columns))
            rows = run.apply("dedupe", rows, DedupeRows(args.rejects))
            if gen is None:
                pred_lines = (p | "PredictionFiles" >> beam.Create(predictions)
                              | "ReadPredictions" >> beam.io.ReadAllFromText(coder=coders.BytesCoder()))
                queries = run.apply("generate", pred_lines, PrecomputedQueries(expand.num_queries, args.rejects))
            else:
                passages = run.apply("split", rows, SplitDocuments(expand, args.rejects))
                queries = run.apply("generate", passages, GenerateText(
                    "generate", args.generator, gen, passage_prompt, attach_queries, args.rejects))
            docs = run.apply("expand", {"doc": rows_with_text(rows), "queries": queries},
                             AssembleDocuments(expand, args.generator, args.rejects))
            if args.anserini:
                lines = docs | "AnseriniJson" >> beam.Map(lambda d: anserini_record({"id": d.id, "text": d.text}))
                _ = lines | "WriteAnserini" >> beam.io.WriteToText(
                    beam_io.join(output, "anserini", "docs"), file_name_suffix=".jsonl",
                    shard_name_template="-SSSSS-of-NNNNN")
            run.write(docs)
        if args.anserini:
            anserini = [m["path"] for m in beam_io.match_inputs([beam_io.join(output, "anserini", "*.jsonl")])]
            beam_io.add_manifest_outputs(output, "anserini", anserini)
    report = beam_io.read_json(beam_io.join(output, "stats.json"))
    if not quiet:
        print_summary("doc2query", output, report, t.seconds, inputs)
        if args.anserini:
            print(f"anserini JsonCollection: {output}/anserini/ (index with pyserini.index.lucene "
                  f"--collection JsonCollection --input {output}/anserini ...)")
    return report


def expand_main(args: argparse.Namespace, beam_args: list[str]) -> int:
    configure_logging(args.verbose)
    report = run_expand(args, beam_args)
    return _nothing_written(report, report["stages"][-1]["out"] if report["stages"] else 0, "documents")


# ---------------------------------------------------------------------------------------------
# doc2query-eval

EVAL_DESCRIPTION = """\
BM25 retrieval over the original and the expanded passages, side by side: MRR@10,
Recall@100 and Recall@1000 on your held-out queries (bm25s, Anserini's k1=0.9, b=0.4 by
default). Collections: corpus directories, collection TSV (pid<TAB>text) or JSONL
(Anserini id/contents). Runs in one process (the index is in memory), not on a Beam runner.

examples:
  python beam_runner.py doc2query-eval --corpus collection.tsv --expanded out/d2q/anserini \\
      --queries queries.dev.small.tsv --qrels qrels.dev.small.tsv
  python beam_runner.py doc2query-eval --corpus out/pairs/passages --expanded out/passages-d2q \\
      --queries out/pairs/heldout/queries.tsv --qrels out/pairs/heldout/qrels.tsv --report eval.json"""


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", required=True, metavar="ORIGINAL", help="the original passages")
    parser.add_argument("--expanded", required=True, metavar="EXPANDED", help="the expanded passages (same ids)")
    parser.add_argument("--queries", required=True, metavar="TSV", help="qid<TAB>query (held-out queries)")
    parser.add_argument("--qrels", required=True, metavar="FILE", help="qid 0 pid rel, or qid pid")
    parser.add_argument("--k1", type=float, default=0.9, help="BM25 k1 (default: %(default)s)")
    parser.add_argument("--b", type=float, default=0.4, help="BM25 b (default: %(default)s)")
    parser.add_argument("--stopwords", choices=("en", "none"), default="en", help="stop word list (default: en)")
    parser.add_argument("--fix-mojibake", action="store_true",
                        help="repair UTF-8 read as Latin-1 in passages and queries (MS MARCO's; ftfy)")
    parser.add_argument("--report", metavar="FILE.json", help="also write the report as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")


def run_eval(args: argparse.Namespace, quiet: bool = False) -> dict:
    """Read everything and check the task (errors before any indexing), run both BM25 runs, print the table."""
    from corpora.doc2query.evaluate import (
        EvalInputError,
        build_task,
        check_task,
        compare,
        read_collection,
        read_qrels,
        read_queries,
        render_comparison,
    )

    if args.k1 < 0 or not 0 <= args.b <= 1:
        raise UsageError("--k1 must be >= 0 and --b in [0, 1]")
    fix = getattr(args, "fix_mojibake", False)
    try:
        queries, q_skipped = read_queries(args.queries, fix)
        qrels, r_skipped = read_qrels(args.qrels)
        original = read_collection(args.corpus, fix, "--corpus")
        expanded = read_collection(args.expanded, fix, "--expanded")
        check_task(build_task(original.texts, queries, qrels), original.texts, expanded.texts)
    except EvalInputError as exc:
        raise UsageError(str(exc)) from exc
    with Timer() as t:
        report = compare(original.texts, expanded.texts, queries, qrels, args.k1, args.b,
                         None if args.stopwords == "none" else "en")
    report["skipped_lines"] = {"queries": dict(q_skipped), "qrels": dict(r_skipped),
                               "corpus": dict(original.skipped), "expanded": dict(expanded.skipped)}
    report["seconds"] = round(t.seconds, 2)
    if args.report:
        beam_io.write_json_atomic(args.report, report)
    if not quiet:
        print(render_comparison(report))
        bad = {f"{k} ({name})": v for name, c in report["skipped_lines"].items() for k, v in c.items()}
        if bad:
            print("skipped lines: " + ", ".join(f"{k}={v}" for k, v in sorted(bad.items())))
        print(f"evaluated in {t.seconds:.1f}s" + (f"; report: {args.report}" if args.report else ""))
    return report


def eval_main(args: argparse.Namespace, beam_args: list[str]) -> dict:
    configure_logging(args.verbose)
    if beam_args:
        raise UsageError(f"unknown option(s): {' '.join(beam_args)} (doc2query-eval runs in one process)")
    return run_eval(args)


# ---------------------------------------------------------------------------------------------
# doc2query-train

TRAIN_DESCRIPTION = """\
Train the bundled query generator on doc2query-pairs output: every pair becomes one document
"passage <|sep|> query", a byte-level BPE tokenizer with <|sep|> is trained (or --tokenizer
reused), the tokenize job writes token shards, and the bundled trainer runs with
objective=prefix-lm (loss on the query only). key=value arguments go to the trainer. The run
directory is used as --generator native:RUN_DIR by the doc2query job. See docs/doc2query.md.

examples:
  python beam_runner.py doc2query-train --pairs out/d2q-pairs --output runs/d2q
  python beam_runner.py doc2query-train --pairs out/d2q-pairs --output runs/d2q max_steps=2000 lr=1e-3"""


def train_main(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Check the Beam options (used by the tokenize step), then train; errors are UsageErrors."""
    from corpora.doc2query.train_generator import TrainGeneratorError, train_generator, training_from_args

    configure_logging(getattr(args, "verbose", False))
    from pipeline.jobs import check_beam_args

    check_beam_args(beam_args)
    try:
        train_generator(training_from_args(args, beam_args))
    except TrainGeneratorError as exc:
        raise UsageError(str(exc)) from exc
    return 0


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    from corpora.doc2query.train_generator import add_train_arguments as add

    add(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")


JOBS = [
    Job("doc2query-pairs", "(passage, query) training pairs: MS MARCO files or mined headings", PAIRS_DESCRIPTION,
        add_pairs_arguments, pairs_main),
    Job("doc2query-train", "train the bundled query generator (prefix-LM GPT) on doc2query-pairs output",
        TRAIN_DESCRIPTION, add_train_arguments, train_main),
    Job("doc2query", "expand documents with predicted queries (hf: or native: generator)", EXPAND_DESCRIPTION,
        add_expand_arguments, expand_main),
    Job("doc2query-eval", "BM25 MRR@10 / Recall@100/1000: original vs expanded passages", EVAL_DESCRIPTION,
        add_eval_arguments, eval_main),
]

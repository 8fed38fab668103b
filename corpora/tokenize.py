"""The ``tokenize`` job: corpora in, token shards out, in the Megatron-LM indexed layout.

Stages: spread the Parquet row groups of every input over the workers -> read each as Arrow
record batches and tokenize them in large calls (text as text, marker spans of ``meta`` as
their ids, see :mod:`pipeline.markup`; end-of-document token appended) -> count
tokens per (source, split) -> assign each document to a shard by a hash of its id -> group
per shard, order by id, write ``.bin`` + ``.idx`` atomically -> manifest.json. Each tokenized
batch is staged as a file under the output (:mod:`pipeline.shards.pieces`, folder
``STAGING``, removed when the job succeeds): only its path and id hashes cross the shuffle,
so no runner holds the tokens in memory between stages. The hash assignment and the id
order make shard contents identical on any runner and any number of workers.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import apache_beam as beam
import numpy as np

from corpora.corpus_files import corpus_parquet_files
from corpora.tokenize_rows import RowSlice, tokenize_slice
from pipeline import beam_io
from pipeline.beam_steps import STATS, BatchStep, FlatStep, finalize, summed_stats
from pipeline.flags import add_verbose
from pipeline.jobs import (
    Job,
    PipelineJob,
    UsageError,
    configure_logging,
    drive,
    for_input_size,
    prepare_beam_args,
)
from pipeline.memory import limit_malloc_arenas, usable_cpus
from pipeline.outcomes import Weighted
from pipeline.records import Drop
from pipeline.shards.batches import (
    ENCODE_BATCH_DOCS,
    MAX_CHUNK_CHARS,  # noqa: F401  (re-exported: the job's public constant)
    chunk_text,  # noqa: F401  (re-exported: the job's public helper)
    shard_of,
    tokenizer_threads,
)
from pipeline.shards.pieces import pieces_in_id_order, write_piece
from pipeline.stats import build_report, render_table

DESCRIPTION = """\
Tokenize one or more corpora into token shards that Megatron-LM and GPT-NeoX read
unchanged (.bin + .idx, MMIDIDX v1), with a train/validation split by a hash of the
document id and a manifest.json recording the tokenizer, dtype, end-of-document id and,
per shard, its source corpus, split, documents, tokens and sha256 of both files.

Text is encoded as text: a special token's spelling in a document (a page quoting
<|endoftext|>) becomes ordinary tokens. Control tokens that a job inserted on purpose
(SOCIAL-CHEM attributes, the doc2query separator) are listed in the row's meta as
"special_spans" and become their ids; rows whose spans are unusable are dropped and
counted (bad_special_spans, marker_not_in_tokenizer).

examples:
  python beam_runner.py tokenize --input out/web --tokenizer tok --output shards
  python beam_runner.py tokenize --input web=out/web --input kg=out/kg --tokenizer tok \\
      --output shards --shard-tokens 50000000 --val-fraction 0.01
  python beam_runner.py verify-shards shards"""

READ_STAGE = "read"
STAGE = "tokenize"
WRITE_STAGE = "shards"
ROWS_PER_SLICE = ENCODE_BATCH_DOCS  # rows of a Parquet row group turned into Python objects at a time, at most
# and about this much of the columns read (uncompressed) per slice: a slice is held as Arrow and
# as Python strings while it is encoded (20 MB of text: 4096-row slices of 2.4 MB peaked at
# 216 MB, 1 MB slices at about 205 MB, the same CPU)
SLICE_BYTES = 1 << 20
# Up to this many local workers, the job runs in one process (running mode not given): the
# tokenizer's threads encode on every core there (most of the CPU), and the Python part
# (decoding rows, hashing ids, cutting shards, about 15%) runs on one, which costs less than
# a second worker process's start-up and the transfer of its batches through the runner
# (30-40% more CPU on 20 MB, docs/performance.md). Beyond it, that serial part would idle
# too many cores.
ONE_PROCESS_WORKERS = 2
STAGING = ".pieces"  # under --output: the tokenized batches, until their shards are written


def encode_threads(beam_args: list[str]) -> int | None:
    """Tokenizer threads per worker when the DirectRunner runs several worker processes on this
    machine: its cores shared among them (each would otherwise start a thread per core, and the
    oversubscribed threads wait on each other). ``None`` (the tokenizer's default, every core
    of the worker) for in-process runs and for other runners, whose workers have their own cores."""
    from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

    options = PipelineOptions(beam_args)
    runner = options.view_as(StandardOptions).runner
    direct = options.view_as(DirectOptions)
    if runner not in (None, "DirectRunner", "direct", "SwitchingDirectRunner"):
        return None
    if direct.direct_running_mode != "multi_processing":
        return None
    cores = usable_cpus()
    workers = direct.direct_num_workers or cores  # 0: one worker per core
    return max(1, cores // max(1, workers))


def parse_input(value: str) -> tuple[str | None, str]:
    """``DIR`` or ``name=DIR``: a corpus directory (its data/*.parquet) or Parquet glob."""
    if "=" in value and not value.startswith(("gs://", "s3://", "/")) and value.split("=", 1)[0].isidentifier():
        name, path = value.split("=", 1)
        return name, path
    return None, value


def sized_corpus_files(path: str, flag: str = "--input") -> list[dict]:
    """The Parquet files of a corpus directory or glob with their sizes, listed on Beam's file
    systems: ``{"path", "bytes"}`` per file; UsageError naming ``flag`` when there are none."""
    return [{"path": p, "bytes": n} for p, n in corpus_parquet_files(path, flag, beam_io.match_files)]


def checked_corpus_files(paths: list[str], flag: str = "--input") -> list[str]:
    """The Parquet files of several corpora (``sized_corpus_files``), each checked by ``check_text_column``;
    a corpus without files is reported as ``<flag> <path>: ...``."""
    return [f["path"] for found in _checked_corpora(paths, flag) for f in found]


def checked_sized_corpus_files(paths: list[str], flag: str = "--input") -> list[dict]:
    """``checked_corpus_files`` with sizes from the same one listing, each file once, in name order
    (as ``beam_io.match_inputs`` describes inputs)."""
    sized = {f["path"]: f["bytes"] for found in _checked_corpora(paths, flag) for f in found}
    return [{"path": p, "bytes": n} for p, n in sorted(sized.items())]


def _checked_corpora(paths: list[str], flag: str) -> Iterator[list[dict]]:
    """Per corpus, its described files (``sized_corpus_files``), once ``check_text_column`` passed them."""
    for path in paths:
        found = sized_corpus_files(path, flag)
        check_text_column([f["path"] for f in found])
        yield found


def check_text_column(files: list[str]) -> bool:
    """Every file must have id and text columns (name the first that does not); returns whether
    every file also has a ``source`` column."""
    import pyarrow.parquet as pq

    has_source = True
    for f in files:
        try:
            with beam_io.FileSystems.open(f) as fh:
                names = pq.ParquetFile(fh).schema_arrow.names
        except Exception as exc:  # noqa: BLE001
            raise UsageError(f"{f}: not a readable Parquet file ({exc})") from exc
        missing = [c for c in ("id", "text") if c not in names]
        if missing:
            raise UsageError(f"{f}: no column {', '.join(map(repr, missing))} (columns: {', '.join(names)}); "
                             "is this a corpus written by a corpusforge job?")
        has_source = has_source and "source" in names
    return has_source


def _row_groups(element):
    """(source name or None, Parquet file) -> (name, file, row group) for each of its row groups:
    the units the workers share."""
    import pyarrow.parquet as pq

    name, path = element
    with beam_io.FileSystems.open(path) as fh:
        count = pq.ParquetFile(fh).metadata.num_row_groups
    for row_group in range(count):
        yield name, path, row_group


def slice_rows(row_group, columns: list[str], slice_bytes: int = SLICE_BYTES, most: int = ROWS_PER_SLICE) -> int:
    """Rows per slice of a row group (its Parquet metadata): about ``slice_bytes`` of ``columns``
    uncompressed, at least 1 and at most ``most`` rows."""
    wanted = set(columns)
    size = sum(row_group.column(j).total_uncompressed_size for j in range(row_group.num_columns)
               if row_group.column(j).path_in_schema in wanted)
    per_row = size / max(1, row_group.num_rows)
    return max(1, min(most, int(slice_bytes // per_row) if per_row else most))


class ReadRowGroup:
    """The read stage: ``(source name or None, Parquet file, row group)`` -> its rows as
    ``RowSlice``s of up to ``ROWS_PER_SLICE`` rows and about ``SLICE_BYTES`` (``slice_rows``; each
    weighing its rows). A row group that cannot
    be read (a damaged page) has its unread rows dropped as ``unreadable_row_group``, so the job
    goes on and stats.json still adds up."""

    def setup(self) -> None:
        import pyarrow as pa

        # Arrow's buffers from the C heap, which release_free_memory (after each slice) gives back
        # to the OS; its default mimalloc pool kept 20-40 MB of freed row buffers on 20 MB of text
        # (set for the whole worker process: Arrow has no per-reader pool in its public API).
        pa.set_memory_pool(pa.system_memory_pool())

    def __call__(self, element):
        import pyarrow.parquet as pq

        name, path, row_group = element
        columns = ["id", "text"] + ([] if name else ["source"])
        rows, done = None, 0
        try:
            with beam_io.FileSystems.open(path) as fh:
                parquet = pq.ParquetFile(fh)
                if "meta" in parquet.schema_arrow.names:
                    columns.append("meta")  # marker spans (pipeline.markup)
                group = parquet.metadata.row_group(row_group)
                rows = group.num_rows
                batches = parquet.iter_batches(batch_size=slice_rows(group, columns), row_groups=[row_group],
                                               columns=columns)
                while True:
                    try:
                        batch = next(batches)  # only reading is guarded: a bug downstream must still fail
                    except StopIteration:
                        break
                    done += batch.num_rows
                    yield Weighted(RowSlice(name, batch), batch.num_rows)
        except (OSError, ValueError, IndexError) as exc:  # pyarrow raises OSError/ArrowInvalid on bad pages
            lost = (rows - done) if rows is not None else 0
            detail = f"{path} row group {row_group}: {lost} row(s) unread after {done}: {exc}"[:500]
            logging.getLogger(__name__).warning("skipping the rest of %s", detail)
            yield Weighted(Drop("", "unreadable_row_group", id=None, detail=detail), lost)


class Tokenize:
    """The tokenize stage: a ``RowSlice`` -> per (source, split), one ``TokenBatch`` (end-of-document
    appended) staged as a piece file in ``staging``, its ``PieceRef`` weighing its documents;
    dropped rows as Drops (``corpora.tokenize_rows.row_problem``).

    Rows go straight from Arrow columns to the tokenizer, many thousand per call, and the
    documents leave as one file per batch, so neither Beam nor the shuffle pays per document
    or holds the tokens.
    """

    def __init__(self, tokenizer_path: str, tokenizer_sha: str, dtype: str, eod_id: int, val_fraction: float,
                 seed: int, encode_threads: int | None = None, staging: str = "") -> None:
        # the tokenizer.json staged beside the pieces (:func:`stage_tokenizer`), read in setup and checked
        # against the driver's sha256: shipped inside the step, Beam bz2-compressed its 0.8 MB with every
        # pickling and unpickling of the pipeline (0.07 s of the 20 MB job)
        self.tokenizer_path, self.tokenizer_sha = tokenizer_path, tokenizer_sha
        self.staging = staging
        self.dtype = dtype
        self.eod_id = eod_id
        self.val_fraction = val_fraction
        self.seed = seed
        self.encode_threads = encode_threads
        self.encoder = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "encoder": None}

    def setup(self) -> None:
        import os

        from pipeline.shards.batches import DocumentEncoder

        if self.encode_threads and "RAYON_NUM_THREADS" not in os.environ:
            # Several workers on one machine: share its cores instead of each starting a thread
            # per core (read when the tokenizer first starts its thread pool, in this process).
            os.environ["RAYON_NUM_THREADS"] = str(self.encode_threads)
        limit_malloc_arenas(tokenizer_threads())  # one per encode thread, before the pool starts
        # the staged serialization straight to the text-only copy: the original is never built here
        self.encoder = DocumentEncoder(read_staged_tokenizer(self.tokenizer_path, self.tokenizer_sha), self.dtype,
                                       self.eod_id)

    def __call__(self, rows: RowSlice):
        from pipeline.memory import release_free_memory
        from pipeline.shards.manifest import split_for

        split = partial(split_for, val_fraction=self.val_fraction, seed=self.seed)
        for out in tokenize_slice(rows, self.encoder, split, self.eod_id):
            if isinstance(out, Weighted):
                key, batch = out.item
                path = beam_io.join(self.staging, f"{uuid.uuid4().hex}.piece")
                out = Weighted((key, write_piece(path, batch, beam_io.FileSystems.create)), out.n)
            yield out
        release_free_memory()


STAGED_TOKENIZER = "tokenizer.json"  # in the staging folder, for the tokenize step's workers


def stage_tokenizer(output: str, plan: TokenizePlan) -> str:
    """Write the tokenizer's serialization where every worker reads the pieces (``output``/``STAGING``);
    its path. The job reads and writes that folder anyway, so it needs no other shared path."""
    path = beam_io.join(output, STAGING, STAGED_TOKENIZER)
    beam_io.write_atomic(path, plan.tokenizer_text.encode("utf-8"))
    return path


def read_staged_tokenizer(path: str, sha256: str) -> str:
    """The staged tokenizer's serialization, if its bytes are the ones the driver staged (else ``OSError``)."""
    with beam_io.open_raw(path) as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise OSError(f"{path}: the staged tokenizer.json is not the one this job checked (sha256 differs); "
                      "was the output folder changed during the run?")
    return data.decode("utf-8")


def _split_by_shard(element, totals, shard_tokens):
    """(source, split), PieceRef -> ((source, split, shard, of), its path) for each shard it feeds."""
    (source, split), piece = element
    of = max(1, math.ceil(totals.get((source, split), 0) / shard_tokens))
    for shard in np.unique(shard_of(piece.hashes, of)).tolist():
        yield (source, split, shard, of), piece.path


class WriteShard:
    """The shards stage: ((source, split, shard, of), [piece path]) -> one .bin/.idx pair, documents
    of that shard in id order, read from the staged pieces; its summary weighs the documents written."""

    def __init__(self, output: str, dtype: str) -> None:
        self.output = output
        self.dtype = dtype

    def __call__(self, element):
        from pipeline.shards.megatron import ShardWriter

        (source, split, shard, of), paths = element
        rel = f"{source}/{split}-{shard:05d}-of-{of:05d}"
        prefix = beam_io.join(self.output, rel)
        with ShardWriter(prefix, np.dtype(self.dtype), **beam_io.writer_ops(prefix)) as writer:
            for tokens, lengths in pieces_in_id_order(paths, shard, of, beam_io.open_raw):
                writer.add_documents(tokens, lengths)
        yield Weighted({"path": rel, "source": source, "split": split, **writer.summary()}, writer.documents)


def _write_report(output, config, tokenizer_dir, tokenizer_sha, dtype, eod_id, vocab_size, stats, shards):
    from pipeline.shards.manifest import build_shard_manifest

    report = build_report(stats, [READ_STAGE, STAGE, WRITE_STAGE])
    report["job"] = "tokenize"
    beam_io.write_json_atomic(beam_io.join(output, "stats.json"), report)
    beam_io.delete_tree(beam_io.join(output, STAGING))  # every shard is written: the pieces are done
    manifest = build_shard_manifest(beam_io.join(tokenizer_dir, "tokenizer.json"), tokenizer_sha, dtype, eod_id,
                                    vocab_size, shards, config)
    beam_io.write_json_atomic(beam_io.join(output, "manifest.json"), manifest)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", action="append", required=True, metavar="[NAME=]CORPUS",
                        help="a corpus directory (its data/*.parquet) or Parquet glob; NAME overrides the "
                             "source name recorded for its shards (default: the rows' source column)")
    parser.add_argument("--tokenizer", required=True, metavar="DIR", help="tokenizer directory (python -m tokenizer train)")
    parser.add_argument("--output", required=True, metavar="DIR", help="output directory of the shards")
    parser.add_argument("--shard-tokens", type=int, default=100_000_000,
                        help="about this many tokens per shard (default: %(default)s)")
    parser.add_argument("--val-fraction", type=float, default=0.005,
                        help="fraction of documents in the validation split, by a hash of the id (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the train/val hash (default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true", help="replace finished shards in DIR")
    add_verbose(parser)


@dataclass
class TokenizeConfig:
    """Everything that decides the shards (saved in manifest.json); checked when made."""

    inputs: list[str]  # [NAME=]CORPUS, as given
    tokenizer: str
    output: str
    shard_tokens: int = 100_000_000
    val_fraction: float = 0.005
    seed: int = 0

    def __post_init__(self) -> None:
        if self.shard_tokens < 1:
            raise UsageError("--shard-tokens must be at least 1")
        if not 0.0 <= self.val_fraction < 1.0:
            raise UsageError("--val-fraction must be in [0, 1)")
        self.inputs = [str(i) for i in self.inputs]
        self.tokenizer = str(self.tokenizer)
        self.output = beam_io.absolute(str(self.output).rstrip("/"))

    def manifest_config(self) -> dict:
        return {"inputs": list(self.inputs), "tokenizer": self.tokenizer, "shard_tokens": self.shard_tokens,
                "val_fraction": self.val_fraction, "seed": self.seed}


def config_from_args(args: argparse.Namespace) -> TokenizeConfig:
    """The job's flags as a TokenizeConfig; raises UsageError before any work."""
    return TokenizeConfig(list(args.input), args.tokenizer, args.output, args.shard_tokens, args.val_fraction,
                          args.seed)


@dataclass
class TokenizePlan:
    """What the driver learns before any work: the corpus files per source and the tokenizer's facts
    (its text is staged beside the pieces for the workers: :func:`stage_tokenizer`)."""

    files: list[tuple[str | None, str]]  # (source name or None, Parquet file)
    tokenizer_text: str  # the library's serialization of tokenizer.json (Tokenizer.to_str()): staged
    staged_sha: str  # sha256 of tokenizer_text's UTF-8 bytes: each worker checks what it reads
    tokenizer_sha: str  # sha256 of tokenizer.json as the user gave it: in the manifest
    dtype: str
    eod_id: int
    vocab_size: int
    input_bytes: int = 0  # of the corpus files: a small input runs in one local process


def plan_tokenize(cfg: TokenizeConfig) -> TokenizePlan:
    """Check the tokenizer and the inputs; raises UsageError naming the flag before any work."""
    from pipeline.shards.megatron import dtype_for_vocab
    from tokenizer.load import TokenizerInfo
    from tokenizer.text_only import TextOnlyError, text_only

    try:
        info = TokenizerInfo(cfg.tokenizer)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--tokenizer {cfg.tokenizer}: {exc}") from exc
    if info.eod_id is None:
        raise UsageError(f"--tokenizer {cfg.tokenizer}: it has no end-of-document token (train one with "
                         "python -m tokenizer train, or add <|endoftext|> / an eos_token)")
    # the library's serialization of the file (what text_only needs), checked here and staged for the
    # workers: each builds only the text-only copy from it (the file is read and parsed once here)
    tokenizer_text = info.tokenizer.to_str()
    try:  # text is encoded as text: refuse, before any work, a tokenizer that cannot do that
        text_only(tokenizer_text, info.eod_id)
    except TextOnlyError as exc:
        raise UsageError(f"--tokenizer {cfg.tokenizer}: {exc}") from exc
    files = []
    input_bytes = 0
    for value in cfg.inputs:
        name, path = parse_input(value)
        sized = sized_corpus_files(beam_io.absolute(path))
        found = [f["path"] for f in sized]
        input_bytes += sum(f["bytes"] for f in sized)
        if not check_text_column(found) and not name:
            # No source column: the input's directory (or file) name stands in for it.
            name = path.rstrip("/").rsplit("/", 1)[-1].split(".")[0] or "corpus"
        files += [(name, f) for f in found]
    staged_sha = hashlib.sha256(tokenizer_text.encode("utf-8")).hexdigest()
    return TokenizePlan(files, tokenizer_text, staged_sha, info.sha256, dtype_for_vocab(info.vocab_size).name,
                        info.eod_id, info.vocab_size, input_bytes)


def build_tokenize(p: beam.Pipeline, cfg: TokenizeConfig, plan: TokenizePlan, threads: int | None = None) -> None:
    """Compose the tokenize job: read row groups, tokenize them, cut shards, write them, then the report."""
    read = (
        p
        | "Files" >> beam.Create(plan.files)
        | "SpreadFiles" >> beam.Reshuffle()
        | "RowGroups" >> beam.FlatMap(_row_groups)
        | "SpreadRowGroups" >> beam.Reshuffle()
        | "Read" >> FlatStep(READ_STAGE, ReadRowGroup())
    )
    staged = beam_io.join(cfg.output, STAGING, STAGED_TOKENIZER)  # by stage_tokenizer, before the run
    tok = read["out"] | "Tokenize" >> BatchStep(
        STAGE, Tokenize(staged, plan.staged_sha, plan.dtype, plan.eod_id, cfg.val_fraction, cfg.seed, threads,
                        staging=beam_io.join(cfg.output, STAGING)), batch_size=None)
    totals = (tok["out"] | "TokensPerKey" >> beam.MapTuple(lambda key, piece: (key, piece.token_count))
              | "SumTokens" >> beam.CombinePerKey(sum))
    shards = (
        tok["out"]
        | "SplitByShard" >> beam.FlatMap(_split_by_shard, totals=beam.pvalue.AsDict(totals),
                                         shard_tokens=cfg.shard_tokens)
        | "GroupShards" >> beam.GroupByKey()
        | "WriteShards" >> FlatStep(WRITE_STAGE, WriteShard(cfg.output, plan.dtype))
    )
    finalize(
        p, _write_report, output=cfg.output, config=cfg.manifest_config(), tokenizer_dir=cfg.tokenizer,
        tokenizer_sha=plan.tokenizer_sha, dtype=plan.dtype, eod_id=plan.eod_id, vocab_size=plan.vocab_size,
        stats=summed_stats([read[STATS], tok[STATS], shards[STATS]]),
        shards=beam.pvalue.AsList(shards["out"]),  # a list view, not ToList: two Beam stages less
    )


def _print_shards(output: str, report: dict, seconds: float) -> None:
    manifest = beam_io.read_json(beam_io.join(output, "manifest.json"))
    print()
    print(render_table(report))
    print()
    print(shard_summary(manifest))
    print(f"\nwrote {len(manifest['shards'])} shard(s) to {output} in {seconds:.1f}s; "
          f"check them with: python beam_runner.py verify-shards {output}")


def run_tokenize(cfg: TokenizeConfig, beam_args: list[str], overwrite: bool = False, quiet: bool = False,
                 verbose: bool = False) -> dict | None:
    """Check everything, then run the job through the shared driver; return the stats report
    (None when only submitted, with --no_wait_until_finish)."""
    beam_args = prepare_beam_args(beam_args, verbose)
    limit_malloc_arenas(tokenizer_threads())  # this process encodes too (the checks, a run in one process)
    plan = plan_tokenize(cfg)
    # before encode_threads reads the mode
    beam_args = for_input_size(beam_args, plan.input_bytes, max_workers=ONE_PROCESS_WORKERS)
    prepare_shard_output(cfg.output, overwrite)
    stage_tokenizer(cfg.output, plan)
    return drive(PipelineJob(
        "tokenize", cfg.output, build=lambda p: build_tokenize(p, cfg, plan, encode_threads(beam_args)),
        header=(f"tokenize: {len(plan.files)} corpus file(s) -> {cfg.output} (vocab {plan.vocab_size}, "
                f"dtype {plan.dtype}, eod id {plan.eod_id})"),
        summary=lambda report, seconds: _print_shards(cfg.output, report, seconds),
    ), beam_args, quiet)


def shard_summary(manifest: dict) -> str:
    """Documents and tokens per source and split."""
    rows = {}
    for s in manifest["shards"]:
        key = (s["source"], s["split"])
        d, t, n = rows.get(key, (0, 0, 0))
        rows[key] = (d + s["documents"], t + s["tokens"], n + 1)
    lines = [f"{'source':<12} {'split':<6} {'shards':>6} {'documents':>10} {'tokens':>12}"]
    for (src, split), (d, t, n) in sorted(rows.items()):
        lines.append(f"{src:<12} {split:<6} {n:>6} {d:>10} {t:>12}")
    return "\n".join(lines)


def prepare_shard_output(output: str, overwrite: bool) -> None:
    """Refuse finished (or half-written) shards in ``output`` unless ``--overwrite``."""
    if beam_io.exists(output):
        found = beam_io.FileSystems.match([beam_io.join(output, "**")])[0].metadata_list
        if found and not overwrite:
            what = ("finished shards" if beam_io.FileSystems.exists(beam_io.join(output, "manifest.json"))
                    else "files of an unfinished earlier run")
            raise UsageError(f"--output {output} already holds {what}; choose another directory or pass --overwrite")
        if found:
            beam_io.delete_tree(output)


def main(args: argparse.Namespace, beam_args: list[str]) -> dict | None:
    configure_logging(args.verbose)
    return run_tokenize(config_from_args(args), beam_args, overwrite=args.overwrite, verbose=args.verbose)


JOB = Job("tokenize", "corpora -> token shards (Megatron-LM .bin/.idx) with a train/val split",
          DESCRIPTION, add_arguments, main)

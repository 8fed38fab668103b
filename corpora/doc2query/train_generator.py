"""Train the bundled query generator: pairs -> corpus -> tokenizer -> token shards -> prefix-LM GPT.

    python beam_runner.py doc2query-train --input out/pairs --output runs/d2q [key=value ...]

1. every training pair becomes one document ``passage <|sep|> query`` (a corpus under
   ``OUTPUT/work/corpus``; the separator is listed in ``meta["special_spans"]``, so the
   tokenize job puts in its id, :mod:`pipeline.markup`);
2. a byte-level BPE tokenizer with ``<|sep|>`` as a special token is trained on it (or
   ``--tokenizer DIR`` is reused; it must have ``<|sep|>``);
3. the ``tokenize`` job writes token shards (every document ends with end-of-document): a Beam
   pipeline, so the shell passes it in (``tokenize``; :mod:`corpora.doc2query.train_job`);
4. the bundled trainer runs with ``objective=prefix-lm`` (loss on the query and its
   end-of-document token only), exactly as ``python -m trainer --data SHARDS --config tiny
   objective=prefix-lm out_dir=OUTPUT ...`` (the command is printed);
5. the tokenizer is copied into ``OUTPUT/tokenizer`` so the run directory is self-contained.

The result is used as ``--generator native:OUTPUT`` by the doc2query job.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.flags import add_input
from trainer.generate import SEP_TOKEN, TOKENIZER_SUBDIR, cpu_threads

WORK = "work"
DEFAULT_OVERRIDES = ("max_steps=300", "warmup_steps=30", "eval_interval=100", "checkpoint_interval=300",
                     "log_interval=50", "progress=false")


class TrainGeneratorError(ValueError):
    """A bad argument or input of the generator training, named with its fix."""


@dataclass
class GeneratorTraining:
    """Inputs and settings of one generator training run."""

    pairs: str  # a doc2query-pairs output directory, or a glob of pair JSONL files
    output: str  # the run directory
    config: str = "tiny"
    overrides: list[str] = field(default_factory=list)
    tokenizer: str | None = None
    vocab_size: int = 2048
    val_fraction: float = 0.05
    overwrite: bool = False
    torch_threads: int = 1  # CPU intra-op threads while training (1 is fastest for tiny models; 0: torch's default)
    beam_args: list[str] = field(default_factory=lambda: ["--direct_num_workers=1",
                                                          "--direct_running_mode=in_memory"])


def pair_files(pairs: str) -> list[str]:
    """The training pair files of a pairs output directory (pairs/*.jsonl) or a glob."""
    pattern = os.path.join(pairs, "pairs", "*.jsonl") if os.path.isdir(pairs) else pairs
    files = sorted(glob.glob(pattern))
    if not files:
        raise TrainGeneratorError(f"--input {pairs}: no pair files ({pattern}); run doc2query-pairs first")
    return files


def write_pair_corpus(files: list[str], corpus_dir: str, chunk_rows: int = 50_000) -> dict[str, int]:
    """One corpus document ``passage <|sep|> query`` per valid pair, streamed to Parquet in chunks;
    bad lines are counted, not fatal."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.markup import SPECIAL_SPANS, Marker, join_with_markers
    from pipeline.records import Document
    from pipeline.schema import CORPUS_SCHEMA

    counts = {"pairs": 0, "bad_json": 0, "missing_field": 0, "contains_separator": 0}
    data = os.path.join(corpus_dir, "data")
    os.makedirs(data, exist_ok=True)
    final = os.path.join(data, "part-00000-of-00001.parquet")
    tmp = os.path.join(data, ".part-00000-of-00001.parquet.tmp")
    rows: list[dict] = []
    with pq.ParquetWriter(tmp, CORPUS_SCHEMA, compression="zstd") as writer:
        for path in files:
            with open(path, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    if not line.strip():
                        continue
                    try:
                        obj = json.loads(line)
                    except ValueError:
                        counts["bad_json"] += 1
                        continue
                    if not isinstance(obj, dict):
                        counts["bad_json"] += 1
                        continue
                    passage, query = obj.get("passage"), obj.get("query")
                    if not isinstance(passage, str) or not isinstance(query, str) or not passage.strip() \
                            or not query.strip():
                        counts["missing_field"] += 1
                        continue
                    if SEP_TOKEN in passage or SEP_TOKEN in query:
                        counts["contains_separator"] += 1
                        continue
                    key = hashlib.blake2b(f"{obj.get('pid')}\t{obj.get('qid')}\t{query}".encode(), digest_size=12)
                    # = prefix_lm_text(passage, query), the separator marked as a token by construction
                    text, spans = join_with_markers([" ".join(passage.split()) + " ", Marker(SEP_TOKEN),
                                                     " " + " ".join(query.split())])
                    rows.append(Document(id=f"d2qpair-{key.hexdigest()}", text=text, source="doc2query_pairs",
                                         meta={SPECIAL_SPANS: spans}).to_row())
                    counts["pairs"] += 1
                    if len(rows) >= chunk_rows:
                        writer.write_table(pa.Table.from_pylist(rows, schema=CORPUS_SCHEMA))
                        rows = []
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=CORPUS_SCHEMA))
    if not counts["pairs"]:
        os.remove(tmp)
        raise TrainGeneratorError(f"no usable pairs in {', '.join(files)} ({counts})")
    os.replace(tmp, final)
    return counts


def trainer_argv(shards: str, job: GeneratorTraining) -> list[str]:
    """The ``python -m trainer`` arguments of the generator run (defaults, then the user's overrides)."""
    settings: dict[str, str] = {}
    for item in (*DEFAULT_OVERRIDES, *job.overrides):  # later settings win; each key once on the command line
        key = item.partition("=")[0].strip()
        settings.pop(key, None)
        settings[key] = item
    return ["--data", shards, "--config", job.config, "objective=prefix-lm", f"out_dir={job.output}",
            *settings.values()]


def _check(job: GeneratorTraining) -> None:
    if os.path.exists(job.output) and os.listdir(job.output) and not job.overwrite:
        raise TrainGeneratorError(f"--output {job.output} already exists; pass --overwrite to retrain from scratch")
    if job.tokenizer:
        from tokenizer.load import TokenizerDirError, TokenizerInfo

        try:
            info = TokenizerInfo(job.tokenizer)
        except TokenizerDirError as exc:
            raise TrainGeneratorError(f"--tokenizer: {exc}") from exc
        if SEP_TOKEN not in info.special_tokens:
            raise TrainGeneratorError(f"--tokenizer {job.tokenizer} has no {SEP_TOKEN} special token; train one with "
                                      f"python -m tokenizer train ... --special-token '{SEP_TOKEN}' or leave "
                                      "--tokenizer out")
    for item in job.overrides:
        key = item.partition("=")[0]
        if key in ("objective", "out_dir", "data"):
            raise TrainGeneratorError(f"override {item!r}: {key} is set by this command")


#: The chain's tokenize step, given by the shell: ``(corpus_dir, tokenizer_dir, shards_dir, job)`` writes
#: the corpus's token shards (and a ``val_fraction`` split) under ``shards_dir``; raises on failure.
TokenizeStep = Callable[[str, str, str, GeneratorTraining], None]


def train_generator(job: GeneratorTraining, tokenize: TokenizeStep, log=print) -> dict:
    """Run the whole chain, ``tokenize`` writing the token shards; returns {"run_dir", "pairs",
    "tokenizer", "shards", "seconds", ...}. Settings and inputs are checked before any work."""
    from tokenizer.train import TrainConfig, train
    from trainer.__main__ import main as trainer_main
    from trainer.config import ConfigError, load_config

    _check(job)
    files = pair_files(job.pairs)
    shards_probe = os.path.join(job.output, WORK, "shards")
    try:  # settings are checked before any work
        load_config(job.config, trainer_argv(shards_probe, job)[4:], data=[shards_probe])
    except ConfigError as exc:
        raise TrainGeneratorError(f"trainer settings: {exc}") from exc
    started = time.perf_counter()
    if os.path.exists(job.output):
        shutil.rmtree(job.output)
    work = os.path.join(job.output, WORK)
    corpus, shards = os.path.join(work, "corpus"), os.path.join(work, "shards")
    counts = write_pair_corpus(files, corpus)
    log(f"generator: {counts['pairs']} pairs -> {corpus} (skipped: "
        f"{', '.join(f'{k}={v}' for k, v in counts.items() if k != 'pairs' and v) or 'none'})")
    tokenizer_dir = job.tokenizer
    if tokenizer_dir is None:
        tokenizer_dir = os.path.join(work, "tokenizer")
        result = train(TrainConfig(inputs=[corpus], output=tokenizer_dir, model="bpe", vocab_size=job.vocab_size,
                                   special_tokens=[SEP_TOKEN], show_progress=False), log=None)
        log(f"generator: tokenizer {result.vocab_size} ids, {SEP_TOKEN} = special -> {tokenizer_dir}")
    tokenize(corpus, tokenizer_dir, shards, job)
    argv = trainer_argv(shards, job)
    log("generator: python -m trainer " + " ".join(argv))
    with cpu_threads(job.torch_threads or None):
        code = trainer_main(argv)
    if code != 0:
        raise TrainGeneratorError(f"the trainer failed (exit {code}); see its message above")
    shutil.copytree(tokenizer_dir, os.path.join(job.output, TOKENIZER_SUBDIR), dirs_exist_ok=True)
    seconds = time.perf_counter() - started
    log(f"generator: trained in {seconds:.1f}s; use it as --generator native:{job.output}")
    return {"run_dir": job.output, "pairs": counts["pairs"], "tokenizer": tokenizer_dir, "shards": shards,
            "seconds": seconds, "skipped": {k: v for k, v in counts.items() if k != "pairs"}}


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``doc2query-train`` (and of ``python -m corpora.doc2query.train_job``)."""
    add_input(parser, old="--pairs", metavar="DIR", help="doc2query-pairs output (or a JSONL glob; required)")
    parser.add_argument("--output", required=True, metavar="RUN_DIR", help="the generator's run directory")
    parser.add_argument("--config", default="tiny", help="trainer config file or bundled name (default: tiny)")
    parser.add_argument("--tokenizer", default=None, metavar="DIR", help="reuse a tokenizer that has <|sep|>")
    parser.add_argument("--vocab-size", type=int, default=2048, help="vocabulary of the trained tokenizer")
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier run in RUN_DIR")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="CPU threads for training (default 1: fastest for the tiny model; 0: torch's default)")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="trainer settings, e.g. max_steps=2000 lr=1e-3 (default: " + " ".join(DEFAULT_OVERRIDES)
                        + ")")


def training_from_args(args: argparse.Namespace, beam_args: list[str] | None = None) -> GeneratorTraining:
    """The run the parsed options describe (Beam options, when given, go to the tokenize step)."""
    if not args.input:
        raise TrainGeneratorError("the following arguments are required: --input (doc2query-pairs output)")
    job = GeneratorTraining(pairs=args.input, output=args.output.rstrip("/"), config=args.config,
                            overrides=list(args.overrides), tokenizer=args.tokenizer, vocab_size=args.vocab_size,
                            overwrite=args.overwrite, torch_threads=args.torch_threads)
    if beam_args:
        job.beam_args = list(beam_args)
    return job


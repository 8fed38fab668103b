"""What the doc2query Beam jobs (pairs, expansion) share, in the shell: input checks on the driver, the
collection reader, the text writer, and the exit status of a run that wrote nothing."""

from __future__ import annotations

import codecs
import functools
import sys

import apache_beam as beam
from apache_beam import coders

from corpora.doc2query.collection import CollectionError, collection_files, line_format, parse_collection_line
from corpora.doc2query.transforms import ParseLines
from pipeline import beam_io
from pipeline.beam_steps import REJECTS, STATS
from pipeline.jobs import UsageError

CORPUS_COLUMNS = ("id", "text", "source", "url", "lang", "lang_score", "meta")


def corpus_inputs(paths: list[str], flag: str) -> tuple[list[dict], list[str]]:
    """Parquet files of corpus directories (or globs) with sizes, from one listing, and the corpus
    columns they share; a corpus without a row is refused (read from the files' footers, before any work)."""
    import pyarrow.parquet as pq

    from corpora.tokenize import checked_sized_corpus_files

    described = checked_sized_corpus_files([beam_io.absolute(p) for p in paths], flag)
    rows = 0
    for i, f in enumerate(described):
        with beam_io.FileSystems.open(f["path"]) as fh:
            meta = pq.ParquetFile(fh)
            rows += meta.metadata.num_rows
            if i == 0:
                names = set(meta.schema_arrow.names)
    if not rows:
        raise UsageError(f"{flag} {' '.join(paths)}: the corpus has no rows")
    columns = [c for c in CORPUS_COLUMNS if c in names]
    return described, columns


def collection_inputs(path: str, flag: str) -> list[dict]:
    """The collection files of ``path`` (a file or a folder of them) with sizes, absolute; an empty
    one is refused."""
    try:
        files = collection_files(path, flag)
        described = beam_io.match_inputs(files, flag)
    except (CollectionError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    refuse_empty(described, flag)
    return described


def refuse_empty(described: list[dict], flag: str) -> None:
    """A UsageError when every file of an input is empty (0 bytes): the job would write nothing."""
    if described and not any(f["bytes"] for f in described):
        raise UsageError(f"{flag} {', '.join(f['path'] for f in described)}: empty input (0 bytes)")


class ReadCollection(beam.PTransform):
    """Collection files (TSV or JSONL each by its name, compression by its first bytes) -> their (id, text) lines, as one stage
    ``collection``: outputs main, ``stats`` and ``rejects``."""

    def __init__(self, files: list[str], fix: bool, max_line_bytes: int, keep_rejects: bool) -> None:
        super().__init__(label="collection")
        self.files, self.fix, self.max_line_bytes, self.keep_rejects = files, fix, max_line_bytes, keep_rejects

    def expand(self, pbegin):
        return read_lines_stage(pbegin, "collection", [
            (path, functools.partial(parse_collection_line, fmt=line_format(path), fix=self.fix))
            for path in self.files], self.max_line_bytes, self.keep_rejects)


def read_lines_stage(pbegin, stage: str, sources: list[tuple[str, object]], max_line_bytes: int,
                     keep_rejects: bool) -> dict:
    """Text files, each with its line parser -> one stage's outputs (main, ``stats``, ``rejects``); each
    file decompressed as its first bytes say (``beam_io.compression_type``), as ``read_lines`` does."""
    outs: dict[str, list] = {"out": [], STATS: [], REJECTS: []}
    for i, (path, parse) in enumerate(sources):
        lines = pbegin | f"Read_{stage}_{i}" >> beam.io.ReadFromText(
            path, coder=coders.BytesCoder(), compression_type=beam_io.compression_type(path))
        parsed = lines | f"Parse_{stage}_{i}" >> ParseLines(stage, parse, max_line_bytes, keep_rejects)
        for key in outs:
            outs[key].append(parsed[key])
    return {key: pcolls | f"Flatten_{stage}_{key}" >> beam.Flatten() for key, pcolls in outs.items()}


def write_lines(pcoll, output: str, rel: str, label: str, single: bool = False):
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


def unescape(value: str) -> str:
    """``--separator '\\n\\n'`` on a shell gives backslashes: read them as escapes."""
    try:
        return codecs.decode(value, "unicode_escape")
    except UnicodeDecodeError as exc:
        raise UsageError(f"--separator {value!r}: bad escape sequence ({exc})") from exc


def nothing_written(report: dict | None, written: int, what: str) -> int:
    """Exit status of a run: 1, with the reason on stderr, when it finished without writing a
    record; 0 otherwise (and when it was only submitted: ``report`` None)."""
    if report is None or written:
        return 0
    dropped = {k: v for s in report.get("stages", []) for k, v in s.get("dropped", {}).items()}
    reasons = ", ".join(f"{k}={v}" for k, v in sorted(dropped.items())) or "no input record"
    print(f"error: no {what} written: every input record was dropped ({reasons}); see stats.json", file=sys.stderr)
    return 1

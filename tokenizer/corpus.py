"""Stream document texts out of Parquet corpora and JSONL files, with deterministic sampling.

Nothing here holds more than one Parquet record batch (or one JSONL line) of text at a
time: :class:`TextStream` is an iterator that the tokenizer trainer pulls from.

Inputs (``resolve_inputs``), each one of:

* a corpus directory written by a corpusforge job: its ``data/*.parquet``;
  a directory without ``data/`` gives its own ``*.parquet`` / ``*.jsonl[.gz|.zst]`` files;
* a glob (``'out/*/data/*.parquet'``, ``'dumps/**/*.jsonl.gz'``), which must match something;
* a single ``.parquet`` or ``.jsonl`` / ``.json`` / ``.ndjson`` file (optionally ``.gz`` / ``.zst``).

Paths with a scheme (``gs://``, ``s3://``) are read through :mod:`pipeline.fileio` (fsspec);
nothing here imports Beam.

Sampling is decided per document by a hash of ``(seed, key)``, where the key is the
document's id (the ``id`` column / field) or, without one, ``"<file name>:<position>"``:
the same seed and fraction keep the same documents whatever the file order, the number of
threads or earlier documents. ``max_docs`` then stops reading after that many kept
documents. Empty (whitespace-only) texts are skipped and counted.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import fileio
from pipeline.compression import open_decompressed
from pipeline.limits import Limits
from pipeline.markup import MarkupError, check_spans, segments, spans_from_meta

PARQUET = "parquet"
JSONL = "jsonl"
_JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
_COMPRESSION_SUFFIXES = (".gz", ".zst", ".zstd")
BATCH_ROWS = 256  # Parquet rows per record batch (web documents: about 1-5 MB of text)


class CorpusError(ValueError):
    """A bad corpus argument or file, found before (or instead of) training."""


def file_format(path: str) -> str | None:
    """``parquet``, ``jsonl`` or None, from the file name."""
    name = path.lower().rsplit("/", 1)[-1]
    for suffix in _COMPRESSION_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    if name.endswith(".parquet"):
        return PARQUET
    if name.endswith(_JSONL_SUFFIXES):
        return JSONL
    return None


def _remote_match(pattern: str) -> list[str]:
    try:
        return [path for path, _ in fileio.match(pattern)]
    except OSError as exc:
        raise CorpusError(f"--input {pattern}: cannot list it ({exc})") from exc


def _known(files: list[str], spec: str) -> list[str]:
    unknown = [f for f in files if file_format(f) is None]
    if unknown:
        raise CorpusError(f"--input {spec}: cannot tell the format of {unknown[0]} "
                          "(expected .parquet or .jsonl/.json/.ndjson, optionally .gz/.zst)")
    return files


def resolve_inputs(specs: list[str]) -> list[str]:
    """The input files named by directories, globs and files, in order, without repeats."""
    if not specs:
        raise CorpusError("no --input given")
    out: list[str] = []
    for spec in specs:
        has_glob = any(c in spec for c in "*?[")
        if fileio.is_remote(spec):
            pattern = spec
            if not has_glob and file_format(spec) is None:
                pattern = spec.rstrip("/") + "/data/*.parquet"
            files = _remote_match(pattern)
            if not files:
                raise CorpusError(f"--input {spec}: no file matches {pattern}")
            out += _known(files, spec)
        elif has_glob:
            files = [path for path, _ in fileio.match(spec)]
            if not files:
                raise CorpusError(f"--input {spec}: the glob matches no file (check the path and quote the glob)")
            out += _known(files, spec)
        elif fileio.is_dir(spec):
            data = fileio.join(spec, "data")
            if fileio.is_dir(data):
                files = [path for path, _ in fileio.match(fileio.join(data, "*.parquet"))]
                if not files:
                    raise CorpusError(f"--input {spec}: {data} holds no .parquet files (an unfinished corpus run?)")
            else:
                files = [path for path, _ in fileio.match(fileio.join(spec, "*")) if file_format(path) is not None]
                if not files:
                    raise CorpusError(f"--input {spec}: a directory without data/*.parquet and without "
                                      ".parquet or .jsonl files")
            out += files
        elif fileio.exists(spec):
            out += _known([spec], spec)
        else:
            raise CorpusError(f"--input {spec}: no such file or directory")
    seen: set[str] = set()
    return [f for f in out if not (f in seen or seen.add(f))]


def keep_fraction(key: str, seed: int, fraction: float) -> bool:
    """Whether a document with this key is in a ``fraction`` sample for ``seed`` (stateless)."""
    if fraction >= 1.0:
        return True
    if fraction <= 0.0:
        return False
    digest = hashlib.blake2b(f"{seed}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2.0**64 < fraction


@dataclass
class FileStats:
    """What reading one file gave."""

    path: str
    format: str
    docs: int = 0  # texts handed out
    bytes: int = 0  # UTF-8 bytes of those texts
    empty: int = 0
    sampled_out: int = 0
    dropped: Counter = field(default_factory=Counter)
    status: str = "unread"  # unread, ok, stopped (max_docs reached), or a failure reason
    detail: str = ""


@dataclass
class CorpusStats:
    """Totals over the files read so far."""

    files: list[FileStats] = field(default_factory=list)

    @property
    def docs(self) -> int:
        return sum(f.docs for f in self.files)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    @property
    def empty(self) -> int:
        return sum(f.empty for f in self.files)

    @property
    def sampled_out(self) -> int:
        return sum(f.sampled_out for f in self.files)

    @property
    def dropped(self) -> Counter:
        total: Counter = Counter()
        for f in self.files:
            total.update(f.dropped)
        return total

    @property
    def files_read(self) -> int:
        return sum(1 for f in self.files if f.status != "unread")

    def failures(self) -> dict[str, str]:
        return {f.path: f"{f.status}: {f.detail}" for f in self.files if f.status not in ("unread", "ok", "stopped")}

    def summary(self) -> str:
        parts = [f"{self.docs:,} documents", f"{self.bytes / 1e6:,.1f} MB"]
        skipped = [f"{self.empty:,} empty"]
        if self.sampled_out:
            skipped.append(f"{self.sampled_out:,} not sampled")
        drops = self.dropped
        if drops:
            skipped.append(f"{sum(drops.values()):,} dropped ({', '.join(f'{k}={v}' for k, v in sorted(drops.items()))})")
        fails = self.failures()
        if fails:
            skipped.append(f"{len(fails)} file(s) cut short")
        return f"{self.files_read} file(s): {', '.join(parts)} (skipped: {', '.join(skipped)})"


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class TextStream:
    """An iterator over the texts of some corpus files, with sampling and accounting.

    ``check()`` validates every file cheaply (Parquet footers, the first JSONL record) and
    raises :class:`CorpusError` naming the file and the fix; iterating then reads the files
    one record batch at a time. ``stats`` is filled while iterating; ``log`` (default: a
    line to stderr) receives one line per file read.
    """

    def __init__(self, inputs: list[str], text_field: str = "text", id_field: str | None = "id",
                 max_docs: int | None = None, sample_fraction: float = 1.0, seed: int = 0,
                 limits: Limits | None = None, log: Callable[[str], None] | None = _stderr) -> None:
        if max_docs is not None and max_docs < 1:
            raise CorpusError("--max-docs must be at least 1")
        if not 0.0 < sample_fraction <= 1.0:
            raise CorpusError("--sample-fraction must be in (0, 1]")
        if not text_field:
            raise CorpusError("--text-field must not be empty")
        self.inputs = list(inputs)
        self.files = resolve_inputs(self.inputs)
        self.text_field = text_field
        self.id_field = id_field
        self.max_docs = max_docs
        self.sample_fraction = sample_fraction
        self.seed = seed
        self.limits = limits or Limits()
        self.log = log
        self.stats = CorpusStats([FileStats(p, file_format(p) or "?") for p in self.files])
        self._parquet_rows: dict[str, int] = {}
        self._started = False

    # -- validation -----------------------------------------------------------------------

    def check(self) -> None:
        """Fail early on files that cannot be read or lack the text column/field."""
        for path in self.files:
            if file_format(path) == PARQUET:
                self._check_parquet(path)
            else:
                self._check_jsonl(path)

    def _check_parquet(self, path: str) -> None:
        try:
            with fileio.open_read(path) as fh:
                meta = pq.ParquetFile(fh)
                schema = meta.schema_arrow
                self._parquet_rows[path] = meta.metadata.num_rows
        except (pa.ArrowInvalid, OSError) as exc:
            raise CorpusError(f"{path}: not a readable Parquet file ({exc})") from exc
        if self.text_field not in schema.names:
            raise CorpusError(f"{path}: no column {self.text_field!r} (columns: {', '.join(schema.names)}); "
                              "pass --text-field NAME")
        kind = schema.field(self.text_field).type
        is_view = getattr(pa.types, "is_string_view", lambda _: False)
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or is_view(kind)):
            raise CorpusError(f"{path}: column {self.text_field!r} is {kind}, not a string; pass --text-field NAME")

    def _check_jsonl(self, path: str) -> None:
        try:
            with fileio.open_read(path) as raw:
                stream = open_decompressed(raw)
                for _ in range(100):
                    line = stream.readline(self.limits.max_line_bytes + 1)
                    if not line:
                        return
                    try:
                        obj = json.loads(line)
                    except ValueError:
                        continue  # counted as invalid_json when read
                    if isinstance(obj, dict):
                        if self.text_field not in obj:
                            raise CorpusError(f"{path}: no field {self.text_field!r} in its first record "
                                              f"(fields: {', '.join(obj)}); pass --text-field NAME")
                        return
        except OSError as exc:
            raise CorpusError(f"{path}: cannot read it ({exc})") from exc

    def estimated_docs(self) -> int | None:
        """Documents the stream will give, for a progress bar: exact for Parquet before
        sampling (from the footers, after ``check``), None when JSONL files make it unknown."""
        if any(file_format(p) != PARQUET or p not in self._parquet_rows for p in self.files):
            return self.max_docs
        n = sum(self._parquet_rows.values())
        if self.sample_fraction < 1.0:
            n = int(n * self.sample_fraction)
        return min(n, self.max_docs) if self.max_docs else n

    def total_bytes(self) -> int:
        """Bytes of the input files as stored (compressed)."""
        return sum(fileio.size(p) for p in self.files)

    # -- reading --------------------------------------------------------------------------

    def __iter__(self) -> Iterator[str]:
        if self._started:
            raise RuntimeError("a TextStream can be iterated once")
        self._started = True
        return self._texts()

    def batches(self, size: int = 1000) -> Iterator[list[str]]:
        """The same texts in lists of up to ``size`` (fewer calls across to the trainer)."""
        batch: list[str] = []
        for text in self:
            batch.append(text)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _texts(self) -> Iterator[str]:
        n_files = len(self.files)
        kept = 0
        for i, fs in enumerate(self.stats.files):
            if self.max_docs is not None and kept >= self.max_docs:
                break
            reader = self._records(fs)
            fs.status = "ok"
            with closing(reader):
                for key, text, pieces in reader:
                    if not text.strip():
                        fs.empty += 1
                        continue
                    if not keep_fraction(key, self.seed, self.sample_fraction):
                        fs.sampled_out += 1
                        continue
                    fs.docs += 1
                    fs.bytes += len(text.encode("utf-8"))
                    kept += 1
                    if pieces is None:
                        yield text
                    else:  # the text between its markers, each piece a sequence of its own
                        yield from (piece for piece in pieces if piece.strip())
                    if self.max_docs is not None and kept >= self.max_docs:
                        fs.status = "stopped"
                        break
            if self.log:
                self.log(self._file_line(i + 1, n_files, fs))

    @staticmethod
    def _file_line(i: int, n: int, fs: FileStats) -> str:
        extra = [f"{fs.empty:,} empty"]
        if fs.sampled_out:
            extra.append(f"{fs.sampled_out:,} not sampled")
        if fs.dropped:
            extra.append(", ".join(f"{k}={v}" for k, v in sorted(fs.dropped.items())))
        status = {"ok": "", "stopped": " (stopped: --max-docs reached)"}.get(fs.status, f" ({fs.status}: {fs.detail})")
        return f"[{i}/{n}] read {fs.path}: {fs.docs:,} docs, {fs.bytes / 1e6:,.2f} MB ({'; '.join(extra)}){status}"

    def _records(self, fs: FileStats) -> Iterator[tuple[str, str, list[str] | None]]:
        """(key, text, its text between marker spans or None) of one file, through the same
        readers as the corpus jobs (pipeline.readers)."""
        from pipeline.readers import ReaderConfig, read_file
        from pipeline.records import Drop, FileDone, RawRecord

        config = ReaderConfig(input_format=fs.format, text_field=self.text_field, id_field=self.id_field,
                              url_field=None, limits=self.limits)
        metas = _parquet_metas(fs.path) if fs.format == PARQUET else None
        for out in read_file(fs.path, config, open_fn=fileio.open_read):
            if isinstance(out, RawRecord):
                text: str = out.payload  # type: ignore[assignment]
                if metas is None:
                    yield out.key, text, None
                    continue
                try:
                    spans = spans_from_meta(metas.at(out.meta["row"]))
                    if spans:
                        check_spans(text, spans)
                except MarkupError as exc:
                    fs.dropped[exc.reason] += 1
                    continue
                yield out.key, text, None if not spans else [p for p, marker in segments(text, spans) if not marker]
            elif isinstance(out, Drop):
                fs.dropped[out.reason] += 1
            elif isinstance(out, FileDone) and out.status not in ("ok", "empty_file"):
                if out.status == "missing_text_field":
                    raise CorpusError(f"{fs.path}: {out.detail}; pass --text-field NAME")
                fs.status, fs.detail = out.status, out.detail



class _MetaColumn:
    """The ``meta`` column of a corpus Parquet file, read alongside its rows (rows ascend)."""

    def __init__(self, batches: Iterator[pa.RecordBatch]) -> None:
        self._batches = batches
        self._values: list[str | None] = []
        self._first = 0  # row of self._values[0]

    def at(self, row: int) -> str | None:
        while row >= self._first + len(self._values):
            self._first += len(self._values)
            try:
                self._values = next(self._batches).column(0).to_pylist()
            except (StopIteration, pa.ArrowInvalid, OSError):  # a damaged page: its rows' text is learned whole
                self._batches, self._values = iter(()), []
                return None
        return self._values[row - self._first] if row >= self._first else None


def _parquet_metas(path: str) -> _MetaColumn | None:
    """The ``meta`` column of a Parquet file when it has one (marker spans, :mod:`pipeline.markup`):
    the trainer learns the text around markers, not the markers' spellings."""

    def batches() -> Iterator[pa.RecordBatch]:
        with fileio.open_read(path) as fh:
            yield from pq.ParquetFile(fh).iter_batches(batch_size=BATCH_ROWS, columns=["meta"])

    try:
        with fileio.open_read(path) as fh:
            if "meta" not in pq.ParquetFile(fh).schema_arrow.names:
                return None
    except (pa.ArrowInvalid, OSError):
        return None  # read_file reports the file
    return _MetaColumn(batches())

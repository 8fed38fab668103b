"""Input readers: one module per format, each a generator over one file.

A reader yields ``RawRecord`` for usable records, ``Drop`` for records it skips (with a
reason), and finally one ``FileDone`` saying how the file as a whole ended.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pipeline.limits import Limits
from pipeline.records import Drop, FileDone, RawRecord

FORMATS = ("warc", "wet", "jsonl", "parquet")

ReaderOutput = RawRecord | Drop | FileDone


@dataclass(frozen=True)
class ReaderConfig:
    """What the readers need to know beyond the file itself."""

    input_format: str = "auto"  # auto (from the file name) or one of FORMATS
    text_field: str = "text"  # JSONL / Parquet
    id_field: str | None = None  # JSONL / Parquet; default: file name + position
    url_field: str | None = "url"
    limits: Limits = field(default_factory=Limits)
    drop_truncated: bool = False  # WARC/WET: drop records marked WARC-Truncated


def detect_format(path: str) -> str | None:
    """The input format implied by a file name, or None when it says nothing."""
    name = path.lower().rsplit("/", 1)[-1]
    for suffix in (".gz", ".zst", ".zstd"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    if name.endswith(".warc.wet") or name.endswith(".wet"):
        return "wet"
    if name.endswith(".warc") or name.endswith(".arc"):
        return "warc"
    if name.endswith(".jsonl") or name.endswith(".json") or name.endswith(".ndjson"):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    return None


def format_of(path: str, input_format: str = "auto") -> str | None:
    """The format a file is read as: ``input_format`` when given, else told by its name."""
    return input_format if input_format != "auto" else detect_format(path)


def _open_local(path: str):
    """A local file's bytes (the readers' default opener: no Beam, no fsspec)."""
    return open(path, "rb")


def read_file(path: str, config: ReaderConfig, open_fn=None) -> Iterator[ReaderOutput]:
    """Read one input file of any supported format.

    ``open_fn(path) -> binary stream`` defaults to Beam-free local ``open``; the Beam shell
    passes ``FileSystems.open`` so remote paths work.
    """
    fmt = format_of(path, config.input_format)
    if fmt not in FORMATS:
        yield FileDone(path, "unknown_format", f"cannot tell the format of {path}; pass --input-format")
        return
    yield from _read(path, fmt, config, open_fn)


def read_range(part, config: ReaderConfig, open_fn=None) -> Iterator[ReaderOutput]:
    """Read one part of a WARC/WET or Parquet file (a ``pipeline.readers.ranges.FileRange``): its
    records as ``read_file`` yields them, then a ``FileDone`` for the part alone."""
    yield from _read(part.path, format_of(part.path, config.input_format), config, open_fn, part)


def _read(path: str, fmt: str, config: ReaderConfig, open_fn=None, part=None) -> Iterator[ReaderOutput]:
    """Open ``path`` (only ``part``'s bytes, when it is a byte range) and read it, or ``part`` of it,
    with the reader of ``fmt``; a file that cannot be opened is one ``FileDone`` (``unreadable``)."""
    try:
        raw = (open_fn or _open_local)(path)
    except OSError as exc:
        yield FileDone(path, "unreadable", str(exc))
        return
    try:
        if part is not None and part.unit == "bytes":
            from pipeline.readers.ranges import BoundedReader

            raw.seek(part.start)
            raw = BoundedReader(raw, part.stop - part.start)
    except OSError as exc:
        raw.close()
        yield FileDone(path, "unreadable", str(exc))
        return
    try:
        if fmt in ("warc", "wet"):
            from pipeline.readers.warc import read_warc

            origin, final = (part.start, part.final) if part is not None else (None, True)
            yield from read_warc(raw, path, config.limits, wet=(fmt == "wet"), drop_truncated=config.drop_truncated,
                                 origin=origin, final=final)
        elif fmt == "jsonl":
            from pipeline.readers.jsonl import read_jsonl

            yield from read_jsonl(raw, path, config)
        else:
            from pipeline.readers.parquet import read_parquet

            rows = (range(part.start, part.stop), part.first_row) if part is not None else (None, 0)
            yield from read_parquet(raw, path, config, *rows)
    finally:
        raw.close()

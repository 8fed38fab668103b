"""KG input readers: N-Triples, Turtle, Wikidata JSON, TSV (+ labels TSV), WebNLG XML, DART JSON.

Every reader reads one ``Chunk`` (a whole file, or a byte range of a line-based file, so
big dumps split across workers) and yields ``Fact``, ``Label``, ``StatementPart`` and
``Drop`` records. It counts the input records it saw in ``stats.records`` and things it kept
but noted (unknown datatypes, skipped predicates, ...) in ``stats.counts``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from corpora.kg.model import Fact, Label, StatementPart
from pipeline.records import Drop

FORMATS = ("nt", "ttl", "wikidata-json", "tsv", "labels-tsv", "labels-json", "webnlg", "dart")
LINE_FORMATS = ("nt", "wikidata-json", "tsv", "labels-tsv")  # splittable into byte ranges
COMPRESSED = (".gz", ".bz2", ".zst", ".zstd")
STAGE = "read"
MAX_LINE_BYTES = 16 * 1024 * 1024  # one N-Triples/TSV line or one Wikidata entity

Record = Fact | Label | StatementPart | Drop


@dataclass(frozen=True)
class Chunk:
    """A unit of reading work: ``[start, end)`` bytes of a file (end -1: to the end of the file)."""

    path: str
    fmt: str
    start: int = 0
    end: int = -1


@dataclass
class ReadStats:
    records: int = 0
    counts: Counter = field(default_factory=Counter)


@dataclass(frozen=True)
class ReadOptions:
    """What readers need beyond the bytes: label languages to keep, TSV value parsing."""

    langs: tuple[str, ...] = ("en",)  # label languages to keep, best first (others are skipped)
    keep_aliases: bool = True
    max_line_bytes: int = MAX_LINE_BYTES


def detect_format(path: str) -> str | None:
    name = os.path.basename(path.rstrip("/")).lower()
    for suffix in COMPRESSED:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if name.endswith((".nt", ".ntriples")):
        return "nt"
    if name.endswith((".ttl", ".turtle")):
        return "ttl"
    if name.endswith((".json", ".jsonl", ".ndjson")):
        return "wikidata-json"
    if name.endswith((".tsv", ".tab")):
        return "tsv"
    if name.endswith(".xml"):
        return "webnlg"
    return None


class UnreadableInput(ValueError):
    """A file no reader can use, known from its first bytes (a UTF-16 text, ...)."""


SNIFF_BYTES = 8192


def sniff_format(head: bytes, fmt: str, path: str = "") -> str:
    """The format a file's first bytes show, given the one its name suggests: a ``.json`` holding
    DART's layout (a JSON array of ``tripleset`` entries) is ``dart``; UnreadableInput for a
    UTF-16/32 text, which no reader takes (every line would be dropped)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) >= 4 and head[1:4:2] == b"\x00\x00"
                                                       and head[0:1] != b"\x00"):
        raise UnreadableInput(f"{path}: UTF-16 (or UTF-32) text; the KG readers read UTF-8 "
                              "(convert it, e.g. iconv -f UTF-16 -t UTF-8)")
    if fmt == "wikidata-json":
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if text.startswith(b"[") and b'"tripleset"' in head:
            return "dart"
        if _LABELS_JSON.match(text):
            return "labels-json"
    return fmt


_LABELS_JSON = re.compile(rb'^\{\s*"[^"\\]{1,200}"\s*:\s*"')  # {"P6": "head of government", ...}


def read_head(path: str, open_fn: Callable[[str], BinaryIO], n: int = SNIFF_BYTES) -> bytes:
    """The first ``n`` bytes of a file, decompressed when its name says it is compressed."""
    from pipeline.compression import open_decompressed

    with open_fn(path) as raw:
        stream = open_decompressed(raw) if is_compressed(path) else raw
        return stream.read(n)


def is_compressed(path: str) -> bool:
    return path.lower().endswith(COMPRESSED)


def plan_chunks(path: str, size: int, fmt: str, chunk_bytes: int) -> list[Chunk]:
    """Split a line-based, uncompressed file into byte ranges; anything else is one chunk."""
    if fmt not in LINE_FORMATS or is_compressed(path) or size <= chunk_bytes:
        return [Chunk(path, fmt)]
    return [Chunk(path, fmt, s, min(s + chunk_bytes, size)) for s in range(0, size, chunk_bytes)]


def iter_lines(raw: BinaryIO, chunk: Chunk, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """(byte offset, line) of the lines that start inside the chunk; an over-long line comes as
    None (its rest skipped). A line belongs to the chunk its first byte lies in."""
    from pipeline.compression import open_decompressed

    if chunk.start > 0:
        raw.seek(chunk.start - 1)
        stream = raw
        pos = chunk.start - 1
        first = stream.readline(limit + 1)  # the tail of the line that started before us
        pos += len(first)
        while len(first) > limit and not first.endswith(b"\n"):
            first = stream.readline(limit + 1)
            pos += len(first)
    else:
        stream = open_decompressed(raw) if is_compressed(chunk.path) else raw
        pos = 0
    while chunk.end < 0 or pos < chunk.end:
        line = stream.readline(limit + 1)
        if not line:
            return
        start = pos
        pos += len(line)
        if len(line) > limit and not line.endswith(b"\n"):
            while True:
                more = stream.readline(1 << 20)
                pos += len(more)
                if not more or more.endswith(b"\n"):
                    break
            yield start, None
            continue
        yield start, line


def read_chunk(chunk: Chunk, options: ReadOptions, stats: ReadStats,
               open_fn: Callable[[str], BinaryIO] | None = None) -> Iterator[Record]:
    """Read one chunk of any format (``open_fn`` defaults to local ``open``)."""
    opener = open_fn or (lambda p: open(p, "rb"))
    with opener(chunk.path) as raw:
        if chunk.fmt == "nt":
            from corpora.kg.readers.ntriples import read_ntriples
            yield from read_ntriples(raw, chunk, options, stats)
        elif chunk.fmt == "ttl":
            from corpora.kg.readers.turtle import read_turtle
            yield from read_turtle(raw, chunk, options, stats)
        elif chunk.fmt == "wikidata-json":
            from corpora.kg.readers.wikidata_json import read_wikidata_json
            yield from read_wikidata_json(raw, chunk, options, stats)
        elif chunk.fmt in ("tsv", "labels-tsv"):
            from corpora.kg.readers.tsv import read_tsv
            yield from read_tsv(raw, chunk, options, stats)
        elif chunk.fmt == "webnlg":
            from corpora.kg.readers.webnlg import read_webnlg
            yield from read_webnlg(raw, chunk, options, stats)
        elif chunk.fmt == "labels-json":
            yield from read_labels_json(raw, chunk, options, stats)
        elif chunk.fmt == "dart":
            from corpora.kg.readers.dart import read_dart
            yield from read_dart(raw, chunk, options, stats)
        else:
            raise ValueError(f"unknown KG input format {chunk.fmt!r} (known: {', '.join(FORMATS)})")


def read_labels_json(raw: BinaryIO, chunk: Chunk, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    """A JSON object of labels, ``{"P6": "head of government", ...}`` (untagged), as Labels; one record
    per key. Parsed whole (label files are small)."""
    import json

    try:
        data = json.load(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        stats.records += 1
        yield drop("invalid_json", chunk, "file", str(exc))
        return
    for key, text in data.items():
        stats.records += 1
        if not isinstance(text, str) or not text.strip():
            yield drop("malformed_row", chunk, f"key {key}", "a label must be a non-empty string")
            continue
        yield Label(key, text.strip(), None)


def keep_label(label: Label, options: ReadOptions) -> bool:
    """Labels in a wanted language (or untagged) are kept; aliases only when asked."""
    if label.alias and not options.keep_aliases:
        return False
    return label.lang is None or label.lang in options.langs or label.lang.split("-")[0] in options.langs


def keep_counted_label(label: Label, options: ReadOptions, stats: ReadStats) -> bool:
    """``keep_label``, counting a label left out as ``label_other_lang``."""
    if keep_label(label, options):
        return True
    stats.counts["label_other_lang"] += 1
    return False


def keep_mapped(record: Record | None, options: ReadOptions, stats: ReadStats) -> bool:
    """Whether an RDF triple's mapped record is yielded: not when the triple maps to nothing,
    nor a label left out by ``keep_counted_label``."""
    return record is not None and (not isinstance(record, Label) or keep_counted_label(record, options, stats))


def checked_lines(raw: BinaryIO, chunk: Chunk, options: ReadOptions, stats: ReadStats,
                  what: str = "") -> Iterator[tuple[str, bytes | Drop]]:
    """(where, line) of the chunk's lines (``iter_lines``); an over-long line comes as its
    ``line_too_long`` Drop, counted as a record (``what`` names the record in its detail)."""
    for offset, line in iter_lines(raw, chunk, options.max_line_bytes):
        where = f"byte {offset}"
        if line is None:
            stats.records += 1
            yield where, drop("line_too_long", chunk, where, f"{what}longer than {options.max_line_bytes} bytes")
        else:
            yield where, line


def drop(reason: str, chunk: Chunk, where: str, detail: str = "") -> Drop:
    return Drop(STAGE, reason, id=f"{chunk.path}:{where}", source_file=chunk.path, detail=f"{where}: {detail}"[:2000])

"""Passage collections as users have them, ids kept as given: MS MARCO TSV (``pid<TAB>passage``),
JSONL ``{id, contents}`` (Anserini's JsonCollection, docTTTTTquery's ``docsNN.json``), gzipped or
not, one file or a folder of them; MS MARCO's mojibake repaired on request (ftfy). Files are read
through :mod:`pipeline.fileio` (local, ``gs://``, ``s3://``, ``memory://``)."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import zlib
from collections.abc import Callable, Iterator
from typing import BinaryIO

from corpora.doc2query.pairs import BadLine, parse_id_text
from pipeline import fileio
from pipeline.compression import MAGIC_BYTES, detect_compression

TSV_SUFFIXES = (".tsv", ".tsv.gz", ".txt", ".txt.gz")
JSON_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz")
COLLECTION_SUFFIXES = TSV_SUFFIXES + JSON_SUFFIXES


class CollectionError(ValueError):
    """A collection path that cannot be read at all (missing, empty folder, unknown format)."""


def line_format(path: str) -> str:
    """``"jsonl"`` for ``*.json[l][.gz]`` files (one JSON object a line), else ``"tsv"``."""
    return "jsonl" if path.endswith(JSON_SUFFIXES) else "tsv"


def fix_mojibake(text: str) -> str:
    """Repair text that was UTF-8 decoded as Latin-1/Windows-1252 (MS MARCO's ``Ã¢Â€Â™``), with ftfy."""
    import ftfy

    return ftfy.fix_text(text)


def keyed_json_object(line: str) -> dict | BadLine:
    """A JSONL line that must be an object with a string or integer ``id``, or why it is not."""
    if not line.strip():
        return BadLine("blank_line")
    try:
        obj = json.loads(line)
    except ValueError:
        return BadLine("bad_json", line[:200])
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), (str, int)) or isinstance(obj.get("id"), bool):
        return BadLine("bad_json", line[:200])
    return obj


def parse_collection_line(line: str, fmt: str, fix: bool = False) -> tuple[str, str] | BadLine:
    """One collection line -> (id, text with whitespace collapsed), or why not.

    ``fmt`` is ``"tsv"`` (``id<TAB>text``) or ``"jsonl"`` (``{"id", "contents"}``, or ``"text"``).
    """
    if fmt == "tsv":  # repaired before whitespace is collapsed: mojibake can hold U+00A0 or U+0085
        return parse_id_text(fix_mojibake(line) if fix else line)
    obj = keyed_json_object(line)
    if isinstance(obj, BadLine):
        return obj
    key = str(obj["id"]).strip()
    text = obj.get("contents", obj.get("text"))
    if not key:
        return BadLine("empty_id", line[:200])
    if not isinstance(text, str) or not text.strip():
        return BadLine("empty_text", key)
    return key, " ".join((fix_mojibake(text) if fix else text).split())


def is_corpus_dir(path: str) -> bool:
    """A corpusforge corpus (``data/*.parquet``) rather than a folder of collection files."""
    return os.path.isdir(os.path.join(path, "data")) or path.endswith(".parquet") or "*" in path


def collection_files(path: str, flag: str = "--collection") -> list[str]:
    """The files of a collection: the file itself, or a folder's ``*.tsv``/``*.json``/``*.jsonl``
    files (``.gz`` too) in name order (Anserini's and docTTTTTquery's ``docsNN.json`` folders)."""
    if os.path.isdir(path):
        files = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(COLLECTION_SUFFIXES))
        if not files:
            raise CollectionError(f"{flag} {path}: a folder without collection files "
                                  f"({', '.join('*' + s for s in COLLECTION_SUFFIXES)}) or data/*.parquet")
        return files
    if not fileio.exists(path):
        raise CollectionError(f"{flag} {path}: no such file")
    return [path]


_CHUNK = 1 << 20


def _decompressed_chunks(raw: BinaryIO, kind: str) -> Iterator[bytes]:
    """The bytes of a stored file, decompressed as ``kind`` (``pipeline.compression.detect_compression``), in chunks."""
    if kind == "deflate":
        inflate = zlib.decompressobj()
        while chunk := raw.read(_CHUNK):
            yield inflate.decompress(chunk)
        yield inflate.flush()
        return
    if kind == "gzip":
        stream: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    elif kind == "bz2":
        stream = bz2.BZ2File(raw, "rb")  # type: ignore[assignment]
    elif kind in ("xz", "lzma"):
        stream = lzma.LZMAFile(raw, "rb")  # type: ignore[assignment]
    elif kind == "zstd":
        import zstandard

        stream = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    else:
        stream = raw
    while chunk := stream.read(_CHUNK):
        yield chunk


def read_lines(path: str, open_fn: Callable[[str], BinaryIO] | None = None) -> Iterator[bytes]:
    """Raw lines (newline removed) of a local or remote text file, decompressed as its first bytes say
    (gzip, zstd, xz, bz2; ``.deflate`` and ``.lzma`` by name: :func:`pipeline.compression.detect_compression`,
    as the Beam jobs' ``ReadCollection`` does). ``open_fn`` opens the stored bytes (a Beam job passes
    ``beam_io.open_raw``, so its files all go Beam's way); by default :mod:`pipeline.fileio`."""
    rest = b""
    with (open_fn or fileio.open_read)(path) as stored:
        raw = stored if hasattr(stored, "peek") else io.BufferedReader(stored, _CHUNK)
        kind = detect_compression(raw.peek(MAGIC_BYTES)[:MAGIC_BYTES], path)
        for chunk in _decompressed_chunks(raw, kind):
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            yield from lines
    if rest:
        yield rest

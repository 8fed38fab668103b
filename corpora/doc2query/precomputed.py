"""Precomputed queries as a generator (``--generator precomputed:PATH``): docTTTTTquery's released
predictions, one line per passage in the collection's order (one file per sample), or JSONL
``{id, predicted_queries}``; a mismatch in count or ids is an error before any work."""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import BinaryIO

from corpora.doc2query.collection import (
    JSON_SUFFIXES,
    keyed_json_object,
    line_format,
    parse_collection_line,
    read_lines,
)
from corpora.doc2query.pairs import BadLine, decode_line

SCHEME = "precomputed:"


class PrecomputedError(ValueError):
    """Precomputed queries that do not fit the collection (named with the fix)."""


@dataclass(frozen=True)
class Precomputed:
    """The files of a ``precomputed:`` spec and how they are keyed."""

    files: tuple[str, ...]
    keyed: bool  # JSONL {id, predicted_queries}; else one line per passage, aligned with the collection


def is_precomputed(spec: str) -> bool:
    return spec.startswith(SCHEME)


def parse_spec(spec: str) -> Precomputed:
    """``precomputed:FILE[,FILE...]`` (globs allowed; files of a glob in name order)."""
    files: list[str] = []
    for part in spec[len(SCHEME):].split(","):
        part = part.strip()
        found = sorted(glob.glob(part)) if any(c in part for c in "*?[") else [part]
        if not part or not found:
            raise PrecomputedError(f"--generator {spec}: {part!r} matches no file")
        missing = [f for f in found if not os.path.isfile(f)]
        if missing:
            raise PrecomputedError(f"--generator {spec}: no such file {missing[0]}")
        files += found
    keyed = {f.endswith(JSON_SUFFIXES) for f in files}
    if len(keyed) != 1:
        raise PrecomputedError(f"--generator {spec}: mix of JSONL ({{id, predicted_queries}}) and line-per-passage "
                               "files; give one kind")
    return Precomputed(tuple(files), keyed.pop())


def parse_keyed_line(line: str) -> tuple[str, list[str]] | BadLine:
    """One ``{"id": ..., "predicted_queries": [...]}`` line -> (id, non-empty queries)."""
    obj = keyed_json_object(line)
    if isinstance(obj, BadLine):
        return obj
    queries = obj.get("predicted_queries")
    if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries):
        return BadLine("bad_json", line[:200])
    return str(obj["id"]).strip(), [" ".join(q.split()) for q in queries if q.strip()]


#: Opens a file's stored bytes (``beam_io.open_raw`` from a Beam job); None: :mod:`pipeline.fileio`.
OpenFn = Callable[[str], BinaryIO] | None


def _lines(path: str, open_fn: OpenFn = None) -> Iterator[str]:
    for raw in read_lines(path, open_fn):
        line = decode_line(raw)
        yield "" if isinstance(line, BadLine) else line


def collection_ids(files: Iterable[str], fix: bool = False, open_fn: OpenFn = None) -> Iterator[str | None]:
    """The id of each collection line in order (None for a line the collection stage drops)."""
    for path in files:
        fmt = line_format(path)
        for line in _lines(path, open_fn):
            parsed = parse_collection_line(line, fmt, fix) if line else BadLine("invalid_utf8")
            yield None if isinstance(parsed, BadLine) else parsed[0]


def align_lines(pre: Precomputed, ids: Iterable[str | None], out_path: str,
                create: Callable[[str], BinaryIO] | None = None, open_fn: OpenFn = None) -> dict[str, int]:
    """Zip the collection's ids with each prediction file's lines into keyed JSONL at ``out_path``
    (``{"id", "predicted_queries"}``; id "" for a collection line that is dropped). Raises
    :class:`PrecomputedError` when a file has more or fewer lines than the collection, or an id repeats.

    ``create`` opens ``out_path`` for writing bytes (e.g. Beam's ``FileSystems.create``, for any
    file system; the caller removes a partial file on error); by default a local file is written
    under a temporary name and renamed."""
    counts = {"passages": 0, "queries": 0}
    seen: set[str] = set()
    tmp = out_path if create else out_path + ".tmp"
    with ExitStack() as stack:
        readers = [_lines(f, open_fn) for f in pre.files]
        out = stack.enter_context(create(tmp) if create else open(tmp, "wb"))
        for n, pid in enumerate(ids, start=1):
            queries = []
            for f, reader in zip(pre.files, readers, strict=True):
                line = next(reader, None)
                if line is None:
                    raise PrecomputedError(f"{f} has {n - 1} lines but the collection has more: docTTTTTquery "
                                           "files must hold one line per collection line, in the same order")
                if line.strip():
                    queries.append(" ".join(line.split()))
            if pid is not None and pid in seen:
                raise PrecomputedError(f"collection id {pid} appears twice: line-aligned queries cannot say which "
                                       "copy they belong to (use JSONL {id, predicted_queries} or unique ids)")
            if pid is not None:
                seen.add(pid)
            out.write((json.dumps({"id": pid or "", "predicted_queries": queries}, ensure_ascii=False) + "\n")
                      .encode("utf-8"))
            counts["passages"] += 1
            counts["queries"] += len(queries)
        for f, reader in zip(pre.files, readers, strict=True):
            if next(reader, None) is not None:
                raise PrecomputedError(f"{f} has more lines than the collection's {counts['passages']}: docTTTTTquery "
                                       "files must hold one line per collection line, in the same order")
    if not create:
        os.replace(tmp, out_path)
    return counts


def check_keyed(pre: Precomputed, ids: Iterable[str | None], open_fn: OpenFn = None) -> dict[str, int]:
    """Check JSONL predictions against the collection's ids: every prediction names a passage, every
    passage has predictions, no id twice; raises :class:`PrecomputedError` naming the first mismatch."""
    wanted = {i for i in ids if i is not None}
    seen: set[str] = set()
    counts = {"passages": 0, "queries": 0, "bad_lines": 0}
    for f in pre.files:
        for n, line in enumerate(_lines(f, open_fn), start=1):
            parsed = parse_keyed_line(line)
            if isinstance(parsed, BadLine):
                if parsed.reason != "blank_line":
                    raise PrecomputedError(f"{f} line {n}: not {{\"id\", \"predicted_queries\": [...]}} ({parsed.reason})")
                continue
            pid, queries = parsed
            if pid in seen:
                raise PrecomputedError(f"{f} line {n}: id {pid} has predictions twice")
            if pid not in wanted:
                raise PrecomputedError(f"{f} line {n}: id {pid} is not a passage of the collection")
            seen.add(pid)
            counts["passages"] += 1
            counts["queries"] += len(queries)
    lacking = wanted - seen
    if lacking:
        raise PrecomputedError(f"{len(lacking)} of {len(wanted)} passages have no predicted queries "
                               f"(e.g. id {min(lacking)}); the predictions do not match this collection")
    return counts

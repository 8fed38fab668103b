"""Where a corpus's Parquet files are (``DIR/data/*.parquet``, a Parquet file or a glob): one
listing rule and one error wording for every job. No Beam import: the Beam shell passes its own
lister (``pipeline.beam_io.match_files``), the rest lists through :mod:`pipeline.fileio`."""

from __future__ import annotations

import os
from collections.abc import Callable

from pipeline import fileio
from pipeline.errors import UsageError

#: A pattern -> the files it matches (not folders), sorted, with their sizes; OSError when it cannot list.
Lister = Callable[[str], list[tuple[str, int]]]


class NoCorpusFiles(UsageError):
    """A corpus path that names no Parquet file, or whose files cannot be listed."""


def corpus_pattern(path: str) -> str:
    """The glob of a corpus path: the path itself for a Parquet file or a glob, else its
    ``data/*.parquet``; local ones made absolute (workers of a cluster run in other directories)."""
    pattern = path if path.endswith(".parquet") or "*" in path else fileio.join(path, "data", "*.parquet")
    return pattern if fileio.is_remote(pattern) else os.path.abspath(os.path.expanduser(pattern))


def corpus_parquet_files(path: str, flag: str = "--input", match: Lister = fileio.match) -> list[tuple[str, int]]:
    """(file, bytes) of every Parquet file of the corpus at ``path``, in name order; NoCorpusFiles,
    worded ``<flag> <path>: ...`` under the flag that named it, when there is none."""
    pattern = corpus_pattern(path)
    try:
        found = match(pattern)
    except OSError as exc:
        raise NoCorpusFiles(f"{flag} {path}: cannot list {pattern} ({exc})") from exc
    if not found:
        raise NoCorpusFiles(f"{flag} {path}: no corpus Parquet files (no file matches {pattern!r})")
    return found

"""Parquet output written in parts, one per bundle, then committed together (pure core, no Beam).

A part is written under a temporary folder beside its final name, its size and sha256 taken from
the bytes on their way out (no second read of the output). ``commit_parts`` runs once every part
is done: it names them ``prefix-SSSSS-of-NNNNN.parquet`` (at least ``min_parts`` files: empty ones
added, as Beam's file sinks do, so an empty corpus still has a readable file), then removes the
temporary folder, with anything a failed attempt left in it. Readers see only whole files.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import IO, Any

import pyarrow as pa

from pipeline import fileio
from pipeline.row_groups import RowGroup, RowGroupBuilder

SUFFIX = ".parquet"


@dataclass(frozen=True)
class FileOps:
    """The file operations parts need: :mod:`pipeline.fileio`'s by default; the Beam shell passes
    Beam's filesystems' (``pipeline.beam_io.file_ops``), which its runners' workers are set up for."""

    open_write: Callable[[str], IO[bytes]] = fileio.open_write
    rename: Callable[[str, str], None] = fileio.rename
    exists: Callable[[str], bool] = fileio.exists
    remove_tree: Callable[[str], None] = partial(fileio.delete, recursive=True)


@dataclass(frozen=True)
class PartsTarget:
    """Where one output's parts go: final names ``prefix-SSSSS-of-NNNNN.parquet``, the temporary
    folder beside them, the Arrow ``schema``, the ``codec``, and ``min_parts`` files at least."""

    prefix: str
    schema: pa.Schema
    codec: str = "zstd"
    min_parts: int = 1
    token: str = ""  # names the temporary folder; one per job, so a rerun never mixes with a failed run
    ops: FileOps = field(default_factory=FileOps)

    @classmethod
    def new(cls, prefix: str, schema: pa.Schema, codec: str = "zstd", min_parts: int = 1,
            ops: FileOps | None = None) -> PartsTarget:
        return cls(prefix, schema, codec, max(1, min_parts), uuid.uuid4().hex, ops or FileOps())

    @property
    def temp_dir(self) -> str:
        folder, name = self.prefix.rsplit("/", 1) if fileio.is_remote(self.prefix) else os.path.split(self.prefix)
        return fileio.join(folder, f".temp-{name}-{self.token}")

    def final_name(self, index: int, count: int) -> str:
        return f"{self.prefix}-{index:05d}-of-{count:05d}{SUFFIX}"


class _HashingFile:
    """A writable file that hands its bytes on to ``raw`` and keeps their count and sha256."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data) -> int:
        self.sha256.update(data)
        self.size += len(data)
        self.raw.write(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self.raw.flush()

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.raw.close()


class PartWriter:
    """Writes one part of ``target`` (opened on the first row group); ``close`` returns what the
    commit needs: ``{"temp", "rows", "bytes", "sha256"}``, or None when nothing was written."""

    def __init__(self, target: PartsTarget) -> None:
        self.target = target
        self.rows = 0
        self._file: _HashingFile | None = None
        self._writer = None
        self._path = ""

    def open(self) -> None:
        """Start the file (the first ``write`` does, when not called before)."""
        import pyarrow.parquet as pq

        self._path = fileio.join(self.target.temp_dir, f"{uuid.uuid4().hex}{SUFFIX}")
        self._file = _HashingFile(self.target.ops.open_write(self._path))
        self._writer = pq.ParquetWriter(self._file, self.target.schema, compression=self.target.codec,
                                        use_deprecated_int96_timestamps=False, use_compliant_nested_type=False)

    def write(self, group: RowGroup) -> None:
        if self._writer is None:
            self.open()
        self.rows += group.rows
        self._writer.write_table(group.take())  # type: ignore[union-attr]

    def close(self) -> dict[str, Any] | None:
        writer, self._writer = self._writer, None
        if writer is None:
            return None
        writer.close()
        assert self._file is not None
        self._file.close()
        return {"temp": self._path, "rows": self.rows, "bytes": self._file.size, "sha256": self._file.sha256.hexdigest()}


class RowsToPart:
    """Rows (dicts) -> one part of ``target`` in row groups of about ``row_group_bytes`` (Arrow
    buffers): ``add`` each row, then ``close`` (the part's description, None when no row came)."""

    def __init__(self, target: PartsTarget, row_group_bytes: int) -> None:
        self._builder = RowGroupBuilder(target.schema, row_group_bytes)
        self._writer = PartWriter(target)

    def add(self, row: dict) -> None:
        for group in self._builder.add(row):
            self._writer.write(group)

    def close(self) -> dict[str, Any] | None:
        for group in self._builder.finish():
            self._writer.write(group)
        return self._writer.close()


def _empty_part(target: PartsTarget) -> dict[str, Any]:
    """A part with no rows (the schema and an empty footer), for ``min_parts``."""
    writer = PartWriter(target)
    writer.open()
    return writer.close()  # type: ignore[return-value]


def commit_parts(target: PartsTarget, parts: list[dict[str, Any]], relative_to: str | None = None) -> list[dict[str, Any]]:
    """Name every written part (in the order of their temporary names) and remove the temporary
    folder; the manifest entries ``{"path", "rows", "bytes", "sha256"}``, with paths relative to
    ``relative_to`` when given. Run again after a failure part-way, it finishes the job: a part
    already moved to its final name is left there."""
    ops = target.ops
    parts = sorted(parts, key=lambda p: p["temp"])
    parts += [_empty_part(target) for _ in range(target.min_parts - len(parts))]
    described = []
    for i, part in enumerate(parts):
        final = target.final_name(i, len(parts))
        if ops.exists(part["temp"]) or not ops.exists(final):  # else moved already, by an earlier try
            ops.rename(part["temp"], final)
        path = fileio.relative(final, relative_to) if relative_to else final
        described.append({"path": path, "rows": part["rows"], "bytes": part["bytes"], "sha256": part["sha256"]})
    ops.remove_tree(target.temp_dir)
    return described

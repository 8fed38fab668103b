"""Rows (dicts) -> Parquet row groups as Arrow tables, in one-shot holders a writer empties.

Beam's own converter keeps the last table it yielded alive until the next one (a row group of
Arrow memory, 16 MB, held twice); a ``RowGroup`` hands its table over once and keeps nothing.
The chunking is Beam's (``record_batch_size`` rows per batch, a row group once its batches hold
``row_group_bytes``), so files come out the same.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa


class RowGroup:
    """One row group's table, handed to the writer once (``take``), after which it holds nothing."""

    __slots__ = ("_table", "rows")

    def __init__(self, table: pa.Table) -> None:
        self._table: pa.Table | None = table
        self.rows = table.num_rows

    def take(self) -> pa.Table:
        table, self._table = self._table, None
        if table is None:
            raise RuntimeError("row group already written")
        return table

    def __reduce__(self):  # crossing a process (a fusion break), it travels as its table
        if self._table is None:
            raise RuntimeError("row group already written")
        return (RowGroup, (self._table,))


class RowGroupBuilder:
    """``add(row)`` -> the row groups it completes; ``finish()`` -> the last one. Rows become an
    Arrow batch every ``record_batch_size`` rows (a missing nullable field is null), and the
    batches a row group once their buffers reach ``row_group_bytes``."""

    def __init__(self, schema: pa.Schema, row_group_bytes: int, record_batch_size: int = 1000) -> None:
        self.schema = schema
        self.row_group_bytes = row_group_bytes
        self.record_batch_size = record_batch_size
        self._names = schema.names
        self._optional = [f.nullable for f in schema]
        self._columns: list[list] = [[] for _ in self._names]
        self._batches: list[pa.RecordBatch] = []
        self._batch_bytes = 0

    def add(self, row: dict) -> Iterator[RowGroup]:
        if len(self._columns[0]) >= self.record_batch_size:
            self._flush_rows()
        if self._batch_bytes >= self.row_group_bytes:
            yield self._row_group()
        for column, name, optional in zip(self._columns, self._names, self._optional, strict=True):
            column.append(row.get(name) if optional else row[name])

    def finish(self) -> Iterator[RowGroup]:
        if self._columns[0]:
            self._flush_rows()
        if self._batch_bytes:
            yield self._row_group()

    def _flush_rows(self) -> None:
        arrays = [pa.array(column, type=field.type) for column, field in zip(self._columns, self.schema, strict=True)]
        self._columns = [[] for _ in self._names]
        self._batches.append(pa.RecordBatch.from_arrays(arrays, schema=self.schema))
        self._batch_bytes += sum(b.size for a in arrays for b in a.buffers() if b is not None)

    def _row_group(self) -> RowGroup:
        table = pa.Table.from_batches(self._batches, schema=self.schema)
        self._batches, self._batch_bytes = [], 0
        return RowGroup(table)

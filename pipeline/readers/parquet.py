"""Parquet reading in record batches, only the columns the job needs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.records import Drop, FileDone, RawRecord

if TYPE_CHECKING:
    from pipeline.readers import ReaderConfig

STAGE = "read"


def read_parquet(raw: BinaryIO, path: str, config: ReaderConfig, row_groups: range | None = None,
                 first_row: int = 0) -> Iterator[RawRecord | Drop | FileDone]:
    """Yield one RawRecord per row with a string text column; null or oversized rows are Drops.
    ``row_groups``: only these (a part of the file, ``pipeline.readers.ranges``), whose first row
    is the file's ``first_row``-th; a part without rows is not an empty file."""
    base = path.rstrip("/").rsplit("/", 1)[-1]
    try:
        pf = pq.ParquetFile(raw)
    except (pa.ArrowInvalid, OSError) as exc:
        status = "empty_file" if "size is 0" in str(exc) else "not_parquet"
        yield FileDone(path, status, str(exc))
        return
    names = set(pf.schema_arrow.names)
    if config.text_field not in names:
        yield FileDone(path, "missing_text_field", f"no column {config.text_field!r} (columns: {sorted(names)})")
        return
    columns = [config.text_field]
    id_col = config.id_field if config.id_field in names else None
    url_col = config.url_field if config.url_field in names else None
    columns += [c for c in (id_col, url_col) if c and c not in columns]
    row = first_row
    groups = list(row_groups) if row_groups is not None else None
    try:
        for batch in pf.iter_batches(batch_size=1024, columns=columns, row_groups=groups):
            data = batch.to_pydict()
            for i in range(batch.num_rows):
                key = f"{base}:{row}"  # the file's name, not the path form it was given by
                if id_col and data[id_col][i] is not None:
                    key = f"{base}:{data[id_col][i]}"
                text = data[config.text_field][i]
                row += 1
                if not isinstance(text, str):
                    yield Drop(STAGE, "missing_text_field", id=key, source_file=path, detail=f"row {row - 1}: null")
                    continue
                if len(text) > config.limits.max_record_bytes:
                    yield Drop(STAGE, "oversized", id=key, source_file=path, detail=f"row {row - 1}")
                    continue
                url = data[url_col][i] if url_col else None
                meta = {"source_file": base, "row": row - 1}
                yield RawRecord(key, path, "text", text, url=url if isinstance(url, str) else None, meta=meta)
    except (pa.ArrowInvalid, OSError) as exc:
        yield FileDone(path, "corrupt_parquet", str(exc), row - first_row)
        return
    yield FileDone(path, "ok" if row or groups is not None else "empty_file", "", row - first_row)

"""The tokenize job's row rules and slice tokenization (pure core: Arrow and numpy, no Beam).

A row is dropped when it has no id (``missing_id``), no text (``empty_text``) or unusable marker
spans in its meta (the :class:`pipeline.markup.MarkupError` reason); every other row is
encoded and goes to the (source, split) its id hashes to.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.markup import SPECIAL_SPANS, MarkupError, resolve_markers, spans_from_meta
from pipeline.outcomes import Weighted
from pipeline.records import Drop
from pipeline.shards.batches import TokenBatch

__all__ = ["RowSlice", "marked_rows", "row_problem", "tokenize_slice"]


@dataclass
class RowSlice:
    """Some rows of one Parquet row group (an Arrow record batch) and the source name given for
    them (None: each row's ``source`` column). Its length is its rows: the tokenize stage's inputs."""

    name: str | None
    table: Any  # pyarrow.RecordBatch

    def __len__(self) -> int:
        return self.table.num_rows


def row_problem(doc_id: str | None, text: str | None, meta: str | None, marker_ids: Mapping[str, int],
                eod_id: int) -> Drop | list[tuple[int, int, int]] | None:
    """The drop rule of one row: a Drop, else its resolved markers (None when it has none)."""
    if doc_id is None:
        return Drop("", "missing_id", id=None, detail=f"text: {str(text)[:80]!r}")
    if not text or not text.strip():
        return Drop("", "empty_text", id=doc_id)
    if meta is None:
        return None
    try:
        spans = spans_from_meta(meta)
        return resolve_markers(text, spans, marker_ids, (eod_id,)) if spans else None
    except MarkupError as exc:
        return Drop("", exc.reason, id=doc_id, detail=str(exc))


def marked_rows(table) -> dict[int, str]:
    """Row -> meta of the rows whose meta names ``special_spans`` (found by one vectorised
    substring test, so rows without markers are never parsed)."""
    if "meta" not in table.column_names:
        return {}
    meta = table.column("meta")
    if not _may_name(meta, SPECIAL_SPANS):
        return {}
    import pyarrow.compute as pc  # (7 MB resident: imported only when some row may have markers)

    hits = pc.indices_nonzero(pc.fill_null(pc.match_substring(meta, SPECIAL_SPANS), False))  # (to_numpy imports pandas)
    return {i: meta[i].as_py() for i in hits.to_pylist()}


def _may_name(column, word: str) -> bool:
    """False when no value of a string ``column`` can contain ``word``: its bytes, searched whole
    (a superset of its rows: it may be a slice of a larger buffer), do not; True otherwise."""
    import pyarrow as pa

    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return True
    needle = word.encode("utf-8")
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    return any(data is not None and needle in data.to_pybytes() for data in (c.buffers()[2] for c in chunks))


def tokenize_slice(rows: RowSlice, encoder, split_for, eod_id: int) -> Iterator:
    """One slice -> a Drop per dropped row and, per (source, split), ``((source, split), TokenBatch)``
    weighted by its documents (end-of-document appended); ``split_for(doc_id)`` names the split."""
    table, name = rows.table, rows.name
    n = table.num_rows
    ids = table.column("id").to_pylist()
    texts = table.column("text").to_pylist()
    sources = [name] * n if name else table.column("source").to_pylist()
    marked = marked_rows(table)
    keys: dict[tuple[str, str], list[int]] = {}
    kept: list[int] = []
    markers: dict[int, list[tuple[int, int, int]]] = {}
    for i, (doc_id, text) in enumerate(zip(ids, texts, strict=True)):
        problem = row_problem(doc_id, text, marked.get(i), encoder.text.marker_ids, eod_id)
        if isinstance(problem, Drop):
            yield problem
            continue
        if problem is not None:
            markers[len(kept)] = problem
        keys.setdefault((sources[i], split_for(doc_id)), []).append(len(kept))
        kept.append(i)
    if not kept:
        return
    tokens, lengths = encoder.encode([texts[i] for i in kept],
                                     [markers.get(k) for k in range(len(kept))] if markers else None)
    whole = TokenBatch.build([ids[i] for i in kept], lengths, tokens)
    for key, positions in keys.items():
        batch = whole if len(positions) == len(kept) else whole.take(np.asarray(positions))
        yield Weighted((key, batch), len(batch))

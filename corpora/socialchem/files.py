"""Small file helpers of the SOCIAL-CHEM steps, all through :mod:`pipeline.fileio` (local paths,
``gs://``, ``s3://``, ``memory://``): atomic writes of text, JSON, JSONL, CSV, TSV and rejects;
reads of JSONL and released-format TSV rows (invalid rows counted by reason)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import IO

from corpora.socialchem.schema import COLUMNS, HEADER, to_line
from pipeline import fileio


def write_text_atomic(path: str, text: str) -> None:
    """Write to a temporary name beside ``path``, then rename: readers never see half a file."""
    fileio.write_atomic(path, text.encode("utf-8"))


def write_json(path: str, obj) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def write_jsonl(path: str, records: Iterable[dict]) -> int:
    lines = [json.dumps(r, ensure_ascii=False, sort_keys=False) for r in records]
    write_text_atomic(path, "".join(line + "\n" for line in lines))
    return len(lines)


def write_csv(path: str, header: list[str], rows: Iterable[dict]) -> int:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    n = 0
    for row in rows:
        writer.writerow(row)
        n += 1
    write_text_atomic(path, buf.getvalue())
    return n


def write_tsv(path: str, rows: Iterable[dict]) -> int:
    """A released-format TSV (header and 25 columns) of rows of cells."""
    lines = [HEADER] + [to_line(r) for r in rows]
    write_text_atomic(path, "\n".join(lines) + "\n")
    return len(lines) - 1


def write_rejects(output: str, rows: Iterable[dict]) -> str:
    """Rejects rows (pipeline.schema.REJECTS_SCHEMA) as ``output/rejects/part-00000-of-00001.parquet``,
    the layout every job's rejects have (one part; written even when empty); the file's path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.schema import REJECTS_SCHEMA

    path = fileio.join(output, "rejects", "part-00000-of-00001.parquet")
    table = pa.Table.from_pylist(list(rows), schema=REJECTS_SCHEMA)
    with fileio.atomic_writer(path) as f:
        pq.write_table(table, f, compression="zstd")
    return path


def open_text(path: str, encoding: str = "utf-8", newline: str | None = None) -> IO[str]:
    """A file as text (undecodable bytes replaced), wherever it is."""
    return io.TextIOWrapper(fileio.open_read(path), encoding=encoding, errors="replace", newline=newline)


def read_jsonl(path: str) -> Iterator[tuple[int, dict | None, str]]:
    """(line number, record or None, error) for every non-blank line of a JSONL file."""
    with open_text(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                yield n, None, f"not JSON ({exc})"
                continue
            if not isinstance(obj, dict):
                yield n, None, "not a JSON object"
                continue
            yield n, obj, ""


def resolve(path: str, default_name: str) -> str:
    """``path`` itself, or ``path/default_name`` when ``path`` is a directory."""
    return fileio.join(path, default_name) if fileio.is_dir(path) else path


def valid_rows(path: str, report, dropped: Counter, check_splits: bool = False) -> Iterator[dict[str, str]]:
    """The valid rows (cells) of a released-format TSV, streamed; every other line is counted in
    ``dropped`` under the reason the render step's read stage gives it (a row: its first issue;
    a line that cannot be mapped to columns: its kind), and described in ``report``."""
    from corpora.socialchem.stages import UNMAPPABLE
    from corpora.socialchem.validate import read_rows

    for _, cells, issues in read_rows(path, report, check_splits=check_splits):
        if issues:
            dropped[issues[0].kind] += 1
        else:
            yield cells
    for kind in UNMAPPABLE:
        if report.issues.get(kind):
            dropped[kind] += report.issues[kind]


def read_tsv_rows(path: str, check_splits: bool = False, allow_empty: bool = False,
                  dropped: Counter | None = None):
    """(valid rows as cells, the validation report) of a released-format TSV.

    Invalid rows are left out of the list but counted (by reason in ``dropped`` when given) and
    described in the report (the caller prints it); a wrong header, or no row at all unless
    ``allow_empty``, raises ValueError naming the problem. A UTF-8 BOM before the header is read as such.
    """
    from corpora.socialchem.validate import ValidationReport

    report = ValidationReport(path=path, max_examples=10)
    rows = list(valid_rows(path, report, Counter() if dropped is None else dropped, check_splits))
    if not report.header_ok:
        raise ValueError(f"{path}: " + "; ".join(str(i) for i in report.examples))
    if not report.rows and not allow_empty:
        raise ValueError(f"{path}: no rows after the header (empty input)")
    return rows, report


__all__ = ["COLUMNS", "write_text_atomic", "write_json", "write_jsonl", "write_csv", "write_tsv", "write_rejects",
           "open_text", "read_jsonl", "resolve", "valid_rows", "read_tsv_rows"]

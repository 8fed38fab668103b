"""Streaming validation of released-format SOCIAL-CHEM-101 TSV files, precise to line and column.

The file is read in blocks of lines; each block is checked column by column on the set of
distinct values (a 355,922-row file has a few hundred distinct values per categorical column),
so only bad cells are ever visited one by one. Per-file state (duplicate keys, situation and
RoT consistency) is kept as 64-bit hashes, so memory stays bounded by the number of RoTs.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import BinaryIO

from corpora.socialchem.schema import (
    CHAR_COLUMNS,
    CHAR_VALUES,
    COLUMNS,
    HEADER,
    MULTI_SEP,
    N_COLUMNS,
    NARRATOR,
    SCHEMA,
    SPLIT_FAMILY,
    TEXT,
    char_index,
)

BLOCK_LINES = 20_000
MAX_LINE_BYTES = 1 << 20
_CACHE_LIMIT = 50_000
_COL = {name: i for i, name in enumerate(COLUMNS)}


@dataclass
class Issue:
    """One problem: where (line, column), what value, which kind, and what is allowed instead."""

    line: int
    kind: str
    message: str
    column: str | None = None
    value: str | None = None
    allowed: str = ""

    def __str__(self) -> str:
        allowed = f" (allowed: {self.allowed})" if self.allowed else ""
        if not self.column:  # a whole-line problem: the message first, then the line's start
            value = f": {_short(self.value, 60)!r}" if self.value else ""
            return f"line {self.line}: {self.message}{allowed}{value}"
        value = f": value {_short(self.value)!r}" if self.value is not None else ""
        return f"line {self.line}, column {self.column!r}{value}: {self.message}{allowed}"

    def as_dict(self) -> dict:
        return asdict(self)


def _short(value: str | None, limit: int = 80) -> str | None:
    if value is None or len(value) <= limit:
        return value
    return value[:limit] + "..."


@dataclass
class ValidationReport:
    """What a validation found: counts, issues by kind (with the first examples), distributions."""

    path: str = ""
    lines: int = 0
    rows: int = 0
    valid_rows: int = 0
    header_ok: bool = True
    issues: Counter = field(default_factory=Counter)
    examples: list[Issue] = field(default_factory=list)
    areas: Counter = field(default_factory=Counter)
    splits: Counter = field(default_factory=Counter)
    situations: int = 0
    rots: int = 0
    max_examples: int = 20

    @property
    def ok(self) -> bool:
        return self.header_ok and not self.issues

    @property
    def invalid_rows(self) -> int:
        return self.rows - self.valid_rows

    def add(self, issue: Issue) -> None:
        self.issues[issue.kind] += 1
        if len(self.examples) < self.max_examples:
            self.examples.append(issue)

    def as_dict(self) -> dict:
        return {
            "path": self.path, "ok": self.ok, "lines": self.lines, "rows": self.rows, "valid_rows": self.valid_rows,
            "invalid_rows": self.invalid_rows, "header_ok": self.header_ok, "issues": dict(sorted(self.issues.items())),
            "examples": [i.as_dict() for i in self.examples], "areas": dict(sorted(self.areas.items())),
            "splits": dict(sorted(self.splits.items())), "situations": self.situations, "rots": self.rots,
        }

    def render(self) -> str:
        lines = [f"{self.path or 'input'}: {'OK' if self.ok else 'INVALID'}",
                 f"  rows {self.rows:,} (valid {self.valid_rows:,}, invalid {self.invalid_rows:,}), "
                 f"situations {self.situations:,}, RoTs {self.rots:,}",
                 "  areas:  " + (", ".join(f"{k}={v:,}" for k, v in sorted(self.areas.items())) or "-"),
                 "  splits: " + (", ".join(f"{k}={v:,}" for k, v in sorted(self.splits.items())) or "-")]
        if self.issues:
            lines.append("  issues: " + ", ".join(f"{k}={v:,}" for k, v in sorted(self.issues.items())))
            lines.append(f"  first {len(self.examples)}:")
            lines += [f"    {issue}" for issue in sorted(self.examples, key=lambda i: i.line)]
        return "\n".join(lines)


def header_issues(line: str, line_no: int = 1) -> list[Issue]:
    """Problems of the header line: missing, unknown, repeated or reordered columns."""
    names = line.split("\t")
    if names == list(COLUMNS):
        return []
    missing = [c for c in COLUMNS if c not in names]
    extra = [c for c in names if c not in COLUMNS]
    issues = []
    if missing:
        issues.append(Issue(line_no, "bad_header", f"missing column(s): {', '.join(missing)}", allowed=HEADER))
    if extra:
        issues.append(Issue(line_no, "bad_header", f"unknown column(s): {', '.join(extra)}", allowed=HEADER))
    if not missing and not extra:
        issues.append(Issue(line_no, "bad_header", "columns out of order (expected the release's order)",
                            allowed=HEADER))
    return issues


class TsvValidator:
    """Checks rows block by block and remembers what must hold across the whole file.

    ``check_block`` returns the issues of each bad row (by line number), so the same engine
    validates a release, filters rows for the importer and reports rows for the renderer.
    """

    def __init__(self, report: ValidationReport | None = None, check_splits: bool = True) -> None:
        self.report = report or ValidationReport()
        self.check_splits = check_splits
        self._cache: dict[str, dict[str, str | None]] = {name: {} for name in COLUMNS}
        self._breakdowns: dict[int, int] = {}  # hash(rot-id, breakdown-worker-id) -> first line
        self._rots: dict[int, tuple[int, int]] = {}  # hash(rot-id) -> (hash(rot, situation id), first line)
        self._situations: dict[int, tuple[int, str, int]] = {}  # hash(sid) -> (hash(text), split family, line)

    def _value_error(self, name: str, value: str) -> str | None:
        cache = self._cache[name]
        if value in cache:
            return cache[value]
        reason = SCHEMA[name].error(value)
        if len(cache) < _CACHE_LIMIT:
            cache[value] = reason
        return reason

    def check_block(self, block: list[tuple[int, list[str]]]) -> dict[int, list[Issue]]:
        """Validate numbered rows (split into cells); returns {line: issues} for bad rows only."""
        report = self.report
        bad: dict[int, list[Issue]] = {}

        def flag(issue: Issue) -> None:
            bad.setdefault(issue.line, []).append(issue)
            report.add(issue)

        rows = []
        for line_no, cells in block:
            if len(cells) == N_COLUMNS:
                rows.append((line_no, cells))
            else:
                hint = "a missing column" if len(cells) < N_COLUMNS else "a tab inside a value (shifted row)"
                flag(Issue(line_no, "wrong_column_count", f"{len(cells)} fields instead of {N_COLUMNS} "
                           f"(likely {hint})", value="\t".join(cells)[:200]))
        report.rows += len(block)
        if not rows:
            return bad
        lines = [n for n, _ in rows]
        cols = list(zip(*(cells for _, cells in rows), strict=True))
        for ci, name in enumerate(COLUMNS):
            col, spec = cols[ci], SCHEMA[name]
            if spec.kind == TEXT:
                if not spec.nullable and "" in col:
                    for i, v in enumerate(col):
                        if v == "":
                            flag(Issue(lines[i], "empty_value", "empty", name, v, spec.allowed()))
                continue
            wrong = {v for v in set(col) if self._value_error(name, v)}
            if wrong:
                for i, v in enumerate(col):
                    if v in wrong:
                        reason = self._value_error(name, v)
                        kind = "empty_value" if reason == "empty" else "bad_value"
                        flag(Issue(lines[i], kind, reason, name, v, spec.allowed()))
        self._cross_checks(cols, lines, flag)
        report.areas.update(cols[_COL["area"]])
        report.splits.update(cols[_COL["split"]])
        report.valid_rows += len(rows) - sum(1 for n in lines if n in bad)
        return bad

    def _cross_checks(self, cols: list[tuple[str, ...]], lines: list[int], flag) -> None:
        n_col = cols[_COL["n-characters"]]
        for name in CHAR_COLUMNS:
            col = cols[_COL[name]]
            beyond = {(c, n) for c, n in set(zip(col, n_col, strict=True)) if c in CHAR_VALUES and c != "char-none"
                      and n.isdigit() and char_index(c) >= int(n)}
            if beyond:
                for i, pair in enumerate(zip(col, n_col, strict=True)):
                    if pair in beyond:
                        flag(Issue(lines[i], "char_out_of_range", f"{pair[0]} points beyond n-characters={pair[1]}",
                                   name, pair[0], f"char-none or char-0..char-{int(pair[1]) - 1}"))
        chars = cols[_COL["characters"]]
        for i, (c, n) in enumerate(zip(chars, n_col, strict=True)):
            if c and n.isdigit() and c.count(MULTI_SEP) + 1 != int(n):
                flag(Issue(lines[i], "n_characters_mismatch", f"characters lists {c.count(MULTI_SEP) + 1} "
                           f"but n-characters is {n}", "n-characters", n, "the number of characters"))
        for i, c in enumerate(chars):
            if c and c != NARRATOR and not c.startswith(NARRATOR + MULTI_SEP):
                flag(Issue(lines[i], "narrator_not_first", f"the first character must be {NARRATOR!r}",
                           "characters", c, f"{NARRATOR}|..."))
        rot_ids, workers = cols[_COL["rot-id"]], cols[_COL["breakdown-worker-id"]]
        rot_texts, sids = cols[_COL["rot"]], cols[_COL["situation-short-id"]]
        situations, splits = cols[_COL["situation"]], cols[_COL["split"]]
        for i, line in enumerate(lines):
            rid = rot_ids[i]
            key = hash((rid, workers[i]))
            first = self._breakdowns.setdefault(key, line)
            if first != line:
                flag(Issue(line, "duplicate_rot_id", f"rot-id with breakdown-worker-id {workers[i]!r} already on "
                           f"line {first}", "rot-id", rid, "one row per (rot-id, breakdown-worker-id)"))
            content = hash((rot_texts[i], sids[i]))
            seen = self._rots.setdefault(hash(rid), (content, line))
            if seen[0] != content:
                flag(Issue(line, "inconsistent_rot", f"same rot-id as line {seen[1]} with another rot or "
                           "situation-short-id", "rot-id", rid))
            family = SPLIT_FAMILY.get(splits[i], splits[i])
            sit = self._situations.setdefault(hash(sids[i]), (hash(situations[i]), family, line))
            if sit[0] != hash(situations[i]):
                flag(Issue(line, "inconsistent_situation", f"situation text differs from line {sit[2]} with the "
                           "same situation-short-id", "situation", situations[i]))
            if self.check_splits and sit[1] != family:
                flag(Issue(line, "split_crossing", f"situation is in split family {family!r} here but "
                           f"{sit[1]!r} on line {sit[2]}", "split", splits[i], "one split per situation"))
        self.report.rots = len(self._rots)
        self.report.situations = len(self._situations)


def iter_lines(raw: BinaryIO, report: ValidationReport, start: int = 1,
               max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, str]]:
    """Decoded lines with 1-based numbers; undecodable, oversized and blank lines become issues."""
    line_no = start - 1
    for data in raw:
        line_no += 1
        report.lines += 1
        if len(data) > max_line_bytes:
            report.rows += 1
            report.add(Issue(line_no, "line_too_long", f"{len(data):,} bytes (limit {max_line_bytes:,})"))
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            report.rows += 1
            report.add(Issue(line_no, "bad_utf8", f"not UTF-8 ({exc.reason} at byte {exc.start})"))
            continue
        text = text.rstrip("\n").rstrip("\r")
        if not text.strip():
            if text or data.endswith(b"\n"):
                report.rows += 1
                report.add(Issue(line_no, "blank_line", "blank line"))
            continue
        yield line_no, text


def _rows_after_header(raw: BinaryIO, report: ValidationReport) -> Iterator[tuple[int, str]] | None:
    """The numbered lines after a correct header; None (issues reported) when the header is wrong."""
    lines = iter_lines(raw, report)
    first = next(lines, None)
    if first is None:
        report.header_ok = False
        report.add(Issue(1, "bad_header", "empty file (no header)", allowed=HEADER))
        return None
    for issue in header_issues(first[1], first[0]):
        report.header_ok = False
        report.add(issue)
    return lines if report.header_ok else None


def iter_checked(raw: BinaryIO, report: ValidationReport | None = None, check_splits: bool = True,
                 block_lines: int = BLOCK_LINES) -> Iterator[tuple[int, dict[str, str], list[Issue]]]:
    """Stream (line, row cells, issues) for every row with 25 fields; rows with issues included.

    A wrong header stops the stream (its issues are in the report, ``header_ok`` is False).
    Rows with a wrong field count cannot be mapped to columns: they are only in the report.
    """
    validator = TsvValidator(report, check_splits)
    lines = _rows_after_header(raw, validator.report)
    if lines is None:
        return
    block: list[tuple[int, list[str]]] = []

    def flush():
        bad = validator.check_block(block)
        for line_no, cells in block:
            if len(cells) == N_COLUMNS:
                yield line_no, dict(zip(COLUMNS, cells, strict=True)), bad.get(line_no, [])
        block.clear()

    for line_no, text in lines:
        block.append((line_no, text.split("\t")))
        if len(block) >= block_lines:
            yield from flush()
    if block:
        yield from flush()


def validate_stream(raw: BinaryIO, path: str = "", max_examples: int = 20, check_splits: bool = True,
                    block_lines: int = BLOCK_LINES) -> ValidationReport:
    """Validate a whole released-format TSV without keeping its rows (the fast path)."""
    report = ValidationReport(path=path, max_examples=max_examples)
    validator = TsvValidator(report, check_splits)
    lines = _rows_after_header(raw, report)
    if lines is None:
        return report
    block: list[tuple[int, list[str]]] = []
    for line_no, text in lines:
        block.append((line_no, text.split("\t")))
        if len(block) >= block_lines:
            validator.check_block(block)
            block = []
    if block:
        validator.check_block(block)
    return report


def validate_file(path: str, max_examples: int = 20, check_splits: bool = True) -> ValidationReport:
    """Validate a local TSV file (``.gz``/``.bz2``/``.zst`` handled by :func:`open_binary`)."""
    with open_binary(path) as raw:
        return validate_stream(raw, path, max_examples, check_splits)


def validate_text(text: str, max_examples: int = 100, check_splits: bool = True) -> ValidationReport:
    """Validate TSV content given as a string (tests, small inputs)."""
    return validate_stream(io.BytesIO(text.encode("utf-8")), "<text>", max_examples, check_splits)


def open_binary(path: str) -> BinaryIO:
    """Open a local or remote file for reading bytes, decompressing by its extension."""
    if "://" in path:
        from pipeline.beam_io import FileSystems  # only remote paths need Beam's filesystems

        return io.BufferedReader(FileSystems.open(path))
    if path.endswith(".gz"):
        import gzip

        return gzip.open(path, "rb")
    if path.endswith(".bz2"):
        import bz2

        return bz2.open(path, "rb")
    return open(path, "rb", buffering=1 << 20)


def read_rows(path: str, report: ValidationReport | None = None,
              check_splits: bool = True) -> Iterator[tuple[int, dict[str, str], list[Issue]]]:
    """(line, cells, issues) for every mappable row of a TSV file (see :func:`iter_checked`)."""
    with open_binary(path) as raw:
        yield from iter_checked(raw, report or ValidationReport(path=path), check_splits)


def load_tsv(path: str, columns: Iterable[str] | None = None):
    """The file as a pyarrow Table with typed columns ("" is null), read in parallel by Arrow.

    Run :func:`validate_file` first: Arrow stops at the first malformed row, without the
    line/column detail the validator gives.
    """
    import pyarrow as pa
    from pyarrow import csv

    types = {name: (pa.int16() if SCHEMA[name].kind == "int" else pa.string()) for name in COLUMNS}
    include = list(columns) if columns else None
    unknown = [c for c in include or [] if c not in COLUMNS]
    if unknown:
        raise ValueError(f"unknown column(s) {unknown}; known: {', '.join(COLUMNS)}")
    return csv.read_csv(
        path,
        read_options=csv.ReadOptions(block_size=16 << 20),
        parse_options=csv.ParseOptions(delimiter="\t", quote_char=False, double_quote=False, escape_char=False,
                                       newlines_in_values=False),
        convert_options=csv.ConvertOptions(column_types=types, include_columns=include, null_values=[""],
                                           strings_can_be_null=True, quoted_strings_can_be_null=False),
    )

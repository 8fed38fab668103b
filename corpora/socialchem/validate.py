"""Streaming validation of released-format SOCIAL-CHEM-101 TSV files, precise to line and column.

The file is read in blocks of lines; each block is checked column by column on the set of
distinct values (a 355,922-row file has a few hundred distinct values per categorical column),
so only bad cells are ever visited one by one. Per-file state (duplicate keys, situation and
RoT consistency) is kept as 64-bit hashes, so memory stays bounded by the number of RoTs.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from itertools import repeat
from typing import BinaryIO

from corpora.socialchem.schema import (
    CHAR_COLUMNS,
    CHAR_VALUES,
    COLUMNS,
    HEADER,
    LISTED_CHARACTERS,
    MULTI_SEP,
    N_COLUMNS,
    NARRATOR,
    SCHEMA,
    SPLIT_FAMILY,
    TEXT,
    char_index,
)
from pipeline import fileio

BLOCK_LINES = 20_000
CHUNK_BYTES = 8 << 20
MAX_LINE_BYTES = 1 << 20
_CACHE_LIMIT = 50_000
_COL = {name: i for i, name in enumerate(COLUMNS)}
BOM = "\ufeff"  # a UTF-8 byte-order mark, as spreadsheet programs write it before the header
#: issues reported without making the file (or the row) invalid: rules the release's documentation
#: does not promise, which its own files break (dev-extra/test-extra repeat breakdowns of dev/test;
#: the official code skips a char-N beyond n-characters with a warning; n-characters may exceed
#: the characters listed, at most six)
WARNING_KINDS = frozenset({"inconsistent_situation", "breakdown_in_two_splits", "char_out_of_range",
                           "characters_not_all_listed"})


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
        return self.header_ok and not self.errors

    @property
    def errors(self) -> dict[str, int]:
        return {k: n for k, n in self.issues.items() if k not in WARNING_KINDS}

    @property
    def warnings(self) -> dict[str, int]:
        return {k: n for k, n in self.issues.items() if k in WARNING_KINDS}

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
            "warnings": sorted(self.warnings),
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
            lines.append("  issues: " + ", ".join(f"{k}={v:,}" for k, v in sorted(self.issues.items()))
                         + (f" (warnings, not errors: {', '.join(sorted(self.warnings))})" if self.warnings else ""))
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
        self._breakdowns: dict[int, tuple[int, str]] = {}  # hash(rot-id, breakdown-worker-id) -> (line, split)
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
        return self.check_rows([n for n, _ in block], [c for _, c in block])

    def check_rows(self, lines: Sequence[int], cells: list[list[str]]) -> dict[int, list[Issue]]:
        """Validate rows (cells) with their line numbers; returns {line: issues} for bad rows only."""
        report = self.report
        bad: dict[int, list[Issue]] = {}

        def flag(issue: Issue) -> None:
            if issue.kind not in WARNING_KINDS:
                bad.setdefault(issue.line, []).append(issue)
            report.add(issue)

        report.rows += len(cells)
        if set(map(len, cells)) - {N_COLUMNS}:
            keep = []
            for line_no, row in zip(lines, cells, strict=True):
                if len(row) == N_COLUMNS:
                    keep.append((line_no, row))
                    continue
                hint = "a missing column" if len(row) < N_COLUMNS else "a tab inside a value (shifted row)"
                flag(Issue(line_no, "wrong_column_count", f"{len(row)} fields instead of {N_COLUMNS} "
                           f"(likely {hint})", value="\t".join(row)[:200]))
            lines, cells = [n for n, _ in keep], [c for _, c in keep]
        if not cells:
            return bad
        return self._check_columns(lines, list(zip(*cells, strict=True)), bad)

    def check_texts(self, lines: Sequence[int], texts: list[str]) -> dict[int, list[Issue]]:
        """Like :meth:`check_rows` for unsplit lines; when every line has 25 fields the columns are
        cut from one split of the whole block (no per-row lists), else the rows are split one by one."""
        if not texts:
            return {}
        if set(map(str.count, texts, repeat("\t", len(texts)))) != {N_COLUMNS - 1}:
            return self.check_rows(lines, [t.split("\t") for t in texts])
        fields = "\t".join(texts).split("\t")
        self.report.rows += len(texts)
        return self._check_columns(lines, [fields[i::N_COLUMNS] for i in range(N_COLUMNS)], {})

    def _check_columns(self, lines: Sequence[int], cols: list, bad: dict[int, list[Issue]]) -> dict[int, list[Issue]]:
        report = self.report

        def flag(issue: Issue) -> None:
            if issue.kind not in WARNING_KINDS:
                bad.setdefault(issue.line, []).append(issue)
            report.add(issue)

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
        report.valid_rows += len(lines) - (sum(1 for n in lines if n in bad) if bad else 0)
        return bad

    def _cross_checks(self, cols: list[tuple[str, ...]], lines: Sequence[int], flag) -> None:
        n_col = cols[_COL["n-characters"]]
        chars = cols[_COL["characters"]]
        counts = [c.count(MULTI_SEP) + 1 for c in chars]
        for name in CHAR_COLUMNS:
            col = cols[_COL[name]]
            beyond = {(c, n, k) for c, n, k in set(zip(col, n_col, counts, strict=True)) if c in CHAR_VALUES
                      and c != "char-none" and n.isdigit() and char_index(c) >= min(int(n), k)}
            if beyond:
                for i, triple in enumerate(zip(col, n_col, counts, strict=True)):
                    if triple in beyond:
                        c, n, k = triple
                        flag(Issue(lines[i], "char_out_of_range", f"{c} points beyond the {min(int(n), k)} "
                                   f"character(s) listed (n-characters={n})", name, c,
                                   f"char-none or char-0..char-{min(int(n), k) - 1}"))
        expected = [min(int(n), LISTED_CHARACTERS) if n.isdigit() else -1 for n in n_col]
        if counts != expected:
            for i, (c, n) in enumerate(zip(chars, n_col, strict=True)):
                if not c or not n.isdigit() or counts[i] == expected[i]:
                    continue
                if counts[i] > expected[i]:
                    flag(Issue(lines[i], "n_characters_mismatch", f"characters lists {counts[i]} but n-characters "
                               f"is {n}", "n-characters", n, f"at least the number listed (at most "
                               f"{LISTED_CHARACTERS} are listed)"))
                else:
                    flag(Issue(lines[i], "characters_not_all_listed", f"characters lists {counts[i]} of "
                               f"n-characters={n}", "characters", c, f"min(n-characters, {LISTED_CHARACTERS})"))
        firsts = set(c.split(MULTI_SEP, 1)[0] for c in set(chars))
        if firsts - {NARRATOR, ""}:
            for i, c in enumerate(chars):
                if c and c != NARRATOR and not c.startswith(NARRATOR + MULTI_SEP):
                    flag(Issue(lines[i], "narrator_not_first", f"the first character must be {NARRATOR!r}",
                               "characters", c, f"{NARRATOR}|..."))
        if not self._consistent_fast(cols, lines):
            self._consistency_rows(cols, lines, flag)
        self.report.rots = len(self._rots)
        self.report.situations = len(self._situations)

    def _consistent_fast(self, cols: list[tuple[str, ...]], lines: Sequence[int]) -> bool:
        """File-wide rules checked with C-level set and dict operations; True (and state updated) when
        the block breaks none of them, False (state untouched) to let the row-by-row path report them."""
        rot_ids, workers = cols[_COL["rot-id"]], cols[_COL["breakdown-worker-id"]]
        sids, splits = cols[_COL["situation-short-id"]], cols[_COL["split"]]
        rev = list(reversed(lines))
        keys = list(map(hash, zip(rot_ids, workers, strict=True)))
        breakdowns = dict(zip(reversed(keys), zip(rev, reversed(splits), strict=True), strict=True))  # first
        if len(breakdowns) != len(keys) or not self._breakdowns.keys().isdisjoint(breakdowns):
            return False
        rot_keys = list(map(hash, rot_ids))
        contents = list(map(hash, zip(cols[_COL["rot"]], sids, strict=True)))
        rots = dict(zip(reversed(rot_keys), zip(reversed(contents), rev, strict=True), strict=True))
        if len(set(zip(rot_keys, contents, strict=True))) != len(rots):
            return False
        sit_keys = list(map(hash, sids))
        families = list(map(SPLIT_FAMILY.get, splits, splits))
        texts = list(map(hash, cols[_COL["situation"]]))
        sits = dict(zip(reversed(sit_keys), zip(reversed(texts), reversed(families), rev, strict=True),
                        strict=True))
        distinct = set(zip(sit_keys, texts, families, strict=True)) if self.check_splits else set(
            zip(sit_keys, texts, strict=True))
        if len(distinct) != len(sits):
            return False
        common_rots = rots.keys() & self._rots.keys()
        if any(self._rots[k][0] != rots[k][0] for k in common_rots):
            return False
        common_sits = sits.keys() & self._situations.keys()
        for k in common_sits:
            old, new = self._situations[k], sits[k]
            if old[0] != new[0] or (self.check_splits and old[1] != new[1]):
                return False  # (a neutral family next to a real one also takes the row-by-row path)
        for k in common_rots:
            del rots[k]
        for k in common_sits:
            del sits[k]
        self._breakdowns.update(breakdowns)
        self._rots.update(rots)
        self._situations.update(sits)
        return True

    def _consistency_rows(self, cols: list[tuple[str, ...]], lines: Sequence[int], flag) -> None:
        """The file-wide rules row by row, naming the earlier line (the slow path for bad blocks)."""
        rot_ids, workers = cols[_COL["rot-id"]], cols[_COL["breakdown-worker-id"]]
        rot_texts, sids = cols[_COL["rot"]], cols[_COL["situation-short-id"]]
        situations, splits = cols[_COL["situation"]], cols[_COL["split"]]
        for i, line in enumerate(lines):
            rid = rot_ids[i]
            first, first_split = self._breakdowns.setdefault(hash((rid, workers[i])), (line, splits[i]))
            if first != line and first_split == splits[i]:
                flag(Issue(line, "duplicate_rot_id", f"rot-id with breakdown-worker-id {workers[i]!r} already on "
                           f"line {first}", "rot-id", rid, "one row per (rot-id, breakdown-worker-id) in a split"))
            elif first != line:
                flag(Issue(line, "breakdown_in_two_splits", f"breakdown of worker {workers[i]!r} also on line {first} "
                           f"(split {first_split}); the release repeats dev/test breakdowns in dev-extra/test-extra",
                           "split", splits[i]))
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
            if family is not None and sit[1] is None:  # the first real split of this situation
                self._situations[hash(sids[i])] = (sit[0], family, line)
            elif self.check_splits and family is not None and sit[1] != family:
                flag(Issue(line, "split_crossing", f"situation is in split family {family!r} here but "
                           f"{sit[1]!r} on line {sit[2]}", "split", splits[i], "one split per situation"))


def iter_line_blocks(raw: BinaryIO, report: ValidationReport, max_line_bytes: int = MAX_LINE_BYTES,
                     chunk_bytes: int = CHUNK_BYTES) -> Iterator[tuple[list[int], list[str]]]:
    """Blocks of (line numbers, decoded lines) read in large chunks; undecodable, oversized and
    blank lines become issues (counted as rows) and are left out of the blocks."""
    next_line = 1
    pending = b""
    skipping = False  # inside a line longer than the limit: drop bytes until its end
    while True:
        chunk = raw.read(chunk_bytes)
        if not chunk:
            break
        if skipping:
            cut = chunk.find(b"\n")
            if cut < 0:
                continue
            chunk, skipping = chunk[cut + 1:], False
            _too_long(report, next_line, max_line_bytes)
            next_line += 1
        data = pending + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            pending = data
            if len(pending) > max_line_bytes:
                pending, skipping = b"", True
            continue
        body, pending = data[:cut], data[cut + 1:]
        block = _decode_block(body, next_line, report, max_line_bytes)
        next_line += body.count(b"\n") + 1
        if block[0]:
            yield block
    if skipping:
        _too_long(report, next_line, max_line_bytes)
    elif pending:
        block = _decode_block(pending, next_line, report, max_line_bytes)
        if block[0]:
            yield block


def _too_long(report: ValidationReport, line: int, limit: int) -> None:
    report.lines += 1
    report.rows += 1
    report.add(Issue(line, "line_too_long", f"longer than {limit:,} bytes"))


def _decode_block(body: bytes, first: int, report: ValidationReport,
                  max_line_bytes: int) -> tuple[list[int], list[str]]:
    """Lines of one chunk with their numbers; the fast path is one decode and one split."""
    try:
        text: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        texts: list[str | None] = text.split("\n")
        if "\r" in text:
            texts = [t[:-1] if t.endswith("\r") else t for t in texts]
        report.lines += len(texts)
        if "" not in texts and max(map(len, texts)) * 4 <= max_line_bytes:  # 4 bytes per char at most
            return list(range(first, first + len(texts))), texts
    else:
        texts = []
        for raw in body.split(b"\n"):
            try:
                t = raw.decode("utf-8")
                texts.append(t[:-1] if t.endswith("\r") else t)
            except UnicodeDecodeError as exc:
                texts.append(None)
                report.rows += 1
                report.add(Issue(first + len(texts) - 1, "bad_utf8", f"not UTF-8 ({exc.reason} at byte {exc.start})"))
        report.lines += len(texts)
    lines, keep = [], []
    for i, t in enumerate(texts):
        if t is None:
            continue
        if not t.strip():
            report.rows += 1
            report.add(Issue(first + i, "blank_line", "blank line"))
        elif len(t) * 4 > max_line_bytes and len(t.encode("utf-8")) > max_line_bytes:
            report.rows += 1
            report.add(Issue(first + i, "line_too_long",
                             f"{len(t.encode('utf-8')):,} bytes (limit {max_line_bytes:,})"))
        else:
            lines.append(first + i)
            keep.append(t)
    return lines, keep


def _blocks_after_header(raw: BinaryIO, report: ValidationReport,
                         max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[list[int], list[str]]] | None:
    """Blocks of the lines after a correct header; None (issues reported) when the header is wrong."""
    blocks = iter_line_blocks(raw, report, max_line_bytes)
    first = next(blocks, None)
    if first is None:
        report.header_ok = False
        report.add(Issue(1, "bad_header", "empty file (no header)", allowed=HEADER))
        return None
    lines, texts = first
    if lines[0] != 1:  # the first line was blank or unreadable
        report.header_ok = False
        report.add(Issue(1, "bad_header", "no header on line 1", allowed=HEADER))
        return None
    for issue in header_issues(texts[0].removeprefix(BOM), 1):
        report.header_ok = False
        report.add(issue)
    if not report.header_ok:
        return None

    def rest():
        if len(lines) > 1:
            yield lines[1:], texts[1:]
        yield from blocks

    return rest()


def _split_blocks(blocks, block_lines: int) -> Iterator[tuple[list[int], list[list[str]]]]:
    for lines, texts in blocks:
        for i in range(0, len(lines), block_lines):
            yield lines[i:i + block_lines], [t.split("\t") for t in texts[i:i + block_lines]]


def iter_checked(raw: BinaryIO, report: ValidationReport | None = None, check_splits: bool = True,
                 block_lines: int = BLOCK_LINES) -> Iterator[tuple[int, dict[str, str], list[Issue]]]:
    """Stream (line, row cells, issues) for every row with 25 fields; rows with issues included.

    A wrong header stops the stream (its issues are in the report, ``header_ok`` is False).
    Rows with a wrong field count cannot be mapped to columns: they are only in the report.
    """
    validator = TsvValidator(report, check_splits)
    blocks = _blocks_after_header(raw, validator.report)
    if blocks is None:
        return
    for lines, cells in _split_blocks(blocks, block_lines):
        bad = validator.check_rows(lines, cells)
        for line_no, row in zip(lines, cells, strict=True):
            if len(row) == N_COLUMNS:
                yield line_no, dict(zip(COLUMNS, row, strict=True)), bad.get(line_no, [])


def validate_stream(raw: BinaryIO, path: str = "", max_examples: int = 20, check_splits: bool = True,
                    block_lines: int = BLOCK_LINES) -> ValidationReport:
    """Validate a whole released-format TSV without keeping its rows (the fast path)."""
    report = ValidationReport(path=path, max_examples=max_examples)
    validator = TsvValidator(report, check_splits)
    blocks = _blocks_after_header(raw, report)
    if blocks is not None:
        for lines, texts in blocks:
            for i in range(0, len(lines), block_lines):
                validator.check_texts(lines[i:i + block_lines], texts[i:i + block_lines])
        if not report.rows:
            report.add(Issue(2, "no_rows", "no rows after the header (empty input)"))
    return report


def validate_file(path: str, max_examples: int = 20, check_splits: bool = True) -> ValidationReport:
    """Validate a TSV file (``.gz``/``.bz2`` handled by :func:`open_binary`)."""
    with open_binary(path) as raw:
        return validate_stream(raw, path, max_examples, check_splits)


def validate_text(text: str, max_examples: int = 100, check_splits: bool = True) -> ValidationReport:
    """Validate TSV content given as a string (tests, small inputs)."""
    return validate_stream(io.BytesIO(text.encode("utf-8")), "<text>", max_examples, check_splits)


def open_binary(path: str) -> BinaryIO:
    """Open a file (local, ``gs://``, ``s3://``, ``memory://``, through :mod:`pipeline.fileio`) for
    reading bytes, decompressing ``.gz`` and ``.bz2`` by its extension."""
    raw = fileio.open_read(path)
    if path.endswith(".gz"):
        import gzip

        return _Decompressed(gzip.GzipFile(fileobj=raw, mode="rb"), raw)
    if path.endswith(".bz2"):
        import bz2

        return _Decompressed(bz2.BZ2File(raw, "rb"), raw)
    return raw


class _Decompressed(io.BufferedReader):
    """A decompressing reader that also closes the stored file under it."""

    def __init__(self, stream, raw) -> None:
        super().__init__(stream, 1 << 20)
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def input_problem(path: str, max_lines: int = 10_000) -> str | None:
    """Why a TSV cannot be an input, read from its start only (before any work): an empty file, a
    wrong header (a UTF-8 BOM before it is fine), or no row after the header; None when usable."""
    with open_binary(path) as raw:
        first = raw.readline()
        if not first:
            return "empty file (no header, no rows)"
        header = first.decode("utf-8", "replace").rstrip("\r\n").removeprefix(BOM)
        problems = header_issues(header)
        if problems:
            return "; ".join(str(i) for i in problems)
        for _ in range(max_lines):
            line = raw.readline()
            if not line:
                return "no rows after the header (empty input)"
            if line.strip():
                return None
    return None


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
    with fileio.open_read(path) as f:
        return csv.read_csv(
            f,
            read_options=csv.ReadOptions(block_size=16 << 20),
            parse_options=csv.ParseOptions(delimiter="\t", quote_char=False, double_quote=False, escape_char=False,
                                           newlines_in_values=False),
            convert_options=csv.ConvertOptions(column_types=types, include_columns=include, null_values=[""],
                                               strings_can_be_null=True, quoted_strings_can_be_null=False),
        )

"""Beam shell of the SOCIAL-CHEM steps that run data-parallel: mining situations and reading
TSV rows for rendering. Each DoFn adapts a pure function of this package and counts per stage
(in = out + drops), like :mod:`pipeline.beam_steps`.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from corpora.socialchem.situations import (
    BlockList,
    MiningConfig,
    Situation,
    mine_document,
    normalize,
    pick,
)
from corpora.socialchem.validate import ValidationReport, iter_checked
from pipeline.beam_steps import REJECTS, STATS, CountingDoFn, read_each_file, stage_outputs
from pipeline.records import Drop, RawRecord
from pipeline.stats import IN, OUT, count_key

MINE_STAGE = "mine"
NORMALIZE_STAGE = "normalize"
DEDUP_STAGE = "dedup"
FILES_STAGE = "files"
READ_STAGE = "read"
#: issues that make a whole line unusable before it can be mapped to columns
UNMAPPABLE = ("wrong_column_count", "bad_utf8", "line_too_long", "blank_line")


def _doc_id(record: RawRecord) -> str:
    """The corpus document id (readers key Parquet rows as ``file:id``)."""
    return record.key.split(":", 1)[1] if ":" in record.key else record.key


class _MineDoFn(CountingDoFn):
    """Corpus document -> situations; counts documents (``mine``) and candidates (``normalize``)."""

    def __init__(self, config: MiningConfig, keep_rejects: bool) -> None:
        super().__init__(keep_rejects)
        self.config = config
        self.blocklist = None

    def setup(self) -> None:
        self.blocklist = BlockList(self.config.words())

    def process(self, record: RawRecord):
        self._counter.add(MINE_STAGE, IN)
        text = record.payload if isinstance(record.payload, str) else record.payload.decode("utf-8", "replace")
        candidates = mine_document(text, _doc_id(record), record.url, self.config)
        if not candidates:
            yield from self._dropped(Drop(MINE_STAGE, "no_candidate", id=_doc_id(record), url=record.url))
            return
        self._counter.add(MINE_STAGE, OUT)
        self._counter.add(MINE_STAGE, count_key("candidates"), len(candidates))
        for cand in candidates:
            self._counter.add(NORMALIZE_STAGE, IN)
            result = normalize(cand, self.config, self.blocklist)
            if isinstance(result, Situation):
                self._counter.add(NORMALIZE_STAGE, OUT)
                self._counter.add(NORMALIZE_STAGE, count_key(f"pattern_{cand.pattern}"))
                yield result
            else:
                yield from self._dropped(Drop(NORMALIZE_STAGE, result, id=cand.source_id, url=cand.url,
                                              detail=cand.phrase, text=cand.raw))


class _DedupDoFn(CountingDoFn):
    """(key, copies) -> the one copy kept (:func:`situations.pick`); the others count as duplicates."""

    def process(self, element):
        _, copies = element
        copies = list(copies)
        self._counter.add(DEDUP_STAGE, IN, len(copies))
        kept = pick(copies)
        self._counter.add(DEDUP_STAGE, OUT)
        for c in copies:
            if c is not kept:
                yield from self._dropped(Drop(DEDUP_STAGE, "duplicate", id=c.source_id, url=c.url,
                                              detail=f"same as {kept.situation_short_id}", text=c.raw))
        yield kept


class MineSituations(beam.PTransform):
    """RawRecords of corpus documents -> unique Situations (outputs: main, ``stats``, ``rejects``)."""

    def __init__(self, config: MiningConfig, keep_rejects: bool = False) -> None:
        super().__init__(label="mine_situations")
        self.config = config
        self.keep_rejects = keep_rejects

    def expand(self, records):
        mined = records | "Mine" >> stage_outputs(_MineDoFn(self.config, self.keep_rejects))
        deduped = (
            mined["out"]
            | "ByKey" >> beam.Map(lambda s: (s.key, s))
            | "Group" >> beam.GroupByKey()
            | "Dedup" >> stage_outputs(_DedupDoFn(self.keep_rejects))
        )
        stats = (mined[STATS], deduped[STATS]) | "MergeStats" >> beam.Flatten()
        rejects = (mined[REJECTS], deduped[REJECTS]) | "MergeRejects" >> beam.Flatten()
        return {"out": deduped["out"], STATS: stats, REJECTS: rejects}


class _ReadTsvDoFn(CountingDoFn):
    """A released-format TSV path -> (line, row cells) of valid rows; bad rows are drops by issue kind."""

    def __init__(self, keep_rejects: bool) -> None:
        super().__init__(keep_rejects)

    def process(self, path: str):
        self._counter.add(FILES_STAGE, IN)
        report = ValidationReport(path=path, max_examples=10_000 if self.keep_rejects else 0)
        with FileSystems.open(path, compression_type=CompressionTypes.AUTO) as raw:
            for line, row, issues in iter_checked(raw, report, check_splits=False):
                self._counter.add(READ_STAGE, IN)
                if issues:
                    yield from self._dropped(Drop(READ_STAGE, issues[0].kind, id=f"{path}:{line}", source_file=path,
                                                  detail="; ".join(str(i) for i in issues)))
                    continue
                self._counter.add(READ_STAGE, OUT)
                yield line, row
        if not report.header_ok:
            yield from self._dropped(Drop(FILES_STAGE, "bad_header", id=path, source_file=path,
                                          detail="; ".join(str(i) for i in report.examples)))
            return
        self._counter.add(FILES_STAGE, OUT)
        for kind in UNMAPPABLE:
            n = report.issues.get(kind, 0)
            if n:
                self._counter.add(READ_STAGE, IN, n)
                examples = [i for i in report.examples if i.kind == kind]
                for issue in examples:
                    yield from self._dropped(Drop(READ_STAGE, kind, id=f"{path}:{issue.line}", source_file=path,
                                                  detail=str(issue)))
                if len(examples) < n:  # counted, details beyond the kept examples are in the count only
                    self._counter.add(READ_STAGE, f"drop:{kind}", n - len(examples))


class ReadTsvRows(beam.PTransform):
    """TSV paths -> (line, cells) of valid rows, one file per work item (outputs: main, stats, rejects)."""

    def __init__(self, paths: list[str], keep_rejects: bool = False) -> None:
        super().__init__(label="read_tsv")
        self.paths = paths
        self.keep_rejects = keep_rejects

    def expand(self, pbegin):
        return read_each_file(pbegin, self.paths, _ReadTsvDoFn(self.keep_rejects), label="ReadTsv")


class WriteOrderedParts(beam.PTransform):
    """Records -> part files under ``parts_dir``, one per bucket (a range of the sort key), each
    sorted; so one file in key order is the buckets' parts concatenated in bucket order
    (:func:`join_ordered_parts`), and no worker holds more than one bucket.

    ``bucket`` must be monotone in ``sort_key`` (a <= b implies bucket(a) <= bucket(b)); ``formats``
    maps a file suffix to the line of a record in it; ``counts`` gives a record's counters (summed
    per part). Output: one dict per part: bucket, files {suffix: path}, rows, counts."""

    def __init__(self, parts_dir: str, bucket, sort_key, formats: dict, counts=None) -> None:
        super().__init__(label="write_ordered")
        self.parts_dir, self.bucket, self.sort_key, self.formats, self.counts = (
            parts_dir, bucket, sort_key, formats, counts)

    def expand(self, records):
        return (records | "ByBucket" >> beam.Map(lambda r, f=self.bucket: (f(r), r))
                | "GroupBucket" >> beam.GroupByKey()
                | "WritePart" >> beam.Map(_write_part, self.parts_dir, self.sort_key, self.formats, self.counts))


def _write_part(element, parts_dir: str, sort_key, formats: dict, counts) -> dict:
    """One bucket's records, sorted, written atomically (a retried bundle rewrites the same file)."""
    from pipeline import beam_io

    bucket, records = element
    records = sorted(records, key=sort_key)
    name = bucket.encode("utf-8").hex() or "empty"
    files = {}
    for suffix, line in formats.items():
        path = beam_io.join(parts_dir, f"part-{name}{suffix}")
        beam_io.write_atomic(path, "".join(line(r) + "\n" for r in records).encode("utf-8"))
        files[suffix] = path
    totals: dict[str, int] = {}
    for r in records if counts else ():
        for k, n in counts(r).items():
            totals[k] = totals.get(k, 0) + n
    return {"bucket": bucket, "files": files, "rows": len(records), "counts": totals}


def join_ordered_parts(parts: list[dict], suffix: str, dest: str, header: str = "") -> int:
    """Concatenate the ``suffix`` files of ``parts`` in bucket order (after an optional header line)
    into ``dest`` (atomically; the parts are deleted); returns the rows written."""
    from pipeline import beam_io

    ordered = sorted(parts, key=lambda part: part["bucket"])
    files = [part["files"][suffix] for part in ordered]
    if header:
        head = dest + ".header"
        beam_io.write_atomic(head, (header + "\n").encode("utf-8"))
        files.insert(0, head)
    beam_io.concat_atomic(files, dest)
    return sum(part["rows"] for part in ordered)

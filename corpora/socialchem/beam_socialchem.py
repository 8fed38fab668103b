"""Beam shell of the SOCIAL-CHEM steps that run data-parallel: mining situations and reading
TSV rows for rendering. The stages are the pure callables of :mod:`corpora.socialchem.stages`,
counted by the wrappers of :mod:`pipeline.beam_steps`.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from corpora.socialchem.situations import MiningConfig
from corpora.socialchem.stages import MineCandidates, NormalizeCandidate, ReadTsv, one_situation
from pipeline.beam_steps import (
    FILES_STAGE,
    READ_STAGE,
    REJECTS,
    STATS,
    ApplyStep,
    FlatStep,
    GroupStep,
    read_each_file,
)

MINE_STAGE = "mine"
NORMALIZE_STAGE = "normalize"
DEDUP_STAGE = "dedup"


class MineSituations(beam.PTransform):
    """RawRecords of corpus documents -> unique Situations (outputs: main, ``stats``, ``rejects``)
    through the stages mine, normalize and dedup."""

    def __init__(self, config: MiningConfig, keep_rejects: bool = False,
                 stages: tuple[str, str, str] = (MINE_STAGE, NORMALIZE_STAGE, DEDUP_STAGE)) -> None:
        super().__init__(label="mine_situations")
        self.config = config
        self.keep_rejects = keep_rejects
        self.stages = stages

    def expand(self, records):
        mine, norm, dedup = self.stages
        mined = records | "Mine" >> ApplyStep(mine, MineCandidates(self.config), self.keep_rejects)
        normalized = mined["out"] | "Normalize" >> ApplyStep(norm, NormalizeCandidate(self.config), self.keep_rejects)
        deduped = (
            normalized["out"]
            | "ByKey" >> beam.Map(lambda s: (s.key, s))
            | "Group" >> beam.GroupByKey()
            | "Dedup" >> GroupStep(dedup, one_situation, self.keep_rejects)
        )
        parts = (mined, normalized, deduped)
        stats = [o[STATS] for o in parts] | "MergeStats" >> beam.Flatten()
        rejects = [o[REJECTS] for o in parts] | "MergeRejects" >> beam.Flatten()
        return {"out": deduped["out"], STATS: stats, REJECTS: rejects}


def _open_tsv(path: str):
    return FileSystems.open(path, compression_type=CompressionTypes.AUTO)


class ReadTsvRows(beam.PTransform):
    """TSV paths -> (line, cells) of valid rows, one file per work item (outputs: main, stats, rejects)."""

    def __init__(self, paths: list[str], keep_rejects: bool = False) -> None:
        super().__init__(label="read_tsv")
        self.paths = paths
        self.keep_rejects = keep_rejects

    def expand(self, pbegin):
        step = FlatStep(READ_STAGE, ReadTsv(_open_tsv, self.keep_rejects, FILES_STAGE), self.keep_rejects)
        return read_each_file(pbegin, self.paths, step.dofn(), label="ReadTsv")


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

"""The SOCIAL-CHEM stages that run data-parallel, as pure callables (no Beam): mining a corpus
document for situations, normalizing each candidate, keeping one copy per situation, and reading
a released-format TSV file. ``beam_socialchem.py`` wires them with ``pipeline.beam_steps``,
which does all the counting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from corpora.socialchem.situations import BlockList, MiningConfig, Situation, mine_document, normalize, pick
from corpora.socialchem.validate import ValidationReport, iter_checked
from pipeline.outcomes import At, Kept, Weighted
from pipeline.records import Drop, RawRecord

#: issues that make a whole line unusable before it can be mapped to columns
UNMAPPABLE = ("wrong_column_count", "bad_utf8", "line_too_long", "blank_line")


def doc_id(record: RawRecord) -> str:
    """The corpus document id (readers key Parquet rows as ``file:id``)."""
    return record.key.split(":", 1)[1] if ":" in record.key else record.key


class MineCandidates:
    """A corpus document -> its situation candidates (one kept document, ``candidates`` counted),
    or ``no_candidate``."""

    def __init__(self, config: MiningConfig) -> None:
        self.config = config

    def __call__(self, record: RawRecord):
        text = record.payload if isinstance(record.payload, str) else record.payload.decode("utf-8", "replace")
        candidates = mine_document(text, doc_id(record), record.url, self.config)
        if not candidates:
            return Drop("", "no_candidate", id=doc_id(record), url=record.url)
        return Kept(candidates, {"candidates": len(candidates)})


class NormalizeCandidate:
    """A candidate -> its Situation (``pattern_<pattern>`` counted), or a Drop under the rule that
    refused it. The block list loads once per worker (``setup``)."""

    def __init__(self, config: MiningConfig) -> None:
        self.config = config
        self.blocklist = None

    def setup(self) -> None:
        self.blocklist = BlockList(self.config.words())

    def __call__(self, cand):
        if self.blocklist is None:
            self.setup()
        result = normalize(cand, self.config, self.blocklist)
        if isinstance(result, Situation):
            return Kept([result], {f"pattern_{cand.pattern}": 1})
        return Drop("", result, id=cand.source_id, url=cand.url, detail=cand.phrase, text=cand.raw)


def one_situation(_key: str, copies: list) -> Iterator:
    """The copies of one situation -> the one kept (:func:`situations.pick`), the others ``duplicate``."""
    kept = pick(copies)
    for c in copies:
        if c is not kept:
            yield Drop("", "duplicate", id=c.source_id, url=c.url, detail=f"same as {kept.situation_short_id}",
                       text=c.raw)
    yield kept


class ReadTsv:
    """A released-format TSV path -> (line, cells) of its valid rows (the read stage: a bad row is
    a Drop under its first issue); the file itself under ``files_stage`` (``bad_header``).

    Lines that cannot be mapped to columns are counted after the file: with ``keep_examples``, each
    of the first 10,000 of a kind as a Drop of its own, the rest as one Drop standing for them."""

    def __init__(self, open_fn: Callable[[str], BinaryIO], keep_examples: bool, files_stage: str = "files") -> None:
        self.open_fn, self.keep_examples, self.files_stage = open_fn, keep_examples, files_stage

    def __call__(self, path: str) -> Iterator[Any]:
        report = ValidationReport(path=path, max_examples=10_000 if self.keep_examples else 0)
        with self.open_fn(path) as raw:
            for line, row, issues in iter_checked(raw, report, check_splits=False):
                if issues:
                    yield Drop("", issues[0].kind, id=f"{path}:{line}", source_file=path,
                               detail="; ".join(str(i) for i in issues))
                else:
                    yield line, row
        if not report.header_ok:
            yield At(self.files_stage, Drop("", "bad_header", id=path, source_file=path,
                                            detail="; ".join(str(i) for i in report.examples)))
            return
        yield At(self.files_stage, path)
        for kind in UNMAPPABLE:
            n = report.issues.get(kind, 0)
            examples = [i for i in report.examples if i.kind == kind]
            for issue in examples:
                yield Drop("", kind, id=f"{path}:{issue.line}", source_file=path, detail=str(issue))
            if n > len(examples):  # details beyond the kept examples: one Drop stands for them
                yield Weighted(Drop("", kind, id=path, source_file=path,
                                    detail=f"{n - len(examples)} more line(s) with {kind}"), n - len(examples))

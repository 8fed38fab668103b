"""Beam shell of C4's span de-duplication (the rule is in ``pipeline.dedup.spans``).

What runs where, nothing gathered on one worker:

1. every page emits ``(span key, ((page id, span index), False))`` per span (distributed);
2. ``CombinePerKey(merge_keepers)`` picks each key's keeper and whether the key repeats:
   combined on the workers before the shuffle, so a span shared by millions of pages
   costs one small value per worker, not a list of its pages;
3. the keepers go back to their pages by id with ``CoGroupByKey`` (a distributed join),
   and each page applies the pure keep rule to the span indices it keeps.

The result depends only on the page ids and texts, not on workers or bundle order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import apache_beam as beam

from pipeline.beam_steps import REJECTS, STATS, CountingDoFn, stage_outputs
from pipeline.dedup.spans import (
    Keeper,
    SpanDedupParams,
    apply_kept,
    merge_keepers,
    page_spans,
    span_occurrences,
)
from pipeline.records import Document, Drop
from pipeline.stats import IN, OUT, count_key


def _occurrences(doc: Document, span_sentences: int) -> Iterator[tuple[bytes, Keeper]]:
    """(span key, ((page id, span index), False)) for every span of a page."""
    return span_occurrences(doc.id, page_spans(doc.text, span_sentences))


class _ApplyKept(CountingDoFn):
    """(page id, {doc: [page], kept: [(span index, repeated)...]}) -> the page, edited, or a Drop."""

    def __init__(self, stage: str, params: SpanDedupParams, keep_rejects: bool) -> None:
        super().__init__(keep_rejects)
        self.stage = stage
        self.params = params

    def process(self, element):
        _, grouped = element
        kept = dict(grouped["kept"])
        for doc in grouped["doc"]:
            self._counter.add(self.stage, IN)
            verdict = apply_kept(page_spans(doc.text, self.params.span_sentences), kept, self.params)
            if not verdict.keep:
                detail = " ".join(f"{k}={v}" for k, v in verdict.signals.items())
                yield from self._dropped(Drop(self.stage, verdict.reason or "dropped", id=doc.id, url=doc.url,
                                              detail=detail, text=doc.text))
                continue
            for name, n in verdict.counts.items():
                self._counter.add(self.stage, count_key(name), n)
            self._counter.add(self.stage, OUT)
            yield doc if verdict.text is None else dataclasses.replace(doc, text=verdict.text)


class C4SpanDedup(beam.PTransform):
    """Keep each repeated three-sentence span on one page only (C4's de-duplication)."""

    def __init__(self, stage: str, params: SpanDedupParams, keep_rejects: bool = False) -> None:
        super().__init__(label=stage)
        self.stage = stage
        self.params = params
        self.keep_rejects = keep_rejects

    def expand(self, docs):
        kept = (
            docs
            | "SpanKeys" >> beam.FlatMap(_occurrences, self.params.span_sentences)
            | "KeeperPerSpan" >> beam.CombinePerKey(merge_keepers)
            | "ByKeeperPage" >> beam.MapTuple(lambda _, keeper: (keeper[0][0], (keeper[0][1], keeper[1])))
        )
        outputs = (
            {"doc": docs | "KeyById" >> beam.Map(lambda d: (d.id, d)), "kept": kept}
            | "JoinKeepers" >> beam.CoGroupByKey()
            | "ApplyKeepRule" >> stage_outputs(_ApplyKept(self.stage, self.params, self.keep_rejects))
        )
        return {"out": outputs["out"], STATS: outputs[STATS], REJECTS: outputs[REJECTS]}

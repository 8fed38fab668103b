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

from collections.abc import Iterator
from functools import partial

import apache_beam as beam

from pipeline.beam_steps import GroupStep
from pipeline.dedup.spans import (
    Keeper,
    SpanDedupParams,
    merge_keepers,
    page_spans,
    span_occurrences,
    span_outcomes,
)
from pipeline.records import Document


def _occurrences(doc: Document, span_sentences: int) -> Iterator[tuple[bytes, Keeper]]:
    """(span key, ((page id, span index), False)) for every span of a page."""
    return span_occurrences(doc.id, page_spans(doc.text, span_sentences))


def _apply_kept(_page_id: str, grouped: dict, params: SpanDedupParams) -> Iterator:
    """(page id, {doc: [page], kept: [(span index, repeated)...]}) -> the page, edited, or a Drop."""
    return span_outcomes(grouped["doc"], dict(grouped["kept"]), params)


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
        return (
            {"doc": docs | "KeyById" >> beam.Map(lambda d: (d.id, d)), "kept": kept}
            | "JoinKeepers" >> beam.CoGroupByKey()
            | "ApplyKeepRule" >> GroupStep(self.stage, partial(_apply_kept, params=self.params), self.keep_rejects,
                                           part="doc")
        )

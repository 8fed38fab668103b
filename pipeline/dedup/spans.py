"""C4's cross-page de-duplication of three-sentence spans: the pure core (no Beam import).

C4 (Raffel et al. 2020): "we discarded all but one of any three-sentence span occurring more
than once in the data set". The TFDS builder (``c4_utils.remove_duplicate_text``) does it
with one Beam shuffle: every unit of a page is hashed (lower-cased, stripped), one page is
chosen per hash by a deterministic order of hashes, the unit is kept on that page only and
removed from every other page (and from later places on the same page), and a page left
empty or with fewer than 3 sentences is dropped. Here the unit is the paper's span:

1. A page's sentences are its lines (``text.split("\\n")``) split with C4's sentence
   splitter (:func:`pipeline.filters.c4.split_sentences`), in order across lines.
2. Every run of ``span_sentences`` (3) consecutive sentences is a span. Its key
   (:func:`span_key`) is a 128-bit BLAKE2b of the sentences, lower-cased with whitespace
   collapsed, joined by newlines. A page with fewer sentences has no span and never changes.
3. The **keeper** of a key is its occurrence with the smallest ``(page id, span index)``
   (:func:`merge_keepers`; ids are hashes of the record key, so this is C4's "select one
   URL per line by hash", and the same page wins for every span it shares). That occurrence
   stays whole; every other occurrence is removed, with its sentences, except those that a
   kept occurrence of a repeated key covers (in "A. A. A. A." the first three stay).
   Overlapping spans make one corner case: a span whose occurrence on page P overlaps two
   spans that P keeps can stay on P as well as on its own keeper.
4. The text is rebuilt from what stays (:func:`apply_kept`): a line that lost nothing
   stays byte for byte; a line that lost some sentences keeps the others, joined by one
   space; a line that lost all of them is removed. A page that lost nothing is unchanged.
5. A page left without text is dropped as ``all_spans_duplicate``; an edited page left
   with fewer than ``min_sentences`` (3, TFDS's default) sentences is dropped as
   ``too_few_sentences``. Edited pages that stay are counted (``pages_edited``), with the
   ``spans_removed`` and ``sentences_removed``.

:func:`span_dedup_pages` runs the whole rule on one machine (tests, small corpora); the Beam
shell (``pipeline/beam_span_dedup.py``) computes the same keepers with a distributed
combine per key and joins them back to the pages by id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from pipeline.filters.base import Verdict, check_range, drop, keep
from pipeline.filters.c4 import split_sentences

__all__ = ["PageSpans", "SpanDedupParams", "apply_kept", "merge_keepers", "page_spans", "span_dedup_pages", "span_outcomes",
           "span_key", "span_occurrences"]

Occurrence = tuple[str, int]  # (page id, span index)
Keeper = tuple[Occurrence, bool]  # (the occurrence that stays, the key occurs more than once)


@dataclass(frozen=True)
class SpanDedupParams:
    """``span_sentences``: sentences per span (C4: 3); ``min_sentences``: an edited page with
    fewer sentences left is dropped (TFDS: 3; 0 keeps every page that has text left)."""

    span_sentences: int = 3
    min_sentences: int = 3

    def __post_init__(self) -> None:
        for name, low in (("span_sentences", 1), ("min_sentences", 0)):
            value = getattr(self, name)
            if not isinstance(value, int):
                raise ValueError(f"c4_span_dedup.{name} must be a whole number, got {value!r}")
            check_range("c4_span_dedup", name, value, low)


@dataclass
class PageSpans:
    """A page cut into sentences: ``lines`` of the text, ``sentences`` as (line, start, end)
    character offsets in their line, and ``keys[i]``, the key of the span that starts at
    sentence ``i``."""

    lines: list[str]
    sentences: list[tuple[int, int, int]]
    keys: list[bytes]


def span_key(sentences: Sequence[str]) -> bytes:
    """16 bytes identifying a span: BLAKE2b of its sentences, lower-cased, whitespace
    collapsed, joined by newlines (stable across runs and machines)."""
    text = "\n".join(" ".join(s.lower().split()) for s in sentences)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def page_spans(text: str, span_sentences: int = 3) -> PageSpans:
    """The sentences of ``text`` (line by line) and the keys of its spans."""
    lines = text.split("\n")
    sentences: list[tuple[int, int, int]] = []
    pieces: list[str] = []
    for li, line in enumerate(lines):
        pos = 0
        for piece in split_sentences(line):  # stripped substrings of the line, in order
            start = line.index(piece, pos)
            pos = start + len(piece)
            sentences.append((li, start, pos))
            pieces.append(piece)
    n = span_sentences
    keys = [span_key(pieces[i:i + n]) for i in range(len(pieces) - n + 1)]
    return PageSpans(lines, sentences, keys)


def span_occurrences(page_id: str, spans: PageSpans) -> Iterator[tuple[bytes, Keeper]]:
    """``(key, ((page id, span index), False))`` for every span of the page: each
    occurrence as a one-occurrence :data:`Keeper`, ready for :func:`merge_keepers`."""
    for i, key in enumerate(spans.keys):
        yield key, ((page_id, i), False)


def merge_keepers(keepers: Iterable[Keeper]) -> Keeper:
    """Combine the keepers of one key (single occurrences or partial results): the smallest
    (page id, span index) stays, and the key is repeated when more than one occurrence was
    seen. Associative and commutative, so it can be combined in any grouping."""
    items = list(keepers)
    return min(occ for occ, _ in items), len(items) > 1 or any(rep for _, rep in items)


def apply_kept(spans: PageSpans, kept: Mapping[int, bool], params: SpanDedupParams) -> Verdict:
    """The keep rule for one page. ``kept`` maps the index of each span this page is the
    keeper of to whether its key is repeated. Every other span is removed with its
    sentences, except sentences inside a kept span of a repeated key (the kept copy stays
    whole). Returns keep with the new text (None when nothing changed) and counts, or drop
    with the reason."""
    removed = [i for i in range(len(spans.keys)) if i not in kept]
    if not removed:
        return keep()
    n = params.span_sentences
    gone = bytearray(len(spans.sentences))
    for i in removed:
        gone[i:i + n] = b"\x01" * n
    for i, repeated in kept.items():
        if repeated:
            gone[i:i + n] = bytes(n)
    by_line: dict[int, list[tuple[int, int, bool]]] = {}
    for (li, start, end), g in zip(spans.sentences, gone, strict=True):
        by_line.setdefault(li, []).append((start, end, bool(g)))
    lines = []
    for li, line in enumerate(spans.lines):
        parts = by_line.get(li)
        if parts is None or not any(g for _, _, g in parts):
            lines.append(line)  # untouched (blank lines, lines without a removed sentence)
        elif not all(g for _, _, g in parts):
            lines.append(" ".join(line[s:e] for s, e, g in parts if not g))
    text = "\n".join(lines)
    n_gone = sum(gone)
    left = len(spans.sentences) - n_gone
    signals = {"spans_removed": len(removed), "sentences_removed": n_gone, "sentences_left": left}
    if not text.strip():
        return drop("all_spans_duplicate", signals)
    if left < params.min_sentences:
        return drop("too_few_sentences", signals)
    return keep(signals, text=text, pages_edited=1, spans_removed=len(removed), sentences_removed=n_gone)


def span_dedup_pages(pages: Iterable[tuple[str, str]], params: SpanDedupParams | None = None) -> dict[str, Verdict]:
    """The whole rule on one machine: page id -> verdict (``text`` set when edited).
    Holds every span key in memory; the Beam step distributes the same computation."""
    params = params or SpanDedupParams()
    spans = {page_id: page_spans(text, params.span_sentences) for page_id, text in pages}
    keepers: dict[bytes, Keeper] = {}
    for page_id, sp in spans.items():
        for key, one in span_occurrences(page_id, sp):
            keepers[key] = merge_keepers((keepers[key], one)) if key in keepers else one
    kept: dict[str, dict[int, bool]] = {}
    for (page_id, i), repeated in keepers.values():
        kept.setdefault(page_id, {})[i] = repeated
    return {page_id: apply_kept(sp, kept.get(page_id, {}), params) for page_id, sp in spans.items()}


def span_outcomes(pages: Sequence, kept: Mapping[int, bool], params: SpanDedupParams) -> Iterator:
    """The copies of one page (``Document``) and the spans it keeps -> outcomes (``pipeline.outcomes``):
    the page, edited when spans went (with the edit's counts), or a Drop with the rule's signals."""
    import dataclasses

    from pipeline.outcomes import Kept
    from pipeline.records import Drop

    for doc in pages:
        verdict = apply_kept(page_spans(doc.text, params.span_sentences), kept, params)
        if not verdict.keep:
            detail = " ".join(f"{k}={v}" for k, v in verdict.signals.items())
            yield Drop("", verdict.reason or "dropped", id=doc.id, url=doc.url, detail=detail, text=doc.text)
        else:
            edited = doc if verdict.text is None else dataclasses.replace(doc, text=verdict.text)
            yield Kept([edited], verdict.counts)

"""Exact-duplicate keys: a stable 128-bit hash of the normalized text (pure core).

The key is ``blake2b(digest_size=16)`` of the UTF-8 text after the same normalization as
shingling (:func:`pipeline.dedup.shingles.simplify_text`: lowercase, numbers as ``0``,
punctuation removed, accents stripped, whitespace collapsed), as 32 hex characters. So
documents that differ only in case, punctuation, spacing, accents or digits share a key;
pass ``normalize=False`` to hash the text exactly as given. BLAKE2b is in the standard
library and its output never changes across versions or machines, so keys can be stored
and compared between runs.

Exact duplicates are removed first (keep the smallest id per key), then near duplicates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from pipeline.dedup.shingles import simplify_text

__all__ = ["ExactVerdict", "apply_exact_verdicts", "exact_duplicate_groups", "exact_key", "exact_verdicts"]


def exact_key(
    text: str, normalize: bool = True, strip_accents: bool = True, normalize_numbers: bool = True
) -> str:
    """32 hex characters identifying ``text`` (normalized unless ``normalize=False``).

    Every text that normalizes to nothing (empty, only punctuation) gets the same key,
    the hash of the empty string.
    """
    if normalize:
        text = simplify_text(text, strip_accents=strip_accents, normalize_numbers=normalize_numbers)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def exact_duplicate_groups(
    ids: Sequence[str], texts: Sequence[str], normalize: bool = True
) -> list[list[str]]:
    """Groups (size >= 2, each sorted) of ids whose texts share an :func:`exact_key`."""
    if len(ids) != len(texts):
        raise ValueError(f"ids and texts differ in length: {len(ids)} != {len(texts)}")
    groups: dict[str, list[str]] = {}
    for doc_id, text in zip(ids, texts, strict=True):
        groups.setdefault(exact_key(text, normalize), []).append(doc_id)
    return sorted(sorted(g) for g in groups.values() if len(g) >= 2)


class ExactVerdict(NamedTuple):
    """What becomes of one document among those sharing an exact key."""

    id: str
    reason: str | None  # None: kept; else the drop reason
    detail: str
    counts_previous: bool  # the one verdict that counts this key under hashes_in_previous_build


def exact_verdicts(new_ids: Sequence[str], earlier_ids: Sequence[str] = ()) -> Iterator[ExactVerdict]:
    """The keep rule of exact dedup for the documents of one key: the smallest new id survives,
    unless an earlier build (``earlier_ids``) already has the text, in which case none does.

    Only ids are needed, so a text copied a million times costs a million ids on the worker
    that decides its key, never a million texts."""
    new = sorted(new_ids)
    if not new:
        return
    earlier = sorted(earlier_ids)
    if earlier:
        for i, doc_id in enumerate(new):
            yield ExactVerdict(doc_id, "exact_duplicate_of_previous_build", f"same text as {earlier[0]} of the "
                               "earlier build", i == 0)
        return
    yield ExactVerdict(new[0], None, "", False)
    for doc_id in new[1:]:
        yield ExactVerdict(doc_id, "exact_duplicate", f"same text as {new[0]}", False)


def apply_exact_verdicts(docs: Sequence, verdicts: Sequence[ExactVerdict]) -> Iterator:
    """The documents under one (id, hash) with their verdicts -> outcomes (``pipeline.outcomes``):
    the kept document, or a Drop, for each; ``hashes_in_previous_build`` counted once per key.
    Copies under one id and hash are the same text, so kept verdicts pair with them first."""
    from pipeline.outcomes import Count
    from pipeline.records import Drop

    ordered = sorted(verdicts, key=lambda v: v.reason is not None)
    for doc, verdict in zip(docs, ordered, strict=True):
        if verdict.counts_previous:
            yield Count("hashes_in_previous_build")
        if verdict.reason is None:
            yield doc
        else:
            yield Drop("", verdict.reason, id=doc.id, url=doc.url, detail=verdict.detail, text=doc.text)

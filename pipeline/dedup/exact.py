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
from collections.abc import Sequence

from pipeline.dedup.shingles import simplify_text

__all__ = ["exact_duplicate_groups", "exact_key"]


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

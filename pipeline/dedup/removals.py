"""Which near-duplicates go, given the clusters (pure core of MinHash dedup's last steps).

Connected components give every clustered id its root, the smallest id of its cluster. The
root is kept; every other new member is removed, as a ``near_duplicate`` of the root, or as a
``near_duplicate_of_previous_build`` when the root is an earlier build's document (ids of an
earlier build carry :data:`PREVIOUS`, which sorts before any real id).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from pipeline.outcomes import Count, Forward
from pipeline.records import Drop

__all__ = ["PREVIOUS", "cluster_removals", "is_previous", "removal_outcomes", "removal_reason", "size_bucket"]

PREVIOUS = "\x00prev:"  # prefix of ids from an earlier build: sorts before any real id


def is_previous(doc_id: str) -> bool:
    return doc_id.startswith(PREVIOUS)


def size_bucket(n: int) -> str:
    """The count name of a cluster of ``n`` documents (``cluster_size_2`` ... ``cluster_size_1001+``)."""
    for hi, name in ((2, "2"), (5, "3-5"), (10, "6-10"), (100, "11-100"), (1000, "101-1000")):
        if n <= hi:
            return f"cluster_size_{name}"
    return "cluster_size_1001+"


def cluster_removals(root: str, members: Iterable[str]) -> Iterator:
    """One cluster -> ``clusters`` and its size bucket counted, and (member, root) forwarded for
    every new member that is not the root. A cluster of the earlier build alone is not counted."""
    cluster = set(members) | {root}
    new_members = [m for m in cluster if not is_previous(m)]
    if not new_members:
        return
    yield Count("clusters")
    yield Count(size_bucket(len(cluster)))
    for m in new_members:
        if m != root:
            yield Forward((m, root))


def removal_reason(root: str | None) -> tuple[str, str] | None:
    """(reason, detail) of removing a document whose cluster root is ``root``; None keeps it."""
    if root is None:
        return None
    if is_previous(root):
        return "near_duplicate_of_previous_build", f"cluster of {root[len(PREVIOUS):]}"
    return "near_duplicate", f"cluster kept {root}"


def removal_outcomes(docs: Sequence, roots: Sequence[str]) -> Iterator:
    """The documents of one id and the roots it was removed for -> each kept, or a Drop."""
    verdict = removal_reason(min(roots) if roots else None)
    for d in docs:
        if verdict is None:
            yield d
        else:
            yield Drop("", verdict[0], id=d.id, url=d.url, detail=verdict[1], text=d.text)

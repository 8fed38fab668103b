"""LSH band entries shuffled in compact blobs, one per (partition, batch of documents) (pure core).

One ``(band key, id)`` element per band of every document (14 per document by default) costs a
shuffle about 200 bytes of runner objects each, while almost every key is unique. Instead a
worker buffers the entries of many documents and ships them as blobs, one per partition of
the key space (``key % partitions``), holding the keys as raw uint64 and the ids once per entry;
the grouping is on the partition, and each partition's blobs are sorted by key to find the
buckets. The buckets (key, members) are exactly those of a GroupByKey on the band key.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

__all__ = ["PARTITIONS", "BandBuffer", "buckets"]

# Partitions of the band-key space: the parallelism of the bucket step, and how many blobs a
# flush makes. A partition holds 1/PARTITIONS of all entries (14 per document by default).
PARTITIONS = 1024
# Entries buffered before a flush (about 9,400 documents of 14 bands; a few MB).
FLUSH_ENTRIES = 1 << 17


class BandBuffer:
    """Band keys of a worker's documents, drained as ``(partition, blob)`` pairs."""

    def __init__(self, partitions: int = PARTITIONS, flush_entries: int = FLUSH_ENTRIES) -> None:
        if partitions < 1 or flush_entries < 1:
            raise ValueError(f"partitions and flush_entries must be >= 1, got {partitions}, {flush_entries}")
        self.partitions = partitions
        self.flush_entries = flush_entries
        self._keys: list[np.ndarray] = []
        self._ids: list[str] = []
        self._entries = 0

    def add(self, doc_id: str, keys: Sequence[int] | np.ndarray) -> None:
        """The band keys of one document (none: it takes part in no bucket)."""
        keys = np.asarray(keys, dtype=np.uint64).ravel()
        if len(keys):
            self._keys.append(keys)
            self._ids.append(doc_id)
            self._entries += len(keys)

    @property
    def full(self) -> bool:
        return self._entries >= self.flush_entries

    def drain(self) -> Iterator[tuple[int, bytes]]:
        """Every buffered entry, as one blob per partition that has some; the buffer is emptied."""
        if not self._keys:
            return
        keys = np.concatenate(self._keys)
        owner = np.repeat(np.arange(len(self._ids)), [len(k) for k in self._keys])
        ids = self._ids
        self._keys, self._ids, self._entries = [], [], 0
        part = keys % np.uint64(self.partitions)
        order = np.argsort(part, kind="stable")
        part, keys, owner = part[order], keys[order], owner[order]
        cuts = np.flatnonzero(part[1:] != part[:-1]) + 1
        for lo, hi in zip([0, *cuts.tolist()], [*cuts.tolist(), len(part)], strict=True):
            blob = pickle.dumps((keys[lo:hi].tobytes(), [ids[i] for i in owner[lo:hi].tolist()]),
                                protocol=pickle.HIGHEST_PROTOCOL)
            yield int(part[lo]), blob


def buckets(blobs: Iterable[bytes]) -> Iterator[tuple[int, list[str]]]:
    """The blobs of one partition -> ``(band key, member ids)`` for every key with two entries or
    more, keys ascending, members in arrival order (repeats kept, as a GroupByKey gives them)."""
    key_parts: list[np.ndarray] = []
    ids: list[str] = []
    for blob in blobs:
        raw, part_ids = pickle.loads(blob)
        key_parts.append(np.frombuffer(raw, dtype=np.uint64))
        ids.extend(part_ids)
    if not ids:
        return
    keys = np.concatenate(key_parts)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    ends = np.r_[starts[1:], len(sorted_keys)]
    many = ends - starts >= 2
    for lo, hi in zip(starts[many].tolist(), ends[many].tolist(), strict=True):
        yield int(sorted_keys[lo]), [ids[i] for i in order[lo:hi].tolist()]

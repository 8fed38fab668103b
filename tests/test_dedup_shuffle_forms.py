"""What dedup ships through its shuffles: band entries as partition blobs, documents packed."""

import random

import numpy as np
import pytest

from pipeline.dedup.bands import BandBuffer, buckets
from pipeline.dedup.packed import pack, unpack
from pipeline.dedup.removals import PREVIOUS
from pipeline.memory import release_free_memory
from pipeline.records import Document
from tests.mallinfo import probe


def grouped_by_key(entries):
    """The reference: what a GroupByKey on the band key gives, buckets of two entries or more."""
    table: dict[int, list[str]] = {}
    for key, doc_id in entries:
        table.setdefault(key, []).append(doc_id)
    return {k: v for k, v in table.items() if len(v) >= 2}


@pytest.mark.parametrize("partitions,flush_entries", [(1, 10**9), (7, 50), (1024, 1 << 17)])
def test_partition_blobs_give_the_buckets_of_a_group_by_band_key(partitions, flush_entries):
    rng = random.Random(3)
    shared = [rng.getrandbits(64) for _ in range(40)]  # keys that several documents share
    docs = []
    for i in range(300):
        doc_id = (PREVIOUS if i % 50 == 0 else "") + f"d{i:04d}"  # earlier-build ids start with NUL
        keys = [rng.choice(shared) if rng.random() < 0.2 else rng.getrandbits(64) for _ in range(14)]
        docs.append((doc_id, keys if i % 37 else []))  # some empty documents: no keys at all
    docs.append(("d0001", docs[1][1]))  # the same id twice (copies under one id)
    buffer = BandBuffer(partitions=partitions, flush_entries=flush_entries)
    by_partition: dict[int, list[bytes]] = {}
    for doc_id, keys in docs:
        buffer.add(doc_id, keys)
        if buffer.full:
            for p, blob in buffer.drain():
                by_partition.setdefault(p, []).append(blob)
    for p, blob in buffer.drain():
        by_partition.setdefault(p, []).append(blob)
    assert list(buffer.drain()) == []  # drained empties the buffer
    assert all(0 <= p < partitions for p in by_partition)

    got = {}
    for p, blobs in by_partition.items():
        for key, members in buckets(blobs):
            assert key % partitions == p and key not in got
            got[key] = members
    want = grouped_by_key((k, doc_id) for doc_id, keys in docs for k in keys)
    assert {k: sorted(v) for k, v in got.items()} == {k: sorted(v) for k, v in want.items()}
    assert any(len(set(v)) < len(v) for v in got.values())  # the repeated id stays repeated


def test_band_keys_keep_all_64_bits():
    top = (1 << 64) - 1
    buffer = BandBuffer(partitions=4)
    buffer.add("a", np.array([top, 5], dtype=np.uint64))
    buffer.add("b", [top, 6])
    found = [b for _, blob in buffer.drain() for b in buckets([blob])]
    assert found == [(top, ["a", "b"])]


def test_band_buffer_rejects_no_partitions():
    with pytest.raises(ValueError, match="partitions"):
        BandBuffer(partitions=0)


def test_a_packed_document_unpacks_equal_and_smaller():
    text = ("Der Fluss \u00fcberquert das Tal. " * 200) + "\ud800 lone surrogate \U0001f600"
    doc = Document(id="d\x00001", text=text, source="/in/part-000.jsonl", url="https://example.org/a",
                   lang="de", lang_score=0.912345678901, meta={"line": 7, "tags": ["a", "b"], "x": None})
    blob = pack(doc)
    assert isinstance(blob, bytes) and len(blob) < len(text) // 4
    back = unpack(blob)
    assert back == doc and back.to_row() == doc.to_row()


def test_release_free_memory_reports_whether_it_could():
    import platform

    released = release_free_memory()
    assert isinstance(released, bool)
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert released


def test_fixed_mmap_threshold_maps_large_buffers_on_their_own_and_gives_them_back():
    heap, own, left = probe(
        "before = mapped(); buffer = bytearray(4 << 20); heap = mapped() - before; del buffer\n"
        "fix_mmap_threshold()\n"
        "before = mapped(); buffer = bytearray(8 << 20); own = mapped() - before; del buffer\n"
        "print(heap, own, mapped() - before)\n")
    assert heap < 4 << 20  # at glibc's highest threshold a 4 MB buffer comes from the heap
    assert own >= 8 << 20  # at 1 MB a larger one gets its own mapping...
    assert left == 0  # ...unmapped when freed

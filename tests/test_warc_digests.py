"""The WARC reader checks ``WARC-Block-Digest`` however the archive is stored.

The same archive, with one response block that disagrees with its digest, is read uncompressed,
zstd-compressed (no CRC), per-record gzip and whole-file gzip. A gzip CRC that held proves the
bytes are what the writer compressed, not that they are the record its digest describes, so the
record is dropped under every encoding: the same bytes, the same verdict.
"""

from __future__ import annotations

import gzip
import io

import pytest
import zstandard

from pipeline.limits import Limits
from pipeline.readers.warc import read_warc
from pipeline.records import Drop, RawRecord
from tests.warc_factory import EN, Page, html_page, per_record_members, warc_bytes

PAGES = [Page(f"http://digest.test/{i}", html_page(f"Page {i}", EN)) for i in range(3)]
URLS = [p.url for p in PAGES]


def _plain_with_a_wrong_digest() -> bytes:
    """Uncompressed WARC whose second response block no longer matches its digest."""
    raw = bytearray(warc_bytes(PAGES, gzip=False))
    record = raw.index(b"WARC-Target-URI: http://digest.test/1")
    i = raw.index(b"<title>Page 1", record)
    raw[i + 1] ^= 0x20  # "title" -> "Title": same length, framing intact
    return bytes(raw)


PLAIN = _plain_with_a_wrong_digest()
ENCODINGS = {
    "uncompressed": PLAIN,
    "zstd": zstandard.ZstdCompressor().compress(PLAIN),
    "per-record gzip": b"".join(gzip.compress(m, mtime=0) for m in per_record_members(PLAIN)),
    "whole-file gzip": gzip.compress(PLAIN, mtime=0),
}


def _read(data: bytes):
    out = list(read_warc(io.BytesIO(data), "d.warc", Limits()))
    kept = [o.url for o in out if isinstance(o, RawRecord)]
    dropped = {o.url: o.reason for o in out if isinstance(o, Drop) and o.reason != "skipped_record_type"}
    return kept, dropped, out[-1]


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_block_that_disagrees_with_its_digest_is_dropped_under_every_encoding(encoding):
    kept, dropped, done = _read(ENCODINGS[encoding])
    assert kept == [URLS[0], URLS[2]]
    assert dropped == {URLS[1]: "digest_mismatch"}
    assert done.status == "ok"


def test_damage_inside_a_gzip_member_is_still_caught_by_its_crc():
    plain = per_record_members(warc_bytes(PAGES, gzip=False))
    members = [gzip.compress(m, mtime=0) for m in plain]
    target = next(i for i, m in enumerate(plain) if b"http://digest.test/1" in m)
    bad = bytearray(members[target])
    bad[-7] ^= 0x01  # the last deflate byte before the CRC32
    members[target] = bytes(bad)
    kept, dropped, done = _read(b"".join(members))
    assert kept == [URLS[0], URLS[2]]
    assert list(dropped.values()) == ["corrupt_record"]  # the member failed before its header came out
    assert done.status == "corrupt_compression"

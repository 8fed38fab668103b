"""The gzip member reader gives the same events with ISA-L's inflate as with zlib's, on intact and
damaged streams (a bad CRC, a bad length, a broken deflate block, a cut), so the faster inflate
changes nothing the WARC reader sees."""

from __future__ import annotations

import gzip
import io
import random
import zlib

import pytest

from pipeline import compression
from pipeline.compression import Break, Chunk, End, gzip_events

isal_zlib = pytest.importorskip("isal.isal_zlib", reason="isal (ISA-L inflate) is not installed on this platform")

MEMBERS = [gzip.compress(random.Random(i).randbytes(200) * (50 + i), mtime=0) for i in range(6)]


def _events(data: bytes, inflate) -> list:
    """The checked data (joined per member: the libraries split output differently), breaks, skips and
    the end. Bytes inflated before a failure are left out: the reader never keeps them, and how many
    come out before the failure is noticed differs between the libraries."""
    out, pending = [], b""
    for ev in gzip_events(io.BytesIO(data), chunk=1 << 12, inflate=inflate):
        if isinstance(ev, Chunk):
            pending += ev.data
            if ev.checked:
                out.append(("data", pending))
                pending = b""
            continue
        pending = b""
        out.append(("break", ev.skipped) if isinstance(ev, Break) else
                   ("end", ev.reason) if isinstance(ev, End) else ("skipped", ev.skipped))
    return out


def _damaged(i: int, offset_from_end: int, xor: int = 0x55) -> bytes:
    members = list(MEMBERS)
    bad = bytearray(members[i])
    bad[len(bad) - offset_from_end] ^= xor
    members[i] = bytes(bad)
    return b"".join(members)


CASES = {
    "intact": b"".join(MEMBERS),
    "bad crc": _damaged(2, 6),
    "bad length": _damaged(3, 2),
    "broken deflate data": _damaged(1, len(MEMBERS[1]) // 2, 0xFF),
    "cut inside a member": b"".join(MEMBERS)[: -len(MEMBERS[-1]) // 2],
    "garbage between members": MEMBERS[0] + b"not gzip" + b"".join(MEMBERS[1:]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_isal_and_zlib_inflate_give_the_same_events(case):
    with_zlib = _events(CASES[case], zlib)
    assert _events(CASES[case], isal_zlib) == with_zlib
    members = [zlib.decompress(m, 31) for m in MEMBERS]
    kept = [d for kind, d in with_zlib if kind == "data"]
    assert set(kept) <= set(members)
    assert len(kept) == {"intact": 6, "garbage between members": 6, "cut inside a member": 5}.get(case, 5)


def test_a_checksum_failure_is_a_break_with_either_library():
    """Each library raises its own error class on a bad CRC; both must end the member as a Break."""
    for inflate in (zlib, isal_zlib):
        events = list(gzip_events(io.BytesIO(CASES["bad crc"]), inflate=inflate))
        assert [type(e) for e in events if not isinstance(e, Chunk)] == [Break, End]
        assert events[-1].reason == "ok"


def test_the_default_inflate_is_isal_where_installed():
    assert compression.INFLATE is isal_zlib

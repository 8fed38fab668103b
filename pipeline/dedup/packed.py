"""Documents as compressed bytes while they wait in a dedup join (pure core, no Beam).

A dedup join holds every document until the verdicts are known; a runner keeps them in its
shuffle buffers (Beam's local runner: in memory, decoded once and encoded twice). Packed,
one document is a single zstd-compressed pickle, about half the bytes and one Python object,
and unpacks to an equal document.
"""

from __future__ import annotations

import pickle
import threading
from typing import Any

import zstandard

__all__ = ["pack", "unpack"]

_LEVEL = 1  # the fastest level: ~100 MB/s of documents; higher levels save only a few percent here
_local = threading.local()  # zstd contexts are not thread-safe; Beam may run bundles in threads


def _contexts() -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
    ctx = getattr(_local, "ctx", None)
    if ctx is None:
        ctx = _local.ctx = (zstandard.ZstdCompressor(level=_LEVEL), zstandard.ZstdDecompressor())
    return ctx


def pack(record: Any) -> bytes:
    """``record`` (a Document, or anything picklable) as one compressed blob."""
    return _contexts()[0].compress(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))


def unpack(blob: bytes) -> Any:
    """The record that :func:`pack` gave ``blob`` for (equal to it, field for field)."""
    return pickle.loads(_contexts()[1].decompress(blob))

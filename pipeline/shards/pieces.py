"""Token pieces: a :class:`~pipeline.shards.batches.TokenBatch` staged in a file, so only its path
and id hashes cross the shuffle and the shard writer reads the tokens back in id order, a few
hundred thousand at a time, instead of the runner holding every batch in memory (pure core).

A piece file is a header (magic, dtype code, documents, tokens, metadata bytes, sha256 of the
metadata), the metadata (per document: length, id hash, crc32 of its tokens, end of its id in
the id bytes; then the ids, UTF-8) and the tokens. Reading checks the magic, the size, the
metadata's hash and each document's crc32: a missing, short or damaged piece raises
:class:`PieceError`, never a short shard.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import IO

import numpy as np

from pipeline import fileio
from pipeline.shards.batches import (
    WRITE_CHUNK_TOKENS,
    TokenBatch,
    id_order_chunks,
    in_id_order,
    shard_of,
    token_runs,
)
from pipeline.shards.layout import DTYPE_CODES, dtype_code

__all__ = ["PieceError", "PieceRef", "pieces_in_id_order", "read_piece_index", "write_piece"]

MAGIC = b"CFTOKPC1"
HEADER = struct.Struct("<8sB7xQQQ32s")  # magic, dtype code, documents, tokens, metadata bytes, its sha256
_FIELDS = (("lengths", "<i8"), ("hashes", "<u8"), ("crcs", "<u4"), ("id_ends", "<i8"))

Opener = Callable[[str], IO[bytes]]


class PieceError(ValueError):
    """A staged token piece is missing, short or damaged."""


@dataclass(frozen=True)
class PieceRef:
    """What crosses the shuffle for a staged batch: its file, its counts and its id hashes
    (which shards it feeds)."""

    path: str
    documents: int
    token_count: int
    hashes: np.ndarray  # uint64 per document


@dataclass
class PieceIndex:
    """A piece's metadata, read back: the ids and, per document, length, hash, crc32 and first token."""

    path: str
    dtype: np.dtype
    ids: list[str]
    lengths: np.ndarray
    hashes: np.ndarray
    crcs: np.ndarray
    starts: np.ndarray
    token_offset: int  # bytes before the first token


def _crc32s(view: memoryview, lengths: np.ndarray, itemsize: int) -> np.ndarray:
    """crc32 of each document's token bytes, the documents (``lengths`` tokens) laid one after another in ``view``."""
    starts = np.cumsum(lengths) - lengths
    return np.fromiter((zlib.crc32(view[s * itemsize:(s + n) * itemsize])
                        for s, n in zip(starts.tolist(), lengths.tolist(), strict=True)),
                       dtype=np.uint32, count=lengths.size)


def write_piece(path: str, batch: TokenBatch, open_fn: Opener = fileio.open_write) -> PieceRef:
    """Stage ``batch`` in a new file at ``path``; returns its :class:`PieceRef`."""
    tokens = np.ascontiguousarray(batch.tokens, dtype=batch.tokens.dtype.newbyteorder("<"))
    lengths = np.asarray(batch.lengths, dtype=np.int64)
    view = memoryview(tokens).cast("B")
    ids = [i.encode("utf-8") for i in batch.ids]
    columns = {"lengths": lengths, "hashes": batch.hashes,
               "crcs": _crc32s(view, lengths, tokens.itemsize),
               "id_ends": np.cumsum([len(i) for i in ids], dtype=np.int64)}
    meta = b"".join([np.asarray(columns[name], dtype=dt).tobytes() for name, dt in _FIELDS] + ids)
    header = HEADER.pack(MAGIC, dtype_code(tokens.dtype), len(ids), tokens.size, len(meta),
                         hashlib.sha256(meta).digest())
    with open_fn(path) as f:
        f.write(header)
        f.write(meta)
        f.write(view)
    return PieceRef(path, len(ids), int(tokens.size), np.asarray(batch.hashes, dtype=np.uint64))


def _open(path: str, open_fn: Opener) -> IO[bytes]:
    try:
        return open_fn(path)
    except OSError as exc:
        raise PieceError(f"{path}: staged token piece missing or unreadable ({exc}); was the job's "
                         "staging folder changed while it ran?") from exc


def read_piece_index(path: str, open_fn: Opener = fileio.open_read) -> PieceIndex:
    """A piece's metadata, checked against its header and the file's size."""
    with _open(path, open_fn) as f:
        head = f.read(HEADER.size)
        if len(head) < HEADER.size or head[:8] != MAGIC:
            raise PieceError(f"{path}: not a staged token piece (bad header)")
        _, code, n, tokens, meta_bytes, digest = HEADER.unpack(head)
        meta = f.read(meta_bytes)
        if len(meta) != meta_bytes or hashlib.sha256(meta).digest() != digest:
            raise PieceError(f"{path}: staged token piece damaged (its metadata does not match its checksum)")
        dtype = DTYPE_CODES.get(code)
        if dtype is None:
            raise PieceError(f"{path}: staged token piece has unknown dtype code {code}")
        size = f.seek(0, 2)
    if size != HEADER.size + meta_bytes + tokens * dtype.itemsize:
        raise PieceError(f"{path}: staged token piece is {size} bytes, its header promises "
                         f"{HEADER.size + meta_bytes + tokens * dtype.itemsize} (truncated or damaged)")
    columns, pos = {}, 0
    for name, dt in _FIELDS:
        columns[name] = np.frombuffer(meta, dtype=dt, count=n, offset=pos)
        pos += n * np.dtype(dt).itemsize
    ends = columns["id_ends"].tolist()
    blob = meta[pos:]
    ids = [blob[a:b].decode("utf-8") for a, b in zip([0, *ends[:-1]], ends, strict=True)]
    lengths = columns["lengths"]
    if int(lengths.sum()) != tokens or (ends and ends[-1] != len(blob)):
        raise PieceError(f"{path}: staged token piece damaged (its document lengths do not add up)")
    return PieceIndex(path, dtype, ids, lengths, columns["hashes"], columns["crcs"], np.cumsum(lengths) - lengths,
                      HEADER.size + meta_bytes)


def _read_into(f: IO[bytes], offset: int, out: memoryview, path: str) -> None:
    f.seek(offset)
    done = 0
    while done < len(out):
        got = f.readinto(out[done:])
        if not got:
            raise PieceError(f"{path}: staged token piece ends early (truncated)")
        done += got


def pieces_in_id_order(paths: Iterable[str], shard: int = 0, of: int = 1, open_fn: Opener = fileio.open_read,
                       chunk_tokens: int = WRITE_CHUNK_TOKENS) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The documents of the pieces at ``paths`` whose id hash is ``shard`` mod ``of``, sorted by id
    (stable: equal ids keep the order of ``paths``), as ``(tokens, lengths)`` of about
    ``chunk_tokens`` tokens: what :func:`~pipeline.shards.batches.in_id_order` gives for the
    batches themselves.

    Each part is read from the files a run of documents at a time, opening each piece it draws
    on, so only one part is in memory. On a remote store (where an open is a request) with ids
    scattered over the pieces (the parts would open pieces more than twice as often as there
    are parts and pieces), each piece is read once instead, and the shard laid out from memory."""
    docs = _Selection.of(paths, shard, of, open_fn)
    if docs is None:
        return
    parts = list(id_order_chunks(docs.ids, docs.lengths, chunk_tokens))
    if (not fileio.is_remote(docs.pieces[0].path)  # (the opens are counted only where they cost a request)
            or sum(np.unique(docs.owners[part]).size for part in parts) <= 2 * (len(parts) + len(docs.pieces))):
        for part in parts:
            yield docs.gather(part, open_fn), docs.lengths[part]
        return
    batches = []
    for owner in range(len(docs.pieces)):
        mine = np.flatnonzero(docs.owners == owner)
        batches.append(TokenBatch([docs.ids[k] for k in mine.tolist()], docs.hashes[mine], docs.lengths[mine],
                                  docs.gather(mine, open_fn)))
    yield from in_id_order(batches, chunk_tokens)


@dataclass
class _Selection:
    """The documents of one shard across its pieces, in the order of the pieces: for each, its
    piece (``owners``), id, hash, length, first token in its piece and crc32."""

    pieces: list[PieceIndex]
    dtype: np.dtype
    ids: list[str]
    owners: np.ndarray
    hashes: np.ndarray
    lengths: np.ndarray
    starts: np.ndarray
    crcs: np.ndarray

    @classmethod
    def of(cls, paths: Iterable[str], shard: int, of: int, open_fn: Opener) -> _Selection | None:
        """The documents of ``paths`` whose hash is ``shard`` mod ``of`` (None when there are none)."""
        pieces: list[PieceIndex] = []
        picks: list[np.ndarray] = []
        for path in paths:
            index = read_piece_index(path, open_fn)
            pick = np.flatnonzero(shard_of(index.hashes, of) == shard)
            if pick.size:
                pieces.append(index)
                picks.append(pick)
        if not pieces:
            return None
        dtypes = {p.dtype for p in pieces}
        if len(dtypes) > 1:
            raise PieceError(f"staged token pieces of one shard have different dtypes: {sorted(map(str, dtypes))}")
        both = list(zip(pieces, picks, strict=True))
        return cls(pieces, dtypes.pop(), [p.ids[k] for p, pick in both for k in pick.tolist()],
                   np.repeat(np.arange(len(pieces)), [pick.size for pick in picks]),
                   *(np.concatenate([getattr(p, name)[pick] for p, pick in both])
                     for name in ("hashes", "lengths", "starts", "crcs")))

    def gather(self, docs: np.ndarray, open_fn: Opener) -> np.ndarray:
        """The tokens of documents ``docs`` (positions in this selection) one after another, read
        from their pieces a run at a time (each piece opened once) and checked against their crc32."""
        dtype, size = self.dtype, self.dtype.itemsize
        lengths = self.lengths[docs]
        out = np.empty(int(lengths.sum()), dtype=dtype)
        view = memoryview(out).cast("B")
        runs = sorted(token_runs(self.owners[docs], self.starts[docs], lengths))  # by piece, then by offset
        for owner, group in groupby(runs, key=itemgetter(0)):
            piece = self.pieces[owner]
            with _open(piece.path, open_fn) as f:
                for _, lo, hi, pos in group:
                    _read_into(f, piece.token_offset + lo * size, view[pos * size:(pos + hi - lo) * size], piece.path)
        bad = np.flatnonzero(_crc32s(view, lengths, size) != self.crcs[docs])
        if bad.size:
            which = int(docs[bad[0]])
            raise PieceError(f"{self.pieces[int(self.owners[which])].path}: staged token piece damaged (the tokens "
                             f"of document {self.ids[which]!r} do not match their crc32)")
        return out

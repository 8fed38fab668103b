"""Read one Megatron ``MMIDIDX`` shard: both files memory-mapped, every structural property
checked on open (layout: :mod:`pipeline.shards.layout`)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from pipeline.shards.layout import (
    DEFAULT_CHUNK_TOKENS,
    DTYPE_CODES,
    HEADER_BYTES,
    HEADER_STRUCT,
    MAGIC,
    VERSION,
    ShardFormatError,
)


class ShardReader:
    """Read a shard written in the MMIDIDX layout; both files are memory-mapped.

    Every structural property is validated on open, and a :class:`ShardFormatError` names the
    file and what is wrong: magic, version, dtype code, ``.idx`` size vs the counts in its
    header, document indices (0 .. S, non-decreasing), non-negative lengths, pointers equal to
    the cumulative byte offsets of the lengths, and ``.bin`` size = sum(lengths) * itemsize.
    ``reader[i]`` is a read-only view of sequence ``i`` (here: document ``i``).
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.bin_path = prefix + ".bin"
        self.idx_path = prefix + ".idx"
        for path in (self.idx_path, self.bin_path):
            if not os.path.isfile(path):
                raise FileNotFoundError(f"{path}: no such file (a shard is a .bin + .idx pair with prefix {prefix})")
        idx_size = os.path.getsize(self.idx_path)
        if idx_size < HEADER_BYTES:
            raise ShardFormatError(
                f"{self.idx_path}: {idx_size} bytes, shorter than the {HEADER_BYTES}-byte MMIDIDX header"
            )
        with open(self.idx_path, "rb") as f:
            magic, version, code, seq_count, doc_count = HEADER_STRUCT.unpack(f.read(HEADER_BYTES))
        if magic != MAGIC:
            raise ShardFormatError(f"{self.idx_path}: bad magic {magic!r}, expected {MAGIC!r} (not an MMIDIDX index)")
        if version != VERSION:
            raise ShardFormatError(f"{self.idx_path}: unsupported version {version}, expected {VERSION}")
        if code not in DTYPE_CODES:
            raise ShardFormatError(f"{self.idx_path}: unknown dtype code {code}, expected one of {sorted(DTYPE_CODES)}")
        self.dtype: np.dtype = DTYPE_CODES[code]
        self.dtype_code = code
        self.itemsize = self.dtype.itemsize
        if doc_count < 1:
            raise ShardFormatError(f"{self.idx_path}: document count {doc_count} in header, must be >= 1 (leading 0)")
        expected = HEADER_BYTES + seq_count * (4 + 8) + doc_count * 8
        if idx_size != expected:
            hint = ""
            if idx_size == expected + seq_count:
                hint = " (it has per-sequence modes: a multimodal index, not supported)"
            elif idx_size < expected:
                hint = " (truncated?)"
            raise ShardFormatError(
                f"{self.idx_path}: {idx_size} bytes, but the header ({seq_count} sequences, {doc_count} "
                f"document indices) needs exactly {expected}{hint}"
            )
        self.sequence_count = int(seq_count)
        self.document_count = int(doc_count) - 1
        self._idx_mmap = np.memmap(self.idx_path, dtype=np.uint8, mode="r")
        off = HEADER_BYTES
        self.lengths: np.ndarray = np.frombuffer(self._idx_mmap, dtype="<i4", count=seq_count, offset=off)
        off += 4 * seq_count
        self.pointers: np.ndarray = np.frombuffer(self._idx_mmap, dtype="<i8", count=seq_count, offset=off)
        off += 8 * seq_count
        self.document_indices: np.ndarray = np.frombuffer(self._idx_mmap, dtype="<i8", count=doc_count, offset=off)
        self._validate_index()
        self.total_tokens = int(self.lengths.sum(dtype=np.int64))
        bin_size = os.path.getsize(self.bin_path)
        if bin_size != self.total_tokens * self.itemsize:
            raise ShardFormatError(
                f"{self.bin_path}: {bin_size} bytes, but {self.idx_path} lists {self.total_tokens} tokens "
                f"of {self.dtype.name} = {self.total_tokens * self.itemsize} bytes"
                + (" (truncated?)" if bin_size < self.total_tokens * self.itemsize else "")
            )
        if bin_size:
            self._tokens: np.ndarray = np.memmap(self.bin_path, dtype=self.dtype, mode="r")
        else:  # mmap refuses empty files
            self._tokens = np.empty(0, dtype=self.dtype)
            self._tokens.flags.writeable = False

    def _validate_index(self) -> None:
        d, lengths, pointers = self.document_indices, self.lengths, self.pointers
        if d[0] != 0:
            raise ShardFormatError(f"{self.idx_path}: document indices start at {int(d[0])}, expected 0")
        if d[-1] != self.sequence_count:
            raise ShardFormatError(
                f"{self.idx_path}: last document index {int(d[-1])} != sequence count {self.sequence_count}"
            )
        if d.size > 1 and bool((np.diff(d) < 0).any()):
            i = int(np.argmax(np.diff(d) < 0))
            raise ShardFormatError(f"{self.idx_path}: document indices decrease at position {i + 1}")
        if lengths.size and int(lengths.min()) < 0:
            i = int(np.argmax(lengths < 0))
            raise ShardFormatError(f"{self.idx_path}: sequence {i} has negative length {int(lengths[i])}")
        if pointers.size:
            want = np.zeros(pointers.size, dtype=np.int64)
            np.cumsum(lengths[:-1].astype(np.int64) * self.itemsize, out=want[1:])
            bad = pointers != want
            if bool(bad.any()):
                i = int(np.argmax(bad))
                raise ShardFormatError(
                    f"{self.idx_path}: pointer of sequence {i} is {int(pointers[i])}, but the lengths before it "
                    f"give byte offset {int(want[i])} ({self.dtype.name}, {self.itemsize} bytes/token)"
                )

    def __len__(self) -> int:
        return self.sequence_count

    def __getitem__(self, i: int) -> np.ndarray:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"shard index must be an int, got {type(i).__name__}")
        n = self.sequence_count
        j = int(i) + n if i < 0 else int(i)
        if not 0 <= j < n:
            raise IndexError(f"sequence {i} out of range for {self.prefix} ({n} sequences)")
        start = int(self.pointers[j]) // self.itemsize
        return self._tokens[start:start + int(self.lengths[j])]

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(self.sequence_count):
            yield self[i]

    def __enter__(self) -> ShardReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop this reader's references to the maps (views handed out keep theirs)."""
        for name in ("_tokens", "_idx_mmap", "lengths", "pointers", "document_indices"):
            if hasattr(self, name):
                setattr(self, name, None)

    def iter_chunks(self, chunk_tokens: int = DEFAULT_CHUNK_TOKENS) -> Iterator[tuple[int, np.ndarray]]:
        """``(first token position, view)`` over the whole ``.bin``, ``chunk_tokens`` at a time."""
        if chunk_tokens < 1:
            raise ValueError("chunk_tokens must be >= 1")
        for start in range(0, self.total_tokens, chunk_tokens):
            yield start, self._tokens[start:start + chunk_tokens]

    def token_id_range(self, chunk_tokens: int = DEFAULT_CHUNK_TOKENS) -> tuple[int, int] | None:
        """``(min, max)`` token id, scanning in chunks; ``None`` for a shard with no tokens."""
        lo = hi = None
        for _, chunk in self.iter_chunks(chunk_tokens):
            cmin, cmax = chunk.min(), chunk.max()
            lo = cmin if lo is None else min(lo, cmin)
            hi = cmax if hi is None else max(hi, cmax)
        return None if lo is None else (int(lo), int(hi))

    def max_token_id(self, chunk_tokens: int = DEFAULT_CHUNK_TOKENS) -> int | None:
        """The largest token id (chunked scan, nothing loaded whole); ``None`` if no tokens."""
        rng = self.token_id_range(chunk_tokens)
        return None if rng is None else rng[1]

    def document_of_token(self, position: int) -> int:
        """The sequence that holds the token at ``position`` in the ``.bin``."""
        starts = self.pointers // self.itemsize
        return int(np.searchsorted(starts, position, side="right")) - 1

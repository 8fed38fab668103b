"""Megatron-LM indexed-dataset shards (``MMIDIDX`` version 1): writer, reader, verifier.

Layout (docs/DESIGN "Token shards"; identical to what Megatron-LM's
``megatron/core/datasets/indexed_dataset.py`` ``_IndexWriter``/``_IndexReader`` and GPT-NeoX's
``megatron/data/indexed_dataset.py`` ``MMapIndexedDataset.Index`` write and read):

``<prefix>.bin``
    the token ids of all documents, concatenated, C order, no header.
``<prefix>.idx``, little-endian
    ============  =====================================================================
    9 bytes       magic ``b"MMIDIDX\\x00\\x00"``
    ``<Q``        version = 1
    ``<B``        dtype code (1 uint8, 2 int8, 3 int16, 4 int32, 5 int64, 6 float64,
                  7 float32, 8 uint16)
    ``<Q``        sequence count S
    ``<Q``        document count D (= documents + 1: the document indices, leading 0 included)
    int32[S]      sequence lengths, in tokens
    int64[S]      sequence pointers: byte offset of each sequence in ``.bin``
                  (cumulative sum of length * itemsize, starting at 0)
    int64[D]      document indices: document i is sequences ``[d[i], d[i+1])``; d[0] = 0,
                  d[-1] = S
    ============  =====================================================================

Here each document is one sequence, so S = documents and d = 0..S. Token dtype: uint16 when
the vocabulary has fewer than 65,500 ids, else int32 (:func:`dtype_for_vocab`, the same rule
as Megatron's ``DType.optimal_dtype`` and NeoX's ``__best_fitting_dtype``).

Pure Python + numpy; no Apache Beam import. The writer defaults to local files; a caller can
pass ``open_fn``/``rename_fn``/``remove_fn`` to write through Beam's filesystems (see
:class:`ShardWriter`).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, Any

import numpy as np

from pipeline.shards.manifest import SHARD_KEYS, check_shard_entry, shard_totals

MAGIC = b"MMIDIDX\x00\x00"
VERSION = 1
HEADER_BYTES = len(MAGIC) + 8 + 1 + 8 + 8  # = 34
_HEADER = struct.Struct("<9sQBQQ")
assert _HEADER.size == HEADER_BYTES

#: MMIDIDX dtype code -> numpy dtype (little-endian), as in Megatron-core's ``DType`` enum.
DTYPE_CODES: dict[int, np.dtype] = {
    1: np.dtype("u1"),
    2: np.dtype("i1"),
    3: np.dtype("<i2"),
    4: np.dtype("<i4"),
    5: np.dtype("<i8"),
    6: np.dtype("<f8"),
    7: np.dtype("<f4"),
    8: np.dtype("<u2"),
}
#: Codes the writer accepts: token ids are integers.
INTEGER_CODES = (1, 2, 3, 4, 5, 8)
#: Vocabularies with fewer ids than this are stored as uint16 (Megatron's threshold).
UINT16_VOCAB_LIMIT = 65500
_INT32_MAX = 2**31 - 1
_DEFAULT_CHUNK_TOKENS = 1 << 24  # 16M tokens per chunk when scanning a .bin


class ShardFormatError(ValueError):
    """A ``.bin``/``.idx`` pair that does not follow the layout; the message names the file."""


class EmptyShardError(ValueError):
    """Closing a :class:`ShardWriter` with no tokens (an empty ``.bin`` cannot be mmapped)."""


def dtype_code(dtype: Any) -> int:
    """The MMIDIDX code of a numpy dtype (``np.uint16``, ``"int32"``, ``np.dtype("<u2")``...)."""
    dt = np.dtype(dtype)
    if dt.itemsize > 1 and not (dt.byteorder == "<" or (dt.byteorder == "=" and sys.byteorder == "little")):
        raise ValueError(f"token dtype must be little-endian, got {dt.str}")
    for code, candidate in DTYPE_CODES.items():
        if candidate.kind == dt.kind and candidate.itemsize == dt.itemsize:
            return code
    raise ValueError(f"dtype {dt} has no MMIDIDX code; use one of {sorted(d.name for d in DTYPE_CODES.values())}")


def dtype_for_vocab(vocab_size: int) -> np.dtype:
    """``uint16`` when ``vocab_size < 65500``, else ``int32`` (Megatron's ``optimal_dtype``)."""
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)) or vocab_size < 1:
        raise ValueError(f"vocab_size must be a positive integer, got {vocab_size!r}")
    if vocab_size > _INT32_MAX + 1:
        raise ValueError(f"vocab_size {vocab_size} does not fit int32 token ids")
    return np.dtype("<u2") if vocab_size < UINT16_VOCAB_LIMIT else np.dtype("<i4")


def _sha256_file(path: str, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _local_open(path: str) -> IO[bytes]:
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    return open(path, "wb")


def _local_remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


class ShardWriter:
    """Write one shard: ``<prefix>.bin`` + ``<prefix>.idx``, atomically.

    Usage::

        with ShardWriter("out/web/train-00000-of-00004", dtype_for_vocab(vocab)) as w:
            for ids in documents:          # one document = one sequence, EOD included
                w.add_document(ids)
        entry = {"path": "web/train-00000-of-00004", "source": "web", "split": "train",
                 **w.summary()}

    Token ids are streamed to a temporary ``.bin`` (``<prefix>.bin.tmp-<random>``) and hashed
    (sha256) as they are written, so no document is held in memory after ``add_document``
    returns; only the per-document lengths are (8 bytes each). On a successful close the
    ``.idx`` is written to its own temporary name, then both are renamed into place: the
    ``.bin`` first, the ``.idx`` last (an existing ``<prefix>.idx`` is removed before the
    ``.bin`` is replaced), so at no moment is there a complete-looking pair that does not
    belong together. On any error -- an exception inside the ``with`` block, or in close --
    the temporaries are removed and no new ``.bin``/``.idx`` appears.

    A shard with no tokens raises :class:`EmptyShardError` on close (and leaves nothing),
    because Megatron-LM and GPT-NeoX memory-map the ``.bin`` and ``mmap`` refuses an empty
    file; pass ``allow_empty=True`` to write it anyway (our :class:`ShardReader` reads it).

    Remote storage: by default files are local (``open``, ``os.replace``, ``os.remove``, the
    parent folder created, data fsynced before the rename). For ``gs://`` / ``s3://`` pass
    Beam's filesystems::

        from apache_beam.io.filesystems import FileSystems
        ShardWriter(prefix, dtype,
                    open_fn=FileSystems.create,                              # path -> writable
                    rename_fn=lambda src, dst: FileSystems.rename([src], [dst]),
                    remove_fn=lambda p: FileSystems.delete([p]))

    (``FileSystems.rename`` on object stores is copy + delete: the pair is still only
    complete once the ``.idx`` lands, but it is not a single atomic step.) ``remove_fn`` must
    not fail for a missing file; without it, a custom ``open_fn`` leaves temporaries behind
    on error (the final names are still never written).
    """

    def __init__(
        self,
        prefix: str,
        dtype: Any,
        *,
        open_fn: Callable[[str], IO[bytes]] | None = None,
        rename_fn: Callable[[str, str], None] | None = None,
        remove_fn: Callable[[str], None] | None = None,
        allow_empty: bool = False,
    ) -> None:
        if not isinstance(prefix, str) or not prefix:
            raise ValueError(f"ShardWriter: prefix must be a non-empty path, got {prefix!r}")
        if prefix.endswith((".bin", ".idx")):
            raise ValueError(f"ShardWriter: prefix must not end with .bin/.idx, got {prefix!r}")
        if (open_fn is None) != (rename_fn is None):
            raise ValueError("ShardWriter: pass open_fn and rename_fn together (or neither)")
        code = dtype_code(dtype)
        if code not in INTEGER_CODES:
            raise ValueError(f"ShardWriter: token dtype must be an integer type, got {np.dtype(dtype)}")
        self.prefix = prefix
        self.dtype = DTYPE_CODES[code]
        self.dtype_code = code
        self.itemsize = self.dtype.itemsize
        self.bin_path = prefix + ".bin"
        self.idx_path = prefix + ".idx"
        self.allow_empty = allow_empty
        self._local = open_fn is None
        self._open = open_fn or _local_open
        self._rename = rename_fn or os.replace
        self._remove = remove_fn if remove_fn is not None else (_local_remove if self._local else None)
        tag = uuid.uuid4().hex[:12]
        self._bin_tmp = f"{self.bin_path}.tmp-{tag}"
        self._idx_tmp = f"{self.idx_path}.tmp-{tag}"
        self._lengths: list[int] = []
        self._tokens = 0
        self._bin_hash = hashlib.sha256()
        self._info = np.iinfo(self.dtype)
        self._state = "open"
        self._result: dict[str, Any] | None = None
        self._file: IO[bytes] | None = self._open(self._bin_tmp)

    # -- context manager ----------------------------------------------------------------
    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # -- writing --------------------------------------------------------------------------
    @property
    def documents(self) -> int:
        """Documents (= sequences) added so far."""
        return len(self._lengths)

    @property
    def tokens(self) -> int:
        """Tokens added so far."""
        return self._tokens

    def _as_tokens(self, ids: np.ndarray | Sequence[int]) -> np.ndarray:
        arr = np.asarray(ids)
        if arr.ndim != 1:
            raise ValueError(f"{self.bin_path}: a document must be a 1-D sequence of token ids, got shape {arr.shape}")
        if arr.size == 0:
            return np.empty(0, dtype=self.dtype)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{self.bin_path}: token ids must be integers, got dtype {arr.dtype}")
        if not np.can_cast(arr.dtype, self.dtype, casting="safe"):
            lo, hi = int(arr.min()), int(arr.max())
            if lo < self._info.min or hi > self._info.max:
                bad = lo if lo < self._info.min else hi
                raise ValueError(
                    f"{self.bin_path}: token id {bad} does not fit the shard dtype {self.dtype.name} "
                    f"([{self._info.min}, {self._info.max}]); choose the dtype with dtype_for_vocab(vocab_size)"
                )
        return np.ascontiguousarray(arr, dtype=self.dtype)

    def add_document(self, ids: np.ndarray | Sequence[int]) -> None:
        """Append one document (one sequence) of token ids; a 0-token document is allowed."""
        if self._state != "open":
            raise RuntimeError(f"{self.bin_path}: add_document after the writer was {self._state}")
        arr = self._as_tokens(ids)
        if arr.size > _INT32_MAX:
            raise ValueError(f"{self.bin_path}: a document of {arr.size} tokens exceeds the int32 sequence length")
        self._append(arr, [int(arr.size)])

    def add_documents(self, tokens: np.ndarray | Sequence[int], lengths: np.ndarray | Sequence[int]) -> None:
        """Append several documents at once: ``tokens`` concatenated, ``lengths`` tokens each
        (the same bytes as ``add_document`` per document, in one write)."""
        if self._state != "open":
            raise RuntimeError(f"{self.bin_path}: add_documents after the writer was {self._state}")
        arr = self._as_tokens(tokens)
        lens = np.asarray(lengths)
        if lens.ndim != 1 or (lens.size and lens.dtype.kind not in "iu"):
            raise ValueError(f"{self.bin_path}: lengths must be a 1-D sequence of integers, got {lens!r}")
        if lens.size and (int(lens.min()) < 0 or int(lens.max()) > _INT32_MAX):
            raise ValueError(f"{self.bin_path}: document lengths must be in [0, {_INT32_MAX}]")
        if int(lens.sum()) != arr.size:
            raise ValueError(f"{self.bin_path}: lengths sum to {int(lens.sum())}, but {arr.size} tokens were given")
        self._append(arr, lens.tolist())

    def _append(self, arr: np.ndarray, lengths: list[int]) -> None:
        """Write checked tokens (``arr``, already in the shard dtype) and record their documents' lengths."""
        if arr.size:
            view = memoryview(arr).cast("B")
            self._bin_hash.update(view)
            assert self._file is not None
            self._file.write(view)
        self._lengths.extend(lengths)
        self._tokens += int(arr.size)

    # -- finishing -------------------------------------------------------------------------
    def _index_bytes(self) -> bytes:
        lengths = np.asarray(self._lengths, dtype="<i8")
        count = int(lengths.size)
        pointers = np.zeros(count, dtype="<i8")
        if count > 1:
            np.cumsum(lengths[:-1] * self.itemsize, out=pointers[1:])
        doc_idx = np.arange(count + 1, dtype="<i8")
        header = _HEADER.pack(MAGIC, VERSION, self.dtype_code, count, count + 1)
        return b"".join((
            header,
            lengths.astype("<i4").tobytes(order="C"),
            pointers.tobytes(order="C"),
            doc_idx.tobytes(order="C"),
        ))

    def _close_file(self, f: IO[bytes], sync: bool) -> None:
        f.flush()
        if sync:
            os.fsync(f.fileno())
        f.close()

    def close(self) -> None:
        """Finish the shard: write the ``.idx``, then rename both files into place."""
        if self._state == "closed":
            return
        if self._state != "open":
            raise RuntimeError(f"{self.bin_path}: close after the writer was {self._state}")
        try:
            if self._tokens == 0 and not self.allow_empty:
                raise EmptyShardError(
                    f"{self.bin_path}: shard has no tokens ({self.documents} documents); an empty .bin "
                    "cannot be memory-mapped by Megatron-LM/GPT-NeoX. Skip the shard, or pass allow_empty=True."
                )
            assert self._file is not None
            f, self._file = self._file, None
            self._close_file(f, self._local)
            index = self._index_bytes()
            with self._open(self._idx_tmp) as g:
                g.write(index)
                if self._local:
                    g.flush()
                    os.fsync(g.fileno())
            if self._local:
                _local_remove(self.idx_path)
            elif self._remove is not None:
                self._remove(self.idx_path)
            self._rename(self._bin_tmp, self.bin_path)
            self._rename(self._idx_tmp, self.idx_path)
        except BaseException:
            self.abort()
            raise
        self._state = "closed"
        self._result = {
            "documents": self.documents,
            "tokens": self._tokens,
            "bin_sha256": self._bin_hash.hexdigest(),
            "idx_sha256": hashlib.sha256(index).hexdigest(),
            "bin_bytes": self._tokens * self.itemsize,
            "idx_bytes": len(index),
        }

    def abort(self) -> None:
        """Drop the shard: close and remove the temporaries; the final names are not touched."""
        if self._state == "closed":
            return
        self._state = "aborted"
        if self._file is not None:
            f, self._file = self._file, None
            try:
                f.close()
            except Exception:
                pass
        if self._remove is not None:
            for path in (self._bin_tmp, self._idx_tmp):
                try:
                    self._remove(path)
                except Exception:
                    pass

    # -- results ---------------------------------------------------------------------------
    def _done(self, key: str) -> Any:
        if self._result is None:
            raise RuntimeError(f"{self.bin_path}: {key} is known only after a successful close()")
        return self._result[key]

    @property
    def bin_sha256(self) -> str:
        return self._done("bin_sha256")

    @property
    def idx_sha256(self) -> str:
        return self._done("idx_sha256")

    @property
    def bin_bytes(self) -> int:
        return self._done("bin_bytes")

    @property
    def idx_bytes(self) -> int:
        return self._done("idx_bytes")

    def summary(self) -> dict[str, Any]:
        """After close: ``documents, tokens, bin_sha256, idx_sha256, bin_bytes, idx_bytes``
        (the manifest's shard fields except ``path``, ``source``, ``split``)."""
        self._done("documents")
        assert self._result is not None
        return dict(self._result)


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
            magic, version, code, seq_count, doc_count = _HEADER.unpack(f.read(HEADER_BYTES))
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

    def iter_chunks(self, chunk_tokens: int = _DEFAULT_CHUNK_TOKENS) -> Iterator[tuple[int, np.ndarray]]:
        """``(first token position, view)`` over the whole ``.bin``, ``chunk_tokens`` at a time."""
        if chunk_tokens < 1:
            raise ValueError("chunk_tokens must be >= 1")
        for start in range(0, self.total_tokens, chunk_tokens):
            yield start, self._tokens[start:start + chunk_tokens]

    def token_id_range(self, chunk_tokens: int = _DEFAULT_CHUNK_TOKENS) -> tuple[int, int] | None:
        """``(min, max)`` token id, scanning in chunks; ``None`` for a shard with no tokens."""
        lo = hi = None
        for _, chunk in self.iter_chunks(chunk_tokens):
            cmin, cmax = chunk.min(), chunk.max()
            lo = cmin if lo is None else min(lo, cmin)
            hi = cmax if hi is None else max(hi, cmax)
        return None if lo is None else (int(lo), int(hi))

    def max_token_id(self, chunk_tokens: int = _DEFAULT_CHUNK_TOKENS) -> int | None:
        """The largest token id (chunked scan, nothing loaded whole); ``None`` if no tokens."""
        rng = self.token_id_range(chunk_tokens)
        return None if rng is None else rng[1]

    def document_of_token(self, position: int) -> int:
        """The sequence that holds the token at ``position`` in the ``.bin``."""
        starts = self.pointers // self.itemsize
        return int(np.searchsorted(starts, position, side="right")) - 1


def _short(h: Any) -> str:
    return f"{h[:12]}..." if isinstance(h, str) and len(h) > 12 else repr(h)


def verify_shard(
    prefix: str,
    expected: Mapping[str, Any] | None = None,
    vocab_size: int | None = None,
    *,
    eod_id: int | None = None,
    dtype: str | None = None,
    name: str | None = None,
    chunk_tokens: int = _DEFAULT_CHUNK_TOKENS,
) -> list[str]:
    """Check one shard; return its problems (an empty list when it is fine).

    Always: both files exist and pass :class:`ShardReader`'s structural checks. With
    ``expected`` (a manifest shard entry): sha256 and size of both files, and the document
    and token counts. With ``vocab_size``: every token id in ``[0, vocab_size)``. With
    ``eod_id``: every document ends with it, and it occurs nowhere else. With ``dtype`` (a numpy name): the ``.idx``
    declares that dtype. Every problem starts with ``name`` (default: ``prefix``).
    """
    label = name or prefix
    problems: list[str] = []
    bin_path, idx_path = prefix + ".bin", prefix + ".idx"
    exists = {ext: os.path.isfile(p) for ext, p in ((".bin", bin_path), (".idx", idx_path))}
    for ext, ok in exists.items():
        if not ok:
            problems.append(f"{label}: {ext} file missing ({prefix}{ext})")
    if not all(exists.values()):
        return problems

    exp = dict(expected or {})
    for ext, path in ((".bin", bin_path), (".idx", idx_path)):
        key = ext[1:]
        size = os.path.getsize(path)
        if f"{key}_bytes" in exp and exp[f"{key}_bytes"] != size:
            problems.append(f"{label}: {ext} size mismatch (manifest {exp[f'{key}_bytes']} bytes, file {size} bytes)")
        if f"{key}_sha256" in exp:
            actual = _sha256_file(path)
            if actual != exp[f"{key}_sha256"]:
                problems.append(
                    f"{label}: {ext} sha256 mismatch (manifest {_short(exp[f'{key}_sha256'])}, file {_short(actual)})"
                )

    try:
        reader = ShardReader(prefix)
    except (ShardFormatError, OSError, ValueError) as exc:
        problems.append(f"{label}: {exc}")
        return problems
    with reader:
        if dtype is not None and reader.dtype.name != np.dtype(dtype).name:
            problems.append(f"{label}: .idx declares dtype {reader.dtype.name}, manifest says {dtype}")
        if "documents" in exp and exp["documents"] != reader.document_count:
            problems.append(f"{label}: documents mismatch (manifest {exp['documents']}, file {reader.document_count})")
        if "tokens" in exp and exp["tokens"] != reader.total_tokens:
            problems.append(f"{label}: tokens mismatch (manifest {exp['tokens']}, file {reader.total_tokens})")
        if vocab_size is not None and reader.total_tokens:
            problems.extend(_check_vocab(reader, vocab_size, label, chunk_tokens))
        if eod_id is not None and reader.sequence_count:
            lengths = reader.lengths.astype(np.int64)
            empty = np.flatnonzero(lengths == 0)
            nonempty = np.flatnonzero(lengths > 0)
            last = reader.pointers[nonempty] // reader.itemsize + lengths[nonempty] - 1
            wrong = nonempty[reader._tokens[last] != eod_id] if last.size else nonempty[:0]
            if empty.size:
                problems.append(f"{label}: {empty.size} empty document(s) (first: document {int(empty[0])})")
            if wrong.size:
                problems.append(
                    f"{label}: {wrong.size} document(s) do not end with the end-of-document id {eod_id} "
                    f"(first: document {int(wrong[0])})"
                )
            problems.extend(_check_eod_inside(reader, eod_id, label, chunk_tokens))
    return problems


def _check_eod_inside(reader: ShardReader, eod_id: int, label: str, chunk_tokens: int) -> list[str]:
    """End-of-document ids anywhere but at the last position of a document (chunked scan):
    a document cut in two for whoever reads the shard (the sign of text tokenized with its
    special tokens matched)."""
    lengths = reader.lengths.astype(np.int64)
    starts = reader.pointers // reader.itemsize
    ends = (starts + lengths - 1)[lengths > 0]  # increasing: documents are laid out in order
    count, docs, first = 0, set(), None
    for start, chunk in reader.iter_chunks(chunk_tokens):
        pos = np.flatnonzero(chunk == eod_id) + start
        if not pos.size:
            continue
        at = np.minimum(np.searchsorted(ends, pos), ends.size - 1)
        inside = pos[ends[at] != pos]
        if inside.size:
            count += int(inside.size)
            docs.update((np.searchsorted(starts, inside, side="right") - 1).tolist())
            first = int(inside[0]) if first is None else first
    if not count:
        return []
    doc = reader.document_of_token(first)
    return [f"{label}: {count} end-of-document id(s) {eod_id} inside {len(docs)} document(s), not at their end "
            f"(first: document {doc}, token {first - int(starts[doc])} of {int(lengths[doc])}; tokenized with "
            "special-token spellings in the text matched?)"]


def _check_vocab(reader: ShardReader, vocab_size: int, label: str, chunk_tokens: int) -> list[str]:
    problems = []
    hi_seen = None
    first_bad = None
    neg_seen = False
    for start, chunk in reader.iter_chunks(chunk_tokens):
        cmax = int(chunk.max())
        cmin = int(chunk.min())
        hi_seen = cmax if hi_seen is None else max(hi_seen, cmax)
        if (cmax >= vocab_size or cmin < 0) and first_bad is None:
            first_bad = start + int(np.argmax((chunk >= vocab_size) | (chunk < 0)))
        neg_seen = neg_seen or cmin < 0
    if first_bad is not None:
        doc = reader.document_of_token(first_bad)
        what = []
        if hi_seen is not None and hi_seen >= vocab_size:
            what.append(f"max token id {hi_seen} >= vocab size {vocab_size}")
        if neg_seen:
            what.append("negative token ids")
        problems.append(f"{label}: {' and '.join(what)} (first at token {first_bad}, document {doc})")
    return problems


def _discover_prefixes(directory: str) -> tuple[set[str], list[str]]:
    """Shard prefixes (relative, '/'-separated) with a .bin or .idx on disk, and leftover temporaries."""
    prefixes: set[str] = set()
    temporaries: list[str] = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for fname in sorted(files):
            rel = os.path.relpath(os.path.join(root, fname), directory).replace(os.sep, "/")
            if ".bin.tmp-" in fname or ".idx.tmp-" in fname:
                temporaries.append(rel)
            elif fname.endswith((".bin", ".idx")):
                prefixes.add(rel[:-4])
    return prefixes, temporaries


def verify_shards(directory: str, *, chunk_tokens: int = _DEFAULT_CHUNK_TOKENS) -> tuple[bool, dict[str, Any]]:
    """Verify every shard of a token-shard directory against its ``manifest.json``.

    Checks each listed shard with :func:`verify_shard` (checksums, sizes, counts, structure,
    token ids below the manifest's ``vocab_size``, documents ending with ``eod_id`` and holding
    it nowhere else, dtype), the manifest's totals against its shard list, and flags
    ``.bin``/``.idx`` files on disk that the manifest does not list. Leftover temporaries (``*.bin.tmp-*``) and a tokenizer
    file whose sha256 changed are warnings, not failures.

    Returns ``(ok, report)``; ``report`` has ``directory``, ``manifest``, ``ok``, ``shards``
    (per listed shard: ``path, source, split, documents, tokens, status ("ok" | "FAIL"),
    problems``), ``unlisted`` (prefixes), ``problems`` (every problem, one line each, naming
    the shard), ``warnings``, and ``totals`` (``manifest``: from the manifest's shard list;
    ``verified``: the same counters over the shards that passed).
    """
    manifest_path = os.path.join(directory, "manifest.json")
    report: dict[str, Any] = {
        "directory": directory, "manifest": manifest_path, "ok": False, "shards": [], "unlisted": [],
        "problems": [], "warnings": [], "totals": {"manifest": shard_totals([]), "verified": shard_totals([])},
    }
    problems: list[str] = report["problems"]
    if not os.path.isdir(directory):
        problems.append(f"{directory}: no such directory")
        return False, report
    try:
        with open(manifest_path, encoding="utf-8") as f:
            manifest = json.load(f)
    except FileNotFoundError:
        problems.append(f"{manifest_path}: missing (a token-shard directory has a manifest.json beside the shards)")
        return False, report
    except (OSError, ValueError) as exc:
        problems.append(f"{manifest_path}: unreadable JSON ({exc})")
        return False, report
    if not isinstance(manifest, dict) or not isinstance(manifest.get("shards"), list):
        problems.append(f"{manifest_path}: not a token-shard manifest (no 'shards' list)")
        return False, report
    for key in ("vocab_size", "eod_id", "dtype"):
        if key not in manifest:
            problems.append(f"{manifest_path}: missing '{key}'")
    vocab_size = manifest.get("vocab_size")
    eod_id = manifest.get("eod_id")
    dtype = manifest.get("dtype")
    if dtype is not None:
        try:
            dtype_code(dtype)
        except (TypeError, ValueError):
            problems.append(f"{manifest_path}: unknown dtype {dtype!r}")
            dtype = None

    entries: list[dict[str, Any]] = []
    listed: set[str] = set()
    for i, shard in enumerate(manifest["shards"]):
        try:
            if not isinstance(shard, dict):
                raise ValueError(f"manifest shard #{i}: not an object")
            check_shard_entry(shard, where=f"manifest shard #{i} ({shard.get('path', '?')})")
        except ValueError as exc:
            problems.append(f"{manifest_path}: {exc}")
            continue
        if shard["path"] in listed:
            problems.append(f"{shard['path']}: listed twice in the manifest")
            continue
        listed.add(shard["path"])
        entries.append(shard)
    report["totals"]["manifest"] = shard_totals(entries)
    if "totals" in manifest:
        mt = manifest["totals"]
        ours = report["totals"]["manifest"]
        for key in ("shards", "documents", "tokens"):
            if isinstance(mt, dict) and key in mt and mt[key] != ours[key]:
                problems.append(f"{manifest_path}: totals.{key} is {mt[key]}, but the shard list sums to {ours[key]}")

    passed: list[dict[str, Any]] = []
    for shard in entries:
        prefix = os.path.join(directory, *shard["path"].split("/"))
        shard_problems = verify_shard(
            prefix, expected=shard, vocab_size=vocab_size, eod_id=eod_id, dtype=dtype,
            name=shard["path"], chunk_tokens=chunk_tokens,
        )
        status = "ok" if not shard_problems else "FAIL"
        report["shards"].append({
            "path": shard["path"], "source": shard["source"], "split": shard["split"],
            "documents": shard["documents"], "tokens": shard["tokens"],
            "status": status, "problems": shard_problems,
        })
        problems.extend(shard_problems)
        if not shard_problems:
            passed.append({k: shard[k] for k in SHARD_KEYS})
    report["totals"]["verified"] = shard_totals(passed)

    on_disk, temporaries = _discover_prefixes(directory)
    for prefix in sorted(on_disk - listed):
        report["unlisted"].append(prefix)
        problems.append(f"{prefix}: present on disk but not listed in manifest.json")
    for tmp in temporaries:
        report["warnings"].append(f"{tmp}: leftover temporary file from an interrupted write (safe to delete)")

    tok = manifest.get("tokenizer")
    if isinstance(tok, dict) and isinstance(tok.get("path"), str) and isinstance(tok.get("sha256"), str):
        if os.path.isfile(tok["path"]):
            actual = _sha256_file(tok["path"])
            if actual != tok["sha256"]:
                report["warnings"].append(
                    f"{tok['path']}: tokenizer changed since the shards were written "
                    f"(manifest {_short(tok['sha256'])}, file {_short(actual)})"
                )
        else:
            report["warnings"].append(f"{tok['path']}: tokenizer file not found here; its sha256 was not checked")

    ok = not problems
    report["ok"] = ok
    return ok, report

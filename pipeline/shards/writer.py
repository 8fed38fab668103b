"""Write one Megatron ``MMIDIDX`` shard (``.bin`` + ``.idx``): streamed, hashed while written,
renamed into place only when complete (layout: :mod:`pipeline.shards.layout`)."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Sequence
from typing import IO, Any

import numpy as np

from pipeline import fileio
from pipeline.shards.layout import (
    DTYPE_CODES,
    HEADER_STRUCT,
    INT32_MAX,
    INTEGER_CODES,
    MAGIC,
    VERSION,
    dtype_code,
)


class EmptyShardError(ValueError):
    """Closing a :class:`ShardWriter` with no tokens (an empty ``.bin`` cannot be mmapped)."""


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

    Files go through :mod:`pipeline.fileio`: local paths as plain files (the parent folder
    created, data fsynced before the rename), ``gs://`` / ``s3://`` through fsspec, where a
    rename is a copy and a delete (the pair is still only complete once the ``.idx`` lands,
    but it is not a single atomic step). A caller may inject its own
    ``open_fn``/``rename_fn``/``remove_fn`` instead (the Beam shell passes Beam's filesystems,
    ``pipeline.beam_io.writer_ops``). ``remove_fn`` must not fail for a missing file; without
    it, a custom ``open_fn`` leaves temporaries behind on error (the final names are still
    never written).
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
        if open_fn is None:
            open_fn, rename_fn, remove_fn = fileio.open_write, fileio.rename, fileio.delete
            self._local = not fileio.is_remote(prefix)
        else:
            self._local = False
        self._open = open_fn
        self._rename = rename_fn
        self._remove = remove_fn
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
        if arr.size > INT32_MAX:
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
        if lens.size and (int(lens.min()) < 0 or int(lens.max()) > INT32_MAX):
            raise ValueError(f"{self.bin_path}: document lengths must be in [0, {INT32_MAX}]")
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
        header = HEADER_STRUCT.pack(MAGIC, VERSION, self.dtype_code, count, count + 1)
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
            if self._remove is not None:
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

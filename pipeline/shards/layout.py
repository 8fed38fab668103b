"""The Megatron-LM indexed-dataset layout (``MMIDIDX`` version 1): constants, dtype codes, errors.

Layout (docs/architecture.md "Token shards"; identical to what Megatron-LM's
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

Pure Python + numpy. The writer is :mod:`pipeline.shards.writer`, the reader
:mod:`pipeline.shards.reader`, the checks :mod:`pipeline.shards.verify`.
"""

from __future__ import annotations

import struct
import sys
from typing import Any

import numpy as np

MAGIC = b"MMIDIDX\x00\x00"
VERSION = 1
HEADER_BYTES = len(MAGIC) + 8 + 1 + 8 + 8  # = 34
HEADER_STRUCT = struct.Struct("<9sQBQQ")
assert HEADER_STRUCT.size == HEADER_BYTES

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
INT32_MAX = 2**31 - 1
DEFAULT_CHUNK_TOKENS = 1 << 24  # 16M tokens per chunk when scanning a .bin


class ShardFormatError(ValueError):
    """A ``.bin``/``.idx`` pair that does not follow the layout; the message names the file."""


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
    if vocab_size > INT32_MAX + 1:
        raise ValueError(f"vocab_size {vocab_size} does not fit int32 token ids")
    return np.dtype("<u2") if vocab_size < UINT16_VOCAB_LIMIT else np.dtype("<i4")

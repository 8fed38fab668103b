"""Megatron-LM indexed-dataset shards, one import for all of it: the layout
(:mod:`pipeline.shards.layout`), :class:`ShardWriter` (:mod:`pipeline.shards.writer`),
:class:`ShardReader` (:mod:`pipeline.shards.reader`) and ``verify_shard``/``verify_shards``
(:mod:`pipeline.shards.verify`). Kept because the trainer, the tokenize job and the tests import from here."""

from pipeline.shards.layout import (
    DTYPE_CODES,
    HEADER_BYTES,
    INTEGER_CODES,
    MAGIC,
    UINT16_VOCAB_LIMIT,
    VERSION,
    ShardFormatError,
    dtype_code,
    dtype_for_vocab,
)
from pipeline.shards.reader import ShardReader
from pipeline.shards.verify import verify_shard, verify_shards
from pipeline.shards.writer import EmptyShardError, ShardWriter

__all__ = [
    "DTYPE_CODES", "HEADER_BYTES", "INTEGER_CODES", "MAGIC", "UINT16_VOCAB_LIMIT", "VERSION",
    "EmptyShardError", "ShardFormatError", "ShardReader", "ShardWriter",
    "dtype_code", "dtype_for_vocab", "verify_shard", "verify_shards",
]

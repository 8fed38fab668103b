"""Pack the documents of one source into ``seq_len + 1``-token windows, in a per-epoch order.

Like Megatron-LM's ``GPTDataset`` (``doc_idx`` / ``sample_idx`` / ``shuffle_idx``), but built
lazily per epoch and kept as a few numpy integer arrays, so memory is O(documents + windows)
and no token is read until a window is asked for: the ``.bin`` files stay memory-mapped.

Epoch ``e`` of a source:

1. documents (every shard of the source, in manifest order) are permuted with
   ``default_rng([seed, source_key, e, 0])`` (``shuffle=False``: manifest order, for validation);
2. the permuted documents, each ending with the end-of-document token, form one token stream;
   window ``k`` is stream tokens ``[k * seq_len, k * seq_len + seq_len + 1)`` (consecutive
   windows share one token, so every token is a target exactly once; documents span windows);
   there are ``(tokens - 1) // seq_len`` windows, the tail that does not fill one is left out;
3. the windows are visited in the order ``default_rng([seed, source_key, e, 1]).permutation``.

So the ``j``-th sample drawn from a source is window ``order_e[j % n]`` of epoch ``e = j // n``:
within an epoch no window is drawn twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from pipeline.shards.megatron import ShardReader


def source_key(name: str) -> int:
    """A stable 63-bit integer for a source name (seeds its permutations; not Python's hash)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little") >> 1


@dataclass
class _Epoch:
    doc_order: np.ndarray  # int64[D]: document ids in stream order
    doc_end: np.ndarray  # int64[D]: cumulative stream position after each document of doc_order
    window_order: np.ndarray  # int64[W]: window k visited at position j is window_order[j]


class PackedSource:
    """The windows of one source (one split) over its memory-mapped shards."""

    def __init__(self, name: str, readers: list[ShardReader], seq_len: int, seed: int, shuffle: bool = True) -> None:
        if seq_len < 1:
            raise ValueError(f"seq_len must be >= 1, got {seq_len}")
        self.name = name
        self.seq_len = seq_len
        self.seed = seed
        self.shuffle = shuffle
        self.key = source_key(name)
        self._tokens = [np.asarray(r._tokens) for r in readers]  # plain views of the memory maps
        lengths = [np.asarray(r.lengths, dtype=np.int64) for r in readers]
        starts = [np.asarray(r.pointers, dtype=np.int64) // r.itemsize for r in readers]
        self.doc_len = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
        self.doc_start = np.concatenate(starts) if starts else np.zeros(0, np.int64)
        self.doc_shard = (np.concatenate([np.full(len(x), i, dtype=np.int32) for i, x in enumerate(lengths)])
                          if lengths else np.zeros(0, np.int32))
        self.documents = int(self.doc_len.size)
        self.tokens = int(self.doc_len.sum())
        self.windows = max(0, (self.tokens - 1) // seq_len)
        self._epochs: dict[int, _Epoch] = {}

    def _epoch(self, epoch: int) -> _Epoch:
        cached = self._epochs.get(epoch)
        if cached is not None:
            return cached
        if self.shuffle:
            doc_order = np.random.default_rng([self.seed, self.key, epoch, 0]).permutation(self.documents)
            window_order = np.random.default_rng([self.seed, self.key, epoch, 1]).permutation(self.windows)
        else:
            doc_order = np.arange(self.documents, dtype=np.int64)
            window_order = np.arange(self.windows, dtype=np.int64)
        built = _Epoch(doc_order, np.cumsum(self.doc_len[doc_order]), window_order)
        if len(self._epochs) >= 2:  # the current and the next epoch are enough
            self._epochs.pop(min(self._epochs))
        self._epochs[epoch] = built
        return built

    def window_id(self, j: int) -> tuple[int, int]:
        """``(epoch, window)`` of the ``j``-th sample drawn from this source."""
        if self.windows == 0:
            raise ValueError(f"source {self.name!r}: {self.tokens} tokens, not enough for one window of "
                             f"{self.seq_len + 1}")
        epoch, pos = divmod(j, self.windows)
        return epoch, int(self._epoch(epoch).window_order[pos])

    def read_window(self, epoch: int, window: int, out: np.ndarray) -> None:
        """Copy the ``seq_len + 1`` tokens of ``window`` (of ``epoch``'s stream) into ``out``."""
        ep = self._epoch(epoch)
        need = self.seq_len + 1
        pos = window * self.seq_len
        d = int(np.searchsorted(ep.doc_end, pos, side="right"))
        filled = 0
        while filled < need:
            doc = int(ep.doc_order[d])
            doc_begin = int(ep.doc_end[d]) - int(self.doc_len[doc])
            a = pos + filled - doc_begin
            take = min(int(self.doc_len[doc]) - a, need - filled)
            s = int(self.doc_start[doc]) + a
            out[filled:filled + take] = self._tokens[self.doc_shard[doc]][s:s + take]
            filled += take
            d += 1

    def sample(self, j: int, out: np.ndarray) -> int:
        """Fill ``out`` with the ``j``-th sample of this source; return its epoch."""
        epoch, window = self.window_id(j)
        self.read_window(epoch, window, out)
        return epoch

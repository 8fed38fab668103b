"""Deterministic validation batches (:func:`val_batches`): every validation window once, in a fixed
order, the same number of batches on every rank."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from trainer.corpora import Corpora
from trainer.data_config import DataConfig
from trainer.examples import Examples


class ValBatches:
    """Deterministic validation batches (re-iterable, with a length): every rank gets the same count.

    Every validation window of the mixed sources exactly once, unshuffled (document order),
    sources interleaved evenly in proportion to their window counts (window ``j`` of a source
    with ``n`` windows sits at ``(j + 0.5) / n``); rank ``r`` takes its slice of each global
    batch. The windows that do not fill a last global batch are left out.
    """

    def __init__(self, corpora: Corpora, cfg: DataConfig, rank: int, world_size: int, max_batches: int | None) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside world_size {world_size}")
        self.corpora, self.cfg, self.rank, self.world_size = corpora, cfg, rank, world_size
        corpora.check_config(cfg)
        names = [n for n in corpora.mix_weights(cfg.mix, "train") if corpora.sources[n].val_tokens > 0]
        streams = [corpora.packed(n, "val", cfg.seq_len, cfg.seed, shuffle=False) for n in names]
        self.streams = [s for s in streams if s.windows > 0]
        total = sum(s.windows for s in self.streams)
        self.micro_batch_size = min(cfg.micro_batch_size, total // world_size)
        batches = total // (self.micro_batch_size * world_size) if self.micro_batch_size else 0
        self.batches = batches if max_batches is None else max(0, min(batches, max_batches))
        self.examples = Examples(corpora, cfg)

    def __len__(self) -> int:
        return self.batches

    def _order(self) -> tuple[np.ndarray, np.ndarray]:
        """(source index, window index) of every validation window, in the global order."""
        src = np.concatenate([np.full(s.windows, i, dtype=np.int64) for i, s in enumerate(self.streams)])
        idx = np.concatenate([np.arange(s.windows, dtype=np.int64) for s in self.streams])
        times = np.concatenate([(np.arange(s.windows) + 0.5) / s.windows for s in self.streams])
        order = np.lexsort((src, times))
        return src[order], idx[order]

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        if not self.batches:
            return
        src, idx = self._order()
        B, T = self.micro_batch_size, self.cfg.seq_len
        G = B * self.world_size
        window = np.empty(T + 1, dtype=np.int64)
        for step in range(self.batches):
            inputs = np.empty((B, T), dtype=np.int64)
            labels = np.empty((B, T), dtype=np.int64)
            for b in range(B):
                g = step * G + self.rank * B + b
                s, j = int(src[g]), int(idx[g])
                epoch = self.streams[s].sample(j, window)
                inputs[b], labels[b] = self.examples(window, g, epoch)
            yield {"input_ids": torch.from_numpy(inputs), "labels": torch.from_numpy(labels)}


def val_batches(corpora: Corpora, cfg: DataConfig, rank: int = 0, world_size: int = 1,
                max_batches: int | None = None) -> ValBatches:
    """Validation batches of this rank (same dict shape as :class:`TrainLoader`); empty without val data."""
    return ValBatches(corpora, cfg, rank, world_size, max_batches)

"""This rank's training micro-batches (:class:`TrainLoader`) in one global order over all ranks.

Sample ``i`` (counting over all ranks) comes from the source the mixing schedule
(:mod:`trainer.mixing`) gives it, as that source's next window (:mod:`trainer.packing`). Global step
``s`` covers samples ``[s*B*W, (s+1)*B*W)`` and rank ``r`` takes ``[s*B*W + r*B, s*B*W + (r+1)*B)``,
so ranks read disjoint samples and the order does not depend on the number of ranks. The position is
the global sample count plus per-source counts (:mod:`trainer.loader_state`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from trainer import loader_state
from trainer.corpora import SPLITS, Corpora
from trainer.data_config import DataConfig, DataError
from trainer.examples import Examples
from trainer.mixing import MixSchedule


class TrainLoader:
    """Endless (or, with ``on_exhaust="stop"``, finite) iterator of this rank's micro-batches."""

    def __init__(self, corpora: Corpora, cfg: DataConfig, rank: int = 0, world_size: int = 1,
                 split: str = "train") -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside world_size {world_size}")
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        self.corpora = corpora
        self.cfg = cfg
        self.rank = rank
        self.world_size = world_size
        self.split = split
        self.micro_batch_size = cfg.micro_batch_size
        self.global_batch = cfg.micro_batch_size * world_size
        corpora.check_config(cfg)
        weights = corpora.mix_weights(cfg.mix, split)
        if not weights:
            raise DataError(f"no source of the mix has {split} tokens")
        self.names = list(weights)
        self.weights = [weights[n] for n in self.names]
        self.streams = [corpora.packed(n, split, cfg.seq_len, cfg.seed) for n in self.names]
        for s in self.streams:
            if s.windows == 0:
                raise DataError(f"source {s.name!r} has {s.tokens} {split} tokens, fewer than one window of "
                                f"{cfg.seq_len + 1}")
        self.schedule = MixSchedule(self.names, self.weights, cfg.seed)
        self.examples = Examples(corpora, cfg)
        self.consumed_samples = 0
        self._counts = [0] * len(self.names)
        self._window = np.empty(cfg.seq_len + 1, dtype=np.int64)
        self._stopped = False

    # -- position ------------------------------------------------------------------------------
    @property
    def source_counts(self) -> dict[str, int]:
        """Samples drawn globally (all ranks) from each source."""
        return dict(zip(self.names, self._counts, strict=True))

    @property
    def epochs(self) -> dict[str, int]:
        """Completed epochs of each source."""
        return {n: c // s.windows for n, c, s in zip(self.names, self._counts, self.streams, strict=True)}

    @property
    def windows(self) -> dict[str, int]:
        """Windows per epoch of each source."""
        return {n: s.windows for n, s in zip(self.names, self.streams, strict=True)}

    # -- iteration -----------------------------------------------------------------------------
    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        return self

    def next_samples(self) -> list[tuple[str, int, int, int]]:
        """The plan of this rank's next micro-batch without reading it: (source, index, epoch, global index)."""
        src, idx = self.schedule.next_block(self._counts, self.global_batch)
        lo = self.rank * self.micro_batch_size
        out = []
        for b in range(self.micro_batch_size):
            s, j = int(src[lo + b]), int(idx[lo + b])
            out.append((self.names[s], j, j // self.streams[s].windows, self.consumed_samples + lo + b))
        return out

    def __next__(self) -> dict[str, torch.Tensor]:
        if self._stopped:
            raise StopIteration
        src, idx = self.schedule.next_block(self._counts, self.global_batch)
        if self.cfg.on_exhaust == "stop":
            windows = np.asarray([s.windows for s in self.streams])
            if bool(np.any(idx >= windows[src])):
                self._stopped = True
                raise StopIteration
        B, T = self.micro_batch_size, self.cfg.seq_len
        inputs = np.empty((B, T), dtype=np.int64)
        labels = np.empty((B, T), dtype=np.int64)
        lo = self.rank * B
        for b in range(B):
            s, j = int(src[lo + b]), int(idx[lo + b])
            epoch = self.streams[s].sample(j, self._window)
            inputs[b], labels[b] = self.examples(self._window, self.consumed_samples + lo + b, epoch)
        for s, c in enumerate(np.bincount(src, minlength=len(self.names))):
            self._counts[s] += int(c)
        self.consumed_samples += self.global_batch
        return {"input_ids": torch.from_numpy(inputs), "labels": torch.from_numpy(labels)}

    # -- checkpoint ----------------------------------------------------------------------------
    def _fingerprint(self) -> dict[str, Any]:
        return loader_state.fingerprint(self.split, self.cfg.seq_len, self.cfg.seed, self.cfg.objective, self.names,
                                        self.weights, [s.windows for s in self.streams],
                                        self.corpora.tokenizer_sha256)

    def state_dict(self) -> dict[str, Any]:
        """The loader position as plain Python values (safe for ``torch.load(weights_only=True)``)."""
        return loader_state.make_state(self._fingerprint(), self.consumed_samples, self._counts, self.global_batch,
                                       self.micro_batch_size, self.world_size, self._stopped)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state``; ValueError when it belongs to a different data setup."""
        self._counts, self.consumed_samples, self._stopped = loader_state.restore(state, self._fingerprint())

"""The trainer's data side in one import: open token-shard directories, mix their sources, stream batches.

The code lives in focused modules; this one names the interface (the trainer loop, the docs and the
tests import it from here):

- :class:`DataConfig` / :class:`DataError` (:mod:`trainer.data_config`): which shard directories, mixing
  weights, window length, batch, seed, objective (``clm`` | ``fim`` | ``mlm`` | ``prefix-lm``), remote cache.
- :func:`open_corpora` -> :class:`Corpora` (:mod:`trainer.open_shards`, :mod:`trainer.corpora`): every
  ``manifest.json`` read (remote URLs through the bounded local cache, :mod:`trainer.shard_cache`), every
  shard verified before any training (once per file version, :mod:`trainer.verified`), one tokenizer, real
  mix names, the objective's special tokens. Every ``.bin`` is memory-mapped, never read whole.
- :class:`TrainLoader` (:mod:`trainer.loader`): ``next(loader)`` -> ``{"input_ids": LongTensor[B, T],
  "labels": LongTensor[B, T]}`` for this rank; ``state_dict()`` / ``load_state_dict()`` with plain Python
  values (:mod:`trainer.loader_state`).
- :func:`val_batches` (:mod:`trainer.val_loader`): the validation split, in a fixed order.

Samples: :mod:`trainer.mixing` (which source), :mod:`trainer.packing` (which window),
:mod:`trainer.examples` (the objective applied to it).
"""

from __future__ import annotations

from trainer.corpora import Corpora
from trainer.data_config import DataConfig, DataError
from trainer.loader import TrainLoader
from trainer.open_shards import open_corpora
from trainer.val_loader import val_batches

__all__ = ["Corpora", "DataConfig", "DataError", "TrainLoader", "open_corpora", "val_batches"]

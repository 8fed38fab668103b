"""The trainer's data side: open token-shard directories, mix their sources, stream batches.

Change to the agreed interface (T1): ``TrainLoader.load_state_dict`` does NOT refuse a
different ``micro_batch_size * world_size``. The global order is indexed by global sample
(not by step), so any number of ranks and any micro-batch size continue exactly the same
sequence of samples from ``consumed_samples``; whether the optimizer-step batch (with gradient
accumulation) is unchanged is the training loop's check. It still raises ``ValueError`` when
the state belongs to other data (sources, mix weights, seq_len, seed, objective, split,
tokenizer, windows per epoch).

Interface (agreed with the trainer loop and doc2query; see the module functions):

- :class:`DataConfig` (defined in :mod:`trainer.data_config`, re-exported here): which shard
  directories, mixing weights, window length, batch, seed, objective (``clm`` | ``fim`` |
  ``mlm`` | ``prefix-lm``) and its parameters, remote cache.
- :func:`open_corpora` -> :class:`Corpora`: reads every ``manifest.json`` (remote URLs are
  downloaded into a bounded local cache first, :mod:`trainer.shard_cache`), verifies every
  shard (sizes, sha256, structure, token ids, end-of-document) before any training (once per
  file version: :mod:`trainer.verified` remembers directories that passed), checks
  that all directories share one tokenizer, that every mixing name is a real source and that
  the objective's special tokens exist. Every ``.bin`` is memory-mapped, never read whole.
- :class:`TrainLoader`: ``next(loader)`` -> ``{"input_ids": LongTensor[B, T], "labels":
  LongTensor[B, T]}``; ``state_dict()`` / ``load_state_dict()`` with plain Python values.
- :func:`val_batches`: the validation split, in a fixed order.

Global order. Sample ``i`` (counting over all ranks) comes from the source the mixing
schedule (:mod:`trainer.mixing`) gives it, as that source's next window (:mod:`trainer.packing`:
a per-epoch permutation of packed ``seq_len + 1``-token windows from ``(seed, source,
epoch)``). Global step ``s`` covers samples ``[s*B*W, (s+1)*B*W)`` and rank ``r`` takes
``[s*B*W + r*B, s*B*W + (r+1)*B)``, so ranks read disjoint samples and the order does not
depend on the number of ranks. FIM and MLM randomness is seeded from ``(seed, i, epoch)``.
The loader position is the global sample count plus per-source counts (a few integers).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from pipeline.shards.megatron import ShardFormatError, ShardReader, verify_shards
from tokenizer.load import TokenizerInfo
from tokenizer.special_tokens import FIM_TOKENS
from trainer import objectives, verified
from trainer.data_config import DataConfig, DataError
from trainer.mixing import MixSchedule
from trainer.packing import PackedSource
from trainer.shard_cache import default_cache_dir

SPLITS = ("train", "val")
MASK_TOKENS = ("<|mask|>", "[MASK]", "<mask>")
STATE_VERSION = 1


@dataclass
class SourceInfo:
    """One source (a ``source`` of the manifests, merged over directories) and its shards."""

    name: str
    train_documents: int = 0
    train_tokens: int = 0
    val_documents: int = 0
    val_tokens: int = 0
    shards: dict[str, list[str]] = field(default_factory=lambda: {"train": [], "val": []})  # split -> prefixes

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Corpora:
    """Opened, verified shard directories: sources, tokenizer facts, memory-mapped readers."""

    def __init__(self, cfg: DataConfig, directories: list[str], manifests: list[dict], sources: dict[str, SourceInfo],
                 tokenizer_dir: str | None, tokenizer_sha256: str, vocab_size: int, eod_id: int,
                 pad_id: int, special_ids: dict[str, int], mask_token: str | None) -> None:
        self.cfg = cfg
        self.directories = directories
        self.manifests = manifests
        self.sources = sources
        self.tokenizer_dir = tokenizer_dir
        self.tokenizer_sha256 = tokenizer_sha256
        self.vocab_size = vocab_size
        self.eod_id = eod_id
        self.pad_id = pad_id
        self.special_ids = special_ids
        self.mask_token = mask_token
        self._readers: dict[str, ShardReader] = {}
        self._packed: dict[tuple, PackedSource] = {}

    def reader(self, prefix: str) -> ShardReader:
        """The (shared, memory-mapped) reader of a shard prefix."""
        if prefix not in self._readers:
            self._readers[prefix] = ShardReader(prefix)
        return self._readers[prefix]

    def packed(self, name: str, split: str, seq_len: int, seed: int, shuffle: bool = True) -> PackedSource:
        """The packed windows of one source and split (built once, shared by loaders)."""
        key = (name, split, seq_len, seed, shuffle)
        if key not in self._packed:
            readers = [self.reader(p) for p in self.sources[name].shards[split]]
            self._packed[key] = PackedSource(name, readers, seq_len, seed, shuffle=shuffle)
        return self._packed[key]

    def mix_weights(self, mix: dict[str, float] | None = None, split: str = "train") -> dict[str, float]:
        """Normalised weights of the sources that are drawn from (weight > 0 and tokens in ``split``)."""
        mix = self.cfg.mix if mix is None else mix
        if mix is None:
            raw = {n: float(getattr(s, f"{split}_tokens")) for n, s in self.sources.items()}
        else:
            raw = {n: float(w) for n, w in mix.items()}
        raw = {n: w for n, w in raw.items() if w > 0 and getattr(self.sources[n], f"{split}_tokens") > 0}
        total = sum(raw.values())
        return {n: w / total for n, w in sorted(raw.items())} if total else {}

    def check_tokenizer(self, tokenizer_sha256: str | None = None, vocab_size: int | None = None) -> None:
        """Raise :class:`DataError` when a model's tokenizer / vocabulary differs from the shards'."""
        if tokenizer_sha256 is not None and tokenizer_sha256 != self.tokenizer_sha256:
            raise DataError(
                f"the shards were tokenized with tokenizer sha256 {self.tokenizer_sha256[:12]}..., the model with "
                f"{tokenizer_sha256[:12]}...; re-tokenize the corpus with the model's tokenizer or train a new model")
        if vocab_size is not None and vocab_size < self.vocab_size:
            raise DataError(f"model vocabulary {vocab_size} is smaller than the shards' tokenizer vocabulary "
                            f"{self.vocab_size}; set vocab_size >= {self.vocab_size}")

    def summary(self) -> str:
        """A short table of the sources (documents and tokens per split) and the mix."""
        weights = self.mix_weights()
        lines = [f"{'source':<16} {'train docs':>11} {'train tokens':>13} {'val docs':>9} {'val tokens':>11} "
                 f"{'weight':>7}"]
        for n, s in sorted(self.sources.items()):
            lines.append(f"{n:<16} {s.train_documents:>11,} {s.train_tokens:>13,} {s.val_documents:>9,} "
                         f"{s.val_tokens:>11,} {weights.get(n, 0.0):>7.3f}")
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# opening and checking
# ----------------------------------------------------------------------------------------------


def parse_data_path(value: str) -> tuple[str | None, str]:
    """``DIR`` or ``NAME=DIR`` (every shard of DIR then counts as source NAME, to mix by directory)."""
    if "=" in value and "://" not in value.split("=", 1)[0] and value.split("=", 1)[0].isidentifier():
        name, path = value.split("=", 1)
        return name, path
    return None, value


def _is_remote(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def _local_dir(path: str, cfg: DataConfig) -> str:
    if path.startswith("file://"):
        return path[len("file://"):]
    if _is_remote(path):
        from trainer.shard_cache import ShardCache, ShardCacheError  # fsspec only when needed

        try:
            return ShardCache(cfg.cache_dir, cfg.cache_max_bytes).fetch_shard_dir(path)
        except ShardCacheError as exc:
            raise DataError(str(exc)) from exc
    return path


def _read_manifest(directory: str, label: str) -> dict:
    path = os.path.join(directory, "manifest.json")
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise DataError(f"{label}: no manifest.json (give a directory written by `python beam_runner.py tokenize`)") \
            from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{label}/manifest.json: unreadable ({exc})") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("shards"), list):
        raise DataError(f"{label}/manifest.json: not a token-shard manifest (no 'shards' list)")
    for key in ("tokenizer", "eod_id", "vocab_size", "dtype"):
        if key not in manifest:
            raise DataError(f"{label}/manifest.json: missing '{key}'")
    return manifest


def _find_tokenizer_dir(recorded: str | None, directory: str) -> str | None:
    """The tokenizer directory recorded in a manifest, when it can be read from here."""
    if not recorded:
        return None
    candidates = [recorded]
    if not os.path.isabs(recorded) and "://" not in recorded:
        candidates.append(os.path.join(directory, recorded))
    for cand in candidates:
        tok_dir = os.path.dirname(cand) if cand.endswith("tokenizer.json") else cand
        if "://" in tok_dir or os.path.isfile(os.path.join(tok_dir, "tokenizer.json")):
            return tok_dir or "."
    return None


def open_corpora(cfg: DataConfig) -> Corpora:
    """Open and verify every shard directory of ``cfg``; raise :class:`DataError` on bad input."""
    cfg.validate()
    directories: list[str] = []
    manifests: list[dict] = []
    renames: list[str | None] = []
    for entry in cfg.paths:
        rename, path = parse_data_path(entry)
        renames.append(rename)
        local = _local_dir(path, cfg)
        if not os.path.isdir(local):
            raise DataError(f"data path {path}: no such directory")
        real = os.path.realpath(local)
        if real in (os.path.realpath(d) for d in directories):
            raise DataError(f"data path {path} is given twice; give each shard directory once")
        directories.append(local)
        manifests.append(_read_manifest(local, path))

    # one tokenizer for all
    shas = {path: (m.get("tokenizer") or {}).get("sha256") for path, m in zip(cfg.paths, manifests, strict=True)}
    if len(set(shas.values())) != 1:
        listing = "; ".join(f"{p}: {str(s)[:12]}..." for p, s in shas.items())
        raise DataError(f"the shard directories were tokenized with different tokenizers ({listing}); "
                        "re-tokenize them with one tokenizer")
    tokenizer_sha = next(iter(shas.values()))
    vocabs = {m["vocab_size"] for m in manifests}
    eods = {m["eod_id"] for m in manifests}
    if len(vocabs) != 1 or len(eods) != 1:
        raise DataError(f"the shard directories disagree on vocab_size {sorted(vocabs)} / eod_id {sorted(eods)}")

    # verify every shard before anything is trained
    stamps = cfg.cache_dir or default_cache_dir()
    for path, local in zip(cfg.paths, directories, strict=True):
        if cfg.verify_checksums and not verified.is_verified(stamps, local):
            ok, report = verify_shards(local)
            if not ok:
                problems = report["problems"]
                more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
                raise DataError(f"{path}: shard verification failed: " + "; ".join(problems[:5]) + more
                                + ". Re-run the tokenize job for these shards (or restore them).")
            verified.mark_verified(stamps, local)

    sources: dict[str, SourceInfo] = {}
    readers: dict[str, ShardReader] = {}
    for path, local, manifest, rename in zip(cfg.paths, directories, manifests, renames, strict=True):
        for shard in manifest["shards"]:
            prefix = os.path.join(local, *str(shard["path"]).split("/"))
            split = shard.get("split")
            if split not in SPLITS:
                raise DataError(f"{path}/manifest.json: shard {shard.get('path')} has split {split!r}")
            name = rename or shard["source"]
            info = sources.setdefault(name, SourceInfo(name))
            try:
                reader = ShardReader(prefix)
            except (ShardFormatError, OSError) as exc:
                raise DataError(f"{path}: shard {shard['path']}: {exc}") from exc
            if not cfg.verify_checksums and (reader.document_count, reader.total_tokens) != (
                    shard.get("documents"), shard.get("tokens")):
                raise DataError(f"{path}: shard {shard['path']}: {reader.document_count} documents / "
                                f"{reader.total_tokens} tokens on disk, manifest says {shard.get('documents')} / "
                                f"{shard.get('tokens')}")
            readers[prefix] = reader
            info.shards[split].append(prefix)
            setattr(info, f"{split}_documents", getattr(info, f"{split}_documents") + reader.document_count)
            setattr(info, f"{split}_tokens", getattr(info, f"{split}_tokens") + reader.total_tokens)
    if not sources:
        raise DataError(f"no shards listed in {', '.join(cfg.paths)}")

    if cfg.mix is not None:
        unknown = sorted(set(cfg.mix) - set(sources))
        if unknown:
            raise DataError(f"mix names source(s) {', '.join(map(repr, unknown))} that the shards do not have; "
                            f"the sources are: {', '.join(sorted(sources))}")

        empty = sorted(n for n, w in cfg.mix.items() if w > 0 and sources[n].train_tokens == 0)
        if empty:
            raise DataError(f"mix gives a weight to source(s) {', '.join(map(repr, empty))} without training shards "
                            "(only val); drop them from the mix")

    # tokenizer facts
    manifest = manifests[0]
    vocab_size, eod_id = int(manifest["vocab_size"]), int(manifest["eod_id"])
    special_ids: dict[str, int] = {}
    pad_id = eod_id
    mask_token = None
    info = None
    tokenizer_dir = None
    for directory, m in zip(directories, manifests, strict=True):
        tokenizer_dir = _find_tokenizer_dir((m.get("tokenizer") or {}).get("path"), directory)
        if tokenizer_dir is None:
            continue
        try:
            info = TokenizerInfo(tokenizer_dir)
            break
        except (ValueError, OSError):  # unreadable where it was recorded: try the next directory's record
            tokenizer_dir = None
    if info is not None:
        if info.sha256 != tokenizer_sha:
            raise DataError(f"{info.tokenizer_json}: this tokenizer (sha256 {info.sha256[:12]}...) is not the one the "
                            f"shards were written with ({str(tokenizer_sha)[:12]}...); the tokenizer changed after "
                            "tokenizing: re-tokenize, or restore the tokenizer")
        if info.vocab_size != vocab_size:
            raise DataError(f"{info.tokenizer_json}: vocab_size {info.vocab_size}, manifest says {vocab_size}")
        special_ids = dict(info.special_tokens)
        pad_id = info.pad_id if info.pad_id is not None else eod_id
        mask_token = (info.special_tokens_map.get("mask_token") if isinstance(
            info.special_tokens_map.get("mask_token"), str) else None)
        if mask_token not in special_ids:
            mask_token = next((t for t in MASK_TOKENS if t in special_ids), None)
    corpora = Corpora(cfg, directories, manifests, sources, tokenizer_dir, tokenizer_sha, vocab_size, eod_id,
                      pad_id, special_ids, mask_token)
    corpora._readers.update(readers)
    _check_objective(cfg, corpora)
    weights = corpora.mix_weights()
    if not weights:
        raise DataError("no source with training tokens has a positive mix weight")
    if cfg.objective == "prefix-lm":
        _check_separators(corpora, list(weights), cfg.prefix_sep_token)
    for name in weights:
        windows = corpora.packed(name, "train", cfg.seq_len, cfg.seed).windows
        if windows == 0:
            raise DataError(f"source {name!r} has {sources[name].train_tokens} training tokens, fewer than one "
                            f"window of seq_len + 1 = {cfg.seq_len + 1}; lower seq_len or drop it from the mix")
    return corpora


def _check_objective(cfg: DataConfig, corpora: Corpora) -> None:
    where = (f"tokenizer {corpora.tokenizer_dir}" if corpora.tokenizer_dir
             else "the tokenizer (not found where the manifest says it is)")
    if cfg.objective == "fim":
        missing = [t for t in FIM_TOKENS if t not in corpora.special_ids]
        if missing:
            raise DataError(f"objective fim needs the FIM special tokens {', '.join(missing)}, which {where} lacks; "
                            "train the tokenizer with --fim")
    elif cfg.objective == "mlm":
        if corpora.mask_token is None:
            raise DataError(f"objective mlm needs a mask token ({' or '.join(MASK_TOKENS)}), which {where} lacks; "
                            "train the tokenizer with --special-token '<|mask|>'")
    elif cfg.objective == "prefix-lm":
        if cfg.prefix_sep_token not in corpora.special_ids:
            raise DataError(f"objective prefix-lm needs the separator token {cfg.prefix_sep_token!r} as a special "
                            f"token, which {where} lacks; train the tokenizer with --special-token "
                            f"'{cfg.prefix_sep_token}' (or set prefix_sep_token)")


def _check_against(cfg: DataConfig, corpora: Corpora) -> None:
    """A loader's config (possibly another object than the one the corpora were opened with) fits them."""
    cfg.validate()
    if cfg.mix is not None:
        unknown = sorted(set(cfg.mix) - set(corpora.sources))
        if unknown:
            raise DataError(f"mix names source(s) {', '.join(map(repr, unknown))} that the shards do not have; "
                            f"the sources are: {', '.join(sorted(corpora.sources))}")
    _check_objective(cfg, corpora)


def _check_separators(corpora: Corpora, names: list[str], sep_token: str, max_tokens: int = 1 << 20) -> None:
    """prefix-lm: every mixed source must contain the separator (else its samples carry no loss).

    Looks at the start of each source's first training shard (up to ``max_tokens`` tokens).
    """
    sep_id = corpora.special_ids[sep_token]
    for name in names:
        prefixes = corpora.sources[name].shards["train"]
        if not prefixes:
            continue
        head = np.asarray(corpora.reader(prefixes[0])._tokens[:max_tokens])
        if head.size and not bool((head == sep_id).any()):
            raise DataError(f"objective prefix-lm: source {name!r} has no separator token {sep_token!r} in its first "
                            f"{head.size:,} tokens ({prefixes[0]}.bin), so its samples would carry no loss; "
                            "train on the doc2query corpus (passage <|sep|> query), or drop the source from the mix")


# ----------------------------------------------------------------------------------------------
# building samples
# ----------------------------------------------------------------------------------------------

_TRANSFORM_TAG = 0x5452414E  # separates the transform's random stream from the permutations'


class _Examples:
    """Turns one ``seq_len + 1`` window into ``(input_ids, labels)`` for the configured objective."""

    def __init__(self, corpora: Corpora, cfg: DataConfig) -> None:
        self.cfg = cfg
        self.objective = cfg.objective
        ids = corpora.special_ids
        self.eod_id = corpora.eod_id
        self._bitgen = np.random.PCG64(0)
        self._rng = np.random.Generator(self._bitgen)
        if self.objective == "fim":
            pre, mid, suf = (ids[t] for t in FIM_TOKENS)
            self.fim_args = dict(fim_rate=cfg.fim_rate, spm_rate=cfg.fim_spm_rate, eod_id=corpora.eod_id,
                                 prefix_id=pre, middle_id=mid, suffix_id=suf)
        elif self.objective == "mlm":
            self.special = np.asarray(sorted(set(ids.values()) | {corpora.eod_id, corpora.pad_id}), dtype=np.int64)
            self.random_ids = objectives.non_special_ids(corpora.vocab_size, self.special)
            self.is_special = objectives.special_lookup(corpora.vocab_size, self.special)
            self.mask_id = ids[corpora.mask_token]
        elif self.objective == "prefix-lm":
            self.sep_id = ids[cfg.prefix_sep_token]

    def _seeded(self, sample_index: int, epoch: int) -> np.random.Generator:
        """A generator whose stream is a function of (seed, sample index, epoch) only.

        The 128-bit PCG64 state and increment come from blake2b of the three numbers; setting
        the state of one reused generator costs ~2 us where ``default_rng([...])`` (SeedSequence)
        costs ~25 us per sample.
        """
        key = f"{self.cfg.seed}:{sample_index}:{epoch}:{_TRANSFORM_TAG}".encode()
        digest = hashlib.blake2b(key, digest_size=32).digest()
        self._bitgen.state = {"bit_generator": "PCG64", "has_uint32": 0, "uinteger": 0,
                              "state": {"state": int.from_bytes(digest[:16], "little"),
                                        "inc": int.from_bytes(digest[16:], "little") | 1}}
        return self._rng

    def __call__(self, window: np.ndarray, sample_index: int, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        if self.objective == "clm":
            return objectives.clm_example(window)
        if self.objective == "prefix-lm":
            return objectives.prefix_lm_example(window, sep_id=self.sep_id, eod_id=self.eod_id)
        rng = self._seeded(sample_index, epoch)
        if self.objective == "fim":
            return objectives.fim_example(window, rng, **self.fim_args)
        return objectives.mlm_example(window, rng, probability=self.cfg.mlm_probability, mask_id=self.mask_id,
                                      is_special=self.is_special, random_ids=self.random_ids)


# ----------------------------------------------------------------------------------------------
# the loader
# ----------------------------------------------------------------------------------------------


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
        _check_against(cfg, corpora)
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
        self.examples = _Examples(corpora, cfg)
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
        return {
            "split": self.split, "seq_len": self.cfg.seq_len, "seed": self.cfg.seed, "objective": self.cfg.objective,
            "sources": list(self.names), "weights": [float(w) for w in self.weights],
            "windows": [int(s.windows) for s in self.streams], "tokenizer_sha256": self.corpora.tokenizer_sha256,
        }

    def state_dict(self) -> dict[str, Any]:
        """The loader position as plain Python values (safe for ``torch.load(weights_only=True)``)."""
        return {
            "version": STATE_VERSION,
            "consumed_samples": int(self.consumed_samples),
            "source_counts": {n: int(c) for n, c in zip(self.names, self._counts, strict=True)},
            "global_batch": int(self.global_batch),
            "micro_batch_size": int(self.micro_batch_size),
            "world_size": int(self.world_size),
            "stopped": bool(self._stopped),
            **self._fingerprint(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state``; ValueError when it belongs to a different data setup."""
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            version = state.get("version") if isinstance(state, dict) else None
            raise ValueError(f"loader state: unknown format (version {version!r}, expected {STATE_VERSION})")
        mine = self._fingerprint()
        for key, value in mine.items():
            if key == "weights":
                if len(state[key]) != len(value) or any(abs(a - b) > 1e-9 for a, b in zip(state[key], value,
                                                                                           strict=True)):
                    theirs = dict(zip(state["sources"], state[key], strict=False))
                    raise ValueError(f"loader state: the checkpoint mixes {theirs}, this run "
                                     f"{dict(zip(self.names, value, strict=True))}; resume with the same --mix")
            elif state.get(key) != value:
                raise ValueError(f"loader state: the checkpoint has {key}={state.get(key)!r}, this run {value!r}; "
                                 "resume with the same data, seed, seq_len and objective")
        counts = [int(state["source_counts"][n]) for n in self.names]
        if sum(counts) != int(state["consumed_samples"]):
            raise ValueError("loader state: source counts do not add up to consumed_samples")
        self._counts = counts
        self.consumed_samples = int(state["consumed_samples"])
        self._stopped = bool(state.get("stopped", False))


# ----------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------


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
        _check_against(cfg, corpora)
        names = [n for n in corpora.mix_weights(cfg.mix, "train") if corpora.sources[n].val_tokens > 0]
        streams = [corpora.packed(n, "val", cfg.seq_len, cfg.seed, shuffle=False) for n in names]
        self.streams = [s for s in streams if s.windows > 0]
        total = sum(s.windows for s in self.streams)
        self.micro_batch_size = min(cfg.micro_batch_size, total // world_size)
        batches = total // (self.micro_batch_size * world_size) if self.micro_batch_size else 0
        self.batches = batches if max_batches is None else max(0, min(batches, max_batches))
        self.examples = _Examples(corpora, cfg)

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

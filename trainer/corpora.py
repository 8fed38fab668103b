"""Opened token-shard directories (:class:`Corpora`): their sources, tokenizer facts and memory-mapped
readers, and the checks that a loader's config fits them (mix names, the objective's special tokens)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.shards.megatron import ShardReader
from tokenizer.special_tokens import FIM_TOKENS
from trainer.data_config import DataConfig, DataError
from trainer.packing import PackedSource

SPLITS = ("train", "val")
MASK_TOKENS = ("<|mask|>", "[MASK]", "<mask>")


@dataclass
class SourceInfo:
    """One source (a ``source`` of the manifests, merged over directories) and its shards."""

    name: str
    train_documents: int = 0
    train_tokens: int = 0
    val_documents: int = 0
    val_tokens: int = 0
    shards: dict[str, list[str]] = field(default_factory=lambda: {"train": [], "val": []})  # split -> prefixes


def check_mix_names(mix: dict[str, float] | None, sources: dict[str, SourceInfo]) -> None:
    """Raise :class:`DataError` listing the real sources when ``mix`` names one the shards lack."""
    unknown = sorted(set(mix or ()) - set(sources))
    if unknown:
        raise DataError(f"mix names source(s) {', '.join(map(repr, unknown))} that the shards do not have; "
                        f"the sources are: {', '.join(sorted(sources))}")


class Corpora:
    """Opened, verified shard directories: sources, tokenizer facts, memory-mapped readers."""

    def __init__(self, cfg: DataConfig, directories: list[str], sources: dict[str, SourceInfo],
                 tokenizer_dir: str | None, tokenizer_sha256: str, vocab_size: int, eod_id: int,
                 pad_id: int, special_ids: dict[str, int], mask_token: str | None) -> None:
        self.cfg = cfg
        self.directories = directories
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

    def check_objective(self, cfg: DataConfig) -> None:
        """Raise :class:`DataError` when the tokenizer lacks the special tokens ``cfg.objective`` needs."""
        where = (f"tokenizer {self.tokenizer_dir}" if self.tokenizer_dir
                 else "the tokenizer (not found where the manifest says it is)")
        if cfg.objective == "fim":
            missing = [t for t in FIM_TOKENS if t not in self.special_ids]
            if missing:
                raise DataError(f"objective fim needs the FIM special tokens {', '.join(missing)}, which {where} "
                                "lacks; train the tokenizer with --fim")
        elif cfg.objective == "mlm":
            if self.mask_token is None:
                raise DataError(f"objective mlm needs a mask token ({' or '.join(MASK_TOKENS)}), which {where} "
                                "lacks; train the tokenizer with --special-token '<|mask|>'")
        elif cfg.objective == "prefix-lm":
            if cfg.prefix_sep_token not in self.special_ids:
                raise DataError(f"objective prefix-lm needs the separator token {cfg.prefix_sep_token!r} as a "
                                f"special token, which {where} lacks; train the tokenizer with --special-token "
                                f"'{cfg.prefix_sep_token}' (or set prefix_sep_token)")

    def check_config(self, cfg: DataConfig) -> None:
        """A loader's config (possibly another object than the one these were opened with) fits them."""
        cfg.validate()
        check_mix_names(cfg.mix, self.sources)
        self.check_objective(cfg)

    def summary(self) -> str:
        """A short table of the sources (documents and tokens per split) and the mix."""
        weights = self.mix_weights()
        lines = [f"{'source':<16} {'train docs':>11} {'train tokens':>13} {'val docs':>9} {'val tokens':>11} "
                 f"{'weight':>7}"]
        for n, s in sorted(self.sources.items()):
            lines.append(f"{n:<16} {s.train_documents:>11,} {s.train_tokens:>13,} {s.val_documents:>9,} "
                         f"{s.val_tokens:>11,} {weights.get(n, 0.0):>7.3f}")
        return "\n".join(lines)

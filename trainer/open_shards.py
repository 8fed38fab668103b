"""Open token-shard directories into :class:`trainer.corpora.Corpora`: read every ``manifest.json``
(remote URLs through the bounded local cache), verify every shard and check the tokenizer and the mix
before any training, so bad data is a :class:`DataError` naming the fix, never a crash mid-run."""

from __future__ import annotations

import json
import os

import numpy as np

from pipeline import fileio
from pipeline.shards.megatron import ShardFormatError, ShardReader, verify_shards
from tokenizer.load import TokenizerInfo
from trainer import verified
from trainer.corpora import MASK_TOKENS, SPLITS, Corpora, SourceInfo, check_mix_names
from trainer.data_config import DataConfig, DataError
from trainer.shard_cache import default_cache_dir


def parse_data_path(value: str) -> tuple[str | None, str]:
    """``DIR`` or ``NAME=DIR`` (every shard of DIR then counts as source NAME, to mix by directory)."""
    if "=" in value and "://" not in value.split("=", 1)[0] and value.split("=", 1)[0].isidentifier():
        name, path = value.split("=", 1)
        return name, path
    return None, value


def _local_dir(path: str, cfg: DataConfig) -> str:
    """A shard directory readable here: a local path as given, a URL's copy in the shard cache."""
    if path.startswith("file://"):
        return path[len("file://"):]
    if fileio.is_remote(path):
        from trainer.shard_cache import ShardCache, ShardCacheError  # fsspec only when needed

        try:
            return ShardCache(cfg.cache_dir, cfg.cache_max_bytes).fetch_shard_dir(path)
        except ShardCacheError as exc:
            raise DataError(str(exc)) from exc
    return path


def _read_manifest(directory: str, label: str) -> dict:
    try:
        manifest = json.loads(fileio.read_bytes(fileio.join(directory, "manifest.json")))
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
    if not os.path.isabs(recorded) and not fileio.is_remote(recorded):
        candidates.append(os.path.join(directory, recorded))
    for cand in candidates:
        tok_dir = os.path.dirname(cand) if cand.endswith("tokenizer.json") else cand
        if fileio.is_remote(tok_dir) or fileio.is_file(os.path.join(tok_dir, "tokenizer.json")):
            return tok_dir or "."
    return None


def _open_directories(cfg: DataConfig) -> tuple[list[str], list[dict], list[str | None]]:
    """(local directory, manifest, source rename) of every data path, each directory given once."""
    directories: list[str] = []
    manifests: list[dict] = []
    renames: list[str | None] = []
    for entry in cfg.paths:
        rename, path = parse_data_path(entry)
        renames.append(rename)
        local = _local_dir(path, cfg)
        if not fileio.is_dir(local):
            raise DataError(f"data path {path}: no such directory")
        real = os.path.realpath(local)
        if real in (os.path.realpath(d) for d in directories):
            raise DataError(f"data path {path} is given twice; give each shard directory once")
        directories.append(local)
        manifests.append(_read_manifest(local, path))
    return directories, manifests, renames


def _one_tokenizer(paths: list[str], manifests: list[dict]) -> str:
    """The tokenizer sha256 every directory shares (with its vocabulary and end-of-document id)."""
    shas = {path: (m.get("tokenizer") or {}).get("sha256") for path, m in zip(paths, manifests, strict=True)}
    if len(set(shas.values())) != 1:
        listing = "; ".join(f"{p}: {str(s)[:12]}..." for p, s in shas.items())
        raise DataError(f"the shard directories were tokenized with different tokenizers ({listing}); "
                        "re-tokenize them with one tokenizer")
    vocabs = {m["vocab_size"] for m in manifests}
    eods = {m["eod_id"] for m in manifests}
    if len(vocabs) != 1 or len(eods) != 1:
        raise DataError(f"the shard directories disagree on vocab_size {sorted(vocabs)} / eod_id {sorted(eods)}")
    return next(iter(shas.values()))


def _verify(cfg: DataConfig, directories: list[str]) -> None:
    """Every shard's sizes, sha256, structure and token ids, once per file version (:mod:`trainer.verified`)."""
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


def _sources(cfg: DataConfig, directories: list[str], manifests: list[dict], renames: list[str | None]
             ) -> tuple[dict[str, SourceInfo], dict[str, ShardReader]]:
    """The sources (shards, documents and tokens per split) and a memory-mapped reader per shard."""
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
    return sources, readers


def _tokenizer_facts(directories: list[str], manifests: list[dict], tokenizer_sha: str
                     ) -> tuple[str | None, dict[str, int], int, str | None]:
    """(tokenizer directory, special token ids, pad id, mask token) from the first tokenizer readable here;
    without one, no special tokens and the end-of-document id as padding."""
    vocab_size, eod_id = int(manifests[0]["vocab_size"]), int(manifests[0]["eod_id"])
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
    if info is None:
        return tokenizer_dir, {}, eod_id, None
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
    return tokenizer_dir, special_ids, pad_id, mask_token


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


def open_corpora(cfg: DataConfig) -> Corpora:
    """Open and verify every shard directory of ``cfg``; raise :class:`DataError` on bad input."""
    cfg.validate()
    directories, manifests, renames = _open_directories(cfg)
    tokenizer_sha = _one_tokenizer(cfg.paths, manifests)
    _verify(cfg, directories)  # before anything is trained
    sources, readers = _sources(cfg, directories, manifests, renames)
    check_mix_names(cfg.mix, sources)
    empty = sorted(n for n, w in (cfg.mix or {}).items() if w > 0 and sources[n].train_tokens == 0)
    if empty:
        raise DataError(f"mix gives a weight to source(s) {', '.join(map(repr, empty))} without training shards "
                        "(only val); drop them from the mix")
    tokenizer_dir, special_ids, pad_id, mask_token = _tokenizer_facts(directories, manifests, tokenizer_sha)
    corpora = Corpora(cfg, directories, sources, tokenizer_dir, tokenizer_sha, int(manifests[0]["vocab_size"]),
                      int(manifests[0]["eod_id"]), pad_id, special_ids, mask_token)
    corpora._readers.update(readers)
    corpora.check_objective(cfg)
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

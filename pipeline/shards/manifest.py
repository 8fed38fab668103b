"""``manifest.json`` of a token-shard directory, and the stable train/val split.

The manifest sits beside the shards (``<out>/manifest.json``) and records how to read and
check them::

    {
      "schema_version": 1,
      "kind": "token_shards",
      "format": "megatron-mmidx-v1",
      "tokenizer": {"path": ".../tokenizer.json", "sha256": "..."},
      "dtype": "uint16",            # numpy name of the token dtype of every .bin
      "eod_id": 0,                  # every document ends with this id
      "vocab_size": 32000,          # every token id is below this
      "config": {...},              # the job's config, as given
      "shards": [                   # sorted by path
        {"path": "web/train-00000-of-00004",   # prefix relative to the manifest's folder
         "source": "web", "split": "train",
         "documents": 1234, "tokens": 567890,
         "bin_sha256": "...", "idx_sha256": "...", "bin_bytes": 1135780, "idx_bytes": 24728},
        ...
      ],
      "totals": {"shards": .., "documents": .., "tokens": .., "bin_bytes": .., "idx_bytes": ..,
                 "by_split": {"train": {...same counters...}, "val": {...}},
                 "by_source": {"web": {...same counters..., "by_split": {"train": {...}}}}},
      "tool": {"name": "corpusforge", "version": "0.1.0"},
      "created": "2025-01-01T00:00:00+00:00"
    }

No Apache Beam import; pure Python.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import posixpath
import re
from collections.abc import Iterable, Mapping
from typing import Any

import pipeline

SCHEMA_VERSION = 1
KIND = "token_shards"
FORMAT = "megatron-mmidx-v1"
SPLITS = ("train", "val")
SHARD_KEYS = (
    "path", "source", "split", "documents", "tokens",
    "bin_sha256", "idx_sha256", "bin_bytes", "idx_bytes",
)
_COUNTERS = ("shards", "documents", "tokens", "bin_bytes", "idx_bytes")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# Token dtypes a shard may declare (the integer codes of the MMIDIDX format).
TOKEN_DTYPE_NAMES = ("uint8", "int8", "int16", "int32", "int64", "uint16")


def split_for(doc_id: str, val_fraction: float, seed: int = 0) -> str:
    """``"val"`` or ``"train"`` for a document, from a stable hash of its id.

    ``blake2b(f"{seed}\\0{doc_id}", digest_size=8)``; the top 53 bits of the digest, read
    big-endian, map to a float in [0, 1) exactly; below ``val_fraction`` is ``"val"``. The
    result depends only on the id, the fraction and the seed -- never on the run, the
    runner, the worker, ``PYTHONHASHSEED`` or the Python version -- so a re-run, or a second
    job over the same corpus, puts every document in the same split. A larger fraction only
    moves documents from train to val, never the other way.
    """
    if not isinstance(doc_id, str):
        raise TypeError(f"split_for: doc_id must be a str, got {type(doc_id).__name__}")
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)):
        raise TypeError(f"split_for: val_fraction must be a number, got {val_fraction!r}")
    if not 0.0 <= float(val_fraction) <= 1.0:
        raise ValueError(f"split_for: val_fraction must be in [0, 1], got {val_fraction!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"split_for: seed must be an int, got {seed!r}")
    data = f"{seed}\x00{doc_id}".encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(data, digest_size=8).digest()
    u = (int.from_bytes(digest, "big") >> 11) / float(1 << 53)
    return "val" if u < float(val_fraction) else "train"


def _zero() -> dict[str, int]:
    return dict.fromkeys(_COUNTERS, 0)


def _add(acc: dict[str, int], shard: Mapping[str, Any]) -> None:
    acc["shards"] += 1
    for key in _COUNTERS[1:]:
        acc[key] += int(shard.get(key) or 0)


def shard_totals(shards: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Totals over shard entries: overall, per split, and per source (and split within it)."""
    totals: dict[str, Any] = _zero()
    by_split: dict[str, dict[str, int]] = {}
    by_source: dict[str, dict[str, Any]] = {}
    for shard in shards:
        _add(totals, shard)
        _add(by_split.setdefault(str(shard["split"]), _zero()), shard)
        src = by_source.setdefault(str(shard["source"]), {**_zero(), "by_split": {}})
        _add(src, shard)
        _add(src["by_split"].setdefault(str(shard["split"]), _zero()), shard)
    totals["by_split"] = {k: by_split[k] for k in sorted(by_split)}
    totals["by_source"] = {
        k: {**by_source[k], "by_split": dict(sorted(by_source[k]["by_split"].items()))}
        for k in sorted(by_source)
    }
    return totals


def _check_int(name: str, value: Any, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{where}: {name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_shard_entry(shard: Mapping[str, Any], where: str = "shard") -> None:
    """Raise ``ValueError`` naming the field when a shard entry is incomplete or malformed."""
    missing = [k for k in SHARD_KEYS if k not in shard]
    if missing:
        raise ValueError(f"{where}: missing field(s) {', '.join(missing)}")
    path = shard["path"]
    if (
        not isinstance(path, str) or not path or path.startswith("/") or "\\" in path
        or posixpath.normpath(path) != path or path.split("/")[0] == ".."
    ):
        raise ValueError(
            f"{where}: path must be a relative, normalized prefix with '/' separators "
            f"(e.g. 'web/train-00000-of-00004'), got {path!r}"
        )
    if path.endswith((".bin", ".idx")):
        raise ValueError(f"{where}: path is a prefix without .bin/.idx, got {path!r}")
    if not isinstance(shard["source"], str) or not shard["source"]:
        raise ValueError(f"{where}: source must be a non-empty string, got {shard['source']!r}")
    if shard["split"] not in SPLITS:
        raise ValueError(f"{where}: split must be one of {SPLITS}, got {shard['split']!r}")
    for key in ("documents", "tokens", "bin_bytes", "idx_bytes"):
        _check_int(key, shard[key], where)
    for key in ("bin_sha256", "idx_sha256"):
        if not isinstance(shard[key], str) or not _SHA256_RE.match(shard[key]):
            raise ValueError(f"{where}: {key} must be 64 lowercase hex digits, got {shard[key]!r}")


def build_shard_manifest(
    tokenizer_path: str,
    tokenizer_sha256: str,
    dtype_name: str,
    eod_id: int,
    vocab_size: int,
    shards: list[dict[str, Any]],
    config: dict[str, Any],
) -> dict[str, Any]:
    """Assemble the token-shard ``manifest.json`` (see the module docstring for the format).

    ``shards`` holds one dict per shard with the keys in :data:`SHARD_KEYS` (a
    :meth:`~pipeline.shards.megatron.ShardWriter.summary` plus ``path``, ``source`` and
    ``split``); extra keys are kept. Shards are sorted by path so the manifest is stable.
    Raises ``ValueError`` naming the problem on a malformed or duplicate entry, a dtype that
    is not an integer MMIDIDX dtype, or an ``eod_id`` outside the vocabulary.
    """
    if not isinstance(tokenizer_path, str) or not tokenizer_path:
        raise ValueError(f"manifest: tokenizer_path must be a non-empty string, got {tokenizer_path!r}")
    if not isinstance(tokenizer_sha256, str) or not _SHA256_RE.match(tokenizer_sha256):
        raise ValueError(f"manifest: tokenizer_sha256 must be 64 lowercase hex digits, got {tokenizer_sha256!r}")
    if dtype_name not in TOKEN_DTYPE_NAMES:
        raise ValueError(f"manifest: dtype must be one of {TOKEN_DTYPE_NAMES}, got {dtype_name!r}")
    _check_int("vocab_size", vocab_size, "manifest", minimum=1)
    _check_int("eod_id", eod_id, "manifest")
    if eod_id >= vocab_size:
        raise ValueError(f"manifest: eod_id {eod_id} is not below vocab_size {vocab_size}")
    seen: set[str] = set()
    entries = []
    for i, shard in enumerate(shards):
        check_shard_entry(shard, where=f"manifest shard #{i} ({shard.get('path', '?')})")
        if shard["path"] in seen:
            raise ValueError(f"manifest: shard path {shard['path']!r} is listed twice")
        seen.add(shard["path"])
        entries.append(dict(shard))
    entries.sort(key=lambda s: s["path"])
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND,
        "format": FORMAT,
        "tokenizer": {"path": tokenizer_path, "sha256": tokenizer_sha256},
        "dtype": dtype_name,
        "eod_id": eod_id,
        "vocab_size": vocab_size,
        "config": config,
        "shards": entries,
        "totals": shard_totals(entries),
        "tool": {"name": "corpusforge", "version": pipeline.__version__},
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }

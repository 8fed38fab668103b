"""A bounded local cache for remote token-shard directories (``s3://``, ``gs://``, ``http://``, any fsspec URL).

``ShardCache(cache_dir, max_bytes).fetch_shard_dir(url)`` downloads ``url/manifest.json`` and
every shard it lists (``.bin`` + ``.idx``) into ``cache_dir/<digest of url>/`` on first use,
and returns that local directory, which then reads and memory-maps like any shard directory.

- Atomic: each file is fetched to a temporary name beside its final one, checked against the
  manifest (size and sha256; a mismatch names the shard), then renamed into place. A file
  already there with the manifest's size is reused (the loader's verification re-checks its
  sha256), so a second run downloads nothing.
- Bounded, least recently used: files of a directory are touched when it is fetched; when a
  download would take the cache over ``max_bytes``, whole cached directories are evicted,
  oldest use first (never the one being fetched). A directory larger than ``max_bytes`` on its
  own is refused with a message naming the setting to raise. Open memory maps of an evicted
  file stay valid (POSIX keeps the inode until they close).
- Concurrency: an exclusive ``flock`` on ``cache_dir/.lock`` serialises fetches, so several
  ranks on one machine download each file once.
- A tokenizer recorded under a remote path is cached too (``tokenizer/`` beside the shards);
  the cached manifest then points at it.

Files go through :mod:`pipeline.fileio` (its ``filesystem`` for the download itself); the cache's
own bookkeeping (the lock, last-use times, eviction) is about a local folder and uses ``os``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator

from pipeline import fileio

DEFAULT_CACHE_ENV = "CORPUSFORGE_SHARD_CACHE"
TOKENIZER_FILES = ("tokenizer.json", "special_tokens_map.json", "tokenizer_config.json")
_STAMP = ".last_used"


class ShardCacheError(ValueError):
    """A remote shard directory that cannot be cached; the message names the file or setting."""


def default_cache_dir() -> str:
    """``$CORPUSFORGE_SHARD_CACHE``, else ``~/.cache/corpusforge/shards``."""
    return os.environ.get(DEFAULT_CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "corpusforge",
                                                             "shards")


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with fileio.open_read(path) as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def _filesystem(url: str):
    """``(fsspec filesystem, path)`` of a URL; a missing backend package is named."""
    try:
        return fileio.filesystem(url)
    except OSError as exc:
        raise ShardCacheError(str(exc)) from exc


def _dir_bytes(path: str) -> int:
    """Bytes of the files under a cached directory (0 when it is not there)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, name))
    return total


def _has_size(path: str, size: int | None) -> bool:
    return fileio.is_file(path) and fileio.size(path) == size


class ShardCache:
    """Remote shard directories cached locally, at most ``max_bytes`` in all (LRU by directory)."""

    def __init__(self, cache_dir: str | None = None, max_bytes: int = 50 * 2**30) -> None:
        self.cache_dir = os.path.abspath(cache_dir or default_cache_dir())
        self.max_bytes = int(max_bytes)

    def entry_dir(self, url: str) -> str:
        """The local directory of a remote shard directory."""
        url = url.rstrip("/")
        tail = url.rsplit("/", 1)[-1] or "shards"
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in tail)[:40]
        return os.path.join(self.cache_dir, f"{hashlib.sha256(url.encode()).hexdigest()[:16]}-{safe}")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        os.makedirs(self.cache_dir, exist_ok=True)
        with open(os.path.join(self.cache_dir, ".lock"), "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _download(self, fs, remote: str, local: str, size: int | None = None, sha256: str | None = None,
                  label: str | None = None) -> None:
        os.makedirs(os.path.dirname(local), exist_ok=True)
        tmp = fileio.temp_name(local)
        try:
            try:
                fs.get_file(remote, tmp)
            except FileNotFoundError:
                raise ShardCacheError(f"{label or remote}: not found at {remote}") from None
            except Exception as exc:  # noqa: BLE001 - fsspec backends raise their own errors
                raise ShardCacheError(f"{label or remote}: download from {remote} failed ({exc})") from exc
            got = fileio.size(tmp)
            if size is not None and got != size:
                raise ShardCacheError(f"{label or remote}: downloaded {got} bytes, the manifest says {size}; "
                                      "the remote copy is incomplete or changed")
            if sha256 is not None and _sha256(tmp) != sha256:
                raise ShardCacheError(f"{label or remote}: sha256 of the downloaded file does not match the manifest; "
                                      "the remote copy is corrupt or changed (re-run the tokenize job there)")
            fileio.rename(tmp, local)
        finally:
            fileio.delete(tmp)

    def _evict_for(self, keep: str, needed: int) -> None:
        """Remove least recently used entries (not ``keep``) until ``needed`` more bytes fit."""
        entries = []
        for name in os.listdir(self.cache_dir):
            path = os.path.join(self.cache_dir, name)
            if os.path.isdir(path) and path != keep and not name.startswith("."):
                stamp = os.path.join(path, _STAMP)
                used = os.path.getmtime(stamp) if os.path.exists(stamp) else 0.0
                entries.append((used, path, _dir_bytes(path)))
        total = sum(e[2] for e in entries) + _dir_bytes(keep) if os.path.isdir(keep) else sum(e[2] for e in entries)
        for _, path, size in sorted(entries):
            if total + needed <= self.max_bytes:
                break
            with contextlib.suppress(OSError):
                fileio.delete(path, recursive=True)
            total -= size

    def fetch_shard_dir(self, url: str) -> str:
        """The local copy of the shard directory at ``url`` (downloaded on first use)."""
        url = url.rstrip("/")
        fs, root = _filesystem(url)
        local = self.entry_dir(url)
        with self._locked():
            manifest_tmp = fileio.temp_name(os.path.join(self.cache_dir, ".manifest.json"))
            try:
                self._download(fs, f"{root}/manifest.json", manifest_tmp, label=f"{url}/manifest.json")
                manifest = json.loads(fileio.read_bytes(manifest_tmp))
            except ValueError as exc:
                if isinstance(exc, ShardCacheError):
                    raise
                raise ShardCacheError(f"{url}/manifest.json: not JSON ({exc})") from exc
            finally:
                fileio.delete(manifest_tmp)
            shards = manifest.get("shards") if isinstance(manifest, dict) else None
            if not isinstance(shards, list):
                raise ShardCacheError(f"{url}/manifest.json: not a token-shard manifest (no 'shards' list)")
            files = []  # (relative path, size, sha256)
            for shard in shards:
                for ext in ("bin", "idx"):
                    files.append((f"{shard['path']}.{ext}", shard.get(f"{ext}_bytes"), shard.get(f"{ext}_sha256")))
            total = sum(int(size or 0) for _, size, _ in files)
            if total > self.max_bytes:
                raise ShardCacheError(f"{url}: its shards take {total:,} bytes, more than the shard cache's "
                                      f"{self.max_bytes:,} (cache_max_bytes); raise cache_max_bytes or use a local copy")
            missing = [f for f in files if not _has_size(os.path.join(local, f[0]), f[1])]
            self._evict_for(local, sum(int(size or 0) for _, size, _ in missing))
            for rel, size, sha in missing:
                self._download(fs, f"{root}/{rel}", os.path.join(local, *rel.split("/")), size, sha,
                               label=f"{url}: shard {rel}")
            tok = manifest.get("tokenizer") if isinstance(manifest.get("tokenizer"), dict) else None
            if tok and isinstance(tok.get("path"), str) and "://" in tok["path"]:
                self._fetch_tokenizer(tok, local)
            fileio.write_atomic(os.path.join(local, "manifest.json"), json.dumps(manifest, indent=1).encode())
            fileio.write_atomic(os.path.join(local, _STAMP), f"{time.time()}\n{url}\n".encode())
        return local

    def _fetch_tokenizer(self, tok: dict, local: str) -> None:
        """Cache a remote tokenizer directory and point the manifest's tokenizer at the copy."""
        remote_json = tok["path"]
        remote_dir = remote_json[: -len("tokenizer.json")].rstrip("/") if remote_json.endswith("tokenizer.json") \
            else remote_json.rstrip("/")
        fs, root = _filesystem(remote_dir)
        target = os.path.join(local, "tokenizer")
        for name in TOKENIZER_FILES:
            path = os.path.join(target, name)
            if name == "tokenizer.json" and fileio.is_file(path) and _sha256(path) == tok.get("sha256"):
                continue
            try:
                self._download(fs, f"{root}/{name}", path, sha256=tok.get("sha256") if name == "tokenizer.json"
                               else None, label=f"tokenizer {remote_dir}/{name}")
            except ShardCacheError:
                if name == "tokenizer.json":
                    raise
        tok["remote_path"] = remote_json
        tok["path"] = os.path.join(target, "tokenizer.json")

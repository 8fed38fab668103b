"""Remember which shard directories passed verification, so a restart does not re-hash them.

Verifying a directory (:func:`pipeline.shards.megatron.verify_shards`: sha256 of every file
plus a scan of every token id) costs about 4 s per GB; a run restarted after a crash would pay
it again. After a directory passes, a stamp is written to ``<cache>/.verified/<digest>.json``
with the sha256 of its ``manifest.json`` and the (size, mtime_ns, inode) of every listed
``.bin``/``.idx``. The next open skips verification only when all of these still match; any
rewrite, replacement or truncation of a file changes them and verification runs again. Delete
the ``.verified/`` folder to force it. Stamps of directories that no longer exist are pruned.
The stamps are read and written through :mod:`pipeline.fileio`; the fingerprint is a local ``os.stat``.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from pipeline import fileio


def _stamp_path(cache_dir: str, directory: str) -> str:
    key = hashlib.sha256(os.path.realpath(directory).encode()).hexdigest()[:24]
    return os.path.join(cache_dir, ".verified", f"{key}.json")


def _fingerprint(directory: str) -> dict[str, Any] | None:
    """Manifest sha256 and the stat of every listed file; None when something is missing."""
    try:
        raw = fileio.read_bytes(os.path.join(directory, "manifest.json"))
        manifest = json.loads(raw)
        files = {}
        for shard in manifest["shards"]:
            for ext in (".bin", ".idx"):
                rel = str(shard["path"]) + ext
                st = os.stat(os.path.join(directory, *rel.split("/")))
                files[rel] = [st.st_size, st.st_mtime_ns, st.st_ino]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {"directory": os.path.realpath(directory), "manifest_sha256": hashlib.sha256(raw).hexdigest(),
            "files": files}


def is_verified(cache_dir: str, directory: str) -> bool:
    """Whether ``directory`` passed verification and has not changed since."""
    current = _fingerprint(directory)
    if current is None:
        return False
    try:
        return json.loads(fileio.read_bytes(_stamp_path(cache_dir, directory))) == current
    except (OSError, ValueError):
        return False


def mark_verified(cache_dir: str, directory: str) -> None:
    """Record that ``directory`` passed verification (best effort: an unwritable cache is skipped)."""
    current = _fingerprint(directory)
    if current is None:
        return
    path = _stamp_path(cache_dir, directory)
    try:
        fileio.write_atomic(path, json.dumps(current).encode())  # removes its temporary on failure
    except OSError:
        return
    _prune(os.path.dirname(path))


def _prune(folder: str) -> None:
    """Drop stamps of directories that no longer exist (temporary runs, moved corpora)."""
    for name in os.listdir(folder):
        stamp = os.path.join(folder, name)
        try:
            directory = json.loads(fileio.read_bytes(stamp))["directory"]
            if not os.path.isdir(directory):
                os.remove(stamp)
        except (OSError, ValueError, KeyError, TypeError):
            continue

"""The core's one way to open a file: local paths through ``os``, URLs (``gs://``, ``s3://``,
``memory://``, ...) through fsspec (gcsfs / s3fs come with the ``gcp`` / ``aws`` extras).

No Apache Beam import: the tokenizer, the trainer's shard cache, the shard writer and the
crawl's storage use this; the Beam shell uses Beam's own filesystems (``pipeline/beam_io.py``).
Errors are ``OSError`` (``FileNotFoundError`` for a missing file) on both kinds of path.

    from pipeline import fileio

    with fileio.open_read("gs://bucket/tok/tokenizer.json") as f: ...
    fileio.write_atomic(fileio.join(out, "state", "crawl.json"), data)
    for path, size in fileio.match("s3://bucket/corpus/data/*.parquet"): ...
    fs, p = fileio.filesystem("s3://bucket/x")   # the fsspec filesystem, for the rest
"""

from __future__ import annotations

import glob as globlib
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

_CHUNK = 1 << 22


def is_remote(path: str) -> bool:
    """Whether ``path`` is a URL (``scheme://...``) rather than a local path."""
    return "://" in str(path)


#: The fsspec package that serves a scheme, named when it is missing (the extras bring gcsfs / s3fs).
_BACKENDS = {"gs": "gcsfs (pip install 'corpusforge[gcp]')", "gcs": "gcsfs (pip install 'corpusforge[gcp]')",
             "s3": "s3fs (pip install 'corpusforge[aws]')", "s3a": "s3fs (pip install 'corpusforge[aws]')",
             "az": "adlfs (pip install adlfs)", "abfs": "adlfs (pip install adlfs)",
             "http": "aiohttp (pip install aiohttp)", "https": "aiohttp (pip install aiohttp)"}


def filesystem(url: str) -> tuple[Any, str]:
    """``(fsspec filesystem, path without its scheme)`` of a URL, for what the functions here do
    not cover (``fs.get_file``, ``fs.ls``); ``OSError`` names the package a missing scheme needs."""
    import fsspec

    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:  # unknown scheme, or gcsfs/s3fs not installed
        scheme = str(url).split("://", 1)[0]
        hint = f"; install {_BACKENDS[scheme]}" if scheme in _BACKENDS else ""
        raise OSError(f"{url}: cannot open {scheme}:// URLs ({exc}){hint}") from exc


def join(base: str, *parts: str) -> str:
    """``base/part/...``: ``os.path.join`` for local paths, '/' for URLs."""
    if not is_remote(base):
        return os.path.join(base, *parts)
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])


def relative(path: str, base: str) -> str:
    """``path`` relative to the folder ``base`` when it lies under it, else unchanged."""
    return path[len(base):].lstrip("/") if path.startswith(base) else path


def open_read(path: str, block_size: int | None = None) -> IO[bytes]:
    """The file's stored bytes (no decompression), for reading; ``block_size``: how much a remote
    file reads at a time (its store's default when None: several MB, too much for a few seeks)."""
    if not is_remote(path):
        return open(path, "rb")
    fs, p = filesystem(path)
    return fs.open(p, "rb", block_size=block_size) if block_size else fs.open(p, "rb")


def open_write(path: str) -> IO[bytes]:
    """A new file for writing (replacing one there); local parent folders are created.
    Not atomic: see :func:`atomic_writer`."""
    if not is_remote(path):
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        return open(path, "wb")
    fs, p = filesystem(path)
    return fs.open(p, "wb")


def read_bytes(path: str) -> bytes:
    with open_read(path) as f:
        return f.read()


def exists(path: str) -> bool:
    """Whether a file or folder is there."""
    if not is_remote(path):
        return os.path.exists(path)
    fs, p = filesystem(path)
    return fs.exists(p)


def is_file(path: str) -> bool:
    if not is_remote(path):
        return os.path.isfile(path)
    fs, p = filesystem(path)
    return fs.isfile(p)


def is_dir(path: str) -> bool:
    if not is_remote(path):
        return os.path.isdir(path)
    fs, p = filesystem(path)
    return fs.isdir(p)


def size(path: str) -> int:
    if not is_remote(path):
        return os.path.getsize(path)
    fs, p = filesystem(path)
    return int(fs.size(p))


def match(pattern: str) -> list[tuple[str, int]]:
    """The files (not folders) a glob matches (``**`` spans folders), sorted, with their sizes;
    a pattern without wildcards matches itself when it is a file."""
    if not is_remote(pattern):
        return [(p, os.path.getsize(p)) for p in sorted(globlib.glob(pattern, recursive=True)) if os.path.isfile(p)]
    fs, p = filesystem(pattern)
    found = fs.glob(p, detail=True)
    return sorted((_unstrip(pattern, name), int(info.get("size") or 0))
                  for name, info in found.items() if info.get("type") == "file")


def _unstrip(pattern: str, name: str) -> str:
    """A path fsspec listed, spelt with the pattern's scheme and slashes (``memory://b/x`` stays so)."""
    scheme, rest = pattern.split("://", 1)
    return f"{scheme}://{name if rest.startswith('/') else name.lstrip('/')}"


def rename(src: str, dst: str) -> None:
    """Move ``src`` to ``dst``, replacing it (atomic on one local file system; a copy and a
    delete on object stores, where ``dst`` still only ever holds a whole file)."""
    if not is_remote(src):
        os.replace(src, dst)
        return
    fs, s = filesystem(src)
    fs.mv(s, filesystem(dst)[1])


def delete(path: str, *, recursive: bool = False) -> None:
    """Remove a file (with ``recursive``, also a folder and everything in it); nothing there
    is not an error."""
    if not is_remote(path):
        if recursive and os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
        return
    fs, p = filesystem(path)
    if fs.exists(p):
        fs.rm(p, recursive=recursive)


def temp_name(path: str) -> str:
    """A fresh temporary name beside ``path`` (``<path>.tmp-<random>``)."""
    return f"{path}.tmp-{uuid.uuid4().hex}"


@contextmanager
def atomic_writer(path: str, *, sync: bool = True) -> Iterator[IO[bytes]]:
    """Write through a temporary name beside ``path``, renamed into place when the block ends
    without an error (removed when it raises), so readers never see half a file. Local files
    are fsynced before the rename unless ``sync`` is False."""
    tmp = temp_name(path)
    f = open_write(tmp)
    try:
        with f:
            yield f
            if sync and not is_remote(path):
                f.flush()
                os.fsync(f.fileno())
        rename(tmp, path)
    except BaseException:
        delete(tmp)
        raise


def write_atomic(path: str, data: bytes) -> None:
    """``data`` into ``path`` by temporary name and rename (see :func:`atomic_writer`)."""
    with atomic_writer(path) as f:
        f.write(data)


def put_file(local_path: str, path: str) -> None:
    """Move a finished local file to ``path`` (a rename when both are on one local file system,
    else a copy under a temporary name and a rename), then remove the local file."""
    if not is_remote(path):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        try:
            os.replace(local_path, path)
            return
        except OSError:  # another file system: copy below
            pass
    with open(local_path, "rb") as src, atomic_writer(path) as dst:
        shutil.copyfileobj(src, dst, _CHUNK)
    os.remove(local_path)

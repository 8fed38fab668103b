"""Where crawl files live: a small interface (atomic writes, listing, moving a finished local
file into place) and its one implementation on :mod:`pipeline.fileio` (local disk, gs://,
s3://), which the crawl's core and its Beam workers share."""

from __future__ import annotations

import os
import tempfile
from typing import Protocol

from pipeline import fileio


class Storage(Protocol):
    def join(self, base: str, *parts: str) -> str: ...
    def write_bytes(self, path: str, data: bytes) -> None: ...  # atomic: temp name, then rename
    def put_file(self, local_path: str, path: str) -> None: ...  # move a finished local file in place
    def read_bytes(self, path: str) -> bytes: ...
    def glob(self, pattern: str) -> list[str]: ...
    def exists(self, path: str) -> bool: ...
    def delete(self, path: str) -> None: ...
    def scratch_dir(self, output: str) -> str: ...  # a local directory for files being written


class FileStorage:
    """Crawl files through :mod:`pipeline.fileio`: plain files (renames atomic on one file
    system) or an object store (a finished file is uploaded under a temporary name, then renamed)."""

    def join(self, base: str, *parts: str) -> str:
        return fileio.join(base, *parts)

    def write_bytes(self, path: str, data: bytes) -> None:
        fileio.write_atomic(path, data)

    def put_file(self, local_path: str, path: str) -> None:
        fileio.put_file(local_path, path)

    def read_bytes(self, path: str) -> bytes:
        return fileio.read_bytes(path)

    def glob(self, pattern: str) -> list[str]:
        return [p for p, _ in fileio.match(pattern)]

    def exists(self, path: str) -> bool:
        return fileio.exists(path)

    def delete(self, path: str) -> None:
        fileio.delete(path, recursive=True)

    def scratch_dir(self, output: str) -> str:
        if fileio.is_remote(output):
            return tempfile.mkdtemp(prefix="corpusforge-crawl-")
        # Beside the output, so that committing a WARC file is a rename, not a copy.
        path = os.path.join(output, "tmp")
        os.makedirs(path, exist_ok=True)
        return tempfile.mkdtemp(prefix="seg-", dir=path)

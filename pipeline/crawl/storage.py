"""Where crawl files live: a small interface (atomic writes, listing, moving a finished local
file into place) with a local-disk implementation; the Beam shell plugs in Beam's
filesystems (gs://, s3://) behind the same interface."""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import uuid
from typing import Protocol


class Storage(Protocol):
    def join(self, base: str, *parts: str) -> str: ...
    def write_bytes(self, path: str, data: bytes) -> None: ...  # atomic: temp name, then rename
    def put_file(self, local_path: str, path: str) -> None: ...  # move a finished local file in place
    def read_bytes(self, path: str) -> bytes: ...
    def glob(self, pattern: str) -> list[str]: ...
    def exists(self, path: str) -> bool: ...
    def delete(self, path: str) -> None: ...
    def scratch_dir(self, output: str) -> str: ...  # a local directory for files being written


class LocalStorage:
    """Plain files; renames are atomic on one file system."""

    def join(self, base: str, *parts: str) -> str:
        return os.path.join(base, *parts)

    def write_bytes(self, path: str, data: bytes) -> None:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        tmp = f"{path}.tmp-{uuid.uuid4().hex}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    def put_file(self, local_path: str, path: str) -> None:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        try:
            os.replace(local_path, path)
        except OSError:  # another file system: copy under a temporary name, then rename
            tmp = f"{path}.tmp-{uuid.uuid4().hex}"
            shutil.copyfile(local_path, tmp)
            os.replace(tmp, path)
            os.remove(local_path)

    def read_bytes(self, path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    def glob(self, pattern: str) -> list[str]:
        return sorted(glob.glob(pattern))

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def delete(self, path: str) -> None:
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)

    def scratch_dir(self, output: str) -> str:
        # Beside the output, so that committing a WARC file is a rename, not a copy.
        path = os.path.join(output, "tmp")
        os.makedirs(path, exist_ok=True)
        return tempfile.mkdtemp(prefix="seg-", dir=path)

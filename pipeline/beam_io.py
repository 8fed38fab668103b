"""File helpers on Beam's filesystems (local, gs://, s3://): atomic writes, matching, hashing."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from typing import Any

from apache_beam.io.filesystems import FileSystems

from pipeline.fileio import relative


def join(base: str, *parts: str) -> str:
    return FileSystems.join(base, *parts)


def absolute(path: str) -> str:
    """A local path made absolute (workers of a cluster run in other directories); URLs unchanged."""
    return path if "://" in path else os.path.abspath(os.path.expanduser(path))


def absolute_spec(spec: str) -> str:
    """A ``scheme:PATH`` spec (a model generator's ``hf:PATH``, ``native:DIR``) with PATH made absolute."""
    scheme, sep, path = spec.partition(":")
    return f"{scheme}:{absolute(path)}" if sep and path else spec


def match_files(pattern: str) -> list[tuple[str, int]]:
    """The files (not folders) a glob matches on Beam's file systems, sorted, with their sizes;
    OSError when it cannot be listed (:data:`corpora.corpus_files.Lister`)."""
    try:
        result = FileSystems.match([pattern])[0]
    except Exception as exc:  # noqa: BLE001 - Beam raises BeamIOError / its own types
        raise OSError(str(exc)) from exc
    return sorted((m.path, m.size_in_bytes) for m in result.metadata_list if not m.path.endswith("/"))


def match_inputs(patterns: list[str], flag: str = "--input") -> list[dict[str, Any]]:
    """Expand globs into absolute files with sizes; raise ValueError naming any pattern with no match
    under ``flag``, the option that named it (``--input``, ``--labels``, ``--collection``)."""
    files: dict[str, int] = {}
    for pattern in map(absolute, patterns):
        try:
            found = match_files(pattern)
        except OSError as exc:
            raise ValueError(f"{flag} {pattern!r}: cannot list it ({exc})") from exc
        if not found:
            raise ValueError(f"{flag} {pattern!r}: no file matches (check the path or glob)")
        files.update(found)
    return [{"path": p, "bytes": n} for p, n in sorted(files.items())]


def write_atomic(path: str, data: bytes) -> None:
    """Write to a temporary name beside ``path``, then rename, so readers never see half a file."""
    tmp = f"{path}.tmp-{uuid.uuid4().hex}"
    with FileSystems.create(tmp) as f:
        f.write(data)
    rename_over(tmp, path)


def write_json_atomic(path: str, obj: Any) -> None:
    write_atomic(path, (json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8"))


def read_json(path: str) -> Any:
    with FileSystems.open(path) as f:
        return json.loads(f.read().decode("utf-8"))


def open_raw(path: str):
    """Open for reading without Beam's own decompression (readers that sniff and decompress
    themselves, checksums of the stored bytes)."""
    from apache_beam.io.filesystem import CompressionTypes

    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def compression_type(path: str):
    """Beam's ``CompressionTypes`` for a stored file, told by its first bytes as the core's readers tell
    it (:func:`pipeline.compression.detect_compression`), not by its name as ``AUTO`` would: a
    ``ReadFromText`` then reads the same lines as ``corpora.doc2query.collection.read_lines``."""
    from apache_beam.io.filesystem import CompressionTypes

    from pipeline.compression import MAGIC_BYTES, detect_compression

    with open_raw(path) as f:
        kind = detect_compression(f.read(MAGIC_BYTES), path)
    return {"gzip": CompressionTypes.GZIP, "zstd": CompressionTypes.ZSTD, "bz2": CompressionTypes.BZIP2,
            "xz": CompressionTypes.LZMA, "lzma": CompressionTypes.LZMA, "deflate": CompressionTypes.DEFLATE,
            }.get(kind, CompressionTypes.UNCOMPRESSED)


def describe_file(path: str) -> dict[str, Any]:
    """Size and sha256 of one file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open_raw(path) as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return {"path": path, "bytes": size, "sha256": digest.hexdigest()}


def describe_parquet(path: str, relative_to: str) -> dict[str, Any]:
    """Row count (from the footer), size and sha256 of one written Parquet file."""
    import pyarrow.parquet as pq

    info = describe_file(path)
    with FileSystems.open(path) as f:
        rows = pq.ParquetFile(f).metadata.num_rows
    return {"path": relative(path, relative_to), "rows": rows, "bytes": info["bytes"], "sha256": info["sha256"]}


def describe_written(path: str, name: str, rows: int) -> dict[str, Any]:
    """The manifest entry of one written file whose row count its writer knows."""
    info = describe_file(path)
    return {"path": name, "rows": rows, "bytes": info["bytes"], "sha256": info["sha256"]}


def describe_lines(path: str, relative_to: str) -> dict[str, Any]:
    """Row count (non-blank lines), size and sha256 of one written text file (JSONL, TSV)."""
    info = describe_file(path)
    with FileSystems.open(path) as f:
        rows = sum(1 for line in f if line.strip())
    return {"path": relative(path, relative_to), "rows": rows, "bytes": info["bytes"], "sha256": info["sha256"]}


def add_manifest_outputs(output: str, key: str, files: list[str]) -> None:
    """Record text files written beside a corpus (after its pipeline) in ``manifest.json``'s outputs.

    The manifest is rewritten atomically, so a reader sees it either without or with the entry.
    """
    manifest_path = join(output, "manifest.json")
    manifest = read_json(manifest_path)
    manifest["outputs"][key] = [describe_lines(path, relative_to=output) for path in sorted(files)]
    write_json_atomic(manifest_path, manifest)


def exists(path: str) -> bool:
    """Whether a file or a folder is at ``path``. On object stores (``gs://``, ``s3://``) a folder is
    only a prefix of object names, which Beam's ``exists`` does not see: any object under it counts."""
    return FileSystems.exists(path) or ("://" in path and bool(_objects_under(path)))


def _objects_under(path: str) -> list[str]:
    return [p for p, _ in match_files(join(path, "**"))]


def delete_tree(path: str) -> None:
    """Remove a file, or a folder and everything in it. On object stores, every object under the
    folder's prefix: Beam's ``delete`` of a name no object has removes nothing there, so an
    ``--overwrite`` left the earlier run's files beside the new ones."""
    if "://" in path:
        doomed = _objects_under(path) + ([path] if FileSystems.exists(path) else [])
        if doomed:
            FileSystems.delete(doomed)
    elif FileSystems.exists(path):
        FileSystems.delete([path])


def writer_ops(path: str) -> dict[str, Any]:
    """open/rename/remove functions for a writer that takes them (e.g. ShardWriter): none for
    local paths (plain files, atomic rename), Beam's filesystems for gs:// and s3:// (where a
    rename is a copy and a delete)."""
    if "://" not in path:
        return {}
    return {
        "open_fn": FileSystems.create,
        "rename_fn": lambda src, dst: FileSystems.rename([src], [dst]),
        "remove_fn": lambda p: FileSystems.delete([p]),
    }


def file_ops():
    """:class:`pipeline.parquet_parts.FileOps` on Beam's filesystems (what a Beam job's workers
    are set up for, on any runner)."""
    from pipeline.parquet_parts import FileOps

    return FileOps(open_write=FileSystems.create, rename=rename_over, exists=FileSystems.exists, remove_tree=delete_tree)


def rename_over(src: str, dst: str) -> None:
    """Move ``src`` to ``dst``, replacing a file there."""
    if FileSystems.exists(dst):
        FileSystems.delete([dst])
    FileSystems.rename([src], [dst])


def concat_atomic(parts: list[str], dest: str, remove_parts: bool = True) -> int:
    """Concatenate ``parts`` (in the given order, streamed 1 MB at a time) into ``dest`` through a
    temporary name and a rename, then delete the parts (unless ``remove_parts`` is False: a step
    that may be retried keeps them for a later step to remove); returns the bytes written. Lets a
    job write a single-file output as per-bundle shards instead of shuffling it onto one worker."""
    tmp = f"{dest}.tmp-{uuid.uuid4().hex}"
    size = 0
    with FileSystems.create(tmp) as out:
        for part in parts:
            with open_raw(part) as f:
                while chunk := f.read(1 << 20):
                    out.write(chunk)
                    size += len(chunk)
    rename_over(tmp, dest)
    if parts and remove_parts:
        FileSystems.delete(list(parts))
    return size

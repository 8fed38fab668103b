"""Documents that wait for a dedup verdict parked on local disk, with only a reference in the join (pure core).

A dedup join holds every document until its verdict is known. Beam's local runner keeps a join's
input in memory, so its peak grew with the corpus. Parked, each bundle appends its documents
(packed: :mod:`pipeline.dedup.packed`, each after an 8-byte header: length, crc32) to a file of
its own in a spill folder, under a 32-byte reference (file, offset, length, crc32);
:meth:`SpillReader.records` reads a whole file back in order with each record's reference, so a
job sends each file only the verdicts of its own dropped documents (:func:`spill_file_of`) and
reads every file once after them. Every worker must see the folder at the same path (one
machine, or a shared mount).
Nothing is dropped quietly: a failed write, a short read or a checksum mismatch raises
:class:`SpillError`, which fails the job.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

from pipeline.dedup.packed import pack, unpack
from pipeline.errors import UsageError

__all__ = ["SpillError", "SpillReader", "SpillWriter", "make_spill_folder", "remove_spill_folder", "spill_file_of"]

# A reference: the file's 16-byte id (its name is the id in hex), offset, length, crc32 of the bytes;
# one small bytes object, so a join holds about 60 bytes per waiting document, not ~250 for a tuple.
_REF = struct.Struct("<16sQII")
_HEADER = struct.Struct("<II")  # before each record in a file: its length and crc32
_READ_BUFFER = 1 << 20
FOLDER_PREFIX = "corpusforge-spill-"


class SpillError(RuntimeError):
    """A parked document could not be written or read back whole: the job must stop."""


def make_spill_folder(parent: str | None, label: str) -> str:
    """A new, empty folder for one dedup step's spill files under ``parent`` (the system's
    temporary folder when None), checked writable; a :class:`UsageError` saying why otherwise."""
    base = os.path.abspath(parent) if parent else tempfile.gettempdir()
    try:
        folder = tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{label}-", dir=base)
        probe = os.path.join(folder, "probe")
        with open(probe, "wb") as f:
            f.write(b"ok")
        os.remove(probe)
    except OSError as e:
        raise UsageError(f"--dedup_spill_dir {parent or base}: cannot create a spill folder for {label} there ({e}); "
                         "give a writable folder, or --dedup_spill_dir memory to keep documents in memory") from e
    return folder


def remove_spill_folder(folder: str) -> None:
    """Remove a spill folder and its files (nothing if it is gone already)."""
    shutil.rmtree(folder, ignore_errors=True)


class SpillWriter:
    """Appends records to one new file in ``folder`` (created on the first record); ``close`` must
    succeed before any reference it gave is read."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._file = None
        self._id = b""
        self._offset = 0

    def write(self, record: Any) -> bytes:
        """Park ``record``; returns where it lies (its reference, as :meth:`SpillReader.records` gives it)."""
        blob = pack(record)
        crc = zlib.crc32(blob)
        try:
            if self._file is None:
                self._id = uuid.uuid4().bytes
                self._file = open(self._path(), "xb")  # noqa: SIM115 - closed in close()
                self._offset = 0
            self._file.write(_HEADER.pack(len(blob), crc))
            self._file.write(blob)
        except OSError as e:
            raise SpillError(f"dedup spill: cannot write to {self._path()}: {e}") from e
        self._offset += _HEADER.size
        ref = _REF.pack(self._id, self._offset, len(blob), crc)
        self._offset += len(blob)
        return ref

    @property
    def name(self) -> str | None:
        """The file's name in the folder (for :meth:`SpillReader.records`), or None before any record."""
        return self._id.hex() if self._id else None

    def _path(self) -> str:
        return os.path.join(self.folder, self._id.hex())

    def close(self) -> None:
        """Flush and close the file (raises :class:`SpillError` if the data did not reach it)."""
        f, self._file = self._file, None
        if f is not None:
            try:
                f.close()
            except OSError as e:
                raise SpillError(f"dedup spill: cannot finish {self._path()}: {e}") from e


def spill_file_of(ref: bytes) -> str:
    """The name of the spill file a reference points into (what :meth:`SpillReader.records` takes)."""
    return ref[:16].hex()


def _checked(path: str, offset: int, length: int, crc: int, blob: bytes) -> bytes:
    """``blob``, read at ``offset`` of ``path``, if it has the length and crc32 written; else :class:`SpillError`."""
    if len(blob) != length or zlib.crc32(blob) != crc:
        raise SpillError(f"dedup spill: {path} at {offset}: expected {length} bytes with crc32 {crc:08x}, "
                         f"found {len(blob)} bytes (crc32 {zlib.crc32(blob):08x})")
    return blob


class SpillReader:
    """Reads the spill files of ``folder`` back, each whole and in order."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def records(self, name: str) -> Iterator[tuple[bytes, Any]]:
        """Every record of the file ``name`` in the order written, each with its reference (what
        :meth:`SpillWriter.write` returned), checked whole; a cut or damaged file raises."""
        path = os.path.join(self.folder, name)
        file_id = bytes.fromhex(name)
        try:
            with open(path, "rb", buffering=_READ_BUFFER) as f:
                offset = 0
                while header := f.read(_HEADER.size):
                    if len(header) != _HEADER.size:
                        raise SpillError(f"dedup spill: {path} at {offset}: cut short in a record's header")
                    length, crc = _HEADER.unpack(header)
                    offset += _HEADER.size
                    blob = _checked(path, offset, length, crc, f.read(length))
                    yield _REF.pack(file_id, offset, length, crc), unpack(blob)
                    offset += length
        except OSError as e:
            raise SpillError(f"dedup spill: cannot read {path}: {e}") from e

"""Give the heap's free pages back to the operating system (glibc ``malloc_trim``; elsewhere a no-op).

A dedup join frees a whole shuffle buffer (every waiting document) just before the stage that
reads it starts, and tokenize frees each Parquet slice's buffers; glibc keeps those pages
mapped, so the process's resident size would carry them through every later stage. Trimming
once per bundle costs a few milliseconds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

__all__ = ["release_free_memory"]


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS, Windows)."""
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


def release_free_memory() -> bool:
    """Return the heap's free pages to the OS; True when the C library could (glibc)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True

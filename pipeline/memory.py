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

__all__ = ["ARROW_POOL_ENV", "fix_mmap_threshold", "release_free_memory"]

# Read by pyarrow when it is imported (switching pools later does not reach Parquet's C++ writers):
# Arrow's buffers then come from the C heap, managed as below, not from mimalloc, which keeps
# freed pages. Set for every CLI job (beam_runner.py) and the Dask runner's local workers; a
# user's own setting wins.
ARROW_POOL_ENV = {"ARROW_DEFAULT_MEMORY_POOL": "system"}


@functools.cache
def _libc_function(function: str):
    """glibc's ``function``, or None where the C library has none (musl, macOS, Windows)."""
    try:  # the process's own symbols, libc's among them: find_library would fork (ldconfig -p)
        found = getattr(ctypes.CDLL(None), function, None)
    except (OSError, TypeError):  # Windows: no handle for the process itself
        found = None
    if found is not None:
        return found
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), function, None) if name else None
    except OSError:
        return None


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def fix_mmap_threshold(nbytes: int = 1 << 20) -> bool:
    """Serve every allocation of ``nbytes`` or more from its own mapping, returned to the OS when freed;
    True when the C library could (glibc). By default glibc raises this threshold up to 32 MB after
    the first such free, and the large transient buffers after it (signature batches, the runner's
    data-plane messages) then fragment the heap, which keeps their pages."""
    mallopt = _libc_function("mallopt")
    return bool(mallopt and mallopt(_M_MMAP_THRESHOLD, nbytes))


def release_free_memory() -> bool:
    """Return the heap's free pages to the OS; True when the C library could (glibc)."""
    trim = _libc_function("malloc_trim")
    if trim is None:
        return False
    trim(0)
    return True

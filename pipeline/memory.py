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
import os

__all__ = ["ARROW_POOL_ENV", "M_ARENA_MAX", "M_MMAP_THRESHOLD", "M_TRIM_THRESHOLD", "fix_mmap_threshold", "is_glibc",
           "limit_malloc_arenas", "mallopt", "release_free_memory", "usable_cpus"]

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


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8  # glibc's mallopt parameters (malloc.h)


def is_glibc() -> bool:
    """Whether this process's C library is glibc (whose malloc the settings here tune)."""
    return _libc_function("gnu_get_libc_version") is not None


def mallopt(param: int, value: int) -> bool:
    """glibc's ``mallopt``; True when the C library has it and took the value."""
    function = _libc_function("mallopt")
    return bool(function and function(param, value))


def fix_mmap_threshold(nbytes: int = 1 << 20) -> bool:
    """Serve every allocation of ``nbytes`` or more from its own mapping, returned to the OS when freed;
    True when the C library could (glibc). By default glibc raises this threshold up to 32 MB after
    the first such free, and the large transient buffers after it (signature batches, the runner's
    data-plane messages) then fragment the heap, which keeps their pages."""
    return mallopt(M_MMAP_THRESHOLD, nbytes)


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity where the OS tells it), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def limit_malloc_arenas(count: int | None = None) -> bool:
    """Let glibc keep at most ``count`` malloc arenas (default: one per usable CPU), unless the user
    set ``MALLOC_ARENA_MAX``; True when applied. glibc makes up to eight per core, a new one whenever
    a thread meets a busy one, so a native thread pool (the tokenizer's, one thread per core)
    spreads its freed memory over many arenas that each keep it: 8 MB of the tokenize job's peak
    here. One per core keeps the pool free of contention (one arena for three threads made that
    job 2.5x slower). Arenas made before the call stay: call it before the pool starts."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    return mallopt(M_ARENA_MAX, count or usable_cpus())


def release_free_memory() -> bool:
    """Return the heap's free pages to the OS; True when the C library could (glibc)."""
    trim = _libc_function("malloc_trim")
    if trim is None:
        return False
    trim(0)
    return True

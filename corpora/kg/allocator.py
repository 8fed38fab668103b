"""glibc malloc settings for local runs, so freed shuffle buffers go back to the OS.

The local runner moves each stage's data as multi-megabyte byte strings between threads and
processes. With glibc's defaults, the mmap threshold rises to 32 MB after the first large
free, so such buffers are then carved from per-thread arenas and stay in the process once
freed: peak RSS reflects every buffer ever held, not what is held at once. A fixed 128 KB
threshold and two arenas keep RSS close to live memory (measured in ``bench/kg.py``), and
Arrow (the Parquet writer) allocates through the same malloc instead of keeping freed memory
in its own jemalloc pool. Worker processes read the settings from the environment when they
start; this process gets the malloc ones through ``mallopt`` while the job runs, and afterwards
the values glibc's own tuning would have reached (a fixed 128 KB threshold maps and zeroes every
larger allocation afresh: it made a torch training loop run later in the same process 1.5x
slower). Anything that is not glibc Linux is left as it is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from pipeline.memory import ARROW_POOL_ENV, M_ARENA_MAX, M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, is_glibc, mallopt

MMAP_THRESHOLD = 128 * 1024
ARENA_MAX = 2
ENV = {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD), "MALLOC_ARENA_MAX": str(ARENA_MAX),
       **ARROW_POOL_ENV}  # the Parquet writer's buffers through the same malloc
# After the job: where glibc's dynamic threshold ends up on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX), the trim
# threshold it pairs with it, and the default arena cap (8 per core).
AFTER = {M_MMAP_THRESHOLD: 32 * 1024 * 1024, M_TRIM_THRESHOLD: 64 * 1024 * 1024,
         M_ARENA_MAX: 8 * (os.cpu_count() or 1)}


def tune_this_process() -> bool:
    """Apply the settings to the running process (unless the user set MALLOC_* already); True if applied."""
    if any(k in os.environ for k in ENV if k.startswith("MALLOC_")):
        return False
    if not is_glibc():
        return False
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(M_ARENA_MAX, ARENA_MAX)


def untune_this_process() -> None:
    """Undo :func:`tune_this_process` for the work that follows in this process (see the module docstring)."""
    if is_glibc():
        for param, value in AFTER.items():
            mallopt(param, value)


@contextmanager
def local_allocator_settings() -> Iterator[dict[str, str]]:
    """While active, worker processes started from here inherit ``ENV`` (values the user set are
    kept); this process is tuned with ``mallopt``. Yields the variables it added."""
    added = {k: v for k, v in ENV.items() if k not in os.environ} if is_glibc() else {}
    tuned = tune_this_process()
    os.environ.update(added)
    try:
        yield added
    finally:
        for k in added:
            os.environ.pop(k, None)
        if tuned:
            untune_this_process()

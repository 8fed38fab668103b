"""Whether this process can fork a worker that will work: no running thread a fork would break.

A fork copies only the calling thread. A library whose threads were running keeps, in the child,
its record of threads that no longer exist: gRPC's (which an earlier local run leaves) hang the
child; GNU OpenMP's (torch's first multi-threaded operation starts them) hang a parallel region
run on the child's main thread; the ``tokenizers`` library turns its parallelism off in the child,
which then encodes on one thread. Threads that a library stops before a fork and starts again
when needed (OpenBLAS's, which numpy starts on import) or that only help a memory allocator
(jemalloc's, in pyarrow) are safe. Native threads carry no name of their own, so a fork is taken
for safe only when every thread besides the calling one is accounted for as one of those;
otherwise Beam starts its workers as new processes, as it does without forking (slower to
start, same results).
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

# Threads named by a library known to make them fork-safe (jemalloc's own atfork handlers).
FORK_SAFE_THREAD_NAMES = ("jemalloc_bg_thd",)
# Threads of libraries that hang in a forked child; named for a clear answer.
FORK_UNSAFE_THREAD_PREFIXES = ("grpc", "event_engine")
# OpenBLAS's symbols, as numpy's and scipy's builds name them (threadpoolctl's list).
_OPENBLAS_SYMBOL_FORMS = [(prefix, suffix) for prefix in ("", "scipy_") for suffix in ("", "64_")]
_OPENBLAS_PTHREADS = 1  # openblas_get_parallel(): 0 sequential, 1 its own pthreads, 2 OpenMP's


def fork_hazard() -> str | None:
    """Why a fork from this process now could leave the child hanging or crippled; None if it
    cannot (Linux only: elsewhere a fork is never taken for safe)."""
    if not sys.platform.startswith("linux"):
        return f"forking workers is only done on Linux (this is {sys.platform})"
    if threading.active_count() > 1:
        return f"{threading.active_count() - 1} Python thread(s) besides this one"
    try:
        others = [name for tid, name in _thread_names() if tid != threading.get_native_id()]
    except OSError as e:
        return f"the process's threads cannot be read ({e})"
    unsafe = sorted({n for n in others if n.startswith(FORK_UNSAFE_THREAD_PREFIXES)})
    if unsafe:
        return f"threads of a library that hangs after a fork: {', '.join(unsafe)}"
    unaccounted = [n for n in others if n not in FORK_SAFE_THREAD_NAMES]
    restarted = openblas_server_threads() if unaccounted else 0  # reads the process's maps: 3-5 ms
    if len(unaccounted) > restarted:
        return (f"{len(unaccounted) - restarted} native thread(s) of unknown origin (a thread pool such as "
                "torch's OpenMP or tokenizers' started in this process)")
    return None


def _thread_names() -> list[tuple[int, str]]:
    """(thread id, name) of every thread of this process, from /proc."""
    found = []
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/comm") as f:
            found.append((int(task), f.read().strip()))
    return found


def openblas_server_threads() -> int:
    """How many threads the OpenBLAS libraries loaded in this process keep (each its thread count
    less the calling thread, where it runs its own pthreads). OpenBLAS's own atfork handler stops
    them before a fork; each process starts them again when it next needs them."""
    total = 0
    for path in _loaded_libraries("openblas"):
        try:
            library = ctypes.CDLL(path, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
        except OSError:
            continue
        for prefix, suffix in _OPENBLAS_SYMBOL_FORMS:
            threads = getattr(library, f"{prefix}openblas_get_num_threads{suffix}", None)
            parallel = getattr(library, f"{prefix}openblas_get_parallel{suffix}", None)
            if threads is not None and parallel is not None:
                if parallel() == _OPENBLAS_PTHREADS:  # OpenMP's threads are OpenMP's: not restarted
                    total += max(threads() - 1, 0)
                break
    return total


def _loaded_libraries(part: str) -> list[str]:
    """Paths of the shared libraries mapped into this process whose file name contains ``part``."""
    found: set[str] = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and ".so" in fields[5] and part in os.path.basename(fields[5]).lower():
                found.add(fields[5].strip())
    return sorted(found)

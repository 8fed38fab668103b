"""pipeline.memory.limit_malloc_arenas: threads started after it share that many glibc arenas.

Each case runs in a fresh process: arenas, once made, stay for the life of a process.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_COUNT_ARENAS = """
import ctypes, sys, threading
from pipeline.memory import is_glibc, limit_malloc_arenas
if not is_glibc():
    print("skip"); sys.exit()
limit = int(sys.argv[1])
print(int(limit_malloc_arenas(limit)) if limit else 0)
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.fopen.restype = ctypes.c_void_p
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
start = threading.Barrier(6)
def allocate():  # each thread's first malloc takes an arena of its own while glibc may make one
    start.wait()
    libc.free(libc.malloc(4096))
threads = [threading.Thread(target=allocate) for _ in range(6)]
for t in threads: t.start()
for t in threads: t.join()
path = sys.argv[2]
f = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, f)
libc.fclose(f)
print(open(path).read().count("<heap nr="))
"""


def _arenas(limit: int, env: dict, folder: Path) -> tuple[int, int]:
    """(whether the limit was applied, glibc arenas after six threads allocated) in a fresh process."""
    info = str(folder / f"malloc-info-{limit}.xml")
    out = subprocess.run([sys.executable, "-c", _COUNT_ARENAS, str(limit), info], cwd=ROOT, capture_output=True,
                         text=True, check=True, env=env).stdout.split()
    if out == ["skip"]:
        pytest.skip("not glibc: no arenas to limit")
    applied, arenas = map(int, out)
    return applied, arenas


def test_threads_share_the_arenas_allowed(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    assert _arenas(0, env, tmp_path)[1] > 2  # glibc's own cap is eight per core: each thread got one
    assert _arenas(2, env, tmp_path) == (1, 2)


def test_a_users_malloc_arena_max_wins(tmp_path):
    env = {**os.environ, "MALLOC_ARENA_MAX": "3"}
    applied, arenas = _arenas(1, env, tmp_path)
    assert not applied and arenas == 3

"""Where glibc serves allocations from, seen from a fresh process (``mallinfo2().hblkhd``).

glibc's mmap threshold is process-wide, and a free chunk left in a test process's heap by earlier
tests would serve a large buffer whatever the threshold; so each probe runs in its own process.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_PREAMBLE = """
import ctypes, sys
from pipeline.memory import fix_mmap_threshold
mallinfo2 = getattr(ctypes.CDLL(None), "mallinfo2", None)
if mallinfo2 is None or not fix_mmap_threshold(32 << 20):
    print("skip"); sys.exit()
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                               "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
mallinfo2.restype = MallInfo2
mapped = lambda: mallinfo2().hblkhd  # bytes in chunks mapped on their own
"""


def probe(body: str) -> list[int]:
    """Run ``body`` after a preamble that sets glibc's highest threshold (32 MB) and defines
    ``mapped()``; returns the integers it prints. Skips where glibc lacks mallopt or mallinfo2."""
    out = subprocess.run([sys.executable, "-c", _PREAMBLE + body], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.split()
    if out == ["skip"]:
        pytest.skip("not glibc >= 2.33: no mallopt or mallinfo2")
    return [int(x) for x in out]

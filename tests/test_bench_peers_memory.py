"""bench/peers.py's measuring: peak RSS and, with ``pss``, peak PSS of a real process tree."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
peers = pytest.importorskip("peers")

# A parent that forks after filling 60 MB: the child shares those pages, so their PSS is split.
FORKED_TREE = """
import os, time
block = bytearray(60_000_000)
for at in range(0, len(block), 1 << 20):  # written in place: no second copy at the peak
    block[at:at + (1 << 20)] = os.urandom(len(block[at:at + (1 << 20)]))
pid = os.fork()
time.sleep(1.2)
if pid:
    os.waitpid(pid, 0)
"""


def test_pss_counts_shared_pages_once_where_rss_counts_them_per_process():
    run = peers.measure([sys.executable, "-c", FORKED_TREE], pss=True)
    assert not run.error
    assert run.procs == 2
    assert run.rss_max >= 60 and run.rss_tree >= 120  # each process's RSS holds the 60 MB
    assert 60 <= run.pss_tree < run.rss_tree - 40  # the whole tree holds it once
    assert run.pss_max <= run.pss_tree


def test_without_pss_nothing_is_sampled():
    run = peers.measure([sys.executable, "-c", "import os, time; x = os.urandom(30_000_000); time.sleep(0.5)"])
    assert not run.error and run.rss_max >= 30
    assert run.pss_max == 0 and run.pss_tree == 0

"""pipeline.fork_safety: a fork is refused once a thread pool that a fork breaks has started.

Each case runs in a fresh Python (the test process has threads of its own)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FRESH = """
import sys
import os
import numpy
from pipeline.fork_safety import fork_hazard, openblas_server_threads
print("before", fork_hazard(), openblas_server_threads(), len(os.listdir("/proc/self/task")) - 1)
{start_pool}
print("after", fork_hazard())
"""

TORCH_POOL = """
import torch
torch.set_num_threads(2)
a = torch.ones(400, 400)
float((a @ a).sum())
"""

TOKENIZERS_POOL = """
from tokenizers import Tokenizer, models, pre_tokenizers
t = Tokenizer(models.BPE())
t.pre_tokenizer = pre_tokenizers.ByteLevel()
t.encode_batch(["a few words"] * 64)
"""


def fresh_python(code: str, **env: str) -> subprocess.CompletedProcess:
    run_env = {**os.environ, "PYTHONPATH": ROOT, **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, env=run_env)


@pytest.mark.parametrize("pool", [TORCH_POOL, TOKENIZERS_POOL], ids=["torch-openmp", "tokenizers-rayon"])
def test_a_started_native_thread_pool_makes_a_fork_unsafe(pool):
    """Importing numpy (OpenBLAS starts its threads, which it stops before a fork) leaves a fork
    safe; torch's first multi-threaded operation (GNU OpenMP) or a tokenizers batch (rayon) makes
    it unsafe, with the reason."""
    done = fresh_python(FRESH.format(start_pool=pool), OPENBLAS_NUM_THREADS="2", RAYON_NUM_THREADS="2")
    assert done.returncode == 0, done.stderr
    before, after = done.stdout.splitlines()
    assert before.startswith("before None ")  # OpenBLAS's server threads are accounted for
    assert after.startswith("after ") and "native thread(s) of unknown origin" in after


@pytest.mark.parametrize("threads", ["1", str(min(os.cpu_count() or 1, 4))])
def test_openblas_threads_are_counted_from_the_library(threads):
    """The allowance is OpenBLAS's own thread count less one: exactly the threads that importing
    numpy started (none when it is given one thread)."""
    done = fresh_python(FRESH.format(start_pool=""), OPENBLAS_NUM_THREADS=threads)
    assert done.returncode == 0, done.stderr
    servers = int(threads) - 1
    assert done.stdout.splitlines()[0] == f"before None {servers} {servers}"


TOKENIZERS_THEN_JOB = """
import os
import sys
import apache_beam as beam
from tokenizers import Tokenizer, models, pre_tokenizers
from pipeline import beam_speedups
from pipeline.jobs import make_pipeline


def bpe():
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel()
    return tokenizer


def pool_threads_started(_):
    before = set(os.listdir("/proc/self/task"))  # thread ids: Beam's own threads may end meanwhile
    bpe().encode_batch(["a few words"] * 256)
    return len(set(os.listdir("/proc/self/task")) - before)


bpe().encode_batch(["a few words"] * 64)  # the driver's tokenizers thread pool is started
beam_speedups.fork_workers(2)
print("forked", len(beam_speedups._FORKED))
with make_pipeline(["--direct_running_mode=multi_processing", "--direct_num_workers=2"]) as p:
    _ = (p | beam.Create([0]) | beam.Map(pool_threads_started) | beam.Map(str)
         | beam.io.WriteToText(sys.argv[1], shard_name_template=""))
beam_speedups.release_workers()
"""


def test_a_driver_that_started_a_thread_pool_forks_no_worker(tmp_path):
    """A driver whose tokenizers thread pool ran (a script that trained a tokenizer, then builds
    shards) forks no worker: a worker forked from it would encode on one thread (the library turns
    its parallelism off in a process forked after the pool started). Beam starts its workers,
    and a worker's batch starts the pool's threads."""
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-c", TOKENIZERS_THEN_JOB, str(out)], capture_output=True, text=True,
                          timeout=240, env={**os.environ, "PYTHONPATH": ROOT, "RAYON_NUM_THREADS": "2"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["forked", "0"]
    assert int(out.read_text()) >= 2

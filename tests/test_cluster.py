"""Jobs on a real dask.distributed cluster: a scheduler and two worker processes on 127.0.0.1.

Each process is started from the command line in its own working directory (no Python state
shared with the test), and the jobs run through ``beam_runner.py ... --runner dask
--dask_address``. Their output must equal the local runner's: rows, rejects and stats.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from corpora.sample_web import write_sample

ROOT = Path(__file__).resolve().parents[1]
FILTERS = "gopher_repetition,gopher_quality,c4,fineweb,pii,exact_dedup,minhash_dedup"


def _start(args: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.Popen([sys.executable, "-m", *args], cwd=cwd, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            env=env, start_new_session=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The scheduler's address; the cluster is stopped when the module's tests are done."""
    base = tmp_path_factory.mktemp("cluster")
    sched_file = base / "scheduler.json"
    procs = []
    (base / "scheduler").mkdir()
    procs.append(_start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                         "--no-dashboard", "--scheduler-file", str(sched_file)], base / "scheduler", base / "scheduler.log"))
    for i in range(2):
        wd = base / f"worker{i}"
        wd.mkdir()
        procs.append(_start(["distributed.cli.dask_worker", "--scheduler-file", str(sched_file), "--nthreads", "1",
                             "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1", "--local-directory", str(wd)],
                            wd, base / f"worker{i}.log"))
    try:
        address = _wait_for_workers(sched_file, 2, procs)
        yield address
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def _wait_for_workers(sched_file: Path, n: int, procs: list[subprocess.Popen], timeout: float = 90) -> str:
    from distributed import Client

    deadline = time.monotonic() + timeout
    while not sched_file.exists():
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            pytest.fail("the dask scheduler did not start (see its log in the test's temporary folder)")
        time.sleep(0.2)
    address = json.loads(sched_file.read_text())["address"]
    with Client(address, timeout=30) as client:
        client.wait_for_workers(n, timeout=max(1.0, deadline - time.monotonic()))
    return address


def _rows(directory: Path, sub: str) -> list[dict]:
    rows = [r for f in sorted((directory / sub).glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "beam_runner.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


# Not marked slow: the default suite keeps one end-to-end run on the real cluster.
def test_web_job_on_the_cluster_equals_the_local_runner(cluster, tmp_path):
    """Relative input and output paths, given in a directory no worker runs in, still work; the
    corpus in a fixed number of files there (``--num-shards``: a shuffle of its rows) while the
    rejects and the dedup index are written one part per bundle; the input files, read in parts
    there (``--split-mb``), give the same output as read whole."""
    write_sample(str(tmp_path / "in"), pages=60, files=2)
    common = ["web", "--input", "in/*.warc.gz", "--filters", FILTERS, "--rejects"]
    local = _run(tmp_path, *common, "--output", "local")
    assert local.returncode == 0, local.stderr
    dask = _run(tmp_path, *common, "--output", "dask", "--runner", "dask", "--dask_address", cluster,
                "--num-shards", "3", "--split-mb", "0.02")  # each file read in parts on the cluster
    assert "parts of large files" in dask.stdout
    assert dask.returncode == 0, dask.stderr
    assert sorted(f.name for f in (tmp_path / "dask" / "data").iterdir()) == [
        f"part-0000{i}-of-00003.parquet" for i in range(3)]
    for sub in ("data", "rejects"):
        expected = _rows(tmp_path / "local", sub)
        assert expected, f"the local run wrote no {sub}"
        assert _rows(tmp_path / "dask", sub) == expected
    stats = [json.loads((tmp_path / d / "stats.json").read_text())["stages"] for d in ("local", "dask")]
    assert stats[0] == stats[1]
    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert manifest["outputs"]["rows"] == len(_rows(tmp_path / "dask", "data"))
    assert manifest["outputs"]["dedup_index"], "the dedup index (a branch no later step reads) was written"


def _wait_for_manifest(directory: Path, failure: str, timeout: float = 300) -> Path:
    """Poll until a submitted job writes ``directory/manifest.json`` (its last file); fail with ``failure``."""
    manifest = directory / "manifest.json"
    deadline = time.monotonic() + timeout
    while not manifest.exists():
        assert time.monotonic() < deadline, failure
        time.sleep(0.5)
    return manifest


@pytest.mark.slow
def test_no_wait_until_finish_returns_and_the_cluster_finishes_the_job(cluster, tmp_path):
    """The driver submits and exits; stats.json and manifest.json (last) are written by the job."""
    write_sample(str(tmp_path / "in"), pages=30, files=1)
    run = _run(tmp_path, "web", "--input", "in/*.warc.gz", "--output", "out", "--runner", "dask",
               "--dask_address", cluster, "--no_wait_until_finish")
    assert run.returncode == 0, run.stderr
    assert "submitted" in run.stdout
    manifest = _wait_for_manifest(tmp_path / "out", "the cluster did not finish the submitted job")
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["accounting_ok"] and stats["stages"][-1]["out"] > 0
    assert json.loads(manifest.read_text())["outputs"]["rows"] == len(_rows(tmp_path / "out", "data"))


def test_unknown_dask_flag_is_refused_but_beams_own_are_known(tmp_path):
    """Beam's --dask_client_address and ours are options, a typo is not (before any work)."""
    from pipeline.jobs import UsageError, check_beam_args

    assert check_beam_args(["--runner", "dask", "--dask_address", "127.0.0.1:1"])
    assert check_beam_args(["--runner", "DaskRunner", "--dask_client_address", "127.0.0.1:1"])
    with pytest.raises(UsageError, match="--dask_adress"):
        check_beam_args(["--runner", "dask", "--dask_adress", "127.0.0.1:1"])


def _shard_digests(directory: Path) -> dict[str, str]:
    import hashlib

    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.suffix in (".bin", ".idx")}


@pytest.mark.slow
def test_tokenize_job_on_the_cluster_writes_the_local_runners_shards(cluster, tmp_path):
    """Byte-identical Megatron shards and the same stats, with relative paths."""
    write_sample(str(tmp_path / "in"), pages=40, files=1)
    web = _run(tmp_path, "web", "--input", "in/*.warc.gz", "--output", "corpus", "--direct_num_workers=1")
    assert web.returncode == 0, web.stderr
    train = subprocess.run([sys.executable, "-m", "tokenizer", "train", "--input", "corpus", "--output", "tok",
                            "--model", "bpe", "--vocab-size", "600", "--quiet"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=300)
    assert train.returncode == 0, train.stderr
    common = ["tokenize", "--input", "corpus", "--tokenizer", "tok", "--shard-tokens", "3000", "--val-fraction", "0.2"]
    local = _run(tmp_path, *common, "--output", "local")
    assert local.returncode == 0, local.stderr
    dask = _run(tmp_path, *common, "--output", "dask", "--runner", "dask", "--dask_address", cluster)
    assert dask.returncode == 0, dask.stderr
    expected = _shard_digests(tmp_path / "local")
    assert len(expected) >= 4, "expected several train and val shards"
    assert _shard_digests(tmp_path / "dask") == expected
    stats = [json.loads((tmp_path / d / "stats.json").read_text())["stages"] for d in ("local", "dask")]
    assert stats[0] == stats[1]


# --- doc2query and SOCIAL-CHEM on the cluster -----------------------------------------------------
# The local run is in this process (one in-memory worker), the cluster run a fresh driver process;
# both from the test's folder with relative paths.

LOCAL_ONE_WORKER = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]


def _run_both(cluster: str, cwd: Path, monkeypatch, *args: str, dask_args: tuple[str, ...] = ()) -> None:
    """``args`` with ``--output local`` in-process on the local runner, then with ``--output dask``
    (and ``dask_args``) on the cluster; both must succeed."""
    import beam_runner

    monkeypatch.chdir(cwd)
    assert beam_runner.main([*args, "--output", "local", *LOCAL_ONE_WORKER]) in (0, None)
    dask = _run(cwd, *args, "--output", "dask", "--runner", "dask", "--dask_address", cluster, *dask_args)
    assert dask.returncode == 0, dask.stderr


def _lines(directory: Path, pattern: str) -> list[str]:
    return sorted(line for f in sorted(directory.glob(pattern)) for line in f.read_text().splitlines())


def _same_stats(cwd: Path) -> dict:
    stats = [json.loads((cwd / d / "stats.json").read_text()) for d in ("local", "dask")]
    assert stats[0]["stages"] == stats[1]["stages"] and stats[0]["accounting_ok"]
    return stats[1]


def test_web_dedup_against_an_earlier_build_on_the_cluster_equals_the_local_runner(cluster, tmp_path, monkeypatch):
    """--dedup-against: the earlier build's saved dedup indexes are read by the workers and joined
    with the new pages; the same rows, rejects and stats as the local runner, and pages the earlier
    build has are dropped as such. Its shuffles go through files in a folder the workers share."""
    import beam_runner

    write_sample(str(tmp_path / "old"), pages=30, files=1)
    write_sample(str(tmp_path / "in"), pages=40, files=2)
    monkeypatch.chdir(tmp_path)
    assert beam_runner.main(["web", "--input", "old/*.warc.gz", "--filters", "exact_dedup,minhash_dedup",
                             "--output", "earlier", *LOCAL_ONE_WORKER]) in (0, None)
    _run_both(cluster, tmp_path, monkeypatch, "web", "--input", "in/*.warc.gz", "--filters",
              "exact_dedup,minhash_dedup", "--dedup-against", "earlier", "--rejects",
              dask_args=("--dask_shuffle_dir", "shuffle"))
    assert list((tmp_path / "shuffle").iterdir()) == []  # the job's folder went when it ended
    for sub in ("data", "rejects"):
        expected = _rows(tmp_path / "local", sub)
        assert expected, f"the local run wrote no {sub}"
        assert _rows(tmp_path / "dask", sub) == expected
    stats = _same_stats(tmp_path)
    dropped = {reason for st in stats["stages"] for reason in st.get("dropped") or {}}
    assert {"exact_duplicate_of_previous_build", "near_duplicate_of_previous_build"} & dropped, dropped


@pytest.mark.slow
def test_doc2query_pairs_on_the_cluster_equals_the_local_runner(cluster, tmp_path, monkeypatch):
    """MS MARCO-format files (bad lines, an unjudged passage, a held-out fraction, rejects)."""
    (tmp_path / "collection.tsv").write_text("".join(f"{i}\tpassage {i} about topic {i % 7}.\n" for i in range(40))
                                             + "no tab line\n")
    (tmp_path / "queries.tsv").write_text("".join(f"q{i}\twhat is topic {i}\n" for i in range(30)) + "bad\n")
    (tmp_path / "qrels.tsv").write_text("".join(f"q{i}\t0\t{i}\t1\n" for i in range(30)) + "q1\t0\t99\t1\n")
    _run_both(cluster, tmp_path, monkeypatch, "doc2query-pairs", "--collection", "collection.tsv", "--queries",
              "queries.tsv", "--qrels", "qrels.tsv", "--heldout-fraction", "0.3", "--rejects")
    for pattern in ("pairs/*.jsonl", "heldout/*.jsonl", "heldout/*.tsv"):
        expected = _lines(tmp_path / "local", pattern)
        assert expected, f"the local run wrote no {pattern}"
        assert _lines(tmp_path / "dask", pattern) == expected
    assert _rows(tmp_path / "dask", "rejects") == _rows(tmp_path / "local", "rejects")
    report = _same_stats(tmp_path)
    assert report["files"]["pairs"] + report["files"]["heldout"] == 30
    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert manifest["outputs"]["rows"] == sum(report["files"][k] for k in report["files"] if k != "rejects")


@pytest.mark.slow
def test_doc2query_expansion_on_the_cluster_equals_the_local_runner(cluster, tmp_path, monkeypatch):
    """Line-aligned precomputed queries (zipped on the driver into a staged file the workers read,
    removed by the job's last step) and the Anserini files listed in the manifest."""
    (tmp_path / "collection.tsv").write_text("".join(f"{i}\tpassage number {i}.\n" for i in range(25)) + "bad\n")
    (tmp_path / "s0.txt").write_text("".join(f"query {i} a\n" for i in range(26)))
    (tmp_path / "s1.txt").write_text("".join(f"query {i} b\n" for i in range(26)))
    _run_both(cluster, tmp_path, monkeypatch, "doc2query", "--collection", "collection.tsv",
              "--generator", "precomputed:s0.txt,s1.txt", "--anserini", "--rejects")
    expected = _rows(tmp_path / "local", "data")
    assert len(expected) == 25
    assert _rows(tmp_path / "dask", "data") == expected
    assert _lines(tmp_path / "dask", "anserini/*.jsonl") == _lines(tmp_path / "local", "anserini/*.jsonl")
    _same_stats(tmp_path)
    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert sum(f["rows"] for f in manifest["outputs"]["anserini"]) == 25
    assert not (tmp_path / "dask" / ".staged").exists() and not (tmp_path / "local" / ".staged").exists()


@pytest.mark.slow
def test_socialchem_situations_on_the_cluster_equals_the_local_runner(cluster, tmp_path, monkeypatch):
    """situations.jsonl and .tsv byte for byte (id order, joined from sorted parts), the same rejects."""
    from tests.test_socialchem_job import forum_corpus

    forum_corpus(tmp_path / "web")
    _run_both(cluster, tmp_path, monkeypatch, "socialchem", "situations", "--input", "web", "--rejects")
    for name in ("situations.jsonl", "situations.tsv"):
        expected = (tmp_path / "local" / name).read_bytes()
        assert expected.count(b"\n") >= 20
        assert (tmp_path / "dask" / name).read_bytes() == expected
    assert _rows(tmp_path / "dask", "rejects") == _rows(tmp_path / "local", "rejects")
    report = _same_stats(tmp_path)
    assert report["situations"] == sum(report["by_area"].values()) == 20
    assert not (tmp_path / "dask" / ".parts").exists()
    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert manifest["outputs"]["rejects"] and all(f["path"].startswith("rejects/part-")
                                                  for f in manifest["outputs"]["rejects"])


@pytest.mark.slow
def test_socialchem_render_on_the_cluster_equals_the_local_runner(cluster, tmp_path, monkeypatch):
    from corpora.socialchem.split import split_rows
    from tests.socialchem_rows import generated_rows, write_tsv

    path = write_tsv(tmp_path / "set.tsv", split_rows(generated_rows(10, rots_per=2, seed=3), seed=0).rows)
    with open(path, "a", encoding="utf-8") as f:
        f.write("broken\trow\n")
    _run_both(cluster, tmp_path, monkeypatch, "socialchem", "render", "--input", "set.tsv", "--splits", "all",
              "--rejects")
    expected = _rows(tmp_path / "local", "data")
    assert len(expected) > 20
    assert _rows(tmp_path / "dask", "data") == expected
    assert _rows(tmp_path / "dask", "rejects") == _rows(tmp_path / "local", "rejects")
    _same_stats(tmp_path)


# --- kg and kg-align on the cluster ----------------------------------------------------------------

KG_SAMPLE = ROOT / "corpora" / "samples" / "kg"


@pytest.mark.slow
def test_kg_on_the_cluster_equals_the_local_runner_and_finishes_when_submitted(cluster, tmp_path, monkeypatch):
    """The shipped sample with its labels (relative paths): the same rows, rejects, kelm.jsonl lines
    and stats; the cluster run is only submitted (--no_wait_until_finish), and the job itself writes
    kelm.jsonl, stats.json and the manifest (last, listing kelm.jsonl) and removes its parts."""
    import beam_runner

    for name in ("sample.nt", "labels.tsv"):
        (tmp_path / name).write_bytes((KG_SAMPLE / name).read_bytes())
    args = ["kg", "--input", "sample.nt", "--labels", "labels.tsv", "--rejects"]
    monkeypatch.chdir(tmp_path)
    assert beam_runner.main([*args, "--output", "local", *LOCAL_ONE_WORKER]) == 0
    dask = _run(tmp_path, *args, "--output", "dask", "--runner", "dask", "--dask_address", cluster,
                "--no_wait_until_finish")
    assert dask.returncode == 0, dask.stderr
    assert "submitted" in dask.stdout
    manifest = _wait_for_manifest(tmp_path / "dask", "the cluster did not finish the submitted kg job")
    for sub in ("data", "rejects"):
        expected = _rows(tmp_path / "local", sub)
        assert expected, f"the local run wrote no {sub}"
        assert _rows(tmp_path / "dask", sub) == expected
    kelm = _lines(tmp_path / "local", "kelm.jsonl")
    assert len(kelm) == 32
    assert _lines(tmp_path / "dask", "kelm.jsonl") == kelm
    _same_stats(tmp_path)
    listed = json.loads(manifest.read_text())["outputs"]["kelm"]
    assert [(f["path"], f["rows"]) for f in listed] == [("kelm.jsonl", 32)]
    assert not (tmp_path / "dask" / ".kelm-parts").exists()


@pytest.mark.slow
def test_kg_align_on_the_cluster_equals_the_local_runner(cluster, tmp_path, monkeypatch):
    """Pairs from a small corpus against the shipped sample graph (relative paths), shuffled through files."""
    from tests.test_kg_align import write_web_corpus

    texts = ["Douglas Adams was born in Cambridge on 11 March 1952. He was a writer.",
             "In 1903 Marie Curie received the Nobel Prize in Physics, with Pierre Curie.",
             "Alan Turing studied at Princeton University. Paris is the capital of France."]
    write_web_corpus(tmp_path / "web", texts)
    (tmp_path / "sample.nt").write_bytes((KG_SAMPLE / "sample.nt").read_bytes())
    _run_both(cluster, tmp_path, monkeypatch, "kg-align", "--triples", "sample.nt", "--input", "web",
              dask_args=("--dask_shuffle_dir", str(tmp_path / "shuffle")))
    pairs = _lines(tmp_path / "local", "pairs.jsonl")
    assert len(pairs) >= 3
    assert _lines(tmp_path / "dask", "pairs.jsonl") == pairs
    _same_stats(tmp_path)
    listed = json.loads((tmp_path / "dask" / "manifest.json").read_text())["outputs"]["data"]
    assert [(f["path"], f["rows"]) for f in listed] == [("pairs.jsonl", len(pairs))]
    assert not (tmp_path / "dask" / ".pairs-parts").exists()

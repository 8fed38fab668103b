"""Outputs on an object store, where a folder is only a prefix of object names: Beam's S3 filesystem
over its own in-memory fake client (no network). An --overwrite must leave none of the earlier
run's files beside the new ones, and an earlier run's files alone must be seen."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from apache_beam.io.aws import s3io
from apache_beam.io.aws.clients.s3.fake_client import FakeS3Client
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from corpora.kg.job import KgConfig, run_kg
from corpora.sample_web import write_sample
from corpora.tokenize import TokenizeConfig, prepare_shard_output, run_tokenize
from corpora.web import WebConfig, run_web
from pipeline import beam_io
from pipeline.errors import UsageError
from pipeline.jobs import prepare_output
from tests.test_tokenize_job import write_corpus
from tests.warc_factory import EN

ROOT = Path(__file__).resolve().parents[1]
IN_PROCESS = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]  # the fake store is this process's


@pytest.fixture
def s3(monkeypatch):
    """Every S3 call of this process goes to one in-memory fake bucket store."""
    client = FakeS3Client()
    init = s3io.S3IO.__init__
    monkeypatch.setattr(s3io.S3IO, "__init__", lambda self, client_=None, options=None: init(self, client=client))
    return client


def _put(path: str, data: bytes = b"x") -> None:
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:  # .gz as stored
        f.write(data)


def _objects(prefix: str) -> list[str]:
    return sorted(p for p, _ in beam_io.match_files(beam_io.join(prefix, "**")))


def test_a_folder_is_seen_and_removed_by_its_objects(s3):
    _put("s3://b/out/data/part-00000-of-00002.parquet")
    _put("s3://b/out/data/sub/part.parquet")
    _put("s3://b/out/manifest.json")
    assert not FileSystems.exists("s3://b/out/data")  # Beam sees no object by the folder's name
    assert beam_io.exists("s3://b/out/data") and beam_io.exists("s3://b/out/manifest.json")
    assert not beam_io.exists("s3://b/out/nothing")
    beam_io.delete_tree("s3://b/out/data")
    assert _objects("s3://b/out") == ["s3://b/out/manifest.json"]
    beam_io.delete_tree("s3://b/out/manifest.json")
    assert _objects("s3://b/out") == []


def _web(tmp_path, num_shards: int) -> WebConfig:
    return WebConfig(inputs=[str(tmp_path / "in" / "*.warc.gz")], output="s3://b/corpus", langs="en",
                     num_shards=num_shards)


def test_a_corpus_overwritten_on_an_object_store_keeps_only_the_new_files(s3, tmp_path):
    write_sample(str(tmp_path / "in"), pages=30, files=2)
    first = run_web(_web(tmp_path, 3), IN_PROCESS, quiet=True)
    assert [p.rsplit("/", 1)[1] for p in _objects("s3://b/corpus/data")] == [
        f"part-0000{i}-of-00003.parquet" for i in range(3)]
    with pytest.raises(UsageError, match="finished corpus"):
        run_web(_web(tmp_path, 2), IN_PROCESS, quiet=True)
    again = run_web(_web(tmp_path, 2), IN_PROCESS, overwrite=True, quiet=True)
    assert again["stages"] == first["stages"]
    data = _objects("s3://b/corpus/data")
    assert [p.rsplit("/", 1)[1] for p in data] == [f"part-0000{i}-of-00002.parquet" for i in range(2)]
    manifest = json.loads(FileSystems.open("s3://b/corpus/manifest.json").read())
    assert sorted(f"s3://b/corpus/{f['path']}" for f in manifest["outputs"]["data"]) == data
    rows = 0
    for path in data:
        with FileSystems.open(path) as f:
            rows += pq.ParquetFile(f).metadata.num_rows
    assert rows == manifest["outputs"]["rows"] == again["stages"][-1]["out"]


def test_an_earlier_runs_files_alone_are_refused_then_cleared(s3):
    _put("s3://b/corpus/data/part-00000-of-00001.parquet")  # a run that died before its manifest
    with pytest.raises(UsageError, match="unfinished earlier run"):
        prepare_output("s3://b/corpus", overwrite=False)
    prepare_output("s3://b/corpus", overwrite=True)
    assert _objects("s3://b/corpus") == []
    _put("s3://b/shards/web/train-00000-of-00001.bin")  # token shards: the folder holds only a prefix
    with pytest.raises(UsageError, match="unfinished earlier run"):
        prepare_shard_output("s3://b/shards", overwrite=False)
    prepare_shard_output("s3://b/shards", overwrite=True)
    assert _objects("s3://b/shards") == []


def test_token_shards_on_an_object_store_equal_the_local_ones(s3, tmp_path):
    """The tokenize job with its output on the store: pieces and the staged tokenizer there, read
    back by the shard writer, then removed; the shards byte for byte the local run's."""
    corpus = write_corpus(tmp_path / "web", "web", [" ".join(EN[i % len(EN):] + EN[:i % 3]) for i in range(60)])
    tok = tmp_path / "tok"
    subprocess.run([sys.executable, "-m", "tokenizer", "train", "--input", str(corpus), "--output", str(tok),
                    "--model", "bpe", "--vocab-size", "400"], cwd=ROOT, check=True,
                   capture_output=True)
    config = lambda out: TokenizeConfig([str(corpus)], str(tok), out, shard_tokens=2000, val_fraction=0.1, seed=0)  # noqa: E731
    local = run_tokenize(config(str(tmp_path / "shards")), IN_PROCESS, quiet=True)
    remote = run_tokenize(config("s3://b/shards"), IN_PROCESS, quiet=True)
    assert remote["stages"] == local["stages"]
    stored = _objects("s3://b/shards")
    assert not [p for p in stored if "/.pieces/" in p]  # pieces and the staged tokenizer gone
    expected = sorted(p.relative_to(tmp_path / "shards").as_posix() for p in (tmp_path / "shards").rglob("*.bin"))
    assert expected and sorted(p[len("s3://b/shards/"):] for p in stored if p.endswith(".bin")) == expected
    for rel in expected:
        with FileSystems.open(f"s3://b/shards/{rel}") as f:
            assert f.read() == (tmp_path / "shards" / rel).read_bytes(), rel


def test_web_input_on_an_object_store_reads_as_the_local_files(s3, tmp_path):
    write_sample(str(tmp_path / "in"), pages=30, files=2)
    for path in sorted((tmp_path / "in").iterdir()):
        _put(f"s3://b/in/{path.name}", path.read_bytes())
    local = run_web(WebConfig(inputs=[str(tmp_path / "in" / "*.warc.gz")], output=str(tmp_path / "local")),
                    IN_PROCESS, quiet=True)
    remote = run_web(WebConfig(inputs=["s3://b/in/*.warc.gz"], output=str(tmp_path / "remote")), IN_PROCESS,
                     quiet=True)
    assert remote["stages"] == local["stages"] and remote["accounting_ok"]
    rows = lambda d: sorted(r["id"] for f in (tmp_path / d / "data").glob("*.parquet")  # noqa: E731
                            for r in pq.read_table(f, columns=["id"]).to_pylist())
    assert rows("remote") == rows("local") and rows("local")


def test_a_kg_build_on_an_object_store_equals_the_local_one(s3, tmp_path):
    """Its per-bundle parts concatenated into kelm.jsonl there, the parts' folder removed; run again
    with --overwrite, the same files and nothing else."""
    sample = str(ROOT / "corpora" / "samples" / "kg" / "sample.nt")
    local = run_kg(KgConfig(triples=[sample], output=str(tmp_path / "kg")), IN_PROCESS, quiet=True)
    remote = run_kg(KgConfig(triples=[sample], output="s3://b/kg"), IN_PROCESS, quiet=True)
    assert remote["stages"] == local["stages"]
    first = _objects("s3://b/kg")
    assert [p[len("s3://b/kg/"):] for p in first] == ["data/part-00000-of-00001.parquet", "kelm.jsonl",
                                                       "manifest.json", "stats.json"]
    with FileSystems.open("s3://b/kg/kelm.jsonl") as f:
        assert f.read() == (tmp_path / "kg" / "kelm.jsonl").read_bytes()
    run_kg(KgConfig(triples=[sample], output="s3://b/kg"), IN_PROCESS, overwrite=True, quiet=True)
    assert _objects("s3://b/kg") == first

"""Outputs on an object store, where a folder is only a prefix of object names: Beam's S3 filesystem
over its own in-memory fake client (no network). An --overwrite must leave none of the earlier
run's files beside the new ones, and an earlier run's files alone must be seen."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from apache_beam.io.aws import s3io
from apache_beam.io.aws.clients.s3.fake_client import FakeS3Client
from apache_beam.io.filesystems import FileSystems

from corpora.sample_web import write_sample
from corpora.tokenize import prepare_shard_output
from corpora.web import WebConfig, run_web
from pipeline import beam_io
from pipeline.errors import UsageError
from pipeline.jobs import prepare_output

IN_PROCESS = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]  # the fake store is this process's


@pytest.fixture
def s3(monkeypatch):
    """Every S3 call of this process goes to one in-memory fake bucket store."""
    client = FakeS3Client()
    init = s3io.S3IO.__init__
    monkeypatch.setattr(s3io.S3IO, "__init__", lambda self, client_=None, options=None: init(self, client=client))
    return client


def _put(path: str, data: bytes = b"x") -> None:
    with FileSystems.create(path) as f:
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

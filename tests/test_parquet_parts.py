"""Parquet output in parts: each part hashed as written, all named together at commit (pipeline.parquet_parts),
and the Beam transform that writes them (WriteParquet)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.beam_steps import WriteParquet
from pipeline.jobs import make_pipeline
from pipeline.parquet_parts import PartsTarget, PartWriter, commit_parts
from pipeline.row_groups import RowGroup

SCHEMA = pa.schema([pa.field("id", pa.string()), pa.field("n", pa.int64())])


def _part(target: PartsTarget, ids: list[str]) -> dict:
    writer = PartWriter(target)
    writer.write(RowGroup(pa.table({"id": ids, "n": list(range(len(ids)))}, schema=SCHEMA)))
    return writer.close()


def test_a_part_is_described_from_the_bytes_written(tmp_path):
    target = PartsTarget.new(str(tmp_path / "data" / "part"), SCHEMA)
    part = _part(target, ["a", "b", "c"])
    on_disk = Path(part["temp"]).read_bytes()
    assert Path(part["temp"]).parent == Path(target.temp_dir)
    assert part["rows"] == 3 and part["bytes"] == len(on_disk)
    assert part["sha256"] == hashlib.sha256(on_disk).hexdigest()
    assert PartWriter(target).close() is None  # nothing written: no part


def test_commit_names_every_part_and_clears_the_temporary_folder(tmp_path):
    target = PartsTarget.new(str(tmp_path / "data" / "part"), SCHEMA)
    parts = [_part(target, ["a"]), _part(target, ["b", "c"])]
    (Path(target.temp_dir) / "left-by-a-failed-attempt.parquet").write_bytes(b"half")
    described = commit_parts(target, parts, relative_to=str(tmp_path))
    names = sorted(p.name for p in (tmp_path / "data").iterdir())
    assert names == ["part-00000-of-00002.parquet", "part-00001-of-00002.parquet"]  # no temporary folder left
    assert sorted(d["path"] for d in described) == [f"data/{n}" for n in names]
    for d in described:
        path = tmp_path / d["path"]
        assert pq.ParquetFile(path).metadata.num_rows == d["rows"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == d["sha256"]
    assert sorted(i for d in described for i in pq.read_table(tmp_path / d["path"])["id"].to_pylist()) == ["a", "b", "c"]


@pytest.mark.parametrize("min_parts, written", [(1, 0), (3, 2)])
def test_commit_adds_empty_readable_parts_up_to_the_minimum(tmp_path, min_parts, written):
    target = PartsTarget.new(str(tmp_path / "part"), SCHEMA, min_parts=min_parts)
    described = commit_parts(target, [_part(target, [f"r{i}"]) for i in range(written)])
    assert len(described) == min_parts
    tables = [pq.read_table(d["path"]) for d in described]
    assert all(t.schema.equals(SCHEMA) for t in tables)
    assert sorted(t.num_rows for t in tables) == [0] * (min_parts - written) + [1] * written


def test_a_commit_run_again_after_failing_part_way_finishes(tmp_path):
    target = PartsTarget.new(str(tmp_path / "part"), SCHEMA)
    parts = sorted([_part(target, ["a"]), _part(target, ["b"])], key=lambda p: p["temp"])  # the commit's order
    first = pq.read_table(parts[0]["temp"])["id"].to_pylist()
    Path(parts[0]["temp"]).rename(target.final_name(0, 2))  # the first rename done, then the step failed
    described = commit_parts(target, parts)
    assert [d["path"] for d in described] == [target.final_name(0, 2), target.final_name(1, 2)]
    assert pq.read_table(described[0]["path"])["id"].to_pylist() == first
    assert sorted(pq.read_table(d["path"])["id"].to_pylist()[0] for d in described) == ["a", "b"]
    assert not Path(target.temp_dir).exists()


def _write(tmp_path, rows: list[dict], **kwargs) -> list[dict]:
    out = tmp_path / "out"
    with make_pipeline(["--direct_num_workers=2", "--direct_running_mode=multi_processing"]) as p:
        described = (p | beam.Create(rows) | WriteParquet(str(out / "data" / "part"), SCHEMA, 1 << 20,
                                                          relative_to=str(out), **kwargs))
        listed = described | beam.combiners.ToList()
        _ = listed | beam.Map(lambda entries, path: Path(path).write_text(json.dumps(entries)),
                              str(tmp_path / "entries.json"))
    return json.loads((tmp_path / "entries.json").read_text())


@pytest.mark.parametrize("num_shards", [0, 3])
def test_write_parquet_writes_every_row_once_and_lists_each_file(tmp_path, num_shards):
    rows = [{"id": f"d{i}", "n": i} for i in range(500)]
    entries = _write(tmp_path, rows, num_shards=num_shards)
    files = sorted((tmp_path / "out" / "data").iterdir())
    assert sorted(e["path"] for e in entries) == [f"data/{f.name}" for f in files]
    assert all(f.name.endswith(f"-of-{len(files):05d}.parquet") for f in files)
    if num_shards:
        assert len(files) == num_shards
    assert sorted(r for f in files for r in pq.read_table(f)["n"].to_pylist()) == list(range(500))
    assert sum(e["rows"] for e in entries) == 500


def test_write_parquet_of_nothing_leaves_one_empty_file(tmp_path):
    entries = _write(tmp_path, [])
    assert [e["rows"] for e in entries] == [0]
    assert pq.read_table(tmp_path / "out" / entries[0]["path"]).schema.equals(SCHEMA)

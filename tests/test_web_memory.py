"""The corpus writer's memory-lean pieces: row groups handed over once (pipeline.row_groups), Parquet
files identical to Beam's WriteToParquet, and the Arrow pool the CLI chooses."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.io.parquetio import _RowDictionariesToArrowTable
from apache_beam.transforms.window import GlobalWindow

from pipeline.beam_steps import WriteParquet
from pipeline.jobs import make_pipeline
from pipeline.row_groups import RowGroup, RowGroupBuilder
from pipeline.schema import CORPUS_SCHEMA
from tests.mallinfo import probe

ROOT = Path(__file__).resolve().parents[1]


def _rows(n: int) -> list[dict]:
    """Corpus rows of varied sizes; every third has no url (a nullable field left out)."""
    rows = []
    for i in range(n):
        row = {"id": f"d{i}", "text": "wörd " * (1 + i * 37 % 400), "source": "web", "lang": "en",
               "lang_score": 0.5 + i % 5 / 10, "meta": "{}"}
        if i % 3:
            row["url"] = f"https://example.com/{i}"
        rows.append(row)
    return rows


def _beam_tables(rows: list[dict], row_group_bytes: int, batch: int) -> list[pa.Table]:
    """What Beam's own converter (WriteToParquet's) makes of ``rows``, table by table."""
    convert = _RowDictionariesToArrowTable(CORPUS_SCHEMA, row_group_bytes, batch)
    tables = [t for row in rows for t in convert.process(row, w=GlobalWindow())]
    return tables + [wv.value for wv in convert.finish_bundle()]


@pytest.mark.parametrize("row_group_bytes,batch", [(20_000, 7), (1 << 30, 1000), (1, 1)])
def test_builder_makes_beams_row_groups(row_group_bytes, batch):
    rows = _rows(120)
    builder = RowGroupBuilder(CORPUS_SCHEMA, row_group_bytes, batch)
    groups = [g for row in rows for g in builder.add(row)] + list(builder.finish())
    ours = [g.take() for g in groups]
    theirs = _beam_tables(rows, row_group_bytes, batch)
    assert [t.num_rows for t in ours] == [t.num_rows for t in theirs]
    assert [t.column("url").null_count for t in ours] == [t.column("url").null_count for t in theirs]
    assert all(a.equals(b) for a, b in zip(ours, theirs, strict=True))
    assert sum(t.num_rows for t in ours) == len(rows)


def test_a_missing_required_field_is_an_error_not_a_null():
    builder = RowGroupBuilder(CORPUS_SCHEMA, 1 << 20)
    row = _rows(1)[0]
    del row["text"]
    with pytest.raises(KeyError, match="text"):
        list(builder.add(row))


def test_row_group_is_handed_over_once():
    table = pa.table({"x": [1, 2, 3]})
    group = RowGroup(table)
    again = pickle.loads(pickle.dumps(group))  # crossing a process: travels as its table
    assert group.rows == 3 and group.take() is table
    with pytest.raises(RuntimeError, match="already written"):
        group.take()
    with pytest.raises(RuntimeError, match="already written"):
        pickle.dumps(group)
    assert again.take().equals(table)


def _write(rows, prefix, transform) -> list[str]:
    with make_pipeline([]) as p:
        _ = p | beam.Create(rows, reshuffle=False) | transform(prefix)
    return sorted(str(f) for f in Path(prefix).parent.glob("*.parquet"))


def test_write_parquet_files_are_beams_byte_for_byte(tmp_path):
    """Same rows, one shard: the same bytes as Beam's WriteToParquet (row groups, footer, codec)."""
    rows = _rows(1001)  # Beam's batch of 1000 rows (over 50 kB: a row group), then one row
    ours = _write(rows, str(tmp_path / "ours" / "part"),
                  lambda prefix: WriteParquet(prefix, CORPUS_SCHEMA, 50_000, num_shards=1))
    theirs = _write(rows, str(tmp_path / "beam" / "part"), lambda prefix: beam.io.WriteToParquet(
        prefix, CORPUS_SCHEMA, codec="zstd", file_name_suffix=".parquet", num_shards=1,
        shard_name_template="-SSSSS-of-NNNNN", row_group_buffer_size=50_000))
    assert [Path(f).name for f in ours] == ["part-00000-of-00001.parquet"] == [Path(f).name for f in theirs]
    assert pq.ParquetFile(ours[0]).metadata.num_row_groups == 2
    assert Path(ours[0]).read_bytes() == Path(theirs[0]).read_bytes()


def test_the_cli_gives_arrow_the_system_allocator():
    """beam_runner picks Arrow's pool before pyarrow is imported (its import fixes the pool; the lean
    Beam import imports it); a user's own ARROW_DEFAULT_MEMORY_POOL is kept."""
    code = ("import beam_runner\n"
            "try:\n    beam_runner.main(['web', '--no-such-flag'])\nexcept SystemExit:\n    pass\n"
            "import pyarrow as pa\nprint(pa.default_memory_pool().backend_name)")
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    run = lambda env: subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,  # noqa: E731
                                     text=True, check=True).stdout.split()[-1]
    assert run(env) == "system"
    if "jemalloc" in pa.supported_memory_backends():
        assert run({**env, "ARROW_DEFAULT_MEMORY_POOL": "jemalloc"}) == "jemalloc"


def test_the_writer_gives_freed_arrow_buffers_back():
    """The corpus writer's setup has glibc map each buffer of 1 MB or more on its own (a batch's text,
    an encoded page), so freeing it returns its pages instead of leaving a hole in the heap."""
    own, left = probe(
        "import pyarrow as pa\n"
        "from pipeline.beam_steps import _WritePartsDoFn\n"
        "from pipeline.schema import CORPUS_SCHEMA\n"
        "_WritePartsDoFn(None, 1 << 20).setup()\n"
        "before = mapped(); buffer = pa.allocate_buffer(8 << 20, memory_pool=pa.system_memory_pool())\n"
        "own = mapped() - before; del buffer\n"
        "print(own, mapped() - before)\n")
    assert own >= 8 << 20
    assert left == 0


def test_libc_functions_are_found_without_running_ldconfig(monkeypatch):
    """The writer's setup looks up glibc's mallopt from the process's own symbols: find_library would
    fork the worker (``ldconfig -p``), a copy of a process of 150 MB for a moment."""
    import ctypes.util

    from pipeline import memory

    if not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None:
        pytest.skip("not glibc")

    def no_ldconfig(name):
        raise AssertionError("find_library runs a subprocess")

    monkeypatch.setattr(ctypes.util, "find_library", no_ldconfig)
    memory._libc_function.cache_clear()
    try:
        assert memory.fix_mmap_threshold()
        assert memory.release_free_memory()
    finally:
        memory._libc_function.cache_clear()

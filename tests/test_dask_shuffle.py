"""The Dask runner's shuffle through files: sorted runs written by producers, merged by key.

What a bucket's task reads back must be what the in-memory shuffle would group: every value of
every key, one pane per key and window, values in producer then arrival order, across several
runs per file (a producer that spilled) and several files.
"""

from __future__ import annotations

from apache_beam.coders import BytesCoder, StrUtf8Coder
from apache_beam.transforms import window
from apache_beam.utils.timestamp import Timestamp
from apache_beam.utils.windowed_value import WindowedValue

from pipeline import dask_shuffle
from pipeline.dask_shuffle import ShuffleWriter, merge_groups

GW = window.GlobalWindow()


def _wv(key, value, windows=(GW,), ts=None):
    return WindowedValue((key, value), GW.max_timestamp() if ts is None else ts, windows)


def _groups(paths, n):
    out = {}
    for j in range(n):
        for wv in merge_groups(j, paths):
            (key, values), (w,) = wv.value, wv.windows
            assert (key, w) not in out, "one pane per key and window"
            assert wv.timestamp == w.max_timestamp()
            out[(key, w)] = values
    return out


def test_spilled_runs_from_several_files_merge_into_one_group_per_key(tmp_path, monkeypatch):
    monkeypatch.setattr(dask_shuffle, "SPILL_BYTES", 2_000)  # many runs per file
    monkeypatch.setattr(dask_shuffle, "FRAME_BYTES", 300)  # several frames per run
    paths = []
    for producer in range(3):
        w = ShuffleWriter(4, StrUtf8Coder(), str(tmp_path))
        for i in range(400):
            w.receive(_wv(f"k{i % 37}", (producer, i)))
        paths.append(w.result())
    assert len({p for p in paths}) == 3 and sum(len(r) for r in w.runs) > 4  # the last producer spilled
    groups = _groups(paths + [None], 4)  # None: a producer that wrote nothing
    assert sorted(k for k, _ in groups) == sorted(f"k{i}" for i in range(37))
    for (key, _), values in groups.items():
        expected = [(p, i) for p in range(3) for i in range(400) if f"k{i % 37}" == key]
        assert values == expected  # producer order, then arrival order, nothing lost or doubled


def test_windows_split_a_key_and_a_value_in_two_windows_is_in_both(tmp_path):
    a, b = window.IntervalWindow(0, 10), window.IntervalWindow(10, 20)
    w = ShuffleWriter(2, BytesCoder(), str(tmp_path))
    w.receive(_wv(b"x", 1, (a,), Timestamp(5)))
    w.receive(_wv(b"x", 2, (a, b), Timestamp(15)))
    w.receive(_wv(b"y", None, (b,), Timestamp(15)))
    groups = _groups([w.result()], 2)
    assert groups == {(b"x", a): [1, 2], (b"x", b): [2], (b"y", b): [None]}


def test_a_producer_with_nothing_writes_no_file(tmp_path):
    assert ShuffleWriter(3, BytesCoder(), str(tmp_path)).result() is None
    assert list(tmp_path.iterdir()) == []
    assert list(merge_groups(0, [None])) == []


def test_a_large_partition_moves_to_a_file_and_reads_back_in_order(tmp_path, monkeypatch):
    from pipeline.dask_tasks import Runs, unpack

    monkeypatch.setattr(dask_shuffle, "SPILL_BYTES", 1_000)
    a = window.IntervalWindow(0, 10)
    values = [WindowedValue(("v", i), Timestamp(i % 3), (a,) if i % 5 else (GW,)) for i in range(500)]
    writer = dask_shuffle.PartWriter(Runs, str(tmp_path))
    for wv in values:
        writer.add(wv)
    part = writer.result()
    assert isinstance(part, dask_shuffle.SpilledPart) and len(list(tmp_path.iterdir())) == 1
    back = list(unpack(part))
    assert [(v.value, v.timestamp, v.windows) for v in back] == [(v.value, v.timestamp, v.windows) for v in values]
    small = dask_shuffle.PartWriter(Runs, str(tmp_path))
    small.add(values[0])
    assert isinstance(small.result(), bytes)  # under the threshold: kept in memory, no file
    assert len(list(tmp_path.iterdir())) == 1

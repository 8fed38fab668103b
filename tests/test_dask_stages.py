"""The Dask runner's fused stages, packed partitions and lifted combiners, in one process.

A small pipeline with the shapes that stress fusion (a multi-output ParDo, ``finish_bundle``
output, a side input computed from the same branch, Flatten into a GroupByKey, a combiner, empty
and one-element Creates) runs on an in-process Dask cluster and must give what Beam's local
runner gives. The cluster tests (tests/test_cluster.py) run the real jobs on worker processes.
"""

from __future__ import annotations

import json

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.transforms import window
from apache_beam.utils.timestamp import Timestamp
from apache_beam.utils.windowed_value import WindowedValue

from pipeline.dask_tasks import pack, unpack


class _SplitOddEven(beam.DoFn):
    """Two tagged outputs, and a count per bundle emitted in finish_bundle."""

    def start_bundle(self):
        self.n = 0

    def process(self, x):
        self.n += 1
        yield beam.pvalue.TaggedOutput("odd" if x % 2 else "even", x)

    def finish_bundle(self):
        yield WindowedValue(("seen", self.n), window.GlobalWindow().max_timestamp(), (window.GlobalWindow(),))


def _build(p: beam.Pipeline) -> None:
    nums = p | "Nums" >> beam.Create(list(range(200)))
    split = nums | "Split" >> beam.ParDo(_SplitOddEven()).with_outputs("odd", "even", main="counts")
    total = split.odd | "SumOdd" >> beam.CombineGlobally(sum)  # a side input from this same branch
    shifted = split.odd | "Shift" >> beam.Map(lambda x, t: x + t, beam.pvalue.AsSingleton(total))
    keyed = ((split.even, shifted) | "Both" >> beam.Flatten() | "Key" >> beam.Map(lambda x: (x % 7, x))
             | "Group" >> beam.GroupByKey() | "Sorted" >> beam.MapTuple(lambda k, vs: (k, sorted(vs))))
    seen = split.counts | "Seen" >> beam.CombinePerKey(sum)
    empty = p | "Empty" >> beam.Create([]) | "Never" >> beam.Map(lambda x: ("never", x))
    one = p | "One" >> beam.Create(["only"]) | "KeyOne" >> beam.Map(lambda x: ("one", x))
    everything = (keyed, seen, empty, one) | "All" >> beam.Flatten()
    everything | "Collect" >> beam.combiners.ToList() | "Keep" >> beam.Map(_keep)


def _keep(xs: list) -> None:
    """Module-level (pickled by reference): the in-process runners append to this module's list."""
    _SINK.append(json.dumps(sorted(xs, key=json.dumps)))


@pytest.fixture(scope="module")
def dask_address():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as c:
        yield c.scheduler_address


def _run(options: list[str]) -> str:
    """The pipeline's one output line (collected through a module-level list: in-process workers)."""
    _SINK.clear()
    with beam.Pipeline(runner=_runner(options), options=PipelineOptions(options)) as p:
        _build(p)
    assert len(_SINK) == 1
    return _SINK[0]


_SINK: list = []


def _runner(options: list[str]):
    if "--runner" in options:
        from pipeline.dask_runner import DaskClusterRunner

        return DaskClusterRunner()
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    return FnApiRunner()


def test_fused_stages_give_the_local_runners_output(dask_address, tmp_path, monkeypatch):
    from pipeline import dask_shuffle

    local = _run([])
    for partitions, shuffle, spill_bytes in [("1", "memory", None), ("3", "memory", None),
                                             ("1", "files", None), ("3", "files", 200)]:
        if spill_bytes:  # the in-process workers share this module: every partition and shuffle spills
            monkeypatch.setattr(dask_shuffle, "SPILL_BYTES", spill_bytes)
        folder = "memory" if shuffle == "memory" else str(tmp_path / "shuffle")
        dask = _run(["--runner", "dask", "--dask_address", dask_address, f"--dask_partitions={partitions}",
                     f"--dask_shuffle_dir={folder}"])
        assert dask == local
    assert list((tmp_path / "shuffle").iterdir()) == []  # each job's shuffle folder goes when it ends
    assert '["one", "only"]' in local and "never" not in local
    assert '["seen", 200]' in local  # finish_bundle output reached the combiner


def test_packed_partitions_keep_timestamps_windows_and_panes():
    w1, w2 = window.IntervalWindow(0, 10), window.IntervalWindow(10, 20)
    values = [WindowedValue(("a", 1), Timestamp(5), (w1,)), WindowedValue(("a", 2), Timestamp(5), (w1,)),
              WindowedValue(lambda: 3, Timestamp(15), (w2, w1)), WindowedValue(None, Timestamp(15), (w2,))]
    back = list(unpack(pack(values)))
    assert [(v.timestamp, v.windows, v.pane_info) for v in back] == \
        [(v.timestamp, v.windows, v.pane_info) for v in values]
    assert back[0].value == ("a", 1) and back[2].value() == 3 and back[3].value is None


def test_the_local_cluster_spills_and_pauses_at_the_runners_thresholds():
    """The workers of the local cluster (their own processes) use LOCAL_MEMORY and LOCAL_WORKER, not
    Dask's defaults."""
    from distributed import Client

    from pipeline.dask_runner import LOCAL_MEMORY, DaskClusterOptions, _local_cluster

    opts = PipelineOptions(["--dask_local_workers=1", "--dask_local_memory=300MB"]).view_as(DaskClusterOptions)
    with _local_cluster(opts) as cluster, Client(cluster) as client:
        settings = client.run(_worker_settings)
    # ... no sampling profiler, whose history grows a worker over a long job, and Arrow on the
    # system allocator, which gives back what the Parquet writers free
    assert list(settings.values()) == [(300_000_000, LOCAL_MEMORY["target"], LOCAL_MEMORY["spill"],
                                        LOCAL_MEMORY["pause"], False, "system")]


def _worker_settings(dask_worker) -> tuple:
    """Run on a worker: its memory limit and thresholds, whether it profiles, Arrow's allocator."""
    import pyarrow

    mm = dask_worker.memory_manager
    return (mm.memory_limit, mm.memory_target_fraction, mm.memory_spill_fraction, mm.memory_pause_fraction,
            "profile" in dask_worker.periodic_callbacks, pyarrow.default_memory_pool().backend_name)

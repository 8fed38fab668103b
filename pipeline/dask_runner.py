"""Run Beam pipelines on a ``dask.distributed`` cluster: ``--runner dask [--dask_address HOST:PORT]``.

Beam's own DaskRunner (``apache_beam.runners.dask``) translates a pipeline into Dask bags and
misses what batch jobs rely on: it strips the tags of multi-output ParDos, drops what
``finish_bundle`` emits, computes only the last transform, re-runs a side input's upstream
inside each worker, turns ``Read`` into nothing and ignores ``Reshuffle``. This runner executes
the pipeline's *primitive* transforms itself, as Dask futures:

- a PCollection is a list of partitions (each a future holding a list of ``WindowedValue``);
- ``Impulse`` is one partition; ``Flatten`` concatenates partition lists;
- ``ParDo`` runs Beam's ``DoFnRunner`` once per partition (a bundle: ``start_bundle``,
  every element, ``finish_bundle``), with every output tag kept apart; DoFn instances are
  set up once per worker process and reused, one bundle at a time;
- side inputs are computed once, as their own futures, and handed to the tasks that read
  them (Dask moves the data; nothing is recomputed);
- ``GroupByKey`` is a hash shuffle on the deterministic encoding of the key: each input
  partition is split into N buckets and each bucket grouped in its own task, so no worker
  holds more than its share (workers spill to disk under memory pressure); Beam's
  ``Reshuffle`` and ``Create`` expand into a GroupByKey and so redistribute work;
- a bounded ``Read`` is replaced by split-then-read: the source is split on the driver's
  first task, the splits reshuffled, and each read in its own bundle;
- every transform whose output nobody consumes is computed; the pipeline is done when all
  of them are.

A GroupByKey emits one pane per key and window, as batch runners do (triggers fire once, at the
end); merging windows, stateful and splittable DoFns are refused before anything runs.
"""

from __future__ import annotations

import hashlib
import logging
import operator
import os
import threading
import zlib
from collections import defaultdict
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.internal import pickler
from apache_beam.io import iobase
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.pipeline import AppliedPTransform, PipelineVisitor, PTransformOverride
from apache_beam.runners.common import Receiver
from apache_beam.runners.runner import PipelineResult, PipelineRunner, PipelineState
from apache_beam.transforms import window
from apache_beam.utils.windowed_value import WindowedValue

_LOG = logging.getLogger(__name__)


class DaskClusterOptions(PipelineOptions):
    """Options of the ``dask`` runner (``--runner dask``)."""

    @classmethod
    def _add_argparse_args(cls, parser) -> None:
        parser.add_argument("--dask_address", default=None,
                            help="scheduler of a running dask.distributed cluster, HOST:PORT "
                                 "(default: start a local cluster of worker processes that spill to disk)")
        parser.add_argument("--dask_partitions", type=int, default=0,
                            help="partitions after each shuffle (default: 2 per worker thread)")
        parser.add_argument("--dask_local_workers", type=int, default=0,
                            help="worker processes of the local cluster (default: one per core)")
        parser.add_argument("--dask_local_memory", default="auto",
                            help="memory limit per local worker, e.g. 2GB; past 60%% of it a worker "
                                 "spills to disk (default: the machine's memory shared among workers)")


# ---------------------------------------------------------------- worker side


class _ListReceiver(Receiver):
    """Collects one output tag's elements of a bundle."""

    def __init__(self) -> None:
        self.values: list[WindowedValue] = []

    def receive(self, windowed_value: WindowedValue) -> None:
        self.values.append(windowed_value)


class _Receivers(dict):
    """Output tag -> receiver; outputs to an undeclared tag are dropped, as Beam's runners do."""

    def __missing__(self, tag):
        return _ListReceiver()


_POOL: dict[str, list] = defaultdict(list)  # spec digest -> idle, set-up DoFn instances of this process
_SPECS: dict[str, dict] = {}  # spec digest -> the ParDo's spec (args, side views, windowing, tags)
_POOL_LOCK = threading.Lock()


def run_bundle(blob: bytes, partition: list, side_partitions: list[list[list]]) -> dict:
    """Run one ParDo bundle over ``partition``; returns ``{tag: [WindowedValue, ...]}``."""
    from apache_beam.runners.common import DoFnRunner
    from apache_beam.transforms.sideinputs import SideInputMap

    digest = hashlib.sha1(blob).hexdigest()
    with _POOL_LOCK:
        idle = _POOL[digest]
        instance = idle.pop() if idle else None
        spec = _SPECS.get(digest)
    fresh = instance is None
    if fresh:
        loaded = pickler.loads(blob)
        instance = loaded["fn"]
        if spec is None:
            with _POOL_LOCK:
                spec = _SPECS.setdefault(digest, loaded)
    side_inputs = [
        SideInputMap(view_class, options, [wv for part in parts for wv in part])
        for (view_class, options), parts in zip(spec["side_views"], side_partitions, strict=True)
    ]
    receivers = _Receivers({tag: _ListReceiver() for tag in spec["tags"]})
    runner = DoFnRunner(instance, spec["args"], spec["kwargs"], side_inputs, spec["windowing"],
                        tagged_receivers=receivers, step_name=spec["label"])
    if fresh:
        runner.setup()
    runner.start()
    for wv in partition:
        runner.process(wv)
    runner.finish()
    with _POOL_LOCK:
        _POOL[digest].append(instance)
    return {tag: receivers[tag].values for tag in spec["tags"]}


def impulse() -> list:
    """The single element of ``Impulse``."""
    return [window.GlobalWindows.windowed_value(b"")]


def split_by_key(partition: list, buckets: int, key_coder) -> list[list]:
    """Phase 1 of a shuffle: (encoded key, window, key, value) tuples in ``buckets`` lists."""
    out: list[list] = [[] for _ in range(buckets)]
    for wv in partition:
        key, value = wv.value
        encoded = key_coder.encode(key)
        for w in wv.windows:
            out[zlib.crc32(encoded) % buckets].append((encoded, w, key, value))
    return out


def group_bucket(*pieces: list) -> list:
    """Phase 2 of a shuffle: one bucket's pieces from every input partition, grouped by key and window."""
    groups: dict[tuple, tuple[Any, list]] = {}
    for piece in pieces:
        for encoded, w, key, value in piece:
            entry = groups.get((encoded, w))
            if entry is None:
                groups[(encoded, w)] = (key, [value])
            else:
                entry[1].append(value)
    return [WindowedValue((key, values), w.max_timestamp(), (w,)) for (_, w), (key, values) in groups.items()]


# ---------------------------------------------------------------- driver side


class _SplitSource(beam.DoFn):
    """Split a bounded source into bundles of about ``bundle_bytes``."""

    def __init__(self, bundle_bytes: int) -> None:
        self.bundle_bytes = bundle_bytes

    def process(self, source):
        for split in source.split(self.bundle_bytes):
            yield (split.source, split.start_position, split.stop_position)


def _read_split(split):
    source, start, stop = split
    tracker = source.get_range_tracker(start, stop)
    yield from source.read(tracker)


class _SplitThenRead(beam.PTransform):
    """A bounded ``Read`` as ordinary steps: split, reshuffle the splits, read each."""

    def __init__(self, source, bundle_bytes: int = 64 << 20) -> None:
        super().__init__()
        self.source = source
        self.bundle_bytes = bundle_bytes

    def expand(self, pbegin):
        source = self.source
        return (pbegin
                | "Impulse" >> beam.Impulse()
                | "Source" >> beam.Map(lambda _: source)
                | "Split" >> beam.ParDo(_SplitSource(self.bundle_bytes))
                | "Spread" >> beam.Reshuffle()
                | "ReadSplit" >> beam.FlatMap(_read_split))


class _BoundedReadOverride(PTransformOverride):
    def matches(self, applied: AppliedPTransform) -> bool:
        return isinstance(applied.transform, iobase.Read) and isinstance(applied.transform.source, iobase.BoundedSource)

    def get_replacement_transform_for_applied_ptransform(self, applied: AppliedPTransform):
        return _SplitThenRead(applied.transform.source)


class _Leaves(PipelineVisitor):
    """The primitive transforms in an order where producers come before consumers."""

    def __init__(self) -> None:
        self.leaves: list[AppliedPTransform] = []

    def visit_transform(self, node: AppliedPTransform) -> None:
        self.leaves.append(node)


def check_supported(leaves: list[AppliedPTransform]) -> None:
    """Refuse, before any work, what this runner cannot execute faithfully."""
    from apache_beam.runners.common import DoFnSignature

    for node in leaves:
        t = node.transform
        if isinstance(t, beam.ParDo):
            sig = DoFnSignature(t.fn)
            if sig.is_stateful_dofn() or sig.is_splittable_dofn():
                raise NotImplementedError(f"{node.full_label}: stateful and splittable DoFns are not supported "
                                          "by the dask runner")
        elif isinstance(t, beam.GroupByKey):
            if node.inputs[0].windowing.windowfn.is_merging():
                raise NotImplementedError(f"{node.full_label}: merging windows (sessions) are not supported by "
                                          "the dask runner")
        elif not isinstance(t, beam.Impulse | beam.Flatten):
            raise NotImplementedError(f"{node.full_label}: primitive {type(t).__name__} is not supported by the "
                                      "dask runner")


class _Planner:
    """Submits every primitive transform as Dask tasks; PCollection -> list of partition futures."""

    def __init__(self, client, partitions: int) -> None:
        self.client = client
        self.partitions = partitions
        self.parts: dict[pvalue.PCollection, list] = {}
        self.consumed: set[pvalue.PCollection] = set()

    def submit(self, node: AppliedPTransform) -> None:
        t = node.transform
        inputs = [p for p in node.inputs if isinstance(p, pvalue.PCollection)]
        self.consumed.update(inputs)
        self.consumed.update(si.pvalue for si in node.side_inputs)
        if isinstance(t, beam.Impulse):
            futures = [self.client.submit(impulse, pure=False)]
            self._set(node, {None: futures})
        elif isinstance(t, beam.Flatten):
            self._set(node, {None: [f for p in inputs for f in self.parts[p]]})
        elif isinstance(t, beam.GroupByKey):
            self._set(node, {None: self._shuffle(node, self.parts[inputs[0]])})
        else:
            self._set(node, self._pardo(node, self.parts[inputs[0]]))

    def _set(self, node: AppliedPTransform, by_tag: dict) -> None:
        for tag, pcoll in node.outputs.items():
            self.parts[pcoll] = by_tag.get(tag, by_tag.get(None) if len(node.outputs) == 1 else [])

    def _pardo(self, node: AppliedPTransform, partitions: list) -> dict:
        t = node.transform
        tags = list(node.outputs)
        spec = {
            "fn": t.fn, "args": list(getattr(t, "args", []) or []), "kwargs": dict(getattr(t, "kwargs", {}) or {}),
            "side_views": [(type(si), si._view_options()) for si in node.side_inputs],
            "windowing": node.inputs[0].windowing, "tags": tags, "label": node.full_label,
        }
        blob = self.client.scatter(pickler.dumps(spec), broadcast=False)
        sides = [self.parts[si.pvalue] for si in node.side_inputs]
        bundles = [self.client.submit(run_bundle, blob, part, sides, pure=False, key=f"{node.full_label}-{i}-{os.urandom(4).hex()}")
                   for i, part in enumerate(partitions)]
        if len(tags) == 1:
            return {tags[0]: [self.client.submit(operator.getitem, b, tags[0], pure=False) for b in bundles]}
        return {tag: [self.client.submit(operator.getitem, b, tag, pure=False) for b in bundles] for tag in tags}

    def _shuffle(self, node: AppliedPTransform, partitions: list) -> list:
        from apache_beam import coders

        element_type = node.inputs[0].element_type
        coder = coders.registry.get_coder(element_type)
        key_coder = coder.key_coder() if coder.is_kv_coder() else coders.registry.get_coder(Any)
        key_coder = key_coder.as_deterministic_coder(node.full_label)
        n = self.partitions
        split = [self.client.submit(split_by_key, part, n, key_coder, pure=False) for part in partitions]
        out = []
        for j in range(n):
            pieces = [self.client.submit(operator.getitem, s, j, pure=False) for s in split]
            out.append(self.client.submit(group_bucket, *pieces, pure=False))
        return out

    def sinks(self) -> list:
        """Futures of every PCollection nobody consumes: computing them computes the pipeline."""
        return [f for p, fs in self.parts.items() if p not in self.consumed for f in fs]


class DaskPipelineResult(PipelineResult):
    """The state of a pipeline submitted to a Dask cluster."""

    def __init__(self, client, futures: list, cluster=None) -> None:
        super().__init__(PipelineState.RUNNING)
        self.client, self.futures, self.cluster = client, futures, cluster

    def wait_until_finish(self, duration=None) -> str:
        from distributed import wait

        if self._state in (PipelineState.DONE, PipelineState.FAILED):
            return self._state
        try:
            with self.client.as_current():
                wait(self.futures, timeout=None if duration is None else duration / 1000)
            for f in self.futures:
                if f.status == "error":
                    self._state = PipelineState.FAILED
                    f.result()  # raises the task's exception here, with its traceback
            self._state = PipelineState.DONE
        finally:
            if self._state in (PipelineState.DONE, PipelineState.FAILED):
                self.close()
        return self._state

    def close(self) -> None:
        self.futures = []
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def cancel(self) -> str:
        self.client.cancel(self.futures)
        self._state = PipelineState.CANCELLED
        self.close()
        return self._state

    def metrics(self):
        raise NotImplementedError("the dask runner does not collect Beam metrics (jobs write stats.json)")


def _local_cluster(opts: DaskClusterOptions):
    from distributed import LocalCluster

    workers = opts.dask_local_workers or os.cpu_count() or 1
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address=None, memory_limit=opts.dask_local_memory)


def hand_over(client, futures: list, timeout: float = 300.0) -> None:
    """Before a driver that does not wait disconnects: make sure the scheduler holds every submitted
    sink for the fire-and-forget client. The scheduler registers a submitted graph asynchronously,
    so a fire-and-forget request can arrive before its keys exist, and closing the client would
    then release the whole job."""
    import time

    from distributed import fire_and_forget

    def held(dask_scheduler, keys: list) -> int:  # runs on the scheduler (pickled by value: it may lack our code)
        return sum(1 for k in keys if (ts := dask_scheduler.tasks.get(k)) is not None
                   and any(c.client_key == "fire-and-forget" for c in ts.who_wants or ()))

    keys = [f.key for f in futures]
    deadline = time.monotonic() + timeout
    while client.run_on_scheduler(held, keys=keys) < len(keys):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the dask scheduler did not register the submitted job within {timeout:.0f}s")
        time.sleep(0.2)
        fire_and_forget(futures)


class DaskClusterRunner(PipelineRunner):
    """Executes a Beam pipeline's primitive transforms on a dask.distributed cluster."""

    def run_pipeline(self, pipeline, options):
        from distributed import Client, fire_and_forget

        opts = options.view_as(DaskClusterOptions)
        address = opts.dask_address or options.get_all_options().get("address")  # Beam's --dask_client_address
        pipeline.replace_all([_BoundedReadOverride()])
        visitor = _Leaves()
        pipeline.visit(visitor)
        check_supported(visitor.leaves)
        cluster = None if address else _local_cluster(opts)
        client = Client(address or cluster, set_as_default=False)
        threads = sum(w["nthreads"] for w in client.scheduler_info()["workers"].values()) or 1
        planner = _Planner(client, opts.dask_partitions or 2 * threads)
        for node in visitor.leaves:
            planner.submit(node)
        futures = planner.sinks()
        planner.parts.clear()  # intermediate results are freed as soon as their consumers finish
        fire_and_forget(futures)  # keep running if the driver goes away (--no_wait_until_finish)
        _LOG.info("dask: submitted %d transforms to %s", len(visitor.leaves), client.scheduler.address)
        result = DaskPipelineResult(client, futures, cluster)
        if cluster is not None:  # a local cluster ends with this process: always wait for the job
            result.wait_until_finish()
        elif options.view_as(StandardOptions).no_wait_until_finish:
            hand_over(client, futures)
            result.close()
        return result

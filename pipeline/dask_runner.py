"""Run Beam pipelines on a ``dask.distributed`` cluster: ``--runner dask [--dask_address HOST:PORT]``.

Beam's own DaskRunner (``apache_beam.runners.dask``) translates a pipeline into Dask bags and
misses what batch jobs rely on: it strips the tags of multi-output ParDos, drops what
``finish_bundle`` emits, computes only the last transform, re-runs a side input's upstream
inside each worker, turns ``Read`` into nothing and ignores ``Reshuffle``. This runner executes
the pipeline's *primitive* transforms itself, as Dask tasks:

- reads, Creates and combiners are rewritten first (``dask_overrides``: split-then-read on the
  driver, Create values as partitions, combiner lifting);
- ParDos are fused into stages (``dask_plan``): one task runs a chain of DoFns over one
  partition, elements streaming from one DoFn to the next (``start_bundle``, every element,
  ``finish_bundle``; every output tag kept apart); DoFn instances are set up once per worker
  process and reused, one bundle at a time;
- ``GroupByKey`` is a hash shuffle on the deterministic encoding of the key: the producing
  stage splits its output into N buckets as it runs, and each bucket is grouped by its own task,
  which also runs the ParDos that read the groups. On a local cluster (or with
  ``--dask_shuffle_dir`` on a folder every worker shares) the buckets go through files
  (``dask_shuffle``): sorted runs written by the producers and merged key by key by the
  buckets' tasks, so memory stays flat however large the shuffle, and the scheduler holds two
  tasks per partition, not one per piece; otherwise pieces travel as task results;
- between tasks a partition is packed bytes (``dask_tasks``), so Dask sizes it exactly and
  spills it to disk past its memory thresholds; the driver holds only the sinks' futures, so
  each partition is freed once the last task that reads it has run;
- side inputs are computed once, as their own partitions, and handed to the tasks that read
  them (Dask moves the data; nothing is recomputed);
- every transform whose output nobody consumes is computed; the pipeline is done when all
  of them are.

A GroupByKey emits one pane per key and window, as batch runners do (triggers fire once, at the
end); merging windows, stateful and splittable DoFns are refused before anything runs.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.pipeline import AppliedPTransform, PipelineVisitor
from apache_beam.runners.runner import PipelineResult, PipelineRunner, PipelineState

from pipeline.dask_overrides import OVERRIDES, DaskCreate, DaskRead
from pipeline.dask_plan import Planner
from pipeline.errors import UsageError
from pipeline.memory import ARROW_POOL_ENV

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
        parser.add_argument("--dask_shuffle_dir", default="",
                            help="folder for the shuffle files, read and written by every worker at this same "
                                 "path (a shared mount on a multi-machine cluster); 'memory' shuffles through task "
                                 "results instead (default: a temporary folder on a local cluster, memory on a "
                                 "remote one)")
        parser.add_argument("--dask_local_workers", type=int, default=0,
                            help="worker processes of the local cluster (default: one per core)")
        parser.add_argument("--dask_local_memory", default="auto",
                            help="memory limit per local worker, e.g. 2GB; past 50%% of it a worker "
                                 "moves finished partitions to disk, past 80%% it pauses (default: the "
                                 "machine's memory shared among workers)")


# ---------------------------------------------------------------- driver side


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
        elif not isinstance(t, beam.Impulse | beam.Flatten | DaskCreate | DaskRead):
            raise NotImplementedError(f"{node.full_label}: primitive {type(t).__name__} is not supported by the "
                                      "dask runner")


class DaskPipelineResult(PipelineResult):
    """The state of a pipeline submitted to a Dask cluster."""

    def __init__(self, client, futures: list, cluster=None) -> None:
        super().__init__(PipelineState.RUNNING)
        self.client, self.futures, self.cluster = client, futures, cluster
        self.scratch: str | None = None  # the job's shuffle folder, removed when the job ends

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
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def cancel(self) -> str:
        self.client.cancel(self.futures)
        self._state = PipelineState.CANCELLED
        self.close()
        return self._state

    def metrics(self):
        raise NotImplementedError("the dask runner does not collect Beam metrics (jobs write stats.json)")


# A local worker's memory: past TARGET of its limit it moves finished partitions (packed bytes)
# to disk, past SPILL of the process's memory it spills whatever it can, past PAUSE it runs no
# new task until spilling brings it down; TERMINATE restarts it (its tasks are recomputed).
LOCAL_MEMORY = {"target": 0.5, "spill": 0.6, "pause": 0.8, "terminate": 0.95}


# Dask's sampling profiler (every 10 ms, per task prefix, an hour of history) grows a worker by
# tens of MB over a long job; a local cluster has no dashboard to show it, so it is off.
LOCAL_WORKER = {"distributed.worker.profile.enabled": False}
# Arrow's default allocator (mimalloc) keeps what the Parquet writers free: on the system one a
# kg worker peaked 24-34 MB lower and grew less (bench/kg.py --runner dask, docs/performance.md).
LOCAL_WORKER_ENV = ARROW_POOL_ENV


def _local_cluster(opts: DaskClusterOptions):
    import dask
    from distributed import LocalCluster

    workers = opts.dask_local_workers or os.cpu_count() or 1
    settings = {f"distributed.worker.memory.{k}": v for k, v in LOCAL_MEMORY.items()}
    settings.update(LOCAL_WORKER)
    with dask.config.set(settings):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                            dashboard_address=None, memory_limit=opts.dask_local_memory,
                            env={k: os.environ.get(k, v) for k, v in LOCAL_WORKER_ENV.items()})  # yours win


def shuffle_folder(client, setting: str, local: bool) -> str | None:
    """The job's own folder for shuffle files (created here, checked from every worker), or None to
    shuffle through task results: ``setting`` 'memory', or empty on a remote cluster."""
    if setting == "memory" or (not setting and not local):
        return None
    if setting:
        parent = os.path.abspath(setting)
    else:
        import dask

        parent = dask.config.get("temporary-directory", None) or tempfile.gettempdir()
    folder = os.path.join(parent, f"corpusforge-shuffle-{uuid.uuid4().hex[:12]}")
    try:
        os.makedirs(folder)
    except OSError as e:
        raise UsageError(f"--dask_shuffle_dir {setting or parent}: cannot create a folder there ({e})") from e

    def usable(path: str) -> str:  # runs on each worker
        import os as _os

        probe = _os.path.join(path, f"probe-{_os.getpid()}")
        try:
            with open(probe, "wb") as f:
                f.write(b"ok")
            _os.remove(probe)
            return ""
        except OSError as exc:
            return str(exc)

    failures = {w: err for w, err in client.run(usable, folder).items() if err}
    if failures:
        shutil.rmtree(folder, ignore_errors=True)
        worker, err = next(iter(failures.items()))
        raise UsageError(f"--dask_shuffle_dir {setting or parent}: {len(failures)} worker(s) cannot write the "
                         f"shuffle folder {folder} (e.g. {worker}: {err}); give a folder every worker shares at "
                         "the same path, or --dask_shuffle_dir memory")
    return folder


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
        pipeline.replace_all(OVERRIDES)
        visitor = _Leaves()
        pipeline.visit(visitor)
        check_supported(visitor.leaves)
        cluster = None if address else _local_cluster(opts)
        client = Client(address or cluster, set_as_default=False)
        threads = sum(w["nthreads"] for w in client.scheduler_info()["workers"].values()) or 1
        result = DaskPipelineResult(client, [], cluster)
        try:
            result.scratch = shuffle_folder(client, opts.dask_shuffle_dir, local=cluster is not None)
            planner = Planner(client, opts.dask_partitions or 2 * threads, result.scratch)
            planner.plan(visitor.leaves)
            result.futures = planner.submit()
            del planner  # intermediate partitions are freed as soon as the last task reading them has run
        except BaseException:
            result.close()  # nothing runs: the local cluster and the shuffle folder go
            raise
        fire_and_forget(result.futures)  # keep running if the driver goes away (--no_wait_until_finish)
        _LOG.info("dask: submitted %d transforms to %s", len(visitor.leaves), client.scheduler.address)
        if cluster is not None:  # a local cluster ends with this process: always wait for the job
            result.wait_until_finish()
        elif options.view_as(StandardOptions).no_wait_until_finish:
            hand_over(client, result.futures)
            if result.scratch is not None:
                _LOG.warning("dask: the job's shuffle files stay in %s; remove it once the job is done",
                             result.scratch)
                result.scratch = None
            result.close()
        return result

"""Worker side of the Dask runner: one task runs a fused stage (a chain of ParDos) over one partition.

Between tasks a partition travels as *bytes* (a pickle of runs of values sharing a timestamp,
windows and pane), never as Python objects: Dask then measures it exactly, spills it to disk
cheaply at its memory thresholds and moves it without walking an object graph. Inside a task the
elements stream from one DoFn to the next (Beam's fusion); only a stage's outputs read by other
stages are collected, and an output bound for a GroupByKey is split into its hash buckets as it
is produced. When the job has a shuffle folder (``dask_shuffle``), those buckets go to a shuffle
file, and a collected partition past the task's budget moves to a file; the task then returns
the file's path.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
import zlib
from collections import defaultdict
from typing import Any

from apache_beam.internal import pickler
from apache_beam.runners.common import Receiver
from apache_beam.utils.windowed_value import WindowedValue

from pipeline import dask_shuffle
from pipeline.dask_shuffle import PartWriter, ShuffleWriter, SpilledPart, merge_groups, spilled_runs

# ---------------------------------------------------------------- partitions as bytes


class Runs:
    """Values in arrival order, grouped into runs that share (timestamp, windows, pane)."""

    __slots__ = ("runs", "_meta", "_values")

    def __init__(self) -> None:
        self.runs: list[tuple] = []
        self._meta: tuple | None = None
        self._values: list = []

    def add(self, wv: WindowedValue, value: Any) -> None:
        meta = self._meta
        if meta is None or not (wv.timestamp == meta[0] and wv.windows == meta[1] and wv.pane_info == meta[2]):
            self._meta = meta = (wv.timestamp, wv.windows, wv.pane_info)
            self._values = []
            self.runs.append((*meta, self._values))
        self._values.append(value)

    def pack(self) -> bytes:
        return dumps(self.runs)


def dumps(obj) -> bytes:
    """Pickle (protocol 5), with cloudpickle for what plain pickle refuses (as Dask itself does)."""
    try:
        return pickle.dumps(obj, protocol=5)
    except Exception:  # noqa: BLE001 - a lambda or local class in a value: fall back, as Dask does
        import cloudpickle

        return cloudpickle.dumps(obj, protocol=5)


def pack(wvs) -> bytes:
    runs = Runs()
    for wv in wvs:
        runs.add(wv, wv.value)
    return runs.pack()


def unpack(blob: bytes | SpilledPart):
    """The WindowedValues of a packed partition (or of one spilled to a file), in order."""
    runs = spilled_runs(blob) if isinstance(blob, SpilledPart) else pickle.loads(blob)
    for ts, windows, pane, values in runs:
        for v in values:
            yield WindowedValue(v, ts, windows, pane)


# ---------------------------------------------------------------- receivers


class _Collect(Receiver):
    """A stage output read by other stages: one packed partition (spilled to a file under
    ``directory`` once it is large, when the job has one)."""

    def __init__(self, directory: str | None = None, budget: int | None = None) -> None:
        self.part = PartWriter(Runs, directory, budget)

    def receive(self, wv: WindowedValue) -> None:
        self.part.add(wv)

    def result(self) -> bytes | SpilledPart:
        return self.part.result()


class _Split(Receiver):
    """A stage output bound for a GroupByKey: (encoded key, key, value) in ``n`` hash buckets."""

    def __init__(self, n: int, key_coder) -> None:
        self.encode = key_coder.encode
        self.buckets = [Runs() for _ in range(n)]

    def receive(self, wv: WindowedValue) -> None:
        key, value = wv.value
        encoded = self.encode(key)
        self.buckets[zlib.crc32(encoded) % len(self.buckets)].add(wv, (encoded, key, value))

    def result(self) -> list[bytes]:
        return [b.pack() for b in self.buckets]


class _Fanout(Receiver):
    """One PCollection inside a stage: every element to each consumer (and collector)."""

    def __init__(self) -> None:
        self.targets: list = []

    def receive(self, wv: WindowedValue) -> None:
        for t in self.targets:
            t.receive(wv) if isinstance(t, Receiver) else t.process(wv)


class _Discard(Receiver):
    def receive(self, wv: WindowedValue) -> None:
        pass


class _Receivers(dict):
    """Output tag -> receiver; outputs to an undeclared tag are dropped, as Beam's runners do."""

    def __missing__(self, tag):
        return _Discard()


# ---------------------------------------------------------------- DoFn pool

_POOL: dict[tuple[str, int], list] = defaultdict(list)  # (stage digest, step) -> idle, set-up DoFns
_SPECS: dict[str, dict] = {}  # stage digest -> the unpickled stage spec (args, side views, windowing, tags)
_LOCK = threading.Lock()


def _stage_spec(blob: bytes) -> tuple[str, dict, list]:
    """The stage's spec and one set-up DoFn per step ((instance, fresh) pairs), reused across tasks."""
    digest = hashlib.sha1(blob).hexdigest()
    with _LOCK:
        spec = _SPECS.get(digest)
    if spec is None:
        spec = pickler.loads(blob)
        with _LOCK:
            spec = _SPECS.setdefault(digest, spec)
    instances = []
    for i, step in enumerate(spec["steps"]):
        with _LOCK:
            idle = _POOL[(digest, i)]
            inst = idle.pop() if idle else None
        instances.append((inst, False) if inst is not None else (pickler.loads(step["fn"]), True))
    return digest, spec, instances


def _release(digest: str, instances: list) -> None:
    with _LOCK:
        for i, (inst, _) in enumerate(instances):
            _POOL[(digest, i)].append(inst)


# ---------------------------------------------------------------- roots


def _group(pieces: list[bytes]):
    """One bucket of a GroupByKey: its pieces from every producer, grouped by key and window."""
    groups: dict[tuple, tuple[Any, list]] = {}
    for blob in pieces:
        for _, windows, _, items in pickle.loads(blob):
            for encoded, key, value in items:
                for w in windows:
                    entry = groups.get((encoded, w))
                    if entry is None:
                        groups[(encoded, w)] = (key, [value])
                    else:
                        entry[1].append(value)
    for (_, w), (key, values) in groups.items():
        yield WindowedValue((key, values), w.max_timestamp(), (w,))


def _read(split):
    source, start, stop = split
    from apache_beam.transforms import window

    for value in source.read(source.get_range_tracker(start, stop)):
        yield value if isinstance(value, WindowedValue) else window.GlobalWindows.windowed_value(value)


def root_elements(kind: str, data):
    """The elements a stage starts from: its root's output for this task."""
    from apache_beam.transforms import window

    if kind == "impulse":
        return iter([window.GlobalWindows.windowed_value(b"")])
    if kind == "group":
        return _group(data)
    if kind == "merge":  # (bucket, shuffle files): a GroupByKey shuffled through files
        return merge_groups(*data)
    if kind == "read":
        return _read(data)
    if kind == "values":  # a Create's slice
        return (window.GlobalWindows.windowed_value(v) for v in pickle.loads(data))
    return (wv for blob in data for wv in unpack(blob))  # "parts": materialized partitions


# ---------------------------------------------------------------- one task


def run_stage(blob: bytes, data, sides: list[list[bytes]]):
    """Run one fused stage over one partition. ``blob``: the pickled stage spec; ``data``: the
    root's input (bytes, pieces, a split, ...); ``sides``: the packed partitions of each side
    input. Returns the stage's materialized outputs (one, a tuple of several, or None)."""
    from apache_beam.runners.common import DoFnRunner
    from apache_beam.transforms.sideinputs import SideInputMap

    digest, spec, instances = _stage_spec(blob)
    side_values = [[wv for part in parts for wv in unpack(part)] for parts in sides]
    pcolls: dict[str, _Fanout] = defaultdict(_Fanout)
    outputs = []
    budget = dask_shuffle.SPILL_BYTES // max(1, len(spec["outputs"]))  # the outputs share the task's budget
    for pcs, mode in spec["outputs"]:  # PCollections with one destination share one output
        out = _Collect(spec["scratch"], budget) if mode is None else _splitter(*mode, budget)
        for pc in pcs:
            pcolls[pc].targets.append(out)
        outputs.append(out)
    runners = []
    for step, (inst, fresh) in zip(spec["steps"], instances, strict=True):
        side_inputs = [SideInputMap(view_class, options, side_values[index])
                       for index, view_class, options in step["side_views"]]
        receivers = _Receivers({tag: pcolls[pc] for tag, pc in step["outputs"].items()})
        runner = DoFnRunner(inst, step["args"], step["kwargs"], side_inputs, step["windowing"],
                            tagged_receivers=receivers, step_name=step["label"])
        if fresh:
            runner.setup()
        pcolls[step["input"]].targets.append(runner)
        runners.append(runner)
    for runner in reversed(runners):
        runner.start()
    root = pcolls[spec["root_output"]]
    for wv in root_elements(spec["root"], data):
        root.receive(wv)
    for runner in runners:  # producers first: what finish_bundle emits still reaches its consumers
        runner.finish()
    _release(digest, instances)
    results = [o.result() for o in outputs]
    if not results:
        return None
    return results[0] if len(results) == 1 else tuple(results)


def _splitter(n: int, key_coder, directory: str | None = None, budget: int | None = None) -> Receiver:
    """The output bound for a GroupByKey: in memory, or to a shuffle file under ``directory``."""
    return _Split(n, key_coder) if directory is None else ShuffleWriter(n, key_coder, directory, budget)


def split_parts(blob: bytes, n: int, key_coder, directory: str | None = None) -> list[bytes] | str | None:
    """A materialized partition split into the ``n`` hash buckets of a GroupByKey (pieces in
    memory, or a shuffle file's path)."""
    split = _splitter(n, key_coder, directory)
    for wv in unpack(blob):
        split.receive(wv)
    return split.result()

"""Driver side of the Dask runner: fuse the pipeline's primitive steps into stages, submit them as tasks.

A stage starts at a root (Impulse, a Create's values, a bounded read's splits, a GroupByKey's
bucket, or the materialized partitions of a PCollection) and runs every ParDo that can read its
elements as they stream by. A PCollection is materialized (packed bytes, see ``dask_tasks``)
only where another stage reads it: a GroupByKey (then it is split into hash buckets as it is
produced), a Flatten, a side input, or a ParDo that could not be fused (its side input depends on
this stage). The driver keeps no future but the sinks': Dask frees each partition as soon as the
last task that reads it has run.
"""

from __future__ import annotations

import operator
import os
from dataclasses import dataclass, field
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.internal import pickler
from apache_beam.pipeline import AppliedPTransform

from pipeline.dask_overrides import DaskCreate, DaskRead, OneBucketGroupByKey
from pipeline.dask_tasks import dumps, run_stage, split_parts


@dataclass(eq=False)
class Stage:
    """Fused steps that run as one task per partition."""

    root: str  # impulse | values | read | group | parts
    node: AppliedPTransform | None  # the root's transform (Create, Read, GroupByKey), or None
    root_output: pvalue.PCollection
    steps: list[AppliedPTransform] = field(default_factory=list)
    deps: set = field(default_factory=set)  # stages whose output this one reads
    outputs: list = field(default_factory=list)  # [(destination, [pcolls])] materialized here


class Planner:
    """PCollection -> partition futures (plain); GroupByKey -> futures split for it; stages -> tasks."""

    def __init__(self, client, partitions: int, shuffle_dir: str | None = None) -> None:
        self.client = client
        self.partitions = partitions
        self.shuffle_dir = shuffle_dir  # GroupByKeys shuffle through files there (None: in memory)
        self.stages: list[Stage] = []
        self.home: dict[pvalue.PCollection, Stage] = {}  # where a PCollection's elements stream by
        self.flattens: dict[pvalue.PCollection, list[pvalue.PCollection]] = {}
        self.consumers: dict[pvalue.PCollection, list[tuple[AppliedPTransform, str]]] = {}
        self.parts: dict[Any, list] = {}  # PCollection, or GroupByKey node, -> partition futures
        self.sinks: list = []

    # ------------------------------------------------------------ planning

    def plan(self, leaves: list[AppliedPTransform]) -> None:
        for node in leaves:
            for p in node.inputs:
                if isinstance(p, pvalue.PCollection):
                    self.consumers.setdefault(p, []).append((node, "main"))
            for si in node.side_inputs:
                self.consumers.setdefault(si.pvalue, []).append((node, "side"))
        for node in leaves:
            self._place(node)
        for stage in self.stages:
            merged: dict = {}  # PCollections bound for the same GroupByKey or Flatten leave as one output
            for pc in self._produced(stage):
                if self._read_elsewhere(pc, stage):
                    merged.setdefault(self._destination(pc), []).append(pc)
            stage.outputs = list(merged.items())

    def _place(self, node: AppliedPTransform) -> None:
        t = node.transform
        out = node.outputs.get(None) if len(node.outputs) == 1 else None
        if isinstance(t, beam.Impulse | DaskCreate | DaskRead):
            kind = "impulse" if isinstance(t, beam.Impulse) else "values" if isinstance(t, DaskCreate) else "read"
            self._new_stage(kind, node, out)
        elif isinstance(t, beam.GroupByKey):
            self._new_stage("group", node, out, self._producers(node.inputs[0]))
        elif isinstance(t, beam.Flatten):
            self.flattens[out] = [p for p in node.inputs if isinstance(p, pvalue.PCollection)]
        else:
            main = node.inputs[0]
            sides = set().union(*(self._producers(si.pvalue) for si in node.side_inputs))
            stage = self.home.get(main)
            if stage is None or not all(stage is not s and stage not in self._ancestors(s) for s in sides):
                stage = self._new_stage("parts", None, main, self._producers(main))
            stage.steps.append(node)
            stage.deps |= sides
            for pc in node.outputs.values():
                self.home.setdefault(pc, stage)

    def _new_stage(self, root: str, node, output, deps=()) -> Stage:
        stage = Stage(root, node, output, deps=set(deps))
        self.stages.append(stage)
        self.home.setdefault(output, stage)
        return stage

    def _producers(self, pc: pvalue.PCollection) -> set:
        if pc in self.flattens:
            return set().union(*(self._producers(p) for p in self.flattens[pc]))
        stage = self.home.get(pc)
        return {stage} if stage is not None else set()

    def _ancestors(self, stage: Stage) -> set:
        seen, todo = set(), list(stage.deps)
        while todo:
            s = todo.pop()
            if s not in seen:
                seen.add(s)
                todo.extend(s.deps)
        return seen

    def _produced(self, stage: Stage) -> list:
        out = [] if stage.root == "parts" else [stage.root_output]
        return out + [pc for step in stage.steps for pc in step.outputs.values()]

    def _read_elsewhere(self, pc: pvalue.PCollection, stage: Stage) -> bool:
        return any(role == "side" or node not in stage.steps for node, role in self.consumers.get(pc, ()))

    def _destination(self, pc: pvalue.PCollection) -> tuple:
        """Where ``pc``'s partitions go: ("gbk", node) split for the GroupByKey that is its only reader
        (through Flattens), ("flatten", out) into the last of a chain of Flattens that are its only
        readers, or ("self", pc)."""
        gbk = self._target_gbk(pc)
        if gbk is not None:
            return ("gbk", gbk)
        cur = pc
        while len(readers := self.consumers.get(cur, [])) == 1 and readers[0][1] == "main" \
                and isinstance(readers[0][0].transform, beam.Flatten):
            cur = readers[0][0].outputs[None]
        return ("self", pc) if cur is pc else ("flatten", cur)

    def _target_gbk(self, pc: pvalue.PCollection):
        """The GroupByKey that is the only reader of ``pc`` (through Flattens), or None."""
        readers = self.consumers.get(pc, [])
        if len(readers) != 1 or readers[0][1] != "main":
            return None
        node = readers[0][0]
        if isinstance(node.transform, beam.GroupByKey):
            return node
        if isinstance(node.transform, beam.Flatten):
            return self._target_gbk(node.outputs[None])
        return None

    # ------------------------------------------------------------ submitting

    def submit(self) -> list:
        """Submit every stage (producers first); returns the sinks' futures."""
        order: list[Stage] = []
        for stage in self.stages:
            self._after_deps(stage, order)
        sides = [list(dict.fromkeys(si.pvalue for node in s.steps for si in node.side_inputs)) for s in order]
        # One round trip for every stage's spec; hash=False: two stages can have the same spec (two
        # Create([[]]) feeding nothing else) and must not share a key that one of them releases.
        blobs = self.client.scatter([pickler.dumps(self._spec(s, sd)) for s, sd in zip(order, sides, strict=True)],
                                    broadcast=False, hash=False)
        for stage, side, blob in zip(order, sides, blobs, strict=True):
            self._submit(stage, side, blob)
        for pc in self.flattens:
            if not self.consumers.get(pc):
                self.sinks.extend(self._parts(pc))
        return self.sinks

    def _after_deps(self, stage: Stage, order: list) -> None:
        if stage in order:
            return
        for dep in stage.deps:
            self._after_deps(dep, order)
        order.append(stage)

    def _parts(self, pc: pvalue.PCollection) -> list:
        """The plain partitions of ``pc`` (a Flatten's: its own merged ones and its inputs')."""
        own = self.parts.get(pc, [])
        return own + [f for p in self.flattens.get(pc, []) for f in self._parts(p)]

    def _key_coder(self, gbk: AppliedPTransform):
        from apache_beam import coders

        coder = coders.registry.get_coder(gbk.inputs[0].element_type)
        key_coder = coder.key_coder() if coder.is_kv_coder() else coders.registry.get_coder(Any)
        return key_coder.as_deterministic_coder(gbk.full_label)

    def _n(self, gbk: AppliedPTransform) -> int:
        """Buckets of a GroupByKey: ``--dask_partitions``, or 1 for a CombineGlobally's single key."""
        return 1 if isinstance(gbk.transform, OneBucketGroupByKey) else self.partitions

    def _buckets(self, gbk: AppliedPTransform) -> list:
        """For each bucket of ``gbk``: its piece from every input partition, or (through files)
        the bucket's number and every input partition's shuffle file."""
        n, key_coder = self._n(gbk), self._key_coder(gbk)
        split = list(self.parts.get(gbk, []))
        for f in self._parts(gbk.inputs[0]):
            split.append(self.client.submit(split_parts, f, n, key_coder, self.shuffle_dir, pure=False))
        if self.shuffle_dir is not None:
            return [(j, split) for j in range(n)]
        return [[self.client.submit(operator.getitem, f, j, pure=False) for f in split] for j in range(n)]

    def _task_inputs(self, stage: Stage) -> list:
        if stage.root == "impulse":
            return [None]
        if stage.root == "values":
            values = list(stage.node.transform.values)
            n = max(1, min(len(values), max(self.partitions, 256)))
            return [dumps(values[i * len(values) // n:(i + 1) * len(values) // n]) for i in range(n)]
        if stage.root == "read":
            splits = [(b.source, b.start_position, b.stop_position)
                      for b in stage.node.transform.source.split(stage.node.transform.bundle_bytes)]
            return splits or [None]
        if stage.root == "group":
            return self._buckets(stage.node)
        return [[f] for f in self._parts(stage.root_output)] or [[]]

    def _spec(self, stage: Stage, sides: list) -> dict:
        ids: dict = {}

        def pid(pc) -> str:
            return ids.setdefault(pc, f"p{len(ids)}")

        steps = []
        for node in stage.steps:
            t = node.transform
            steps.append({
                "fn": pickler.dumps(t.fn), "args": list(getattr(t, "args", []) or []),
                "kwargs": dict(getattr(t, "kwargs", {}) or {}),
                "side_views": [(sides.index(si.pvalue), type(si), si._view_options()) for si in node.side_inputs],
                "windowing": node.inputs[0].windowing, "label": node.full_label, "input": pid(node.inputs[0]),
                "outputs": {tag: pid(pc) for tag, pc in node.outputs.items()},
            })
        outputs = [([pid(pc) for pc in pcs], None if kind != "gbk" else
                    (self._n(target), self._key_coder(target), self.shuffle_dir))
                   for (kind, target), pcs in stage.outputs]
        root = "merge" if stage.root == "group" and self.shuffle_dir is not None else stage.root
        return {"root": root, "root_output": pid(stage.root_output), "steps": steps, "outputs": outputs,
                "scratch": self.shuffle_dir}

    def _submit(self, stage: Stage, sides: list, blob) -> None:
        side_parts = [self._parts(pc) for pc in sides]
        label = stage.steps[0].full_label if stage.steps else (stage.node.full_label if stage.node else "stage")
        tag = os.urandom(4).hex()
        tasks = [self.client.submit(run_stage, blob, data, side_parts, pure=False, key=f"{label}-{i}-{tag}")
                 for i, data in enumerate(self._task_inputs(stage))]
        if not stage.outputs:
            self.sinks.extend(tasks)
        for k, ((_, target), _) in enumerate(stage.outputs):
            futures = tasks if len(stage.outputs) == 1 else [
                self.client.submit(operator.getitem, f, k, pure=False) for f in tasks]
            self.parts.setdefault(target, []).extend(futures)

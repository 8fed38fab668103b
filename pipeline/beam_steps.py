"""The thin Beam shell: DoFns and composite transforms around the pure steps.

Every stage emits its kept elements on the main output, its per-bundle counts on the
``stats`` output (summed into ``stats.json``), and, when asked, its dropped elements on
the ``rejects`` output. ``CorpusRun`` wires those side outputs up for a whole job, so a
corpus job reads as a short list of named stages.
"""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Callable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindows

from pipeline import beam_io
from pipeline.chain import BATCH_BYTES, MIN_ELEMENT_BYTES, batch_weight
from pipeline.memory import fix_mmap_threshold
from pipeline.outcomes import At, Count, Forward, Tally, To
from pipeline.parquet_parts import PartsTarget, RowsToPart, commit_parts
from pipeline.readers import ReaderConfig, read_file, read_range
from pipeline.readers.ranges import FileRange, RangeDone, combine_ranges
from pipeline.records import Drop, FileDone
from pipeline.schema import CORPUS_SCHEMA, REJECTS_SCHEMA
from pipeline.stats import StageCounter, build_report

STATS = "stats"
REJECTS = "rejects"
FILES_STAGE = "files"
FILE_PARTS = "file_parts"  # the read stage's output of how each part of a file read in parts ended
READ_STAGE = "read"
WRITE_STAGE = "write"

log = logging.getLogger("corpusforge")


def _flush(counter: StageCounter):
    """A bundle's counts as ``stats`` outputs (and Beam metrics)."""
    for (stage, key), n in counter.drained():
        Metrics.counter(f"corpusforge.{stage}", key).inc(n)
        yield beam.pvalue.TaggedOutput(STATS, GlobalWindows.windowed_value(((stage, key), n)))


ONE, EACH, BATCH, GROUP = "one", "each", "batch", "group"  # the stage shapes (see _StageDoFn)


class _StageDoFn(beam.DoFn):
    """The one DoFn that runs a stage: it calls the pure callable, counts what it returns
    (:class:`pipeline.outcomes.Tally`) and routes kept records to the main output, Drops to
    ``rejects`` (with --rejects) and the counts to ``stats``, once per bundle.

    Shapes: ``one`` (element -> record, Drop or Kept; one input), ``each`` (element -> outcomes,
    each record or Drop one input: readers), ``batch`` (list -> outcomes; the list's length is
    the inputs), ``group`` ((key, values) -> ``fn(key, values)`` outcomes; the values, or the
    ``part`` named of a CoGroupByKey's, are the inputs). Heavy state loads in ``fn.setup()``;
    ``fn.last_counts`` (named counts of the last call) is read after each call. Side inputs come
    after the element (``fn(element, *side)``, ``fn(key, values, *side)``); a ``To(output, value)``
    outcome goes to the named output ``output``.
    """

    def __init__(self, stage: str, fn: Callable[..., Any], keep_rejects: bool, shape: str = ONE,
                 part: str | None = None) -> None:
        if shape not in (ONE, EACH, BATCH, GROUP):
            raise ValueError(f"unknown stage shape {shape!r}")
        self.stage, self.fn, self.keep_rejects, self.shape, self.part = stage, fn, keep_rejects, shape, part
        self._tally = Tally()

    def setup(self) -> None:
        if hasattr(self.fn, "setup"):
            self.fn.setup()

    def start_bundle(self) -> None:
        self._tally = Tally()

    def _outcomes(self, element, side):
        tally, stage = self._tally, self.stage
        if self.shape == ONE:
            return tally.one(stage, self.fn(element, *side))
        if self.shape == EACH:
            return tally.each(stage, self.fn(element, *side))
        if self.shape == BATCH:
            return tally.each(stage, self.fn(element, *side), len(element))
        key, values = element
        if isinstance(values, dict):  # CoGroupByKey
            values = {k: list(v) for k, v in values.items()}
            inputs = len(values[self.part]) if self.part else sum(len(v) for v in values.values())
        else:
            values = list(values)
            inputs = len(values)
        return tally.each(stage, self.fn(key, values, *side), inputs)

    def process(self, element, *side):
        for item in self._outcomes(element, side):
            if isinstance(item, Drop):
                if self.keep_rejects:
                    yield beam.pvalue.TaggedOutput(REJECTS, item.to_row())
            elif isinstance(item, To):
                yield beam.pvalue.TaggedOutput(item.output, item.item)
            else:
                yield item
        self._tally.counts(self.stage, getattr(self.fn, "last_counts", None))

    def finish_bundle(self):
        yield from _flush(self._tally.counter)


class ReadFile:
    """The reader stage: a path -> its RawRecords and Drops (``read``, one input each) and the
    file's own outcome (``files_stage``: kept, or dropped with the reader's file status). A part
    of a file (a ``FileRange``) -> its records, and how reading it ended on the ``FILE_PARTS``
    output (``(path, RangeDone)``), for ``FileFromParts`` to count the file once."""

    def __init__(self, config: ReaderConfig, files_stage: str = FILES_STAGE) -> None:
        self.config = config
        self.files_stage = files_stage

    def __call__(self, item: str | FileRange) -> Iterator[Any]:
        part = item if isinstance(item, FileRange) else None
        path = part.path if part else item
        outputs = (read_range(part, self.config, open_fn=beam_io.open_raw) if part
                   else read_file(path, self.config, open_fn=beam_io.open_raw))
        for out in outputs:
            if not isinstance(out, FileDone):
                yield out
                continue
            for name, n in out.counts.items():
                yield Count(name, n)
            if part:
                log.info("read %s, %s: %s, %d records", path, part.describe(), out.status, out.records)
                yield To(FILE_PARTS, Forward((path, RangeDone(part.index, part.count, out.status, out.detail,
                                                              out.records, part.describe()))))
            elif out.status == "ok":
                log.info("read %s: %d records", path, out.records)
                yield At(self.files_stage, path)
            else:
                log.warning("read %s: %s %s", path, out.status, out.detail)
                yield At(self.files_stage, Drop(self.files_stage, out.status, id=path, source_file=path,
                                                detail=out.detail))


def stage_outputs(dofn: beam.DoFn, outputs: tuple[str, ...] = (), side_inputs: tuple = ()):
    """``ParDo(dofn)`` with the outputs every stage has: main (``"out"``), ``stats``, ``rejects``, and
    the named ``outputs`` of a stage with more than one kind of record; ``side_inputs`` (AsDict,
    AsSingleton, ...) are passed to each call after the element."""
    return beam.ParDo(dofn, *side_inputs).with_outputs(STATS, REJECTS, *outputs, main="out")


def read_each_file(pbegin, paths: list, dofn: beam.DoFn, label: str = "ReadFile", outputs: tuple[str, ...] = ()):
    """Paths (or other work items: parts of files) -> the outputs (main, ``stats``, ``rejects``, and
    ``outputs``) of ``dofn`` applied to each; the items are spread over workers, one per work item,
    by the Reshuffle that ``Create`` adds itself to two or more values (a second one would only
    cost a Beam stage)."""
    return pbegin | "ListFiles" >> beam.Create(paths) | label >> stage_outputs(dofn, outputs)


class ApplyStep(beam.PTransform):
    """``pcoll | ApplyStep("extract", TextExtractor())`` -> outputs (main, stats, rejects): a
    one-to-one stage (element -> record, Drop, or Kept records). ``outputs``: more named outputs
    (filled by ``To`` outcomes); ``side_inputs``: passed to the step after the element."""

    SHAPE = ONE

    def __init__(self, stage: str, step: Callable[..., Any], keep_rejects: bool = False,
                 part: str | None = None, *, outputs: tuple[str, ...] = (), side_inputs: tuple = ()) -> None:
        super().__init__(label=stage)
        self.stage = stage
        self.step = step
        self.keep_rejects = keep_rejects
        self.part = part
        self.outputs = tuple(outputs)
        self.side_inputs = tuple(side_inputs)

    def dofn(self) -> _StageDoFn:
        return _StageDoFn(self.stage, self.step, self.keep_rejects, self.SHAPE, self.part)

    def expand(self, pcoll):
        return pcoll | stage_outputs(self.dofn(), self.outputs, self.side_inputs)


class FlatStep(ApplyStep):
    """A stage yielding outcomes per element, each record or Drop one input of the stage (a
    reader: a file -> its records; the second half of a join)."""

    SHAPE = EACH


class GroupStep(ApplyStep):
    """A stage over a group: ``(key, values) -> fn(key, values)`` outcomes; the values (or, after a
    CoGroupByKey, the ``part`` named) are the stage's inputs (joins, dedup verdicts)."""

    SHAPE = GROUP


class BatchStep(ApplyStep):
    """A stage over batches of ``batch_size`` elements: ``fn(batch) -> outcomes`` (vectorised work,
    a model's generation); each batch's ``len`` is its inputs. ``batch_size=None``: the elements
    are batches already (a slice of Parquet rows)."""

    SHAPE = BATCH

    def __init__(self, stage: str, step: Callable[..., Any], batch_size: int | None,
                 keep_rejects: bool = False) -> None:
        super().__init__(stage, step, keep_rejects)
        self.batch_size = batch_size

    def expand(self, pcoll):
        if self.batch_size:
            pcoll = pcoll | "batch" >> beam.BatchElements(min_batch_size=self.batch_size,
                                                           max_batch_size=self.batch_size)
        return pcoll | "apply" >> stage_outputs(self.dofn())


class ChainStep(ApplyStep):
    """Consecutive one-to-one stages fused over batches (a :class:`pipeline.chain.StageChain`):
    each stage runs over a whole batch in turn, so its code and model stay in the CPU caches;
    each still counts under its own name. A batch holds at most ``batch_bytes`` of payload,
    counting each element as at least ``min_element_bytes`` (so at most ``batch_bytes //
    min_element_bytes`` elements); a larger element is a batch of its own."""

    SHAPE = EACH

    def __init__(self, chain, batch_bytes: int = BATCH_BYTES, min_element_bytes: int = MIN_ELEMENT_BYTES,
                 keep_rejects: bool = False) -> None:
        super().__init__(chain.stages[-1], chain, keep_rejects)
        self.batch_bytes, self.min_element_bytes = batch_bytes, min_element_bytes

    def expand(self, pcoll):
        floor = self.min_element_bytes
        batches = pcoll | "batch" >> beam.BatchElements(
            min_batch_size=self.batch_bytes, max_batch_size=self.batch_bytes,
            element_size_fn=lambda e: batch_weight(e, floor))
        return batches | "apply" >> stage_outputs(self.dofn())


class PureCombine(beam.CombineFn):
    """A Beam combiner around a pure one (an object with the CombineFn methods ``create_accumulator``,
    ``add_input``, ``merge_accumulators``, ``extract_output``), so the core needs no Beam import."""

    def __init__(self, core: Any) -> None:
        self.core = core

    def create_accumulator(self):
        return self.core.create_accumulator()

    def add_input(self, acc, element):
        return self.core.add_input(acc, element)

    def merge_accumulators(self, accs):
        return self.core.merge_accumulators(accs)

    def extract_output(self, acc):
        return self.core.extract_output(acc)


class ReadInputFiles(beam.PTransform):
    """Paths -> RawRecords, one work item per file or per part of a file (``FileRange``s, from
    ``pipeline.readers.ranges.plan_ranges``); a file read in parts is counted once in the files
    stage, when all of its parts are read (``FileFromParts``)."""

    def __init__(self, paths: list, config: ReaderConfig, keep_rejects: bool = False) -> None:
        super().__init__(label="read")
        self.paths = paths
        self.config = config
        self.keep_rejects = keep_rejects

    def expand(self, pbegin):
        dofn = FlatStep(READ_STAGE, ReadFile(self.config), self.keep_rejects).dofn()
        if not any(isinstance(p, FileRange) for p in self.paths):
            return read_each_file(pbegin, self.paths, dofn)
        read = read_each_file(pbegin, self.paths, dofn, outputs=(FILE_PARTS,))
        files = (read[FILE_PARTS] | "GroupParts" >> beam.GroupByKey()
                 | "FileFromParts" >> ApplyStep(FILES_STAGE, _file_from_parts, self.keep_rejects))
        return {"out": read["out"],
                STATS: (read[STATS], files[STATS]) | "FlattenStats" >> beam.Flatten(),
                REJECTS: (read[REJECTS], files[REJECTS]) | "FlattenRejects" >> beam.Flatten()}


def _file_from_parts(group: tuple[str, Any]) -> str | Drop:
    """``(path, its parts' RangeDone)`` -> the file's one outcome (``combine_ranges``)."""
    return combine_ranges(*group)


# A writer buffers one row group (uncompressed) before it writes it: 4 MB, not Beam's 64, keeps a
# worker's memory flat (the largest process on the bench's 49 MB of JSONL: 165 MB; 16 MB row groups
# 187) and gives readers (tokenize) finer row groups; the file is as small (pages are compressed alone).
CORPUS_ROW_GROUP_BYTES = 4 << 20
REJECTS_ROW_GROUP_BYTES = 64 << 20  # Beam's WriteToParquet default, which the rejects had


class _WritePartsDoFn(beam.DoFn):
    """Rows -> one Parquet part per bundle (:class:`pipeline.parquet_parts.RowsToPart`); the part's
    description at the bundle's end."""

    def __init__(self, target: PartsTarget, row_group_bytes: int) -> None:
        self.target, self.row_group_bytes = target, row_group_bytes

    def setup(self) -> None:
        # Arrow's buffers of 1 MB and more (a batch's text, the encoder's pages) each get a mapping,
        # unmapped when freed: glibc otherwise raises its threshold after the first such free and the
        # next ones fragment the heap, which keeps their pages (~20 MB on the bench's 49 MB of JSONL).
        fix_mmap_threshold()

    def start_bundle(self) -> None:
        self._part = RowsToPart(self.target, self.row_group_bytes)

    def process(self, row):
        self._part.add(row)

    def finish_bundle(self):
        part = self._part.close()
        if part is not None:
            yield GlobalWindows.windowed_value(part)


class _WriteShardDoFn(beam.DoFn):
    """(shard, rows) -> that shard's rows as one Parquet part (``--num-shards``)."""

    def __init__(self, target: PartsTarget, row_group_bytes: int) -> None:
        self.target, self.row_group_bytes = target, row_group_bytes

    def setup(self) -> None:
        fix_mmap_threshold()  # see _WritePartsDoFn.setup

    def process(self, element):
        part = RowsToPart(self.target, self.row_group_bytes)
        for row in element[1]:
            part.add(row)
        done = part.close()
        if done is not None:
            yield done


class WriteParquet(beam.PTransform):
    """Rows (dicts) -> ``prefix-SSSSS-of-NNNNN.parquet`` files of ``schema`` in row groups of about
    ``row_group_bytes`` (Arrow buffers); their manifest entries (path, relative to ``relative_to``
    when given; rows; bytes; sha256). Each bundle writes one part (``num_shards`` parts instead,
    when given, after a shuffle); one step names them all once every part is written
    (:mod:`pipeline.parquet_parts`): the files are Beam's ``WriteToParquet``'s, with fewer stages,
    no second read to hash them, and one row group of Arrow buffers held, not two."""

    def __init__(self, prefix: str, schema, row_group_bytes: int, num_shards: int = 0, codec: str = "zstd",
                 relative_to: str | None = None) -> None:
        super().__init__()
        self.prefix, self.schema, self.row_group_bytes = prefix, schema, row_group_bytes
        self.num_shards, self.codec, self.relative_to = num_shards, codec, relative_to

    def expand(self, rows):
        target = PartsTarget.new(self.prefix, self.schema, self.codec, self.num_shards, beam_io.file_ops())
        if self.num_shards:
            parts = (rows | "Shard" >> beam.Map(_round_robin, self.num_shards) | "GroupShards" >> beam.GroupByKey()
                     | "WriteShards" >> beam.ParDo(_WriteShardDoFn(target, self.row_group_bytes)))
        else:
            parts = rows | "WriteParts" >> beam.ParDo(_WritePartsDoFn(target, self.row_group_bytes))
        return (rows.pipeline | "Commit" >> beam.Create([None])
                | "NameParts" >> beam.FlatMap(_commit, target, beam.pvalue.AsList(parts), self.relative_to))


def _commit(_, target: PartsTarget, parts: list[dict], relative_to: str | None) -> list[dict]:
    return commit_parts(target, parts, relative_to)


_shard_counter = itertools.count(random.randrange(1 << 16))


def _round_robin(row, shards: int):
    """(shard, row), shards taken in turn from a random start per process (Beam's reshard does the same)."""
    return next(_shard_counter) % shards, row


class CorpusRun:
    """One corpus job in the making: stages in order, plus their stats and rejects.

    >>> run = CorpusRun(p, output, job="web", config={...}, inputs=[...])
    >>> docs = run.read(paths, reader_config)
    >>> docs = run.step("extract", docs, TextExtractor())
    >>> run.write(docs)
    """

    def __init__(self, pipeline: beam.Pipeline, output: str, job: str, config: dict, inputs: list[dict],
                 keep_rejects: bool = False, num_shards: int = 0) -> None:
        self.pipeline = pipeline
        self.output = output
        self.job = job
        self.config = config
        self.inputs = inputs
        self.keep_rejects = keep_rejects
        self.num_shards = num_shards
        self.stage_order: list[str] = []
        self._stats: list = []
        self._rejects: list = []
        self._index_files: list = []  # files beside the corpus that a later build reads (dedup indexes)
        self._extra_outputs: list = []  # (key, described files): more files the job writes beside the corpus
        self._remove_at_end: list[str] = []  # paths staged for the workers, removed by the last step

    def _collect(self, outputs):
        self._stats.append(outputs[STATS])
        self._rejects.append(outputs[REJECTS])
        if isinstance(outputs, dict) and "index_files" in outputs:
            self._index_files.append(outputs["index_files"])
        return outputs["out"]

    def read(self, paths: list[str], config: ReaderConfig):
        self.stage_order += [FILES_STAGE, READ_STAGE]
        return self._collect(self.pipeline | ReadInputFiles(paths, config, self.keep_rejects))

    def step(self, stage: str, pcoll, fn: Callable[[Any], Any]):
        if stage in self.stage_order:
            raise ValueError(f"stage name {stage!r} used twice")
        self.stage_order.append(stage)
        return self._collect(pcoll | ApplyStep(stage, fn, self.keep_rejects))

    def apply(self, stage: str | list[str], pcoll, transform: beam.PTransform):
        """Apply a composite stage (e.g. dedup) whose outputs are main/``stats``/``rejects``; a list
        of names for a composite that counts several stages, in that order."""
        names = [stage] if isinstance(stage, str) else list(stage)
        for name in names:
            if name in self.stage_order:
                raise ValueError(f"stage name {name!r} used twice")
        self.stage_order += names
        return self._collect(pcoll | transform)

    def add_output(self, key: str, files) -> None:
        """List more written files (a PCollection holding one list of ``describe_*`` entries) in
        ``manifest.json``'s outputs under ``key`` (e.g. an Anserini collection beside the corpus)."""
        self._extra_outputs.append(files | f"Keyed_{key}" >> beam.Map(lambda described, k=key: (k, described)))

    def remove_at_end(self, path: str) -> None:
        """Remove ``path`` (a file or folder the driver staged for the workers) in the job's last
        step, before stats.json and manifest.json are written."""
        self._remove_at_end.append(path)

    def write(self, docs) -> None:
        """Write the corpus, the rejects, then stats.json and manifest.json (last, atomically)."""
        self.stage_order.append(WRITE_STAGE)
        out = self.output
        written = (
            docs
            | "ToRow" >> beam.Map(lambda d: d.to_row())
            | "CountWritten" >> ApplyStep(WRITE_STAGE, _PassThrough())
        )
        self._stats.append(written[STATS])
        data_files = (
            written["out"]
            | "WriteParquet" >> WriteParquet(beam_io.join(out, "data", "part"), CORPUS_SCHEMA,
                                             CORPUS_ROW_GROUP_BYTES, self.num_shards, relative_to=out)
        )
        data_files = beam.pvalue.AsList(data_files)  # a list view, not ToList: two Beam stages less
        if self.keep_rejects:
            reject_files = write_rejects(self._rejects | "FlattenRejects" >> beam.Flatten(), out)
        else:
            reject_files = []  # a constant, not a one-element PCollection: one Beam stage less
        if self._index_files:
            index_files = (
                self._index_files | "FlattenIndexFiles" >> beam.Flatten()
                | "RelativeIndex" >> beam.Map(_relative_entry, out)
            )
            index_files = beam.pvalue.AsList(index_files)
        else:
            index_files = []
        if self._extra_outputs:
            extra = beam.pvalue.AsList(self._extra_outputs | "FlattenExtraOutputs" >> beam.Flatten())
        else:
            extra = []
        finalize(
            self.pipeline, _write_report, output=out, job=self.job, config=self.config, inputs=self.inputs,
            stage_order=list(self.stage_order), stats=summed_stats(self._stats), data_files=data_files,
            reject_files=reject_files, index_files=index_files, extra_outputs=extra,
            remove=list(self._remove_at_end),
        )


def write_rejects(rejects, output: str):
    """Dropped records (``Drop.to_row()`` dicts) as ``output/rejects/part-*.parquet`` in the one
    rejects layout (REJECTS_SCHEMA) every job's ``--rejects`` writes; the described files, as a list view
    for ``finalize`` (not ToList: two Beam stages less)."""
    return beam.pvalue.AsList(
        rejects
        | "WriteRejects" >> WriteParquet(beam_io.join(output, "rejects", "part"), REJECTS_SCHEMA,
                                         REJECTS_ROW_GROUP_BYTES, relative_to=output)
    )


def summed_stats(stats: list):
    """The stats outputs of every stage, summed per (stage, key), as one list (a list view for
    ``finalize``: no ToList, whose combine and default value cost two Beam stages)."""
    return beam.pvalue.AsList(stats | "FlattenStats" >> beam.Flatten() | "SumStats" >> beam.CombinePerKey(sum))


def finalize(pipeline: beam.Pipeline, fn: Callable[..., None], **kwargs) -> None:
    """Call ``fn(**kwargs)`` once, after every PCollection among the arguments is complete
    (each given to ``fn`` as its single value; a side-input view such as ``AsList`` as it reads):
    how jobs write stats.json and manifest.json last."""
    side = {k: beam.pvalue.AsSingleton(v) if isinstance(v, beam.pvalue.PCollection) else v
            for k, v in kwargs.items()}
    _ = pipeline | "Finalize" >> beam.Create([None]) | "WriteReport" >> beam.Map(_call, fn, **side)


def _relative_entry(entry: dict, output: str) -> dict:
    """A manifest entry with its path relative to ``output``."""
    return {**entry, "path": beam_io.relative(entry["path"], output)}


def _call(_, report_fn, **kwargs) -> None:
    report_fn(**kwargs)


class _PassThrough:
    """Identity step, used to count what reaches the writer."""

    def __call__(self, element):
        return element


def _write_report(output, job, config, inputs, stage_order, stats, data_files, reject_files,
                  index_files, extra_outputs=(), remove=()) -> None:
    from pipeline.manifest import build_manifest

    for path in remove:
        beam_io.delete_tree(path)
    report = build_report(stats, stage_order)
    report["job"] = job
    beam_io.write_json_atomic(beam_io.join(output, "stats.json"), report)
    manifest = build_manifest(job, config, inputs, data_files, reject_files, index_files)
    for key, described in extra_outputs:
        manifest["outputs"][key] = sorted(described, key=lambda f: f["path"])
    beam_io.write_json_atomic(beam_io.join(output, "manifest.json"), manifest)

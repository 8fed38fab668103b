"""Beam shell for documents that wait for their dedup verdict: parked in spill files on Beam's
local runner (which holds a join's input in memory), or packed into the join elsewhere.

``spill_folder`` decides where (``--dedup_spill_dir``); :class:`Park` writes them, and
``read_back_by_file`` reads each spill file once, in order, joined by its name to the verdicts of
its own dropped documents (a worker holds one file's at a time, not the job's: exact dedup, whose
verdicts know their documents' references); ``read_back`` looks verdicts up in a dict side input
(MinHash, whose verdicts are keyed by id: sending them to files would take a join on every
document's id, 0.3 s and 10 MB more per process on the bench's 20,000 documents). The files
themselves are :mod:`pipeline.dedup.spill`.
"""

from __future__ import annotations

import weakref

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.transforms.window import GlobalWindows

from pipeline.dedup.packed import pack, unpack
from pipeline.dedup.spill import SpillError, SpillReader, SpillWriter, make_spill_folder, remove_spill_folder
from pipeline.memory import fix_mmap_threshold, release_free_memory


class DedupSpillOptions(PipelineOptions):
    """Where documents wait for their dedup verdict (``--dedup_spill_dir``)."""

    @classmethod
    def _add_argparse_args(cls, parser) -> None:
        parser.add_argument("--dedup_spill_dir", default="",
                            help="folder where exact_dedup and minhash_dedup park the documents that wait for "
                                 "their verdict, read and written by every worker at this same path (a shared "
                                 "mount on several machines); 'memory' keeps them in the runner's join instead "
                                 "(default: a temporary folder on Beam's local runner, memory on other runners)")


def _local_runner(runner) -> bool:
    """Whether every worker of ``runner`` runs on this machine (Beam's direct runners)."""
    from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner, DirectRunner
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    return isinstance(runner, FnApiRunner | DirectRunner | BundleBasedDirectRunner)


def spill_folder(pipeline, stage: str) -> str | None:
    """The folder where ``stage`` parks its waiting documents (created now: a bad ``--dedup_spill_dir``
    fails before any work), or None to keep them in the join. The job's last use of it removes it
    (:class:`ReadBack`); a failed job's, once the driver drops the pipeline or exits."""
    options = pipeline.options
    setting = options.view_as(DedupSpillOptions).dedup_spill_dir
    if setting == "memory" or (not setting and not _local_runner(pipeline.runner)):
        return None
    fix_mmap_threshold()  # the local runner's driver holds every shuffle: see _MMAP_NOTE
    folder = make_spill_folder(setting or None, stage)
    if not options.view_as(StandardOptions).no_wait_until_finish:  # a job left running keeps its files
        weakref.finalize(pipeline, remove_spill_folder, folder)
    return folder


# _MMAP_NOTE: where documents are parked (one machine, Beam's local runner), large transient buffers
# (signature batches, band blobs on the data plane) get mappings of their own, so the process gives
# them back when freed (pipeline.memory.fix_mmap_threshold, a process-wide setting: set once per
# DoFn instance, in setup): on the bench's 40k documents, 2 workers, the largest process's peak went
# from about 350 to 280 MB.

SPILL_FILES = "spill_files"  # extra output of Park: the name of each bundle's spill file
SPILL_DONE = "spill_done"  # extra output of ReadBack: one marker per finished bundle


class Park(beam.DoFn):
    """(key, document) -> (key, the document packed) to wait in a join when no ``folder``; with one,
    the document is appended to this bundle's spill file (:class:`pipeline.dedup.spill.SpillWriter`),
    (key, its reference) is yielded only when ``refs``, and the file's name goes to ``SPILL_FILES``."""

    def __init__(self, folder: str | None, refs: bool = True) -> None:
        self.folder, self.refs = folder, refs
        self.writer: SpillWriter | None = None

    def setup(self) -> None:
        if self.folder:
            fix_mmap_threshold()  # see _MMAP_NOTE

    def start_bundle(self) -> None:
        self.writer = SpillWriter(self.folder) if self.folder else None

    def process(self, element):
        key, doc = element
        if self.writer is None:
            yield key, pack(doc)
            return
        ref = self.writer.write(doc)
        if self.refs:
            yield key, ref

    def finish_bundle(self):
        writer, self.writer = self.writer, None
        if writer is not None:
            writer.close()  # the file is read only after the verdicts, once every bundle is done
            if writer.name is not None:
                yield beam.pvalue.TaggedOutput(SPILL_FILES, GlobalWindows.windowed_value(writer.name))


class Unpark(beam.DoFn):
    """After a join: (key, {part: [packed documents], ...}) -> the same with the documents themselves.
    Bundles start by returning free heap to the OS (the runner has just freed the join's buffer)."""

    def __init__(self, part: str) -> None:
        self.part = part

    def start_bundle(self) -> None:
        release_free_memory()

    def process(self, element):
        key, grouped = element
        yield key, {**grouped, self.part: [unpack(b) for b in grouped[self.part]]}


class ReadBack(beam.DoFn):
    """A spill file -> each of its documents as the join would have given it: ``join(reference,
    document, verdicts)`` -> (key, {"doc": [document], ...}), ``verdicts`` a mapping that holds
    those of dropped documents only. The element is (file name, its own verdicts), and then a
    verdict for no document read raises :class:`SpillError`; or it is the file name alone, with
    the job's verdicts as a dict side input. Each bundle's end is marked on ``SPILL_DONE`` (see
    :func:`_remove_after`)."""

    def __init__(self, folder: str, join) -> None:
        self.folder, self.join = folder, join

    def setup(self) -> None:
        fix_mmap_threshold()  # see _MMAP_NOTE

    def start_bundle(self) -> None:
        release_free_memory()  # the runner has just freed the buffers of the stages before

    def process(self, element, job_verdicts: dict | None = None):
        name, verdicts = element if job_verdicts is None else (element, job_verdicts)
        found = 0
        for ref, doc in SpillReader(self.folder).records(name):
            found += ref in verdicts
            yield self.join(ref, doc, verdicts)
        if job_verdicts is None and found != len(verdicts):
            raise SpillError(f"dedup spill: {len(verdicts) - found} verdict(s) for documents not found in "
                             f"spill file {name} of {self.folder}")

    def finish_bundle(self):
        yield beam.pvalue.TaggedOutput(SPILL_DONE, GlobalWindows.windowed_value(None))


def read_back_by_file(pipeline, folder: str, files, verdicts, join):
    """Every parked document read back file by file, each file with the verdicts of its own dropped
    documents (``verdicts``: (file name, (reference, verdict)) pairs, keyed with
    :func:`pipeline.dedup.spill.spill_file_of`; joined to the files by name, so a worker holds one
    file's at a time); the folder is removed once all are read."""
    by_file = ({"file": files | "KeyFiles" >> beam.Map(lambda name: (name, name)), "verdicts": verdicts}
               | "VerdictsPerFile" >> beam.CoGroupByKey() | "FileVerdicts" >> beam.Map(_file_verdicts))
    return _read_back(pipeline, folder, by_file | "ReadBack" >> _read_back_dofn(folder, join))


def _file_verdicts(element) -> tuple[str, dict]:
    """(name, {"file": [name], "verdicts": [(reference, verdict), ...]}) -> (name, {reference: verdict})."""
    name, grouped = element
    if not grouped["file"]:
        raise SpillError(f"dedup spill: {len(grouped['verdicts'])} verdict(s) for spill file {name}, which no "
                         "bundle wrote")
    return name, dict(grouped["verdicts"])


def read_back(pipeline, folder: str, files, verdicts, join):
    """Every parked document read back file by file, with its verdict looked up in ``verdicts``
    ((key, verdict) of the dropped documents, keyed as ``join`` looks them up: a dict side input,
    which every worker holds whole); the folder is removed once all are read."""
    return _read_back(pipeline, folder,
                      files | "ReadBack" >> _read_back_dofn(folder, join, beam.pvalue.AsDict(verdicts)))


def _read_back_dofn(folder: str, join, *side):
    return beam.ParDo(ReadBack(folder, join), *side).with_outputs(SPILL_DONE, main="out")


def _read_back(pipeline, folder: str, read):
    """The documents ``read`` gives back; the spill folder removed after its last bundle."""
    _ = (pipeline | "SpillFolder" >> beam.Create([folder])
         | "RemoveSpill" >> beam.Map(_remove_after, beam.pvalue.AsList(read[SPILL_DONE])))
    return read["out"]


def _remove_after(folder: str, _done: list) -> None:
    """Remove the spill folder; the side input (every bundle's end marker) makes this run last."""
    remove_spill_folder(folder)

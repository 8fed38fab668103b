"""What every Beam job's command line shares: Beam option checks, output handling, summary."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import time
import weakref
from dataclasses import dataclass
from typing import Any

from pipeline import beam_io
from pipeline.errors import UsageError  # noqa: F401  (defined without Beam; every job imports it from here)
from pipeline.stats import render_table


@dataclass
class Job:
    """A ``beam_runner.py`` job: its name, help, argument definitions and entry point."""

    name: str
    summary: str
    description: str
    add_arguments: Any  # (argparse.ArgumentParser) -> None
    run: Any  # (args, beam_args: list[str]) -> dict (the stats report)


def _beam_option_parser(beam_args: list[str]) -> argparse.ArgumentParser:
    from apache_beam.options.pipeline_options import PipelineOptions, _BeamArgumentParser

    if any("dask" in a.lower() for a in beam_args):  # importing dask.distributed costs 0.5-1.5 s
        import_runner_options()
    parser = _BeamArgumentParser(allow_abbrev=False, add_help=False)
    seen: set[type] = set()
    stack = list(PipelineOptions.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        stack.extend(cls.__subclasses__())
        try:
            cls._add_argparse_args(parser)
        except argparse.ArgumentError:
            pass  # the same option declared by two option classes
    return parser


DASK_RUNNERS = ("dask", "DaskRunner", "apache_beam.runners.dask.dask_runner.DaskRunner")


def import_runner_options() -> None:
    """Load the option classes of every runner we document, so their flags are known before the
    runner is (Beam only knows option classes whose module was imported)."""
    import apache_beam.runners.dask.dask_runner  # noqa: F401  (Beam's --dask_* options)

    import pipeline.dask_runner  # noqa: F401  (--dask_address, --dask_partitions, ...)


def check_beam_args(beam_args: list[str]) -> list[str]:
    """Fail on flags that are neither the job's nor a Beam pipeline option (typos, mostly)."""
    _, unknown = _beam_option_parser(beam_args).parse_known_args(beam_args)
    flags = [a for a in unknown if a.startswith("-")]
    if flags:
        raise UsageError(
            f"unknown option(s): {' '.join(flags)} (not an option of this job nor a Beam pipeline option; see --help)"
        )
    if unknown:
        raise UsageError(f"unexpected argument(s): {' '.join(unknown)} (options take the form --name value)")
    return beam_args


def make_pipeline(beam_args: list[str]):
    """A Beam pipeline for these options; the local DirectRunner runs on its FnApiRunner engine.

    Beam's DirectRunner first tries the Prism runner, which downloads a binary and ignores
    ``--direct_num_workers``; running the FnApiRunner engine directly (as the DirectRunner
    falls back to) keeps local runs offline and the ``--direct_*`` options effective.
    """
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.beam_speedups import install

    install()  # memoized DoFn and option introspection: construction and bundle set-up, faster
    options = PipelineOptions(beam_args)
    if _runner_name(beam_args) in DASK_RUNNERS:
        from pipeline.dask_runner import DaskClusterRunner

        return _tidy(beam.Pipeline(runner=DaskClusterRunner(), options=options))
    if not is_local_direct(beam_args):
        return _tidy(beam.Pipeline(options=options))
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle

    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    info = fn_runner.ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
    return _tidy(beam.Pipeline(runner=fn_runner.FnApiRunner(provision_info=info), options=options))


def _tidy(pipeline):
    """``pipeline``, with its local temporary folder (``beam-pipeline-temp*``, made when it is
    created) removed once it is dropped: Beam removes it only at the end of a run, so a job
    whose build failed (a bad option found then) left one behind in the system's temp folder."""
    folder = getattr(pipeline, "local_tempdir", None)
    if folder:
        weakref.finalize(pipeline, shutil.rmtree, folder, True)
    return pipeline


def set_filesystem_options(beam_args: list[str]) -> None:
    """Give Beam's filesystems the pipeline options (s3:// and gs:// need them to list inputs)."""
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions

    FileSystems.set_options(PipelineOptions(beam_args))


def _runner_name(beam_args: list[str]) -> str | None:
    runner = next((a.split("=", 1)[1] for a in beam_args if a.startswith("--runner=")), None)
    if runner is None and "--runner" in beam_args:
        i = beam_args.index("--runner")
        runner = beam_args[i + 1] if i + 1 < len(beam_args) else None
    return runner


LOCAL_DIRECT = ("direct", "directrunner", "apache_beam.runners.direct.direct_runner.directrunner")


def is_local_direct(beam_args: list[str]) -> bool:
    """Whether the options name Beam's local DirectRunner: no ``--runner``, or any spelling Beam
    takes for it (case-insensitive, with or without 'Runner', or its module path)."""
    runner = _runner_name(beam_args)
    return runner is None or runner.lower() in LOCAL_DIRECT


# Below this much input, a local run stays in one process: starting worker processes (each
# importing Beam and the job's libraries) costs more than they would save.
SMALL_INPUT_BYTES = 16 << 20


class BeamArgs(list):
    """Beam options after ``default_beam_args``; ``chosen_parallelism`` is True when the
    worker count and running mode are our defaults, not the user's; ``chosen_mode`` when
    the running mode is (whatever the worker count)."""

    chosen_parallelism: bool = False
    chosen_mode: bool = False


def _flag_value(beam_args: list[str], flag: str) -> str | None:
    """The value of ``--flag=V`` or ``--flag V`` (the last one given), else None."""
    value = None
    for i, a in enumerate(beam_args):
        if a.startswith(flag + "="):
            value = a.split("=", 1)[1]
        elif a == flag and i + 1 < len(beam_args):
            value = beam_args[i + 1]
    return value


# Beam's options that ask for type checks: given any, local runs keep the construction-time pass.
TYPE_CHECK_FLAGS = ("--type_check_strictness", "--type_check_additional", "--runtime_type_check",
                    "--performance_runtime_type_check")


def default_beam_args(beam_args: list[str], verbose: bool = False) -> BeamArgs:
    """On the DirectRunner, use every core (one worker process each) unless told otherwise.

    Worker processes log only errors unless ``verbose`` (their start-up chatter would bury
    the job's summary). Local runs skip Beam's construction-time type inference
    (``--no_pipeline_type_check``), a third of building a job (0.03 s): our transforms declare no
    type hints, and an untyped shuffle takes Beam's deterministic default coder. Any of
    ``TYPE_CHECK_FLAGS`` keeps it.
    """
    has = lambda flag: any(a == flag or a.startswith(flag + "=") for a in beam_args)  # noqa: E731
    if not is_local_direct(beam_args):
        return BeamArgs(beam_args)
    extra: list[str] = []
    chosen = not has("--direct_num_workers") and not has("--direct_running_mode")
    if not has("--direct_num_workers"):
        extra.append(f"--direct_num_workers={max(1, min(os.cpu_count() or 1, 8))}")
    if not has("--direct_running_mode"):
        extra.append("--direct_running_mode=multi_processing")
    if not verbose and not has("--default_sdk_harness_log_level"):
        extra.append("--default_sdk_harness_log_level=ERROR")
    if not any(has(flag) for flag in ("--no_pipeline_type_check",) + TYPE_CHECK_FLAGS):
        extra.append("--no_pipeline_type_check")
    out = BeamArgs(beam_args + extra)
    out.chosen_parallelism = chosen
    out.chosen_mode = not has("--direct_running_mode")
    return out


def local_workers(beam_args: list[str]) -> int:
    """Worker processes the DirectRunner's ``multi_processing`` mode starts for these options
    (``--direct_num_workers=0``: one per core)."""
    try:
        workers = int(_flag_value(beam_args, "--direct_num_workers") or 1)
    except ValueError:
        return 1
    return workers if workers > 0 else (os.cpu_count() or 1)


def runs_worker_processes(beam_args: list[str]) -> bool:
    """Whether these options run the job locally in worker processes (``multi_processing``)."""
    return is_local_direct(beam_args) and _flag_value(beam_args, "--direct_running_mode") == "multi_processing"


def in_one_process(beam_args: list[str], input_bytes: int | None, max_workers: int = 1,
                   work_items: int | None = None) -> bool:
    """Whether a local job runs as fast in this process as in worker processes: the running mode
    is ours to choose (no ``--direct_running_mode`` given) and either at most ``max_workers``
    workers are asked for, the input is under ``SMALL_INPUT_BYTES`` (a worker process's
    start-up, importing Beam and the job's libraries, costs more than it would save), or the job
    has one work item (``work_items``: the most workers it can keep busy). The worker count is an
    upper bound. ``max_workers`` above 1: the job's work runs in threads of its own (the
    tokenizer's), so one process already uses that many cores."""
    if input_bytes is None or not getattr(beam_args, "chosen_mode", False):
        return False
    return (input_bytes < SMALL_INPUT_BYTES or local_workers(beam_args) <= max_workers
            or (work_items is not None and work_items <= 1))


def for_input_size(beam_args: list[str], input_bytes: int | None, max_workers: int = 1,
                   work_items: int | None = None) -> list[str]:
    """The options to run with: one in-process worker (``in_memory``) when ``in_one_process``; no
    more worker processes than ``work_items`` when the running mode is ours and the job can keep
    no more busy (a web job without a shuffle, one worker per input file: the others would only
    start and wait); else ``beam_args`` unchanged. Same output either way, less fixed cost and
    memory."""
    if in_one_process(beam_args, input_bytes, max_workers, work_items):
        return _without(beam_args, ("--direct_num_workers", "--direct_running_mode")) + [
            "--direct_num_workers=1", "--direct_running_mode=in_memory"]
    if (work_items is not None and input_bytes is not None and getattr(beam_args, "chosen_mode", False)
            and work_items < local_workers(beam_args)):
        return _without(beam_args, ("--direct_num_workers",)) + [f"--direct_num_workers={work_items}"]
    return beam_args


def _without(beam_args: list[str], flags: tuple[str, ...]) -> list[str]:
    """``beam_args`` less ``flags``, given as ``--flag=value`` or ``--flag value``."""
    keep: list[str] = []
    skip = False
    for a in beam_args:
        if skip:
            skip = False
        elif a in flags:
            skip = True  # "--flag value": drop its value too
        elif not a.startswith(tuple(f + "=" for f in flags)):
            keep.append(a)
    return keep


def prepare_beam_args(beam_args: list[str], verbose: bool = False) -> list[str]:
    """What every Beam job does with its Beam options first: ``check_beam_args``, then
    ``default_beam_args``, then ``set_filesystem_options``; returns the options to run with."""
    beam_args = default_beam_args(check_beam_args(beam_args), verbose)
    set_filesystem_options(beam_args)
    return beam_args


def prepare_output(output: str, overwrite: bool) -> None:
    """Refuse to write into an existing corpus unless ``--overwrite``; then clear it."""
    manifest = beam_io.join(output, "manifest.json")
    leftovers = [beam_io.join(output, n) for n in ("data", "rejects", "dedup", "stats.json", "manifest.json")]
    existing = [p for p in leftovers if beam_io.exists(p)]
    if existing and not overwrite:
        what = "a finished corpus" if beam_io.FileSystems.exists(manifest) else "an unfinished earlier run"
        raise UsageError(f"--output {output} already holds {what}; choose another directory or pass --overwrite")
    for p in existing:
        beam_io.delete_tree(p)


def prepare_named_outputs(output: str, names: list[str] | tuple[str, ...], overwrite: bool) -> None:
    """Refuse ``output`` when it holds any of ``names`` (a job's files or folders, from an earlier
    run) unless ``overwrite``; then remove them. For jobs whose output is not a corpus."""
    existing = [n for n in names if beam_io.exists(beam_io.join(output, n))]
    if existing and not overwrite:
        raise UsageError(f"--output {output} already holds {', '.join(existing)} of an earlier run; "
                         "choose another directory or pass --overwrite")
    for n in existing:
        beam_io.delete_tree(beam_io.join(output, n))


def configure_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("corpusforge").setLevel(logging.INFO if verbose else logging.WARNING)
    if not verbose:  # Beam's worker start-up chatter hides the summary
        logging.getLogger("apache_beam").setLevel(logging.ERROR)


def print_summary(job: str, output: str, report: dict, seconds: float, inputs: list[dict]) -> None:
    """The closing summary every job prints: the stage table, where output went, time."""
    print()
    print(render_table(report))
    written = report["stages"][-1]["out"] if report["stages"] else 0
    status = "ok" if report.get("accounting_ok") else "MISMATCH (see stats.json)"
    print(f"\nwrote {written} documents to {output}/data  (accounting {status})  in {seconds:.1f}s")
    print(f"stats: {output}/stats.json   manifest: {output}/manifest.json")


def waits_until_finish(beam_args: list[str]) -> bool:
    """False with ``--no_wait_until_finish``: the driver submits the job and returns."""
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    return not PipelineOptions(beam_args).view_as(StandardOptions).no_wait_until_finish


@dataclass
class PipelineJob:
    """What the shared driver needs to run one Beam job: its pipeline and how to report it.

    The pipeline itself writes everything, ``stats.json`` and ``manifest.json`` (last)
    included, so the driver does no work after the run: it only reads ``stats.json`` back to
    print the summary, and not even that with ``--no_wait_until_finish``."""

    name: str
    output: str
    build: Any  # (beam.Pipeline) -> None: composes the job on the pipeline
    header: str = ""  # printed before the run
    summary: Any = None  # (report: dict, seconds: float) -> None: prints the closing summary
    work_items: int | None = None  # files (or parts of files) each read by one worker, when the job reads so
    files_bound: bool = False  # no shuffle after the read: no more workers than work_items are started


def spread_note(beam_args: list[str], work_items: int | None) -> str | None:
    """A note for a local run with worker processes and fewer work items than workers: a file (or
    a part of a large WARC/WET file) is one work item, and its records stay on the worker that
    read it, so some workers would wait."""
    if work_items is None or not runs_worker_processes(beam_args):
        return None
    workers = local_workers(beam_args)
    if work_items >= workers:
        return None
    return (f"note: {work_items} work item(s) for {workers} workers: each input file (or part of a large "
            f"WARC/WET file) is read and processed by one worker (up to a dedup step's shuffle), so "
            f"{workers - work_items} worker(s) wait; give at least {workers} files to use them all "
            "(docs/running-jobs.md, 'How work is spread')")


def drive(job: PipelineJob, beam_args: list[str], quiet: bool = False, input_bytes: int | None = None) -> dict | None:
    """Run ``job`` on the runner the options name; return its stats report (None when submitted
    with ``--no_wait_until_finish``: stats.json and manifest.json appear when it ends).
    ``input_bytes``: the input's size, when known (a small one runs in one local process)."""
    beam_args = for_input_size(beam_args, input_bytes, work_items=job.work_items if job.files_bound else None)
    if job.header and not quiet:
        print(job.header, flush=True)
    note = spread_note(beam_args, job.work_items)
    if note and not quiet:
        print(note, flush=True)
    from pipeline.beam_speedups import fork_workers, release_workers

    if runs_worker_processes(beam_args):
        fork_workers(local_workers(beam_args))  # Beam and the job's modules already imported: no start-up
    with Timer() as t:
        try:
            with make_pipeline(beam_args) as p:
                job.build(p)
        finally:
            release_workers()
    if not waits_until_finish(beam_args):
        if not quiet:
            print(f"{job.name}: submitted ({t.seconds:.1f}s); {job.output}/manifest.json is written when the job "
                  "has finished", flush=True)
        return None
    report = beam_io.read_json(beam_io.join(job.output, "stats.json"))
    if job.summary is not None and not quiet:
        job.summary(report, t.seconds)
    return report


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start

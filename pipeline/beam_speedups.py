"""Memoized introspection for Apache Beam's pipeline construction and bundle set-up.

Beam recomputes the same facts many times per job: ``userstate.get_dofn_specs`` inspects the
signature of every method of a DoFn (about 30) each time it is asked whether the DoFn is
stateful (over 1,000 times for a web job with dedup), and every ``PipelineOptions.view_as``
builds an argparse parser for the view's class and parses the flags again. Both results depend
only on their inputs, so ``install()`` wraps them with caches. What is cached and when it is
not (so the results stay exactly Beam's):

- DoFn state/timer specs of the methods a DoFn's class defines, per class; a method with an
  ``_inspect_<name>`` hook (the wrapper of ``beam.Map(fn)``, whose ``process`` is ``fn``)
  is inspected on each call, and a DoFn holding a bound method of its own entirely so; the
  class's entry is kept per set of class attributes the instance shadows.
- The argument names and defaults of a bound method, per function.
- Parsed option values, per (options class, flags); a view gets its own deep copy.

``install()`` also shortens the longest sleep of the state sampler thread Beam starts for each
bundle from 200 to 10 ms (``SAMPLING_PERIOD_MS``): ending a bundle joins that thread, and the
wait, 0.1 s on average after a long bundle, is idle wall time in every worker.

``install()`` is idempotent and refuses (leaves Beam as it is) if the functions it wraps are
not the ones it knows. ``uninstall()`` puts Beam's own back (tests compare the two).

``import_beam_lean()`` (the command line's first import) imports Beam without two optional
parts that no job uses and that cost 0.2-0.4 s of CPU and about 55 MB per process: its pandas
integration (afterwards Beam's ``ReadFromCsv``/``ReadFromJson``/``WriteToCsv``/``WriteToJson``
raise "Please install apache_beam[dataframe]" and pandas batch types are not registered;
``apache_beam.dataframe`` registers them when imported) and the BigQuery/Pub/Sub names of
``apache_beam.io`` (import ``apache_beam.io.gcp.bigquery`` or ``.pubsub`` directly to use
them; the ``gs://`` filesystem is imported on its own and unaffected). Both import as usual
afterwards: only Beam's own start-up skips them. It also leaves out ``bson``, and with it pymongo
(0.04-0.06 s): Beam's MongoDB IO then cannot be used in that process (no job of ours uses it).
beartype (0.03-0.06 s) is imported only when Beam's type hints first call its ``is_subhint``
(``_BeartypeLater``), which no job of ours does.
Where google-api-core is not installed (no Google Cloud IO), it leaves out apitools too
(0.06 s), which Beam's retry helper imports only to tell Google API errors apart. It also keeps pyarrow from importing pandas
(``defer_arrow_pandas``: 0.2 s, 45 MB) until something else imports it, and moves the objects
imported so far out of the garbage collector's generations (``gc.freeze``): they live as long as the
process, and the one full collection of the bench's 1,448-page web job walked all of them (45 ms).
``install()`` starts the
DirectRunner's ``multi_processing`` worker processes through ``worker_main``, which imports
Beam the same way before Beam's own worker main; a job's driver forks them ahead instead
(``fork_workers``, before the pipeline runs), so they start with Beam and the job's modules
imported: no worker start-up after the driver's.
"""

from __future__ import annotations

import argparse
import copy
import gc
import importlib.util
import json
import logging
import os
import signal
import subprocess
import sys
import traceback
import types
import weakref
from typing import Any

from pipeline.fork_safety import fork_hazard

_ORIGINAL: dict[str, Any] = {}
# DoFn class -> {class attributes its instance shadows: (hooked methods, specs of the other methods)}
_SPECS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_ARGS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # function -> (args, defaults) of its bound form
_PARSED: dict[tuple, argparse.Namespace] = {}  # (options class, flags) -> parsed values
_PARSED_MAX = 4096
_FORKED: list[ForkedWorker] = []  # worker processes forked ahead, waiting for their environment


def _specs_of(dofn, names) -> tuple[set, set]:
    """Beam's ``get_dofn_specs`` loop over the methods ``names`` of ``dofn`` (same checks)."""
    from apache_beam.runners.common import MethodWrapper
    from apache_beam.transforms.core import _DoFnParam, _StateDoFnParam, _TimerDoFnParam

    states, timers = set(), set()
    for method_name in names:
        method = MethodWrapper(dofn, method_name)
        param_ids = [d.param_id for d in method.defaults if isinstance(d, _DoFnParam)]
        if len(param_ids) != len(set(param_ids)):
            raise ValueError(f"DoFn {dofn!r} has duplicate {method_name} method parameters: {param_ids}.")
        for d in method.defaults:
            if isinstance(d, _StateDoFnParam):
                states.add(d.state_spec)
            elif isinstance(d, _TimerDoFnParam):
                timers.add(d.timer_spec)
    return states, timers


def _cached_dofn_specs(dofn):
    """``get_dofn_specs``: the methods that come from the DoFn's class inspected once per class
    (and per set of class attributes the instance shadows: ``beam.Map(fn)``'s wrapper stores
    ``fn`` as ``process``); those with an ``_inspect_<name>`` hook (which reads the instance)
    each time, and a DoFn holding a bound method of its own entirely so."""
    cls = type(dofn)
    inst = getattr(dofn, "__dict__", None)
    if inst is None or any(isinstance(v, types.MethodType) for v in inst.values()):
        return _ORIGINAL["get_dofn_specs"](dofn)  # the instance adds a method: Beam inspects it
    shadowed = frozenset(k for k in inst if callable(getattr(cls, k, None)))
    per_class = _SPECS.setdefault(cls, {})
    entry = per_class.get(shadowed)
    if entry is None:
        names = [n for n in dir(dofn) if isinstance(getattr(dofn, n, None), types.MethodType)]
        hooked = tuple(n for n in names if hasattr(cls, f"_inspect_{n}"))
        entry = per_class[shadowed] = hooked, _specs_of(dofn, [n for n in names if n not in hooked])
    hooked, (states, timers) = entry
    if hooked:
        more_states, more_timers = _specs_of(dofn, hooked)
        return states | more_states, timers | more_timers
    return set(states), set(timers)


def _cached_args_defaults(f):
    """``core.get_function_args_defaults`` per function for bound methods (a DoFn's methods)."""
    func = getattr(f, "__func__", None)
    if not isinstance(f, types.MethodType) or type(func) is not types.FunctionType:
        return _ORIGINAL["args_defaults"](f)
    found = _ARGS.get(func)
    if found is None:
        found = _ORIGINAL["args_defaults"](f)
        _ARGS[func] = found
    return list(found[0]), list(found[1])


def _cached_options_init(self, flags=None, **kwargs) -> None:
    """``PipelineOptions.__init__`` that parses a given list of flags once per options class."""
    try:
        key = (type(self), tuple(flags)) if flags is not None and not isinstance(flags, str) else None
        hash(key)
    except TypeError:
        key = None
    parsed = _PARSED.get(key) if key is not None else None
    if parsed is None:
        _ORIGINAL["options_init"](self, flags, **kwargs)
        if key is not None and len(_PARSED) < _PARSED_MAX:
            _PARSED[key] = copy.deepcopy(self._visible_options)
        return
    logging.basicConfig()  # as Beam's __init__ does
    self._flags = flags
    self._visible_options = copy.deepcopy(parsed)  # values (lists) never shared between views
    self._all_options = kwargs
    for name in self._visible_option_list():
        if name not in self._all_options:
            self._all_options[name] = getattr(self._visible_options, name)


LEAN_HIDDEN = ("pandas", "apache_beam.io.gcp.bigquery", "bson")  # hidden while Beam imports (import_beam_lean)
_QUIETED = "apache_beam.io.mongodbio"  # its logger, off during the import: it warns when bson is missing
# Also hidden where google-api-core is not installed: Beam's retry helper imports apitools (0.06 s)
# only to tell Google API errors apart, which nothing can raise without google-api-core.
HIDDEN_WITHOUT_GOOGLE_API = ("apitools",)


def lean_hidden() -> tuple[str, ...]:
    """The modules ``import_beam_lean`` hides in this environment."""
    try:
        google_api = importlib.util.find_spec("google.api_core") is not None
    except (ImportError, ValueError):
        google_api = False
    return LEAN_HIDDEN if google_api else LEAN_HIDDEN + HIDDEN_WITHOUT_GOOGLE_API


def import_beam_lean() -> None:
    """Import ``apache_beam`` with ``lean_hidden()`` hidden and beartype deferred (``_BeartypeLater``),
    unless Beam or one of them is imported already (then nothing changes); then freeze what is
    imported (``gc.freeze``)."""
    hidden = lean_hidden()
    if "apache_beam" in sys.modules or any(m in sys.modules for m in hidden):
        return
    for m in hidden:
        sys.modules[m] = None  # type: ignore[assignment]  (None: importing it raises ImportError)
    beartype_later = _BeartypeLater.stand_in()
    quieted = logging.getLogger(_QUIETED)
    was_disabled, quieted.disabled = quieted.disabled, True
    try:
        import apache_beam  # noqa: F401
    finally:
        quieted.disabled = was_disabled
        for m in hidden:
            if m in sys.modules and sys.modules[m] is None:
                del sys.modules[m]
        if beartype_later is not None:
            beartype_later.withdraw()
    defer_arrow_pandas()
    gc.freeze()  # Beam's import-time objects live as long as the process: no collection walks them again


class _BeartypeDoorException(Exception):
    """Stands in for beartype's ``BeartypeDoorException`` in Beam's type hints until beartype loads."""


class _BeartypeLater:
    """Beam's type hints import beartype (0.06 s of CPU) for one call, ``is_subhint``, which only
    pipelines with type hints that Beam cannot compare itself reach (no job of ours does). While
    Beam imports, ``beartype``, ``beartype.door`` and ``beartype.roar`` are stand-ins: Beam binds a
    lazy ``is_subhint`` and a placeholder exception class. The first call imports the real beartype,
    puts its ``is_subhint`` and ``BeartypeDoorException`` in Beam's module, and calls it; after
    Beam's import the stand-ins leave ``sys.modules``, so any other ``import beartype`` is the real one."""

    NAMES = ("beartype", "beartype.door", "beartype.roar")

    def __init__(self) -> None:
        package = types.ModuleType("beartype")
        package.__path__ = []  # a package, so its submodules' stand-ins are importable
        door = types.ModuleType("beartype.door")
        door.is_subhint = _is_subhint_later  # type: ignore[attr-defined]
        roar = types.ModuleType("beartype.roar")
        roar.BeartypeDoorException = _BeartypeDoorException  # type: ignore[attr-defined]
        self.modules = dict(zip(self.NAMES, (package, door, roar), strict=True))

    @classmethod
    def stand_in(cls) -> _BeartypeLater | None:
        """Put the stand-ins in ``sys.modules`` (None, and nothing done, where beartype is imported
        already or not installed)."""
        if any(n in sys.modules for n in cls.NAMES) or importlib.util.find_spec("beartype") is None:
            return None
        later = cls()
        sys.modules.update(later.modules)
        return later

    def withdraw(self) -> None:
        for name, module in self.modules.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


def _is_subhint_later(subhint, superhint) -> bool:
    """beartype's ``is_subhint``, imported on the first call, which also hands Beam's type hints the
    real function and exception class (so its ``except BeartypeDoorException`` catches beartype's)."""
    from apache_beam.typehints import typehints
    from beartype.door import is_subhint
    from beartype.roar import BeartypeDoorException

    if typehints.is_subhint is _is_subhint_later:
        typehints.is_subhint, typehints.BeartypeDoorException = is_subhint, BeartypeDoorException
    return is_subhint(subhint, superhint)


def defer_arrow_pandas() -> None:
    """Keep pyarrow from importing pandas (0.2 s, 45 MB) on the first ``pa.array`` of a list, as
    Beam's Parquet sink makes: its once-only "is pandas importable?" check is answered "no" while
    pandas is not loaded, and asked again (pyarrow's own import) the moment pandas is imported."""
    if "pandas" in sys.modules or any(isinstance(f, _PandasArrival) for f in sys.meta_path):
        return
    import pyarrow

    arrival = _PandasArrival()
    sys.meta_path.insert(0, arrival)  # (a None in sys.modules does not stop pyarrow's compiled import)
    try:
        pyarrow.array([], pyarrow.null())  # pyarrow's check runs here, finds no pandas, and remembers
    finally:
        arrival.blocking = False


class _PandasArrival:
    """A finder that finds nothing itself: while ``blocking``, importing pandas fails; after, when
    pandas is first imported, it lets pyarrow's pandas integration load once pandas has (what
    pyarrow does when it finds pandas importable)."""

    blocking = True

    def find_spec(self, name, path=None, target=None):
        if name != "pandas":
            return None
        if self.blocking:
            raise ModuleNotFoundError("pandas is not imported yet", name=name)
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_tell_pyarrow(module):
            exec_module(module)
            import pyarrow

            pyarrow.lib._pandas_api.pd  # noqa: B018  (its import check again, now finding pandas)

        spec.loader.exec_module = exec_then_tell_pyarrow
        return spec


def install() -> bool:
    """Wrap Beam's ``get_dofn_specs`` and ``PipelineOptions.__init__`` with the caches above;
    False (nothing changed) when this Beam's functions are not the ones known here."""
    from apache_beam.options import pipeline_options
    from apache_beam.transforms import core, environments, userstate

    if _ORIGINAL:
        return True
    specs, init = userstate.get_dofn_specs, pipeline_options.PipelineOptions.__init__
    args = core.get_function_args_defaults
    if (specs.__code__.co_varnames[:1] != ("dofn",) or init.__code__.co_varnames[:2] != ("self", "flags")
            or args.__code__.co_varnames[:1] != ("f",)):
        return False
    _ORIGINAL.update(get_dofn_specs=specs, options_init=init, args_defaults=args,
                     worker_command=environments.SubprocessSDKEnvironment.__dict__["from_command_string"])
    userstate.get_dofn_specs = _cached_dofn_specs
    core.get_function_args_defaults = _cached_args_defaults
    pipeline_options.PipelineOptions.__init__ = _cached_options_init
    environments.SubprocessSDKEnvironment.from_command_string = classmethod(_lean_worker_command)
    from apache_beam.runners.portability import local_job_service

    local_job_service.subprocess = _HandOver()
    _ORIGINAL["sampling_period"] = _set_sampling_period(SAMPLING_PERIOD_MS)
    return True


SAMPLING_PERIOD_MS = 10  # Beam's is 200


def _set_sampling_period(ms: int | None) -> int | None:
    """Make ``ms`` the longest sleep of the state sampler thread Beam starts for every bundle, and
    return the previous one (None: this Beam's sampler takes no such default, nothing changed).

    Ending a bundle joins that thread, which sleeps up to 200 ms between samples, half of it on
    average: ~0.1 s of idle wall time at the end of every long bundle, in every worker. Waking
    every 10 ms costs microseconds; the per-step times it samples only get finer."""
    from apache_beam.runners.worker import statesampler

    init = statesampler.StateSampler.__init__
    known = init.__code__.co_varnames[:4] == ("self", "prefix", "counter_factory", "sampling_period_ms")
    if ms is None or not known or init.__code__.co_argcount != 4 or len(init.__defaults__ or ()) != 1:
        return None
    (before,) = init.__defaults__
    init.__defaults__ = (ms,)
    return before


BEAM_WORKER = "-m apache_beam.runners.worker.sdk_worker_main"  # the DirectRunner's worker command, after Python
LEAN_WORKER = '-c "from pipeline.beam_speedups import worker_main; worker_main()"'
_BEAM_COMMAND = f"{sys.executable} {BEAM_WORKER}"
_LEAN_COMMAND = f"{sys.executable} {LEAN_WORKER}"  # what _HandOver knows the lean workers' Popen by


def _lean_worker_command(cls, command_string):
    """The DirectRunner's ``multi_processing`` worker command, with its worker main replaced by
    ``worker_main`` (the same, with Beam imported lean); any other command as given."""
    if command_string == _BEAM_COMMAND:
        command_string = _LEAN_COMMAND
    return _ORIGINAL["worker_command"].__func__(cls, command_string)


def worker_main() -> None:
    """Beam's SDK worker main, in a process that imported Beam lean (``import_beam_lean``: 0.4 s of
    CPU and ~50 MB less per worker process, pandas included)."""
    import_beam_lean()
    install()  # the driver's settings (the sampler's period above all: it ends every bundle here)
    from apache_beam.runners.worker import sdk_worker_main

    sdk_worker_main.main(sys.argv)


def fork_workers(count: int) -> None:
    """Fork ``count`` worker processes from this one now, before the pipeline runs (no gRPC and no
    thread but this one yet): each has Beam and the job's modules imported already and waits for
    the environment Beam gives the worker it starts (``_HandOver``), instead of a new Python
    importing them (0.6 s of CPU per worker, after the driver's start-up). Only where a fork is
    safe (``pipeline.fork_safety``: no running thread that a fork breaks); else Beam starts its
    workers as usual."""
    install()  # before the fork (and its safety check): the workers run with the driver's settings
    hazard = fork_hazard()
    if hazard is not None:
        logging.getLogger(__name__).info("workers not forked ahead: %s", hazard)
        return
    sys.stdout.flush()
    sys.stderr.flush()
    while len(_FORKED) < count:
        _FORKED.append(ForkedWorker())


def release_workers() -> None:
    """Let the forked workers that no job took exit (their pipe closes)."""
    while _FORKED:
        _FORKED.pop().release()


class ForkedWorker:
    """A worker forked ahead, with ``subprocess.Popen``'s ``wait``/``poll``/``kill``/``returncode``
    (what Beam's ``SubprocessSdkWorker`` uses of the process it starts)."""

    def __init__(self) -> None:
        read, self._write = os.pipe()
        self.returncode: int | None = None
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self._write)
            for other in _FORKED:  # else a sibling's pipe never closes
                os.close(other._write)
            _forked_worker_main(read)
        os.close(read)

    def hand_over(self, env: dict) -> None:
        with os.fdopen(self._write, "wb") as pipe:
            pipe.write(json.dumps(dict(env)).encode())

    def release(self) -> None:
        os.close(self._write)
        self.wait()

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)


def _forked_worker_main(read: int) -> None:
    """In a forked worker: read the worker's environment (EOF: not needed, exit), run Beam's SDK
    worker main, and exit without running the driver's exit handlers."""
    code = 0
    try:
        with os.fdopen(read, "rb") as pipe:
            env = pipe.read()
        if env:
            os.environ.clear()
            os.environ.update(json.loads(env))
            from apache_beam.runners.worker import sdk_worker_main

            sdk_worker_main.main(["-c"])
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stderr.flush()
        os._exit(code)


class _HandOver:
    """``subprocess`` for Beam's ``local_job_service``: its ``Popen`` of the lean worker command
    hands the worker's environment to a forked worker when one waits; all else is ``subprocess``."""

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    def Popen(self, args, *more, env=None, **kwargs):  # noqa: N802 (subprocess's name)
        if _FORKED and env is not None and args == _LEAN_COMMAND:
            worker = _FORKED.pop(0)
            worker.hand_over(env)
            return worker
        return subprocess.Popen(args, *more, env=env, **kwargs)


def uninstall() -> None:
    """Put Beam's own functions back and forget what was cached."""
    from apache_beam.options import pipeline_options
    from apache_beam.transforms import core, environments, userstate

    if not _ORIGINAL:
        return
    environments.SubprocessSDKEnvironment.from_command_string = _ORIGINAL.pop("worker_command")
    from apache_beam.runners.portability import local_job_service

    local_job_service.subprocess = subprocess
    _set_sampling_period(_ORIGINAL.pop("sampling_period"))
    release_workers()
    userstate.get_dofn_specs = _ORIGINAL.pop("get_dofn_specs")
    core.get_function_args_defaults = _ORIGINAL.pop("args_defaults")
    pipeline_options.PipelineOptions.__init__ = _ORIGINAL.pop("options_init")
    _SPECS.clear()
    _ARGS.clear()
    _PARSED.clear()

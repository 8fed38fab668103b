"""pipeline.beam_speedups: Beam's answers, cached (compared with Beam's own functions)."""

import apache_beam as beam
import pytest
from apache_beam.coders import VarIntCoder
from apache_beam.options.pipeline_options import DebugOptions, DirectOptions, PipelineOptions, StandardOptions
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms import core, userstate
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec

from pipeline import beam_speedups
from pipeline.jobs import make_pipeline

COUNT = ReadModifyWriteStateSpec("count", VarIntCoder())


class Plain(beam.DoFn):
    def process(self, element):
        yield element


class Stateful(beam.DoFn):
    def process(self, element, count=beam.DoFn.StateParam(COUNT)):  # noqa: B008 (Beam's way)
        n = (count.read() or 0) + 1
        count.write(n)
        yield element[0], n


def counting(element, count=beam.DoFn.StateParam(COUNT)):  # noqa: B008 (Beam's way)  # a stateful function for beam.Map
    n = (count.read() or 0) + 1
    count.write(n)
    return element[0], n


class Hooked(beam.DoFn):
    """A DoFn whose ``process`` arguments are another function's (as ``beam.Map``'s wrapper)."""

    def __init__(self, fn):
        self.fn = fn

    def _inspect_process(self):
        return core.get_function_args_defaults(self.fn)

    def process(self, element):
        yield self.fn(element)


@pytest.fixture
def beam_own():
    """Beam's own functions for the test, the cached ones put back afterwards."""
    beam_speedups.uninstall()
    yield
    beam_speedups.install()


def _answers():
    specs = [userstate.get_dofn_specs(d) for d in (Plain(), Stateful(), Plain(), Stateful(),
                                                   core.CallableWrapperDoFn(counting),
                                                   core.CallableWrapperDoFn(lambda x: x),
                                                   Hooked(counting), Hooked(lambda x: x), Hooked(counting),
                                                   core.CallableWrapperDoFn(Stateful().process))]
    args = [core.get_function_args_defaults(m) for m in (Stateful().process, Plain().process, Stateful().setup)]
    flags = ["--direct_num_workers=3", "--experiments=a", "--runner", "DirectRunner"]
    views = [vars(PipelineOptions(flags).view_as(c)._visible_options) for c in (DirectOptions, StandardOptions)]
    return specs, args, views


def test_cached_answers_are_beams(beam_own):
    own = _answers()
    assert beam_speedups.install()
    assert _answers() == own
    assert _answers() == own  # from the caches this time
    assert userstate.get_dofn_specs(Stateful()) == ({COUNT}, set())
    assert userstate.get_dofn_specs(Hooked(counting)) == ({COUNT}, set())  # read from the instance each time
    assert userstate.get_dofn_specs(Hooked(lambda x: x)) == (set(), set())


def test_bundle_state_samplers_sleep_briefly_and_beams_period_comes_back(beam_own):
    from apache_beam.runners.worker import statesampler
    from apache_beam.utils.counters import CounterFactory

    beams = statesampler.StateSampler("s", CounterFactory()).sampling_period_ms
    assert beams == 200
    assert beam_speedups.install()
    sampler = statesampler.StateSampler("s", CounterFactory())  # as Beam's bundle processor makes it
    assert sampler.sampling_period_ms == beam_speedups.SAMPLING_PERIOD_MS < beams
    sampler.start()  # its thread starts and is joined with the shorter period
    sampler.stop()
    assert statesampler.StateSampler("s", CounterFactory(), 50).sampling_period_ms == 50  # a given one is kept
    beam_speedups.uninstall()
    assert statesampler.StateSampler("s", CounterFactory()).sampling_period_ms == beams


def test_a_dofn_with_its_own_methods_is_inspected_each_time():
    beam_speedups.install()
    d = Plain()
    assert userstate.get_dofn_specs(d) == (set(), set())
    d.process = Stateful().process  # a bound method on the instance shadows the class's
    assert userstate.get_dofn_specs(d) == ({COUNT}, set())
    s = Stateful()
    assert userstate.get_dofn_specs(s) == ({COUNT}, set())
    s.process = counting  # a plain function: Beam inspects bound methods only
    assert userstate.get_dofn_specs(s) == (set(), set())


def test_option_views_never_share_values():
    beam_speedups.install()
    flags = ["--experiments=a"]
    one, two = PipelineOptions(flags), PipelineOptions(flags)
    one.view_as(DebugOptions).experiments.append("b")
    assert one.view_as(DebugOptions).experiments == ["a", "b"]
    assert two.view_as(DebugOptions).experiments == ["a"]
    assert PipelineOptions(flags).view_as(DebugOptions).experiments == ["a"]


def test_pipelines_run_the_same_with_the_caches():
    beam_speedups.install()
    with make_pipeline([]) as p:
        out = (p | beam.Create([("k", 1), ("k", 2), ("j", 3)]) | beam.ParDo(Stateful())
               | beam.Map(lambda kv: kv[1]))
        assert_that(out, equal_to([1, 2, 1]))


def _in_fresh_python(code: str) -> str:
    """What ``code`` prints, run in a new Python process (failing the test if it fails)."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_beam_imported_lean_leaves_the_hidden_modules_usable():
    """The command line's first import: Beam without its pandas integration and BigQuery names;
    pandas, pyarrow's pandas conversion and Beam's BigQuery module still import afterwards (a
    fresh process: this one has them imported)."""
    code = ("from pipeline.beam_speedups import import_beam_lean, lean_hidden; import_beam_lean(); import sys; "
            "assert not any(m in sys.modules for m in lean_hidden()); import apache_beam, pyarrow, pandas; "
            "assert pyarrow.table({'a': [1]}).to_pandas()['a'].tolist() == [1]; "
            "import apache_beam.io.gcp.bigquery as bq; assert bq.WriteToBigQuery; "
            "from apache_beam.io.filesystems import FileSystems; FileSystems.get_filesystem('/tmp'); print('ok')")
    assert _in_fresh_python(code) == "ok"


def test_mongodb_client_left_out_quietly():
    """The lean import leaves pymongo out (through bson, which Beam's MongoDB IO tries first) without
    the warning Beam logs when bson is missing; both import as usual afterwards."""
    import subprocess
    import sys

    code = ("import sys; from pipeline.beam_speedups import import_beam_lean; import_beam_lean(); "
            "assert 'bson' not in sys.modules and 'pymongo' not in sys.modules; "
            "import logging; assert not logging.getLogger('apache_beam.io.mongodbio').disabled; "
            "import pymongo, bson; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "ok" and "bson" not in done.stderr, done.stderr


def test_beartype_loads_on_beams_first_type_comparison_that_needs_it():
    """The lean import leaves beartype out until Beam's type hints first call ``is_subhint``; that
    call (here one beartype rejects, so Beam's ``except BeartypeDoorException`` must catch the real
    class) and the later ones answer as with beartype imported up front."""
    code = ("import sys; from pipeline.beam_speedups import import_beam_lean; import_beam_lean(); "
            "assert not any(m.startswith('beartype') for m in sys.modules); "
            "from apache_beam.typehints import typehints as th; "
            "answers = [th.is_consistent_with(1, int), th.is_consistent_with(bool, int), th.is_consistent_with(int, str)]; "
            "import beartype.door, beartype.roar; "
            "assert th.is_subhint is beartype.door.is_subhint; "
            "assert th.BeartypeDoorException is beartype.roar.BeartypeDoorException; print(answers)")
    assert _in_fresh_python(code) == "[False, True, False]"
    eager = "from apache_beam.typehints import typehints as th; print([th.is_consistent_with(1, int), " \
            "th.is_consistent_with(bool, int), th.is_consistent_with(int, str)])"
    assert _in_fresh_python(eager) == "[False, True, False]"  # the same answers from Beam's own import


def test_apitools_is_left_out_only_where_no_google_api_error_can_arise():
    """Without google-api-core (no Google Cloud IO), Beam's retry helper imports apitools for
    nothing: the lean import leaves it out, and it imports as usual afterwards. With it, Beam's
    retry filter must recognise Google API errors, so it is imported as before."""
    code = ("import importlib.util, sys; from pipeline.beam_speedups import import_beam_lean, lean_hidden; "
            "api = importlib.util.find_spec('google.api_core') is not None; import_beam_lean(); "
            "from apache_beam.utils import retry; "
            "assert ('apitools' in lean_hidden()) is (not api) and ('apitools' in sys.modules) is api; "
            "assert (retry.HttpError is not None) is api; "
            "assert not retry.retry_on_server_errors_filter(retry.PermanentException()); "
            "assert retry.retry_on_server_errors_filter(OSError('reset')); "
            "from apitools.base.py.exceptions import HttpError; print('ok')")
    assert _in_fresh_python(code) == "ok"


def test_arrow_arrays_without_pandas_until_pandas_is_imported():
    """After the lean import, building Arrow tables from lists as Beam's Parquet sink does leaves pandas
    unimported; once pandas is imported, pyarrow treats its objects as pandas again (NaN in a
    float Series is null, as ``from_pandas`` makes it). A fresh process, as above."""
    code = ("from pipeline.beam_speedups import import_beam_lean; import_beam_lean(); import sys; "
            "import pyarrow as pa; assert pa.array(['x', None], pa.string()).null_count == 1; "
            "b = pa.RecordBatch.from_arrays([pa.array([1], pa.int64())], names=['a']); "
            "pa.Table.from_batches([b]); assert 'pandas' not in sys.modules; "
            "import pandas as pd; assert pa.array(pd.Series([1.0, float('nan')])).null_count == 1; "
            "assert pa.array(pd.Series(['a', 'b'], dtype='category')).type.id == pa.dictionary(pa.int8(), "
            "pa.string()).id; assert pa.table({'a': [2]}).to_pandas()['a'].tolist() == [2]; print('ok')")
    assert _in_fresh_python(code) == "ok"


def test_worker_processes_start_through_the_lean_worker_main(tmp_path):
    """With the caches installed, the DirectRunner's ``multi_processing`` workers run
    ``worker_main`` (Beam imported lean, then Beam's worker main) and the pipeline's result is
    Beam's; another worker command is left as given."""
    import sys

    from apache_beam.transforms.environments import SubprocessSDKEnvironment

    beam_speedups.install()
    beam_default = f"{sys.executable} -m apache_beam.runners.worker.sdk_worker_main"
    assert SubprocessSDKEnvironment.from_command_string(beam_default).command_string.endswith(
        beam_speedups.LEAN_WORKER)
    assert SubprocessSDKEnvironment.from_command_string("my-worker --x").command_string == "my-worker --x"
    out = tmp_path / "out"
    with make_pipeline(["--direct_running_mode=multi_processing", "--direct_num_workers=1"]) as p:
        _ = (p | beam.Create(["a", "b", "a"]) | beam.combiners.Count.PerElement()
             | beam.MapTuple(lambda k, n: f"{k}={n}") | beam.io.WriteToText(str(out), shard_name_template=""))
    assert sorted(out.read_text().split()) == ["a=2", "b=1"]
    beam_speedups.uninstall()
    assert SubprocessSDKEnvironment.from_command_string(beam_default).command_string == beam_default


FORKED_RUN = """
import sys
import apache_beam as beam
from pipeline import beam_speedups
from pipeline.fork_safety import fork_hazard
from pipeline.jobs import make_pipeline

beam_speedups.install()
beam_speedups.fork_workers(3)
spare = beam_speedups._FORKED[-1]
with make_pipeline(["--direct_running_mode=multi_processing", "--direct_num_workers=2"]) as p:
    _ = (p | beam.Create(["a", "b", "a"]) | beam.combiners.Count.PerElement()
         | beam.MapTuple(lambda k, n: f"{k}={n}") | beam.io.WriteToText(sys.argv[1], shard_name_template=""))
taken = 3 - len(beam_speedups._FORKED)
beam_speedups.release_workers()
print(taken, spare.returncode, fork_hazard() is None)
"""


def test_forked_workers_run_the_pipeline(tmp_path):
    """In a fresh driver, workers forked ahead run a 2-worker ``multi_processing`` pipeline with
    Beam's result; the one not taken exits cleanly when released; once a run has started gRPC's
    threads, forking is refused."""
    import subprocess
    import sys

    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-c", FORKED_RUN, str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "0", "False"]
    assert sorted(out.read_text().split()) == ["a=2", "b=1"]


WORKER_SETTINGS_RUN = """
import os, sys
import apache_beam as beam
from pipeline import beam_speedups
from pipeline.jobs import make_pipeline

def settings(_):
    from apache_beam.runners.worker import statesampler
    yield f"{os.getpid() != driver} {statesampler.StateSampler.__init__.__defaults__}"

driver = os.getpid()
if sys.argv[2] == "forked":
    beam_speedups.fork_workers(1)  # as the driver does, with nothing installed before
with make_pipeline(["--direct_running_mode=multi_processing", "--direct_num_workers=1"]) as p:
    _ = p | beam.Create([1]) | beam.FlatMap(settings) | beam.io.WriteToText(sys.argv[1], shard_name_template="")
"""


@pytest.mark.parametrize("start", ["forked", "started"])
def test_worker_processes_end_bundles_with_the_short_sampler_period(tmp_path, start):
    """A worker forked ahead (``fork_workers``) or started by Beam (``worker_main``) runs its
    bundles with ``SAMPLING_PERIOD_MS``: ending a bundle joins the sampler's thread, which with
    Beam's 200 ms period kept each worker idle about 0.1 s at the end of every long bundle."""
    import subprocess
    import sys

    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-c", WORKER_SETTINGS_RUN, str(out), start], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.read_text().split("\n")[0] == f"True ({beam_speedups.SAMPLING_PERIOD_MS},)"


def test_no_fork_while_another_thread_runs():
    """A fork copies only the calling thread: with another one running, no worker is forked."""
    import threading

    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        beam_speedups.fork_workers(1)
        assert beam_speedups._FORKED == []
    finally:
        stop.set()
        t.join()


def test_lean_import_freezes_imported_objects_and_collection_still_runs():
    """After the lean import, Beam's import-time objects are frozen (no collection walks them again)
    while garbage cycles made afterwards are still collected. A fresh process, as above."""
    code = ("import gc; from pipeline.beam_speedups import import_beam_lean; import_beam_lean(); "
            "import apache_beam; assert gc.get_freeze_count() > 50000, gc.get_freeze_count(); "
            "import weakref\nclass C: pass\nc = C(); c.me = c; r = weakref.ref(c); del c; gc.collect(); "
            "assert r() is None; print('ok')")
    assert _in_fresh_python(code) == "ok"

"""The shared driver's choices of local parallelism (pure functions of the options)."""

from pipeline.jobs import SMALL_INPUT_BYTES, default_beam_args, for_input_size, local_workers

ONE_PROCESS = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]


def test_small_input_runs_in_one_process_when_parallelism_is_ours():
    args = default_beam_args([])
    assert "--direct_running_mode=multi_processing" in args
    small = for_input_size(args, SMALL_INPUT_BYTES - 1)
    assert small[-2:] == ONE_PROCESS
    assert not any(a.startswith("--direct_running_mode=multi") for a in small)
    assert for_input_size(args, None) == args  # size unknown: as asked


def test_large_input_keeps_the_worker_processes_unless_one_is_asked_for():
    many = default_beam_args(["--direct_num_workers=2"])
    assert for_input_size(many, SMALL_INPUT_BYTES) == many
    one = default_beam_args(["--direct_num_workers", "1"])  # a worker process would only add its start-up
    assert for_input_size(one, SMALL_INPUT_BYTES * 10)[-2:] == ONE_PROCESS
    assert "1" not in for_input_size(one, SMALL_INPUT_BYTES * 10)  # the flag's separate value went with it


def test_a_worker_count_alone_is_an_upper_bound_on_small_inputs():
    for given in (["--direct_num_workers=2"], ["--direct_num_workers", "4"], ["--direct_num_workers=0"]):
        small = for_input_size(default_beam_args(given), 10)
        assert small[-2:] == ONE_PROCESS and sum(a.startswith("--direct_num_workers") for a in small) == 1, given


def test_an_explicit_running_mode_is_never_overridden():
    for given in (["--direct_running_mode=multi_threading"],
                  ["--direct_num_workers", "2", "--direct_running_mode", "multi_processing"],
                  ["--direct_num_workers=1", "--direct_running_mode=multi_processing"]):
        args = default_beam_args(given)
        assert for_input_size(args, 10) == args, given
        assert for_input_size(args, SMALL_INPUT_BYTES * 10) == args, given


def test_local_workers_reads_the_count():
    assert local_workers(["--direct_num_workers=3"]) == 3
    assert local_workers(["--direct_num_workers", "2"]) == 2
    assert local_workers(["--direct_num_workers=0"]) >= 1  # one per core
    assert local_workers([]) == 1


def test_other_runners_are_left_alone():
    args = default_beam_args(["--runner", "dask", "--dask_address", "127.0.0.1:1"])
    assert list(for_input_size(args, 10)) == ["--runner", "dask", "--dask_address", "127.0.0.1:1"]


def test_a_job_with_threads_of_its_own_stays_in_one_process_up_to_its_limit():
    two = default_beam_args(["--direct_num_workers=2"])
    assert for_input_size(two, SMALL_INPUT_BYTES * 10, max_workers=2)[-2:] == ONE_PROCESS
    three = default_beam_args(["--direct_num_workers=3"])
    assert for_input_size(three, SMALL_INPUT_BYTES * 10, max_workers=2) == three


def test_local_runs_skip_beams_type_inference_unless_a_type_check_is_asked_for():
    from apache_beam.options.pipeline_options import PipelineOptions, TypeOptions

    checks = lambda args: PipelineOptions(list(args)).view_as(TypeOptions).pipeline_type_check  # noqa: E731
    assert not checks(default_beam_args([]))
    assert checks(default_beam_args(["--runtime_type_check"]))
    assert checks(default_beam_args(["--type_check_additional=all"]))
    assert list(default_beam_args(["--no_pipeline_type_check"])).count("--no_pipeline_type_check") == 1
    assert checks(default_beam_args(["--runner", "dask"]))  # other runners: Beam's default


def test_an_untyped_pipeline_still_groups_by_value():
    """Without type inference, keys are encoded by Beam's deterministic default coder: equal
    keys of the types our jobs group by (str, bytes, int, tuples of them) still meet."""
    import apache_beam as beam
    from apache_beam.testing.util import assert_that, equal_to

    from pipeline.jobs import make_pipeline

    keys = ["a", b"a", 1, ("a", 1), ("a", b"\x00", 2)]
    with make_pipeline(list(default_beam_args(["--direct_num_workers=2"]))) as p:
        grouped = (p | beam.Create([(k, i) for i in range(3) for k in keys]) | beam.GroupByKey()
                   | beam.MapTuple(lambda k, vs: (k, sorted(vs))))
        assert_that(grouped, equal_to([(k, [0, 1, 2]) for k in keys]))


def test_a_note_when_fewer_input_files_than_worker_processes():
    from pipeline.jobs import spread_note

    two = default_beam_args(["--direct_num_workers=2"])
    note = spread_note(two, 1)
    assert note is not None and note.startswith("note: 1 work item(s) for 2 workers") and "1 worker(s) wait" in note
    assert spread_note(two, 2) is None and spread_note(two, 5) is None
    assert spread_note(two, None) is None  # a job that does not read one file per work item
    assert spread_note(for_input_size(two, 10), 1) is None  # a small input runs in one process: nothing waits
    assert spread_note(["--runner", "dask"], 1) is None


def test_no_more_worker_processes_than_work_items_when_the_mode_is_ours():
    four = default_beam_args(["--direct_num_workers", "4"])
    two = for_input_size(four, SMALL_INPUT_BYTES * 10, work_items=2)
    assert two[-1] == "--direct_num_workers=2" and "--direct_running_mode=multi_processing" in two
    assert sum(a.startswith("--direct_num_workers") for a in two) == 1 and "4" not in two
    assert for_input_size(four, SMALL_INPUT_BYTES * 10, work_items=1)[-2:] == ONE_PROCESS  # one item: one process
    assert for_input_size(four, SMALL_INPUT_BYTES * 10, work_items=4) == four
    assert for_input_size(four, SMALL_INPUT_BYTES * 10) == four  # a job whose records are spread again
    forced = default_beam_args(["--direct_num_workers=4", "--direct_running_mode=multi_processing"])
    assert for_input_size(forced, SMALL_INPUT_BYTES * 10, work_items=1) == forced  # the user's mode is kept


def test_the_web_job_starts_workers_for_its_files_unless_a_dedup_step_spreads_them(tmp_path, capsys, monkeypatch):
    """One input file: without a dedup step the job runs in one process (no worker would have a
    file); with one, the dedup's shuffle uses every worker, so they start, and the note says the
    read leaves one waiting."""
    import pipeline.jobs
    from corpora.web import WebConfig, run_web
    from pipeline.recipe import parse_steps

    monkeypatch.setattr(pipeline.jobs, "SMALL_INPUT_BYTES", 0)  # the input's size alone would choose one process
    src = tmp_path / "one.jsonl"
    src.write_text("".join(f'{{"id": "d{i}", "text": "A plain sentence number {i} about rivers."}}\n' for i in range(3)))
    plain = WebConfig(inputs=[str(src)], output=str(tmp_path / "plain"), id_field="id", recipe=[])
    assert not plain.shuffles
    run_web(plain, ["--direct_num_workers=2"])
    assert "note:" not in capsys.readouterr().out
    dedup = WebConfig(inputs=[str(src)], output=str(tmp_path / "dedup"), id_field="id",
                      recipe=[s.describe() for s in parse_steps(["exact_dedup"])])
    assert dedup.shuffles
    run_web(dedup, ["--direct_num_workers=2"])
    assert "note: 1 work item(s) for 2 workers" in capsys.readouterr().out
    run_web(plain, ["--direct_num_workers=2", "--direct_running_mode=multi_processing"], overwrite=True)
    assert "note: 1 work item(s) for 2 workers" in capsys.readouterr().out  # the mode asked for is kept

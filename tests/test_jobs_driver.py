"""The shared driver's choices of local parallelism (pure functions of the options)."""

from pipeline.jobs import SMALL_INPUT_BYTES, default_beam_args, for_input_size


def test_small_input_runs_in_one_process_when_parallelism_is_ours():
    args = default_beam_args([])
    assert "--direct_running_mode=multi_processing" in args
    small = for_input_size(args, SMALL_INPUT_BYTES - 1)
    assert "--direct_running_mode=in_memory" in small and "--direct_num_workers=1" in small
    assert "--direct_running_mode=multi_processing" not in small
    assert for_input_size(args, SMALL_INPUT_BYTES) == args  # large: every core
    assert for_input_size(args, None) == args  # size unknown: every core


def test_the_users_choice_is_never_overridden():
    for given in (["--direct_num_workers=2"], ["--direct_running_mode=multi_threading"],
                  ["--direct_num_workers", "2", "--direct_running_mode", "multi_processing"]):
        args = default_beam_args(given)
        assert for_input_size(args, 10) == args, given


def test_other_runners_are_left_alone():
    args = default_beam_args(["--runner", "dask", "--dask_address", "127.0.0.1:1"])
    assert list(for_input_size(args, 10)) == ["--runner", "dask", "--dask_address", "127.0.0.1:1"]

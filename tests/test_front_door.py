"""The front door (``beam_runner.py`` / ``corpusforge``): one table of commands, a --help that
imports neither Beam nor torch, and every job and tool reachable from it."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import beam_runner
from beam_runner import COMMANDS, load_job

ROOT = Path(__file__).resolve().parents[1]


def test_help_imports_neither_beam_nor_torch():
    code = ("import sys, beam_runner; beam_runner.main(['--help']); "
            "print(sorted(m for m in ('apache_beam', 'torch', 'pyarrow', 'tokenizers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert "web " in out.stdout and "tokenizer " in out.stdout and "plan " in out.stdout


def test_every_job_is_listed_once_with_its_own_summary():
    modules = {c.module for c in COMMANDS.values() if not c.tool}
    defined = {}
    for name in modules:
        module = importlib.import_module(name)
        for job in getattr(module, "JOBS", None) or [module.JOB]:
            defined[job.name] = job
    listed = {n for n, c in COMMANDS.items() if not c.tool}
    assert listed == set(defined), "a job is missing from beam_runner.COMMANDS, or listed but not defined"
    for name in listed:
        assert load_job(name).summary == COMMANDS[name].summary, name


def test_tools_run_through_the_front_door(capsys):
    assert beam_runner.main(["plan", "--tokens", "1e9"]) == 0
    assert "compute-optimal parameters  50,000,000" in capsys.readouterr().out  # 20 tokens per parameter
    with pytest.raises(SystemExit) as exc:
        beam_runner.main(["tokenizer", "--help"])
    assert exc.value.code == 0
    assert "train" in capsys.readouterr().out


def test_unknown_command_exits_2(capsys):
    assert beam_runner.main(["wbe"]) == 2
    assert "unknown command 'wbe'" in capsys.readouterr().err

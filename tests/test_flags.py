"""Flags mean the same thing in every job: each job's argparse parser (and each socialchem step's) is
walked from beam_runner.COMMANDS and checked against the conventions of pipeline/flags.py."""

from __future__ import annotations

import argparse

import pytest

import beam_runner
from pipeline.flags import LANG_THRESHOLD_HELP, LANGS_HELP, REJECTS_HELP

# Commands whose input (a corpus, a collection or a file of rows) is named --input.
INPUT = {"web", "tokenize", "doc2query-pairs", "doc2query", "doc2query-eval", "socialchem situations",
         "socialchem import-annotations", "socialchem agreement", "socialchem split", "socialchem render",
         "socialchem stats", "socialchem propose", "doc2query-train", "kg", "kg-align"}
# Commands that read something that is not a corpus, under a name that says what it is.
OTHER_INPUT = {
    "crawl": "--seeds",  # seed URLs to fetch
    "verify-shards": "directory",  # positional: the token shards checked
    "socialchem validate": "path",  # positional: the TSV checked
    "socialchem export-tasks": "--situations",  # or --rots: the flag picks the kind of task
    "demo": "--output",  # reads nothing: generates its sample into --output
}
# Commands with a second input beside --input, under a name that says what it is.
SECOND_INPUT = {"kg-align": "--triples"}  # the graph; --input is the corpus the sentences come from
# kg's --lang is the language of the labels, not a filter (a distinct name already).
LABEL_LANG = {"kg", "kg-align"}
# Commands with --rejects (DIR/rejects/part-*.parquet, pipeline.schema.REJECTS_SCHEMA).
REJECTS = {"web", "kg", "doc2query-pairs", "doc2query", "socialchem situations", "socialchem render"}
# Old spellings kept for one release, hidden from --help: (command, old, new, the other required flags).
EVAL_REST = ["--expanded", "e", "--queries", "q", "--qrels", "r"]
OLD_SPELLINGS = [("socialchem situations", "--corpus", "--input", ["--output", "o"]),
                 ("doc2query-pairs", "--corpus", "--input", ["--output", "o"]),
                 ("doc2query-eval", "--corpus", "--input", EVAL_REST),
                 ("socialchem propose", "--situations", "--input", ["--generator", "g", "--output", "o"]),
                 ("doc2query-train", "--pairs", "--input", ["--output", "o"]),
                 ("kg", "--triples", "--input", ["--output", "o"]),
                 ("kg-align", "--corpus", "--input", ["--triples", "t", "--output", "o"])]
REPEATABLE = {"socialchem situations", "doc2query-pairs", "kg", "kg-align"}  # they take several inputs


def _parsers() -> dict[str, argparse.ArgumentParser]:
    """command (``socialchem <step>`` for each step) -> its parser, built as beam_runner builds it."""
    out: dict[str, argparse.ArgumentParser] = {}
    for name, command in beam_runner.COMMANDS.items():
        if command.tool:
            continue
        parser = argparse.ArgumentParser(prog=name, allow_abbrev=False)
        beam_runner.load_job(name).add_arguments(parser)
        subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subparsers:
            out[name] = parser
        for action in subparsers:
            out.update({f"{name} {step}": sub for step, sub in action.choices.items()})
    return out


PARSERS = _parsers()


def _actions(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Visible option string (or positional dest) -> its action."""
    out: dict[str, argparse.Action] = {}
    for action in parser._actions:
        if action.help == argparse.SUPPRESS:
            continue
        for key in action.option_strings or [action.dest]:
            out[key] = action
    return out


def _store_true(action: argparse.Action) -> bool:
    return action.nargs == 0 and action.const is True and action.default is False


def test_every_command_is_walked_and_classified():
    assert {"web", "tokenize", "socialchem situations", "socialchem validate", "doc2query-eval"} <= set(PARSERS)
    classified = INPUT | set(OTHER_INPUT)
    assert set(PARSERS) == classified, "classify a new command's input in tests/test_flags.py"


@pytest.mark.parametrize("command", sorted(PARSERS))
def test_input_is_named_input(command):
    actions = _actions(PARSERS[command])
    expected = "--input" if command in INPUT else OTHER_INPUT[command]
    assert expected in actions
    assert "--corpus" not in actions  # the old spelling of --input is hidden
    if command in SECOND_INPUT:
        assert SECOND_INPUT[command] in actions
    elif command in INPUT:
        assert "--triples" not in actions


@pytest.mark.parametrize("command", sorted(PARSERS))
def test_rejects_overwrite_and_verbose_mean_the_same_everywhere(command):
    actions = _actions(PARSERS[command])
    if command in REJECTS:
        assert _store_true(actions["--rejects"]) and actions["--rejects"].help == REJECTS_HELP
    else:
        assert "--rejects" not in actions
    if "--output" in actions:  # a job that writes an output directory can replace an earlier run's
        assert _store_true(actions["--overwrite"])
    assert actions["-v"] is actions["--verbose"] and _store_true(actions["-v"])


@pytest.mark.parametrize("command", sorted(PARSERS))
def test_language_flags_mean_the_same_everywhere(command):
    actions = _actions(PARSERS[command])
    if "--langs" in actions:
        assert actions["--langs"].help == LANGS_HELP
        assert actions["--lang-threshold"].help == LANG_THRESHOLD_HELP
    if "--lang" in actions:  # a language flag of another meaning has another name: only kg's label language
        assert command in LABEL_LANG and "label language" in actions["--lang"].help
    assert "--langs" in _actions(PARSERS["web"])


@pytest.mark.parametrize(("command", "old", "new", "rest"), OLD_SPELLINGS)
def test_old_spelling_still_works_for_one_release(command, old, new, rest, capsys):
    parser = PARSERS[command]
    assert old not in parser.format_help() and new in parser.format_help()
    repeatable = command in REPEATABLE
    args = parser.parse_args([old, "a", new, "b", *rest] if repeatable else [old, "a", *rest])
    assert getattr(args, _actions(parser)[new].dest) == (["a", "b"] if repeatable else "a")
    assert f"warning: {old} is deprecated" in capsys.readouterr().err


def test_a_missing_input_is_refused_under_its_new_name(tmp_path, capsys):
    with pytest.raises(SystemExit):
        beam_runner.main(["socialchem", "situations", "--output", str(tmp_path / "o")])
    assert "required: --input" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        beam_runner.main(["doc2query-eval", *EVAL_REST])
    assert "required: --input" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_kg_jobs_refuse_a_missing_input_under_its_new_name(tmp_path, capsys):
    with pytest.raises(SystemExit):
        beam_runner.main(["kg", "--output", str(tmp_path / "o")])
    assert "required: --input (the triples files)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        beam_runner.main(["kg-align", "--triples", "t.nt", "--output", str(tmp_path / "a")])
    assert "required: --input (the corpus the sentences come from)" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() and not (tmp_path / "a").exists()

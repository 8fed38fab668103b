"""The flags every job spells and explains the same way (``--input``, ``--rejects``, ``-v``), and the
hidden old spellings kept for one release; tests/test_flags.py checks every job against them.

No Beam import: ``beam_runner.py <job> --help`` builds parsers from here.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

REJECTS_HELP = "also write dropped records to DIR/rejects/"  # as Parquet parts (pipeline.schema.REJECTS_SCHEMA)
VERBOSE_HELP = "log progress"
LANGS_HELP = "keep only these languages, e.g. en,de (default: all)"
LANG_THRESHOLD_HELP = ("language-ID score below which a document's lang is 'und' (dropped as lang_low_score "
                       "with --langs; default: %(default)s, as FineWeb)")


class _OldSpelling(argparse.Action):
    """A flag's old spelling, kept working for one release: says so on stderr, then stores (or
    appends) its value where the new spelling does."""

    def __init__(self, option_strings, dest, new: str = "", append: bool = False, **kwargs) -> None:
        super().__init__(option_strings, dest, **kwargs)
        self.new, self.append = new, append

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"warning: {option_string} is deprecated and will be removed in the next release; use {self.new}",
              file=sys.stderr)
        if self.append:
            values = [*(getattr(namespace, self.dest, None) or []), values]
        setattr(namespace, self.dest, values)


def add_input(parser, *, old: str | None = None, **kwargs: Any) -> argparse.Action:
    """``--input`` (a job's corpus, collection or file); ``old``: an earlier spelling accepted, hidden
    from --help, for one release. With ``old``, argparse cannot require the flag (either spelling
    satisfies it): the job checks ``args.input`` itself (:func:`require_input`)."""
    if old:
        kwargs.pop("required", None)
    action = parser.add_argument("--input", **kwargs)
    if old:
        parser.add_argument(old, dest=action.dest, action=_OldSpelling, new="--input", metavar=action.metavar,
                            append=kwargs.get("action") == "append", help=argparse.SUPPRESS)
    return action


def require_input(value, what: str) -> None:
    """The argparse-style refusal of a missing ``--input`` (for flags with an old spelling)."""
    if not value:
        from pipeline.errors import UsageError

        raise UsageError(f"the following arguments are required: --input ({what})")


def add_rejects(parser) -> None:
    parser.add_argument("--rejects", action="store_true", help=REJECTS_HELP)


def add_langs(parser, default_threshold: float) -> None:
    """``--langs`` (the language filter) and ``--lang-threshold`` (its score threshold), one meaning
    in every job; a flag naming a language for another purpose takes another name (kg: ``--lang``)."""
    parser.add_argument("--langs", default=None, metavar="L,L", help=LANGS_HELP)
    parser.add_argument("--lang-threshold", type=float, default=default_threshold, help=LANG_THRESHOLD_HELP)


def add_verbose(parser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)

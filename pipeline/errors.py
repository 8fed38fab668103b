"""The error a job raises for bad input known before any work (``UsageError``), with no Beam
import, so configs in the core can raise it; ``beam_runner.py`` prints it and exits 2."""

from __future__ import annotations


class UsageError(ValueError):
    """A bad argument or configuration, reported before any work starts."""

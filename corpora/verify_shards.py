"""The ``verify-shards`` command: check token shards against their manifest (not a Beam job)."""

from __future__ import annotations

import argparse
import logging

from pipeline.flags import add_verbose
from pipeline.jobs import Job, Timer, UsageError, configure_logging
from pipeline.shards import verify_cli


def add_arguments(parser: argparse.ArgumentParser) -> None:
    verify_cli.add_arguments(parser)
    add_verbose(parser)


def main(args: argparse.Namespace, extra: list[str]) -> int:
    if extra:
        raise UsageError(f"unexpected argument(s): {' '.join(extra)}")
    configure_logging(args.verbose)
    log = logging.getLogger("corpusforge")
    log.info("verify-shards: checking %s", args.directory)
    with Timer() as t:
        status = verify_cli.main(args)
    log.info("verify-shards: %s checked in %.1fs (exit status %d)", args.directory, t.seconds, status)
    return status


JOB = Job("verify-shards", "check token shards against their manifest (sizes, checksums, token ids)",
          verify_cli.DESCRIPTION, add_arguments, main)

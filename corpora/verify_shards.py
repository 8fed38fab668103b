"""The ``verify-shards`` command: check token shards against their manifest (not a Beam job)."""

from __future__ import annotations

import argparse

from pipeline.jobs import Job, UsageError
from pipeline.shards import verify_cli


def main(args: argparse.Namespace, extra: list[str]) -> int:
    if extra:
        raise UsageError(f"unexpected argument(s): {' '.join(extra)}")
    return verify_cli.main(args)


JOB = Job("verify-shards", "check token shards against their manifest (sizes, checksums, token ids)",
          verify_cli.DESCRIPTION, verify_cli.add_arguments, main)

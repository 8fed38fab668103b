"""``python beam_runner.py verify-shards DIR``: check a token-shard directory against its manifest.

Register with::

    parser = argparse.ArgumentParser(prog="python beam_runner.py verify-shards",
                                     description=verify_cli.DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    verify_cli.add_arguments(parser)
    sys.exit(verify_cli.main(parser.parse_args(argv)))

Exit status: 0 when every shard passes, 1 when anything fails (each failure is printed to
stderr as ``<shard path>: <problem>``), 2 when DIR is not a directory.
No Apache Beam import.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, TextIO

from pipeline.shards.verify import verify_shards

DESCRIPTION = """\
Verify the token shards in DIR against DIR/manifest.json: for every listed shard, the
sha256 and size of its .bin and .idx, the .idx structure (MMIDIDX v1: magic, version, dtype,
counts, pointers, document indices) and its agreement with the .bin, the document and token
counts, every token id below the vocabulary size, and every document ending with the
end-of-document id and holding it nowhere else (an end-of-document id inside a document
cuts it in two for the trainer: counted, with the first shard/document/position). Shards
on disk that the manifest does not list also fail.

examples:
  python beam_runner.py verify-shards out/tokens
  python beam_runner.py verify-shards out/tokens --quiet   # problems and the summary only
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``DIR`` and ``--quiet`` to ``parser``."""
    if parser.description is None:
        parser.description = DESCRIPTION
    parser.add_argument("directory", metavar="DIR", help="token-shard output directory (holds manifest.json)")
    parser.add_argument(
        "--quiet", action="store_true",
        help="print only problems and the one-line summary, not the per-shard table",
    )


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _table(rows: list[list[str]], out: TextIO, right: set[int]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for k, row in enumerate(rows):
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        print("  ".join(cells).rstrip(), file=out)
        if k == 0:
            print("  ".join("-" * w for w in widths), file=out)


def print_report(report: dict[str, Any], out: TextIO | None = None) -> None:
    """The per-shard table, then totals per source and split (from the manifest)."""
    out = out if out is not None else sys.stdout
    rows = [["shard", "source", "split", "documents", "tokens", "status"]]
    for s in report["shards"]:
        rows.append([s["path"], s["source"], s["split"], _n(s["documents"]), _n(s["tokens"]), s["status"]])
    for prefix in report["unlisted"]:
        rows.append([prefix, "?", "?", "?", "?", "UNLISTED"])
    if len(rows) > 1:
        _table(rows, out, right={3, 4})
        print(file=out)
    totals = report["totals"]["manifest"]
    trows = [["source", "split", "shards", "documents", "tokens"]]
    for source, t in totals["by_source"].items():
        for split, st in t["by_split"].items():
            trows.append([source, split, _n(st["shards"]), _n(st["documents"]), _n(st["tokens"])])
    for split, st in totals["by_split"].items():
        trows.append(["(all)", split, _n(st["shards"]), _n(st["documents"]), _n(st["tokens"])])
    trows.append(["(all)", "(all)", _n(totals["shards"]), _n(totals["documents"]), _n(totals["tokens"])])
    if totals["shards"]:
        _table(trows, out, right={2, 3, 4})
        print(file=out)


def main(args: argparse.Namespace) -> int:
    """Run the verification; print the table (unless ``--quiet``), problems and a summary."""
    started = time.monotonic()
    directory = args.directory
    if not os.path.isdir(directory):
        print(f"error: {directory}: no such directory (give the tokenize job's output folder)", file=sys.stderr)
        return 2
    ok, report = verify_shards(directory)
    if not args.quiet:
        print_report(report)
    for warning in report["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    for problem in report["problems"]:
        print(f"FAIL {problem}", file=sys.stderr)
    shards = report["shards"]
    failed = sum(1 for s in shards if s["status"] != "ok")
    verified = report["totals"]["verified"]
    elapsed = time.monotonic() - started
    if ok:
        print(
            f"OK: {len(shards)} shard(s), {_n(verified['documents'])} documents, {_n(verified['tokens'])} tokens "
            f"verified in {directory} ({elapsed:.1f}s)"
        )
        return 0
    print(
        f"FAILED: {failed} of {len(shards)} shard(s) failed, {len(report['unlisted'])} unlisted, "
        f"{len(report['problems'])} problem(s) in {directory} ({elapsed:.1f}s)",
        file=sys.stderr,
    )
    return 1

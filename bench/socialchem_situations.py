"""Situation mining on real r/AmItheAsshole titles: recall and precision against their descriptions.

Each title of a JSONL file ``{"title", "description"}`` (``description`` null: the title states
no action) goes through the mining heuristics as the ``situations`` step runs them (first
candidate that survives normalisation). A mined situation is correct when it equals the
description up to case, punctuation and quote style (``situations.dedup_key`` of both);
recall = correct / titles with a description, precision = correct / titles that gave a
situation (a situation mined from a title without a description is a false positive). The
labelled sample shipped with the package is measured beside it (exact match).

    python bench/socialchem_situations.py                       # the real titles beside the repo
    python bench/socialchem_situations.py --titles other.jsonl  # any file of that shape
"""

from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from corpora.socialchem.situations import load_labelled, measure  # noqa: E402

TITLES = os.path.join(os.path.dirname(ROOT), "shared", "realdata", "situations", "aita-titles.jsonl")
LABELLED = os.path.join(ROOT, "corpora", "socialchem", "labelled_situations.tsv")


def run(name: str, path: str, loose: bool) -> dict:
    pairs = load_labelled(path)
    t0 = time.perf_counter()
    m = measure(pairs, loose=loose)
    m["seconds"] = time.perf_counter() - t0
    m["name"] = name
    return m


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--titles", default=TITLES, help="JSONL of {title, description} (default: the real titles)")
    parser.add_argument("--show-errors", action="store_true", help="list every miss and false positive")
    args = parser.parse_args()
    results = []
    if os.path.isfile(args.titles):
        results.append(run(f"real titles ({os.path.basename(args.titles)})", args.titles, loose=True))
    else:
        print(f"(real titles not found at {args.titles}: measuring the labelled sample only)")
    results.append(run("labelled sample (exact match)", LABELLED, loose=False))
    print(f"{'set':<38}{'texts':>6}{'with':>6}{'mined':>7}{'correct':>8}{'recall':>8}{'precision':>10}")
    for m in results:
        print(f"{m['name']:<38}{m['inputs']:>6}{m['positives']:>6}{m['mined']:>7}{m['correct']:>8}"
              f"{m['recall']:>8.3f}{m['precision']:>10.3f}")
    for m in results:
        if m["errors"] and (args.show_errors or m is results[0]):
            print(f"\n{m['name']}: misses and false positives")
            for e in m["errors"]:
                got = e["got"] or f"(nothing: {e['reason']})"
                print(f"  {e['text'][:70]!r}\n      got {got!r}\n     want {e['expected'] or '(nothing)'!r}")


if __name__ == "__main__":
    main()

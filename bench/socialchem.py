"""SOCIAL-CHEM benchmarks: validating and loading a release-sized TSV, and the mining heuristics.

1. A generated file with the release's shape (355,922 rows by default, realistic text lengths)
   is validated by ``corpora.socialchem.validate`` (column-wise on distinct values) and, as
   the reference, by a row-by-row validator (``csv.DictReader`` + ``schema.row_errors`` per
   row, the obvious implementation); it is loaded with ``load_tsv`` (pyarrow) and, as the
   reference, with ``pandas.read_csv``. Each runs in its own process, which reports its time
   and peak resident memory (ru_maxrss), side by side in one table with ratios.
2. Mining: yield, precision and recall of the situation heuristics on the labelled sample
   (``corpora/socialchem/labelled_situations.tsv``) and on a synthetic corpus: the demo's
   20 advice-forum posts (positives: their title's situation) among 300 English article
   paragraphs of the web sample (negatives: every situation mined there is a false positive).

    python bench/socialchem.py                 # full size
    python bench/socialchem.py --rows 50000    # smaller
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from corpora.socialchem.schema import COLUMNS, HEADER  # noqa: E402

RELEASE_ROWS = 355_922
_WORDS = ("my friend sister brother boss roommate party money wedding car dinner job school family phone text "
          "telling asking leaving refusing not inviting keeping giving expecting saying helping about at to for "
          "the a her his their with without after before because").split()


def _text(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(lo, hi)))


def generate(path: str, rows: int, seed: int = 0) -> None:
    """A valid TSV with the release's columns, value mix and text lengths (about 400 bytes a row)."""
    rng = random.Random(seed)
    areas = ["amitheasshole"] * 6 + ["confessions", "dearabby", "rocstories"]
    cats = ["morality-ethics", "social-norms", "advice", "description"]
    mfs = ["care-harm", "fairness-cheating", "loyalty-betrayal", "authority-subversion", "sanctity-degradation"]
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER + "\n")
        n, sit = 0, 0
        while n < rows:
            sit += 1
            area = rng.choice(areas)
            chars = ["narrator"] + [f"my {rng.choice(_WORDS)}" for _ in range(rng.randint(0, 3))]
            situation = _text(rng, 4, 16)
            sid = f"reddit/{area}/{sit:07x}"
            split = rng.choices(["train", "dev", "test"], [8, 1, 1])[0]
            for r in range(1, rng.randint(1, 5) + 1):
                rot = _text(rng, 6, 14).capitalize() + "."
                rot_id = f"rot/{sid}/{rng.getrandbits(120):030X}/{rng.randint(0, 400)}/{r}"
                m = rng.choices([1, 3, 5], [90, 5, 5])[0]
                for b in range(m):
                    if n >= rows:
                        break
                    bad = rng.random() < 0.05
                    cells = {
                        "area": area, "m": str(m), "split": split if m == 1 or split == "train" else split + "-extra",
                        "rot-agree": "" if bad else str(rng.randint(0, 4)),
                        "rot-categorization": "|".join(rng.sample(cats, rng.randint(0, 2))),
                        "rot-moral-foundations": "|".join(rng.sample(mfs, rng.randint(0, 2))),
                        "rot-char-targeting": rng.choice(["", "char-none"] + [f"char-{i}" for i in range(len(chars))]),
                        "rot-bad": "1" if bad else "0", "rot-judgment": "" if bad else _text(rng, 1, 3),
                        "action": "" if bad else _text(rng, 4, 10), "action-agency": rng.choice(["agency", "experience"]),
                        "action-moral-judgment": str(rng.randint(-2, 2)), "action-agree": str(rng.randint(0, 4)),
                        "action-legal": rng.choice(["legal", "illegal", "tolerated", ""]),
                        "action-pressure": str(rng.randint(-2, 2)),
                        "action-char-involved": rng.choice(["char-none"] + [f"char-{i}" for i in range(len(chars))]),
                        "action-hypothetical": rng.choice(["explicit-no", "probable-no", "hypothetical", "probable",
                                                           "explicit", ""]),
                        "situation": situation, "situation-short-id": sid, "rot": rot, "rot-id": rot_id,
                        "rot-worker-id": rot_id.split("/")[-2], "breakdown-worker-id": f"{b}{rng.randint(0, 300)}",
                        "n-characters": str(len(chars)), "characters": "|".join(chars),
                    }
                    f.write("\t".join(cells[c] for c in COLUMNS) + "\n")
                    n += 1


_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
what, path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if what == "validate":
    from corpora.socialchem.validate import validate_file
    r = validate_file(path)
    result = {{"rows": r.rows, "ok": r.ok, "issues": dict(r.issues)}}
elif what == "rowwise":
    import csv
    from corpora.socialchem.schema import row_errors
    rows = bad = 0
    seen = set()
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            rows += 1
            key = (row["rot-id"], row["breakdown-worker-id"])
            bad += bool(row_errors(row)) or key in seen
            seen.add(key)
    result = {{"rows": rows, "bad": bad}}
elif what == "load":
    from corpora.socialchem.validate import load_tsv
    t = load_tsv(path)
    result = {{"rows": t.num_rows}}
elif what == "pandas":
    import csv
    import pandas as pd
    df = pd.read_csv(path, sep="\t", quoting=csv.QUOTE_NONE, keep_default_na=False, dtype=str)
    result = {{"rows": len(df)}}
result["seconds"] = time.perf_counter() - t0
usage = resource.getrusage(resource.RUSAGE_SELF)
result["cpu_s"] = usage.ru_utime + usage.ru_stime
result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
"""


def _child(what: str, path: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD.format(root=ROOT), what, path], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_release(rows: int, repeats: int = 3) -> None:
    with tempfile.TemporaryDirectory(prefix="sc-bench-") as tmp:
        path = os.path.join(tmp, "social-chem-like.tsv")
        t0 = time.perf_counter()
        generate(path, rows)
        size = os.path.getsize(path) / 1e6
        print(f"generated {rows:,} rows ({size:.0f} MB) in {time.perf_counter() - t0:.1f}s\n")
        results: dict[str, dict] = {}
        for _ in range(repeats):  # interleaved; the fastest run of each counts (the machine is shared)
            for w in ("validate", "rowwise", "load", "pandas"):
                r = _child(w, path)
                if w not in results or r["seconds"] < results[w]["seconds"]:
                    results[w] = r
    assert results["validate"]["ok"], results["validate"]
    print(f"best of {repeats} interleaved runs per task\n")
    print(f"{'task':<34}{'seconds':>9}{'cpu s':>8}{'peak MB':>9}{'rows/s':>12}   vs reference")
    print("-" * 88)
    pairs = [("validate (ours, column-wise)", "validate", "rowwise"),
             ("validate (reference: row by row)", "rowwise", None),
             ("load (ours, pyarrow, typed)", "load", "pandas"),
             ("load (reference: pandas.read_csv)", "pandas", None)]
    for label, key, ref in pairs:
        r = results[key]
        vs = ""
        if ref:
            q = results[ref]
            vs = f"{q['seconds'] / r['seconds']:.2f}x its speed, {r['peak_mb'] / q['peak_mb']:.2f}x its memory"
        print(f"{label:<34}{r['seconds']:>9.2f}{r['cpu_s']:>8.2f}{r['peak_mb']:>9.0f}{r['rows'] / r['seconds']:>12,.0f}"
              f"   {vs}")
    print("\n(peak MB is the whole process: Python with the imports it needs, about 30-60 MB, included)")


def bench_mining() -> None:
    from corpora import sample_web
    from corpora.socialchem.situations import (
        MiningConfig,
        Situation,
        find_candidates,
        load_labelled,
        measure,
        normalize,
    )

    labelled = load_labelled(os.path.join(ROOT, "corpora", "socialchem", "labelled_situations.tsv"))
    m = measure(labelled)
    print(f"\nmining, labelled sample ({m['inputs']} texts, {m['positives']} with a situation): "
          f"yield {m['yield']:.2f}, precision {m['precision']:.2f}, recall {m['recall']:.2f}")
    for e in m["errors"]:
        print(f"  miss: {e}")
    config = MiningConfig()
    docs = []
    for _, title, sentences in sample_web._FORUM_POSTS:
        truth = normalize(find_candidates(title)[0], config)
        docs.append(("\n".join([title] + sentences + sample_web._FORUM_COMMENTS[:2]), truth.situation))
    rng = random.Random(0)
    bank = sample_web._BANK["en"]
    sentences = [s for topic in bank["topics"].values() for s in topic] + bank["generic"]
    for _ in range(300):
        docs.append(("\n".join(rng.sample(sentences, 5)).replace("{", "").replace("}", ""), ""))
    t0 = time.perf_counter()
    mined = correct = false_pos = 0
    for text, truth in docs:
        got = [r.situation for c in find_candidates(text) if isinstance(r := normalize(c, config), Situation)]
        mined += len(got)
        correct += truth in got if truth else 0
        false_pos += len([g for g in got if g != truth])
    seconds = time.perf_counter() - t0
    pos = sum(1 for _, t in docs if t)
    print(f"mining, synthetic corpus ({len(docs)} docs: {pos} forum posts, {len(docs) - pos} article texts): "
          f"found {correct}/{pos} forum situations, {false_pos} false positive(s); "
          f"{len(docs) / seconds:,.0f} docs/s on one core")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=RELEASE_ROWS)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    bench_release(args.rows, args.repeats)
    bench_mining()


if __name__ == "__main__":
    main()

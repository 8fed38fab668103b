"""KG text quality on real inputs: template coverage per input (with the most frequent relations still
falling back to the generic pattern), documents with raw Q/P ids left, generic sentences,
faithfulness verdicts, and random documents printed for reading.

    python bench/kg_quality.py --data DIR [--labels FILE] [--sample 30] [--seed 0]

DIR holds the inputs by kind: ``wikidata/*.ttl``, ``wikidata/*.json``/``*.json.gz`` (JSON entities or
dumps), ``webnlg/*.xml``, ``dart/*.json``; ``--labels`` (default: DIR/wikidata/property-labels-*.json
when present) names properties. Runs the kg job's pure core (``corpora.kg.local``) in one process.
"""

from __future__ import annotations

import argparse
import glob
import os
import random
import re
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from corpora.kg.local import run_local  # noqa: E402
from corpora.kg.templates import load_templates  # noqa: E402

RAW_P = re.compile(r"\bP\d+\b")
RAW_Q = re.compile(r"\bQ\d+\b")
INPUTS = [("wikidata RDF", "wikidata/*.ttl", True), ("wikidata JSON entities", "wikidata/wbget*.json", True),
          ("wikidata JSON dump", "wikidata/*dump*.json*", True), ("WebNLG (DBpedia)", "webnlg/*.xml", False),
          ("DART", "dart/*.json", False)]


def coverage(run) -> tuple[int, int, Counter, set, set]:
    """(fact occurrences, of them with a specific template, fallback counts by relation, relations, fallback
    relations) over the run's verbalized documents."""
    total = specific = 0
    fallback: Counter = Counter()
    relations, generic_rels = set(), set()
    for d in run.docs:
        for f in d.subgraph.facts:
            total += 1
            relations.add(f.relation)
            if f.relation in d.generic:
                fallback[f.relation] += 1
                generic_rels.add(f.relation)
            else:
                specific += 1
    return total, specific, fallback, relations, generic_rels


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder with wikidata/, webnlg/, dart/ inputs")
    ap.add_argument("--labels", default=None, help="property labels (JSON object or labels TSV)")
    ap.add_argument("--sample", type=int, default=30, help="random documents to print (default 30)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--top", type=int, default=8, help="fallback relations listed per input (default 8)")
    ap.add_argument("--keep-identifiers", action="store_true")
    args = ap.parse_args(argv)
    labels = [args.labels] if args.labels else sorted(glob.glob(os.path.join(args.data, "wikidata",
                                                                               "property-labels-*.json")))
    templates = load_templates()
    runs = []
    print(f"{'input':<24}{'files':>6}{'docs':>6}{'facts':>7}{'specific':>10}{'rels':>6}{'rels tpl':>9}"
          f"{'raw P':>7}{'raw Q':>7}{'generic':>8}  faithfulness")
    all_total = all_specific = 0
    for name, pattern, wikidata in INPUTS:
        files = sorted(glob.glob(os.path.join(args.data, pattern)))
        files = [f for f in files if "property-labels" not in f]
        if not files:
            continue
        run = run_local(files, labels if wikidata else [], templates, keep_identifiers=args.keep_identifiers)
        runs.append((name, run))
        total, specific, fallback, rels, generic_rels = coverage(run)
        all_total += total
        all_specific += specific
        raw_p = sum(1 for d in run.docs if RAW_P.search(d.text))
        raw_q = sum(1 for d in run.docs if RAW_Q.search(d.text))
        generic = sum(len(set(d.generic)) for d in run.docs)
        verdicts = Counter(d.verdict.reason or "ok" for d in run.docs)
        print(f"{name:<24}{len(files):>6}{len(run.docs):>6}{total:>7}{specific / max(total, 1):>10.1%}"
              f"{len(rels):>6}{len(rels - generic_rels):>9}{raw_p:>7}{raw_q:>7}{generic:>8}  "
              f"{', '.join(f'{k}={v}' for k, v in verdicts.most_common())}")
        left = ", ".join(f"{r} ({run.labels.get(r) or templates.label_of(r) or '?'}) {n}"
                         for r, n in fallback.most_common(args.top))
        print(f"{'':<24}still generic: {left or 'none'}")
        left_out = {k.split("/", 1)[1]: v for k, v in run.counts.items()
                    if k in ("facts/identifier", "facts/media_file", "facts/wikimedia_page")}
        if left_out:
            print(f"{'':<24}left out: {', '.join(f'{k}={v}' for k, v in left_out.items())}")
    print(f"\nall inputs: {all_specific}/{all_total} fact occurrences ({all_specific / max(all_total, 1):.1%}) "
          "verbalized by a specific template")
    print("raw P: documents with a property id left in the text (labels were given for Wikidata inputs);")
    print("raw Q: documents with an item id left (the inputs carry no labels for most objects)")
    rng = random.Random(args.seed)
    docs = [(name, d) for name, run in runs for d in run.docs]
    print(f"\n{args.sample} random documents of {len(docs)}:")
    for name, d in rng.sample(docs, min(args.sample, len(docs))):
        flag = "" if d.verdict.ok else f"  [{d.verdict.reason}: {d.verdict.detail[:80]}]"
        print(f"- ({name}) {d.text}{flag}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

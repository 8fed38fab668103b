"""Extraction quality on real article pages: shingle precision/recall/F1 of both extractors.

Run from the repository root on a clone of scrapinghub/article-extraction-benchmark (181 real
article pages ``html/*.html.gz`` and the hand-marked article text ``ground-truth.json``)::

    python bench/extraction.py --data path/to/article-extraction-benchmark
    python bench/extraction.py --data DIR --extractors trafilatura --pages 40

Each page goes through what the web job runs on an HTML response: ``TextExtractor`` (charset
decoding, the HTML depth guard, resiliparse or trafilatura) and then ``Normalizer``. A page the
job would drop scores as an empty prediction.

Scoring is the benchmark's own (``evaluate.py`` in that repository): text is tokenized into
``\\w+`` runs (Unicode), tokens are joined into shingles of 4 consecutive tokens (one shingle of
the whole text when it has fewer), and per page the multiset overlap gives TP (shingles in both,
by count), FP (predicted only) and FN (true only), normalized to sum to 1 so long pages weigh no
more than short ones. Precision is the mean over pages with TP+FP > 0 of TP/(TP+FP), recall the
mean over pages with TP+FN > 0 of TP/(TP+FN) (both 1 when FP = FN = 0), F1 the harmonic mean of
those two means, accuracy the share of pages whose token list equals the truth's; "±" is the
standard deviation over 1,000 bootstrap resamples of the pages (seeded here).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from bench.common import library_versions, load_average, usable_cores  # noqa: E402

# The benchmark's published figure for trafilatura (its README's results table).
PUBLISHED = {"trafilatura": {"f1": 0.958, "precision": 0.938, "recall": 0.978}}
_TOKEN = re.compile(r"\w+")
SHINGLE = 4


def tokens(text: str) -> list[str]:
    """The benchmark's tokens: runs of Unicode word characters."""
    return _TOKEN.findall(text or "")


def shingles(text: str, n: int = SHINGLE) -> Counter:
    """Counts of the n-token shingles of text (one shorter shingle when it has fewer tokens)."""
    toks = tokens(text)
    return Counter(tuple(toks[i:i + n]) for i in range(max(1, len(toks) - n + 1)) if toks[i:i + n])


def page_tp_fp_fn(true: str, pred: str) -> tuple[float, float, float]:
    """TP/FP/FN of one page's shingles, normalized to sum to 1 (all 0 when both texts are empty)."""
    t, p = shingles(true), shingles(pred)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _ratio(tp: float, fp: float, fn: float, miss: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == miss == 0 else tp / (tp + miss)


def metrics(pages: list[tuple[float, float, float]]) -> dict[str, float]:
    """Precision and recall averaged over pages, and F1 of those averages (the benchmark's way)."""
    predicted = [_ratio(tp, fp, fn, fp) for tp, fp, fn in pages if tp + fp > 0]
    expected = [_ratio(tp, fp, fn, fn) for tp, fp, fn in pages if tp + fn > 0]
    # The benchmark's script fails when no page has a prediction; here that scores 0.
    precision = statistics.mean(predicted) if predicted else 0.0
    recall = statistics.mean(expected) if expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def bootstrap_std(pages: list[tuple[float, float, float]], exact: list[bool], rounds: int = 1000,
                  seed: int = 0) -> dict[str, float]:
    """Standard deviation of each metric over bootstrap resamples of the pages."""
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {}
    for _ in range(rounds):
        idx = [rng.randrange(len(pages)) for _ in pages]
        for key, value in metrics([pages[i] for i in idx]).items():
            samples.setdefault(key, []).append(value)
        samples.setdefault("accuracy", []).append(statistics.mean(exact[i] for i in idx))
    return {key: statistics.stdev(values) for key, values in samples.items()}


def load_benchmark(data: Path, limit: int | None = None) -> list[tuple[str, bytes, str]]:
    """(page id, HTML bytes, true article text) for the first ``limit`` pages in id order."""
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    paths = sorted((data / "html").glob("*.html.gz"))[:limit]
    if not paths:
        raise SystemExit(f"no html/*.html.gz under {data}")
    out = []
    for path in paths:
        key = path.name.split(".")[0]
        out.append((key, gzip.decompress(path.read_bytes()), truth[key].get("articleBody") or ""))
    return out


def job_text(extractor: str, html: bytes) -> tuple[str, str]:
    """What the web job keeps of one UTF-8 HTML response: (normalized text, drop reason or "")."""
    from pipeline.extract import TextExtractor
    from pipeline.normalize import Normalizer
    from pipeline.records import Drop, RawRecord

    rec = RawRecord("page", "benchmark", "html", html, url="", header_charset="utf-8")
    doc = TextExtractor("web", extractor)(rec)
    if not isinstance(doc, Drop):
        doc = Normalizer()(doc)
    return ("", doc.reason) if isinstance(doc, Drop) else (doc.text, "")


def split_lines(text: str, truth: str) -> tuple[int, int]:
    """(line breaks the truth does not have, all line breaks): a paragraph cut into half-lines."""
    flat = " ".join(truth.split())
    lines = [line for line in text.split("\n") if line.strip()]
    pairs = list(zip(lines, lines[1:], strict=False))
    cut = sum(1 for a, b in pairs if f"{a} {b}" in flat and b[:1].islower())
    return cut, len(pairs)


def score_extractor(extractor: str, pages: list[tuple[str, bytes, str]]) -> dict:
    """Scores, drops, half-line breaks and seconds per page of one extractor over the pages."""
    counts, exact, drops = [], [], Counter()
    cut = breaks = 0
    started = time.process_time()
    texts = [job_text(extractor, html) for _, html, _ in pages]
    seconds = time.process_time() - started
    for (_, _, truth), (text, reason) in zip(pages, texts, strict=True):
        counts.append(page_tp_fp_fn(truth, text))
        exact.append(tokens(truth) == tokens(text))
        if reason:
            drops[reason] += 1
        c, b = split_lines(text, truth)
        cut, breaks = cut + c, breaks + b
    out = metrics(counts)
    out["accuracy"] = statistics.mean(exact)
    out["std"] = bootstrap_std(counts, exact)
    out.update(drops=dict(drops), cut=cut, breaks=breaks, ms=1000 * seconds / len(pages))
    return out


def guard_estimate(html: bytes, ceiling: int = 4096) -> int:
    """The depth guard's estimate: the smallest ``max_depth`` it lets the page through at."""
    from pipeline.extract import html_depth_exceeds

    lo, hi = 0, ceiling
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if html_depth_exceeds(html, mid) else (lo, mid)
    return lo


def parser_depth(html: bytes) -> int:
    """Element levels of lexbor's tree (resiliparse's parser, what the extractor walks)."""
    from resiliparse.parse.html import HTMLTree, NodeType

    deepest, todo = 0, [(HTMLTree.parse_from_bytes(html, "utf-8").document, 0)]
    while todo:
        node, depth = todo.pop()
        if node.type == NodeType.ELEMENT:
            depth += 1
            deepest = max(deepest, depth)
        child = node.first_child  # not child_nodes: indexing that list walks the siblings each time
        while child is not None:
            todo.append((child, depth))
            child = child.next
    return deepest


def depth_summary(pages: list[tuple[str, bytes, str]], max_depth: int) -> dict:
    """The depth guard on these pages: drops at ``max_depth``, its deepest estimate, the parser's."""
    from pipeline.extract import html_depth_exceeds

    estimates = [guard_estimate(html) for _, html, _ in pages]
    real = [parser_depth(html) for _, html, _ in pages]
    seconds = []
    for _ in range(5):
        started = time.process_time()
        dropped = sum(html_depth_exceeds(html, max_depth) for _, html, _ in pages)
        seconds.append(time.process_time() - started)
    return {"dropped": dropped, "ms": 1000 * min(seconds) / len(pages),
            "estimate_max": max(estimates), "parser_max": max(real),
            "off_by_more_than_10": sum(abs(e - r) > 10 for e, r in zip(estimates, real, strict=True))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True,
                        help="a clone of scrapinghub/article-extraction-benchmark (html/, ground-truth.json)")
    parser.add_argument("--extractors", default="resiliparse,trafilatura", help="comma-separated")
    parser.add_argument("--pages", type=int, default=None, help="first N pages only (default: all)")
    args = parser.parse_args(argv)

    from pipeline.limits import Limits

    versions = library_versions(("resiliparse", "trafilatura", "lxml"))
    print(f"machine: {platform.machine()} {usable_cores()} cores, Python {platform.python_version()}, "
          + ", ".join(f"{k} {v}" for k, v in versions.items()) + f", load {load_average()}")
    print("command: python bench/extraction.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    pages = load_benchmark(args.data, args.pages)
    print(f"\n{len(pages)} pages; shingle scores as the benchmark's evaluate.py computes them "
          "(± bootstrap std, 1000 resamples)\n")
    print("| extractor | F1 | precision | recall | accuracy | dropped | half-line breaks | CPU ms/page |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.extractors.split(","):
        r = score_extractor(name, pages)
        s = r["std"]
        drops = ", ".join(f"{k} {v}" for k, v in sorted(r["drops"].items())) or "0"
        print(f"| {name} (our job) | {r['f1']:.3f} ± {s['f1']:.3f} | {r['precision']:.3f} ± {s['precision']:.3f} | "
              f"{r['recall']:.3f} ± {s['recall']:.3f} | {r['accuracy']:.3f} | {drops} | "
              f"{r['cut']} of {r['breaks']} | {r['ms']:.1f} |")
        if name in PUBLISHED:
            p = PUBLISHED[name]
            print(f"| {name} (published by the benchmark) | {p['f1']:.3f} | {p['precision']:.3f} | "
                  f"{p['recall']:.3f} | | | | |")
    limit = Limits().max_html_depth
    d = depth_summary(pages, limit)
    print(f"\nHTML depth guard at --max-html-depth {limit}: {d['dropped']} of {len(pages)} pages dropped "
          f"({d['ms']:.3f} CPU ms/page, best of 5); deepest estimate {d['estimate_max']}, deepest parser tree "
          f"{d['parser_max']} levels; estimate off by more than 10 levels on {d['off_by_more_than_10']} pages")


if __name__ == "__main__":
    main()

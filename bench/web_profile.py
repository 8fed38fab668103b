"""Where the web job's time goes, per page: cProfile of one in-process run (no timing claims).

Run from the repository root::

    python bench/web_profile.py              # 1500 generated pages of about 60 KB
    python bench/web_profile.py --pages 500 --top 30
    python bench/web_profile.py --warc 'cc/*.warc.gz' --core-only    # core steps only, on your WARC files
    git worktree add /tmp/base HEAD~5 && python bench/web_profile.py --against /tmp/base --core-only

It runs the web job once to warm up, then once under cProfile on the DirectRunner's
in-memory engine (one process, so the profile sees every stage), and prints the functions
with the most own time. Compare ``extract_plain_text`` (the extractor) with
``fasttext_pybind.predict`` (language ID), ``zlib`` (gzip), ``re`` (normalization) and Beam.

Then it times the job's pure core steps one by one on the same pages, without the profiler
and without Beam (read, depth check, charset decoding, extraction, normalization, language
ID, the Parquet row, and the ``--filters`` quality filters, each evaluated on every document
in turn), so the per-page costs add up and can be compared with the bare
extractor.

With ``--against DIR`` (another checkout of the project, e.g. a git worktree of an older
commit) the core steps of both are timed on the same pages, in separate processes, alternating
for ``--rounds`` rounds, and printed side by side with the ratio per step (median of the
per-round ratios, which a busy machine sways less than the times themselves).
"""

from __future__ import annotations

import argparse
import cProfile
import glob
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1500, help="generated HTML pages (default 1500)")
    parser.add_argument("--page-kb", type=int, default=60, help="markup weight per page in KB (default 60)")
    parser.add_argument("--warc", metavar="GLOB", help="profile these WARC files instead of generated pages")
    parser.add_argument("--extractor", default="resiliparse", help="resiliparse or trafilatura")
    parser.add_argument("--top", type=int, default=20, help="functions to list (default 20)")
    parser.add_argument("--filters", default="gopher_repetition,gopher_quality,c4,fineweb,pii",
                        help="recipe steps to time in the core table ('' for none)")
    parser.add_argument("--core-only", action="store_true", help="skip the profiled job run")
    parser.add_argument("--against", metavar="DIR", help="another checkout whose core steps to time alongside")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds with --against (default 3)")
    parser.add_argument("--core-json", nargs=2, metavar=("ROOT", "GLOB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.core_json:  # one side of --against: ROOT's pipeline code on the files of GLOB
        sys.path.insert(0, os.path.abspath(args.core_json[0]))
        core = time_core_steps(sorted(glob.glob(args.core_json[1])), args.extractor, args.filters)
        print(json.dumps({"inflate": _inflate_name(), "steps": core}))
        return

    from corpora.sample_web import write_sample
    from corpora.web import WebConfig, run_web

    with tempfile.TemporaryDirectory(prefix="web-profile-") as root:
        if args.warc:
            files_glob = os.path.abspath(args.warc)
            if not glob.glob(files_glob):
                parser.error(f"--warc {args.warc}: no such files")
        else:
            write_sample(os.path.join(root, "s"), seed=0, pages=args.pages, files=6, page_kb=args.page_kb)
            files_glob = os.path.join(root, "s", "sample-0*.warc.gz")
        cfg = WebConfig(inputs=[files_glob], output=os.path.join(root, "o"), extractor=args.extractor)
        if args.against:
            compare(args, cfg.inputs[0])
        if args.core_only:
            if not args.against:  # the core table alone
                print_core(time_core_steps(sorted(glob.glob(files_glob)), args.extractor, args.filters))
            return
        beam_args = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]
        run_web(cfg, beam_args, overwrite=True, quiet=True)  # warm-up
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        report = run_web(cfg, beam_args, overwrite=True, quiet=True)
        profile.disable()
        seconds = time.perf_counter() - started
        core = time_core_steps(sorted(glob.glob(cfg.inputs[0])), args.extractor, args.filters)
    pages = next(s["in"] for s in report["stages"] if s["stage"] == "extract")
    print(f"{pages} pages in {seconds:.2f}s under the profiler ({seconds / pages * 1000:.2f} ms/page, "
          "Beam's fixed start-up included)\n")
    stats = pstats.Stats(profile)
    stats.sort_stats("tottime").print_stats(args.top)
    by_name = {}
    for (_, _, name), row in stats.stats.items():  # type: ignore[attr-defined]
        by_name[name] = by_name.get(name, 0.0) + row[2]
    print("per page, own time:")
    for label, key in (("extractor", "extract_plain_text" if args.extractor == "resiliparse" else "extract"),
                       ("language ID (fastText)", "predict")):
        total = sum(v for k, v in by_name.items() if key in k)
        print(f"  {label:<24} {total / pages * 1000:.3f} ms")
    print_core(core)


def print_core(core: dict[str, float]) -> None:
    """The table of core steps (ms per page each), with each one's share."""
    print("\ncore steps one by one, no profiler, no Beam (CPU ms per HTML page; best of 3 passes):\n")
    print("| step | ms/page | share of core |\n|---|---:|---:|")
    total = sum(core.values())
    for step, ms in core.items():
        print(f"| {step} | {ms:.3f} | {ms / total:.0%} |")
    print(f"| total | {total:.3f} | |")


def _inflate_name() -> str:
    """The module that inflates gzip members in the checkout on ``sys.path`` (zlib before isal)."""
    import pipeline.compression as compression

    return getattr(compression, "INFLATE", __import__("zlib")).__name__


def compare(args: argparse.Namespace, files_glob: str) -> None:
    """Core steps of this checkout and of ``--against``, alternating rounds, side by side."""
    sides = {"this": REPO_ROOT, "against": os.path.abspath(args.against)}
    runs: dict[str, list[dict]] = {name: [] for name in sides}
    for r in range(args.rounds):
        for name in (list(sides) if r % 2 == 0 else list(sides)[::-1]):
            cmd = [sys.executable, os.path.abspath(__file__), "--core-json", sides[name], files_glob,
                   "--extractor", args.extractor, "--filters", args.filters]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=sides[name])
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    print(f"\ncore steps, ms per HTML page: this checkout ({REPO_ROOT}, inflate {runs['this'][0]['inflate']}) vs "
          f"{sides['against']} (inflate {runs['against'][0]['inflate']}); median of {args.rounds} alternating "
          "rounds, each the best of 3 passes (CPU time)\n")
    print("| step | against | this | against / this (median of rounds) |\n|---|---:|---:|---:|")
    steps = list(runs["this"][0]["steps"])
    totals = {name: [sum(run["steps"].values()) for run in runs[name]] for name in sides}
    for step in [*steps, "total"]:
        this = totals["this"] if step == "total" else [run["steps"][step] for run in runs["this"]]
        other = totals["against"] if step == "total" else [run["steps"].get(step, float("nan")) for run in runs["against"]]
        ratio = statistics.median(o / t for o, t in zip(other, this, strict=True))
        print(f"| {step} | {statistics.median(other):.3f} | {statistics.median(this):.3f} | {ratio:.2f} |")


def time_core_steps(files: list[str], extractor: str, filters: str) -> dict[str, float]:
    """Per-page milliseconds of each pure step of the web job over ``files``, timed in isolation."""
    from pipeline.charset import decode_html
    from pipeline.extract import TextExtractor, html_depth_exceeds
    from pipeline.langid import LanguageFilter, LanguageIdentifier
    from pipeline.limits import Limits
    from pipeline.normalize import Normalizer
    from pipeline.readers import ReaderConfig, read_file
    from pipeline.recipe import steps_from_flag
    from pipeline.records import Document, RawRecord

    config = ReaderConfig("auto", "text", None, "url")
    limits = Limits()
    extract = TextExtractor("web", extractor, limits)
    normalize = Normalizer(False, limits)
    identifier = LanguageIdentifier()
    identifier.setup()
    langid = LanguageFilter(identifier)
    filter_steps = [s.filter for s in steps_from_flag(filters)] if filters else []
    for f in filter_steps:
        f.setup()

    def best(fn, fresh=None) -> float:
        """Least CPU time of 3 passes; ``fresh()`` (untimed) makes each pass's input anew."""
        times = []
        for _ in range(3):
            args = (fresh(),) if fresh else ()
            started = time.process_time()
            fn(*args)
            times.append(time.process_time() - started)
        return min(times)

    out: dict[str, float] = {}
    records: list = []
    out["read (gzip + WARC parse)"] = best(
        lambda: records.__setitem__(slice(None), [r for f in files for r in read_file(f, config)])
    )
    html = [r for r in records if isinstance(r, RawRecord) and r.kind == "html"]
    pages = max(len(html), 1)
    out["html depth check"] = best(lambda: [html_depth_exceeds(r.payload, limits.max_html_depth) for r in html])
    out["charset decoding"] = best(lambda: [decode_html(r.payload, r.header_charset) for r in html])
    # Freshly decoded strings each pass, as in the job: the extractor reads a string as UTF-8, and
    # CPython keeps that form on the string, so a second pass over the same strings would skip it.
    out[f"{extractor} extraction"] = best(lambda decoded: [extract.html_to_text(h) for h in decoded],
                                          fresh=lambda: [decode_html(r.payload, r.header_charset)[0] for r in html])
    docs = [d for d in (extract(r) for r in html) if isinstance(d, Document)]
    texts = [d.text for d in docs]

    def normalize_all() -> None:
        for d, t in zip(docs, texts, strict=True):
            d.text = t
            normalize(d)

    out["normalization"] = best(normalize_all)
    docs = [d for d in docs if d.text]
    out["language ID (fastText)"] = best(lambda: [langid(d) for d in docs])
    out["Parquet row (to_row)"] = best(lambda: [d.to_row() for d in docs])
    if filter_steps:
        texts = [d.text for d in docs]

        def filter_all() -> None:
            for d, t in zip(docs, texts, strict=True):
                d.text = t
                for f in filter_steps:
                    f.evaluate(d)

        out[f"filters ({filters})"] = best(filter_all)
    return {k: v / pages * 1000 for k, v in out.items()}


if __name__ == "__main__":
    main()

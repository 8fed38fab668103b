"""Where the web job's time goes, per page: cProfile of one in-process run (no timing claims).

Run from the repository root::

    python bench/web_profile.py              # 1500 generated pages of about 60 KB
    python bench/web_profile.py --pages 500 --top 30

It runs the web job once to warm up, then once under cProfile on the DirectRunner's
in-memory engine (one process, so the profile sees every stage), and prints the functions
with the most own time. Compare ``extract_plain_text`` (the extractor) with
``fasttext_pybind.predict`` (language ID), ``zlib`` (gzip), ``re`` (normalization) and Beam.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
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
    parser.add_argument("--extractor", default="resiliparse", help="resiliparse or trafilatura")
    parser.add_argument("--top", type=int, default=20, help="functions to list (default 20)")
    args = parser.parse_args(argv)

    from corpora.sample_web import write_sample
    from corpora.web import WebConfig, run_web

    with tempfile.TemporaryDirectory(prefix="web-profile-") as root:
        write_sample(os.path.join(root, "s"), seed=0, pages=args.pages, files=6, page_kb=args.page_kb)
        cfg = WebConfig(inputs=[os.path.join(root, "s", "sample-0*.warc.gz")], output=os.path.join(root, "o"),
                        extractor=args.extractor)
        beam_args = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]
        run_web(cfg, beam_args, overwrite=True, quiet=True)  # warm-up
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        report = run_web(cfg, beam_args, overwrite=True, quiet=True)
        profile.disable()
        seconds = time.perf_counter() - started
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


if __name__ == "__main__":
    main()

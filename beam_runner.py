"""The front door: ``python beam_runner.py <command> ...`` (or the ``corpusforge`` console script).

Beam jobs (``web``, ``kg``, ...) and the other tools (``tokenizer``, ``train``, ``plan``,
``plot``) are listed from the table below, so ``--help`` imports neither Beam nor torch: a
command's module is imported only once it is chosen.
"""

from __future__ import annotations

import sys
from typing import NamedTuple


class Command(NamedTuple):
    module: str  # a Beam job's module (defines JOB or JOBS), or a tool's module (defines main(argv))
    summary: str
    tool: bool = False  # True: not a Beam job; ``main(argv)`` of the module takes the rest


# In --help order. Each Beam job's summary is also its ``Job.summary`` (tests keep them equal).
COMMANDS: dict[str, Command] = {
    "crawl": Command("corpora.crawl", "seed URLs -> polite, resumable crawl -> WARC files"),
    "web": Command("corpora.web", "web archives (WARC/WET/JSONL/Parquet) -> clean Parquet corpus"),
    "tokenize": Command("corpora.tokenize", "corpora -> token shards (Megatron-LM .bin/.idx) with a train/val split"),
    "verify-shards": Command("corpora.verify_shards",
                             "check token shards against their manifest (sizes, checksums, token ids)"),
    "kg": Command("corpora.kg.job", "knowledge-graph triples -> verbalized sentences (KELM-style) + kelm.jsonl"),
    "kg-align": Command("corpora.kg.job",
                        "distant supervision: (triples, sentence) pairs from a corpus, to train a verbalizer"),
    "socialchem": Command("corpora.socialchem.job",
                          "SOCIAL-CHEM-101-style sets: situations, tasks, annotations, agreement, splits, text"),
    "doc2query-pairs": Command("corpora.doc2query.job",
                               "(passage, query) training pairs: MS MARCO files or mined headings"),
    "doc2query-train": Command("corpora.doc2query.job",
                               "train the bundled query generator (prefix-LM GPT) on doc2query-pairs output"),
    "doc2query": Command("corpora.doc2query.job",
                         "expand documents with predicted queries (hf: or native: generator)"),
    "doc2query-eval": Command("corpora.doc2query.job",
                              "BM25 MRR@10 / Recall@100/1000: original vs expanded passages"),
    "demo": Command("corpora.demo", "run every stage on bundled samples, crawl to trained model (start here)"),
    "tokenizer": Command("tokenizer.cli", "train, encode or inspect a tokenizer (same as python -m tokenizer)",
                         tool=True),
    "train": Command("trainer.__main__", "train a GPT on token shards (same as python -m trainer; torchrun for "
                     "several processes)", tool=True),
    "plan": Command("trainer.__main__", "compute-optimal model size and parallel layout (python -m trainer plan)",
                    tool=True),
    "plot": Command("trainer.__main__", "plot a training run's loss and learning rate (python -m trainer plot)",
                    tool=True),
}
TRAINER_SUBCOMMANDS = ("plan", "plot")


def usage(prog: str = "python beam_runner.py") -> str:
    width = max(map(len, COMMANDS)) + 1
    jobs = [f"  {n:<{width}} {c.summary}" for n, c in COMMANDS.items() if not c.tool]
    tools = [f"  {n:<{width}} {c.summary}" for n, c in COMMANDS.items() if c.tool]
    return "\n".join([
        f"usage: {prog} <command> [options]", "",
        "Beam jobs (options a job does not know are Apache Beam pipeline options):", *jobs, "",
        "tools:", *tools, "",
        f"{prog} <command> --help shows a command's options and examples.",
        "Beam options, e.g.: --runner dask --dask_address HOST:PORT, --direct_num_workers 4,",
        "--runner FlinkRunner (see docs/running-jobs.md).",
    ])


def load_job(name: str):
    """The ``Job`` of a Beam job command (imports its module)."""
    import importlib

    module = importlib.import_module(COMMANDS[name].module)
    return {job.name: job for job in getattr(module, "JOBS", None) or [module.JOB]}[name]


def _run_tool(name: str, rest: list[str]) -> int:
    import importlib

    module = importlib.import_module(COMMANDS[name].module)
    if name in TRAINER_SUBCOMMANDS:
        rest = [name, *rest]
    return int(module.main(rest) or 0)


def _run_job(name: str, rest: list[str], prog: str) -> int:
    import argparse
    import os

    from pipeline.beam_speedups import import_beam_lean
    from pipeline.memory import ARROW_POOL_ENV

    # before pyarrow is imported (import_beam_lean does): the web job's largest process ~16 MB smaller
    for key, value in ARROW_POOL_ENV.items():
        os.environ.setdefault(key, value)
    import_beam_lean()  # before anything imports Beam: 0.2-0.4 s less start-up
    from pipeline.jobs import UsageError

    job = load_job(name)
    parser = argparse.ArgumentParser(
        prog=f"{prog} {name}", description=job.description, allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    job.add_arguments(parser)
    args, beam_args = parser.parse_known_args(rest)
    try:
        result = job.run(args, beam_args)
    except UsageError as exc:
        parser.error(str(exc))
    if isinstance(result, dict):
        from pipeline.stats import nothing_readable

        failure = nothing_readable(result)
        if failure:
            print(f"error: {name}: {failure}", file=sys.stderr)
            return 1
    return result if isinstance(result, int) else 0


def main(argv: list[str] | None = None, prog: str = "python beam_runner.py") -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage(prog))
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"error: unknown command {name!r}\n\n{usage(prog)}", file=sys.stderr)
        return 2
    if COMMANDS[name].tool:
        return _run_tool(name, rest)
    return _run_job(name, rest, prog)


def console_main() -> int:
    """Entry point of the ``corpusforge`` console script."""
    return main(prog="corpusforge")


if __name__ == "__main__":
    sys.exit(main())

"""Entry point of every Beam job: ``python beam_runner.py <job> [job flags] [Beam options]``."""

from __future__ import annotations

import argparse
import sys

from pipeline.jobs import Job, UsageError

# Modules that define jobs: each has ``JOB`` (one job) or ``JOBS`` (a list), listed in --help order.
JOB_MODULES = [
    "corpora.crawl",
    "corpora.web",
    "corpora.tokenize",
    "corpora.verify_shards",
    "corpora.kg.job",
    "corpora.socialchem.job",
    "corpora.doc2query.job",
    "corpora.demo",
]


def _jobs() -> dict[str, Job]:
    import importlib

    jobs: dict[str, Job] = {}
    for name in JOB_MODULES:
        module = importlib.import_module(name)
        for job in getattr(module, "JOBS", None) or [module.JOB]:
            jobs[job.name] = job
    return jobs


def _usage(jobs: dict[str, Job]) -> str:
    lines = ["usage: python beam_runner.py <job> [job options] [Beam pipeline options]", "", "jobs:"]
    width = max(map(len, jobs)) + 1
    lines += [f"  {name:<{width}} {job.summary}" for name, job in jobs.items()]
    lines += [
        "",
        "python beam_runner.py <job> --help shows a job's options and examples.",
        "Options a job does not know are Apache Beam pipeline options and are passed to Beam,",
        "e.g. --runner FlinkRunner, --direct_num_workers 4, --direct_running_mode multi_processing.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    jobs = _jobs()
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage(jobs))
        return 0
    name, rest = argv[0], argv[1:]
    if name not in jobs:
        print(f"error: unknown job {name!r}\n\n{_usage(jobs)}", file=sys.stderr)
        return 2
    job = jobs[name]
    parser = argparse.ArgumentParser(
        prog=f"python beam_runner.py {name}", description=job.description, allow_abbrev=False,
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


if __name__ == "__main__":
    sys.exit(main())

"""How long the front door takes to answer: ``--help`` (no job imported) and a job's ``--help``.

    python bench/cli_startup.py [--repeat 5]

Prints the best and median wall time of each command, run as a fresh process (goal: the
top-level ``--help`` under 1 s; a job's ``--help`` imports that job, and so Beam).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = [
    ["beam_runner.py", "--help"],
    ["beam_runner.py", "web", "--help"],
    ["beam_runner.py", "plan", "--help"],
]


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *cmd], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'command':<36} {'best s':>8} {'median s':>9}  goal")
    for cmd in COMMANDS:
        times = [timed(cmd) for _ in range(args.repeat)]
        goal = "< 1 s" if cmd[1:] == ["--help"] else ""
        print(f"{'python ' + ' '.join(cmd):<36} {min(times):>8.2f} {statistics.median(times):>9.2f}  {goal}")


if __name__ == "__main__":
    main()

"""Helpers shared by the benchmarks: machine facts, CPU time of Beam's worker processes."""

from __future__ import annotations

import os
import resource
import time
from importlib import metadata


def library_versions(libraries: tuple[str, ...]) -> dict[str, str]:
    """Installed versions of the libraries that decide the numbers."""
    out = {}
    for name in libraries:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def usable_cores() -> int | str:
    """Cores this process may run on (Linux), else "?"."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"


def load_average() -> str:
    """The 1/5/15-minute load averages, where the platform has them."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):
        return "n/a"


def cpu_seconds() -> float:
    """User + system CPU of this process and of its reaped children (Beam's worker processes)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def descendants() -> list[int]:
    """Process ids below this one (Linux /proc); empty where /proc is not there."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [os.getpid()]
    while frontier:
        kids = [pid for pid, ppid in parent.items() if ppid in frontier]
        found += kids
        frontier = kids
    return found


def wait_for_workers(timeout: float = 20.0) -> None:
    """Let Beam's worker processes exit and be reaped, so their CPU time is counted."""
    if not os.path.isdir("/proc"):
        time.sleep(2.0)
        return
    deadline = time.monotonic() + timeout
    while descendants() and time.monotonic() < deadline:
        time.sleep(0.1)

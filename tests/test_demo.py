"""The README's first command, end to end: the demo job from crawl to a resumed training run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pipeline.shards.megatron import verify_shards

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS_OUTPUTS = ["crawl", "web", "kg", "socialchem/corpus", "doc2query/expanded", "shards"]


def _demo(out: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "beam_runner.py", "demo", "--output", out, "--pages", "60", *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_demo_runs_every_stage_and_refuses_to_overwrite(tmp_path):
    out = str(tmp_path / "demo")
    run = _demo(out)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    for name in CORPUS_OUTPUTS:  # every job accounted for every record
        stats = json.load(open(os.path.join(out, name, "stats.json")))
        assert stats["accounting_ok"], name
    sources = {s["source"] for s in json.load(open(os.path.join(out, "shards", "manifest.json")))["shards"]}
    assert sources == {"web", "kg", "socialchem", "doc2query"}
    ok, _ = verify_shards(os.path.join(out, "shards"))
    assert ok

    events = [json.loads(line) for line in open(os.path.join(out, "train", "metrics.jsonl"))]
    assert [e["step"] for e in events if e.get("event") == "resumed"] == [40]
    assert max(e["step"] for e in events if "loss" in e) == 80
    assert os.path.getsize(os.path.join(out, "train", "loss.png")) > 1000
    assert "demo finished" in run.stdout

    # A second run without --overwrite refuses before touching anything.
    before = os.path.getmtime(os.path.join(out, "web", "manifest.json"))
    again = _demo(out)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert os.path.getmtime(os.path.join(out, "web", "manifest.json")) == before

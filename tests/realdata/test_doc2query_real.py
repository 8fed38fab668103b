"""doc2query on MS MARCO's released files (pids 0-100 of collection.tsv with its mojibake, the
dev/small topics and qrels): pids kept, mojibake repaired, and the eval's rule for qrels that
point outside the sample (counted; no evaluable query is an error, not MRR 0.0)."""

from __future__ import annotations

import argparse
import glob
import json

import pyarrow.parquet as pq
import pytest

from corpora.doc2query.evaluate import build_task, read_collection, read_qrels, read_queries
from pipeline.jobs import UsageError


@pytest.fixture(scope="module")
def msmarco(realdata):
    return realdata / "msmarco"


def test_collection_keeps_every_pid_and_repairs_the_mojibake(msmarco):
    path = str(msmarco / "collection-pids-0-100.tsv")
    raw = read_collection(path)
    fixed = read_collection(path, fix_mojibake=True)
    assert sorted(raw.texts, key=int) == [str(i) for i in range(101)] and not raw.skipped
    assert "\u00c3\u00a2\u00c2" in raw.texts["3"]  # the release's own mojibake
    assert "194 \u2026 2-1946" in fixed.texts["3"]
    assert not any("\u00c3\u00a2" in t for t in fixed.texts.values())
    assert fixed.texts["0"] == raw.texts["0"]  # clean text is left alone


def test_dev_qrels_outside_the_sample_are_counted_and_refused(msmarco):
    coll = read_collection(str(msmarco / "collection-pids-0-100.tsv")).texts
    queries, q_skipped = read_queries(str(msmarco / "topics.msmarco-passage.dev-subset.txt"))
    qrels, r_skipped = read_qrels(str(msmarco / "qrels.msmarco-passage.dev-subset.txt"))
    assert len(queries) == 6980 and not q_skipped
    judged = sum(len(p) for p in qrels.values())
    assert len(qrels) == 6980 and judged + sum(r_skipped.values()) == 7437
    task = build_task(coll, queries, qrels)
    assert task.counts["qrels_unknown_passage"] == judged and task.counts["queries_evaluated"] == 0
    from corpora.doc2query.job import add_eval_arguments, run_eval

    parser = argparse.ArgumentParser()
    add_eval_arguments(parser)
    args = parser.parse_args(["--input", str(msmarco / "collection-pids-0-100.tsv"),
                              "--expanded", str(msmarco / "collection-pids-0-100.tsv"),
                              "--queries", str(msmarco / "topics.msmarco-passage.dev-subset.txt"),
                              "--qrels", str(msmarco / "qrels.msmarco-passage.dev-subset.txt")])
    with pytest.raises(UsageError, match=f"no query can be evaluated.*qrels_unknown_passage={judged}"):
        run_eval(args, quiet=True)


def test_expansion_of_the_released_collection_keeps_its_pids(msmarco, tmp_path):
    from corpora.doc2query.job import add_expand_arguments, run_expand
    from tests.test_doc2query_pairs import run_step

    pred = tmp_path / "sample000.txt"  # docTTTTTquery's layout: one line per passage, collection order
    pred.write_text("".join(f"query for passage {i}\n" for i in range(101)))
    out = tmp_path / "out"
    report = run_step(add_expand_arguments, run_expand, [
        "--collection", str(msmarco / "collection-pids-0-100.tsv"), "--fix-mojibake",
        "--generator", f"precomputed:{pred}", "--output", str(out), "--anserini"])
    assert report["accounting_ok"]
    rows = {r["id"]: r for r in pq.read_table(str(out / "data")).to_pylist()}
    assert sorted(rows, key=int) == [str(i) for i in range(101)]
    assert rows["42"]["text"].endswith("\n\nquery for passage 42")
    anserini = {json.loads(x)["id"] for f in glob.glob(str(out / "anserini" / "*.jsonl")) for x in open(f)}
    assert anserini == set(rows)

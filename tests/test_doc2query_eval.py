"""doc2query-eval: metrics by hand, readers with bad lines, BM25 over original vs expanded, the job."""

from __future__ import annotations

import argparse
import json

import pytest

from corpora.doc2query.evaluate import BM25Index, build_task, compare, metrics, read_collection, read_qrels
from pipeline.jobs import UsageError
from pipeline.records import Document
from tests.test_doc2query_pairs import write_corpus


def test_metrics_by_hand():
    relevant = {"q1": {"a"}, "q2": {"b", "c"}, "q3": {"z"}}
    ranked = {"q1": ["x", "a"], "q2": ["b"] + [f"f{i}" for i in range(150)] + ["c"], "q3": []}
    m = metrics(ranked, relevant)
    assert m["MRR@10"] == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert m["Recall@100"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert m["Recall@1000"] == pytest.approx((1 + 1 + 0) / 3)
    assert metrics({}, {}) == {"MRR@10": 0.0, "Recall@100": 0.0, "Recall@1000": 0.0}


def test_task_counts_what_cannot_be_evaluated():
    task = build_task({"p1": "t", "p2": "t"}, {"q1": "a", "q2": "b", "q3": "c"},
                      {"q1": {"p1", "p404"}, "q2": {"p999"}, "q9": {"p1"}})
    assert list(task.queries) == ["q1"] and task.relevant == {"q1": {"p1"}}
    assert task.counts["qrels_unknown_passage"] == 2
    assert task.counts["queries_no_known_relevant"] == 1
    assert task.counts["qrels_unknown_query"] == 1
    assert task.counts["queries_without_qrels"] == 1


def test_zero_score_passages_are_never_hits():
    index = BM25Index({"p1": "cats purr softly", "p2": "dogs bark loudly"})
    assert index.search(["zebra"], 10) == [[]]
    hits = index.search(["cats"], 10)[0]
    assert [pid for pid, _ in hits] == ["p1"]


def test_expansion_that_bridges_the_vocabulary_gap_raises_mrr():
    # each entity has three passages on three subjects; the query names the subject with a word
    # only the expansion carries, so without it the three passages tie on the entity
    original = {f"p{e}_{s}": f"entity{e} text about subject{s}" for e in range(10) for s in range(3)}
    queries = {f"q{e}_{s}": f"entity{e} keyword{s}" for e in range(10) for s in range(3)}
    qrels = {f"q{e}_{s}": {f"p{e}_{s}"} for e in range(10) for s in range(3)}
    expanded = {pid: f"{text}\nkeyword{pid[-1]}" for pid, text in original.items()}
    report = compare(original, expanded, queries, qrels)
    assert report["expanded"]["MRR@10"] == pytest.approx(1.0)
    assert report["original"]["MRR@10"] < 0.9
    assert report["original"]["Recall@100"] == report["expanded"]["Recall@100"] == 1.0
    report = compare(original, original, {"q0": "keyword0"}, {"q0": {"p0_0"}})
    assert report["original"]["MRR@10"] == 0.0  # no shared term: nothing retrieved


def test_readers_count_bad_lines(tmp_path):
    tsv = tmp_path / "c.tsv"
    tsv.write_bytes(b"1\tone\n2\t\nbad\n1\tdup\n3\t\xff\n")
    coll = read_collection(str(tsv))
    assert coll.texts == {"1": "one"}
    assert dict(coll.skipped) == {"empty_text": 1, "no_tab": 1, "duplicate_id": 1, "invalid_utf8": 1}
    jl = tmp_path / "c.jsonl"
    jl.write_text('{"id": "a", "contents": "x"}\n{"id": "b"}\nnot json\n')
    coll = read_collection(str(jl))
    assert coll.texts == {"a": "x"} and coll.skipped["bad_json"] == 1 and coll.skipped["empty_text"] == 1
    qrels = tmp_path / "qrels"
    qrels.write_text("q1 0 a 1\nq1 0 b 0\nq2\ta\nq3 0 a x\n")
    rel, skipped = read_qrels(str(qrels))
    assert rel == {"q1": {"a"}, "q2": {"a"}}
    assert dict(skipped) == {"not_relevant": 1, "bad_relevance": 1}


def _eval(argv: list[str]) -> dict:
    from corpora.doc2query.job import add_eval_arguments, run_eval

    parser = argparse.ArgumentParser()
    add_eval_arguments(parser)
    return run_eval(parser.parse_args(argv), quiet=True)


def test_eval_job_over_corpus_and_anserini_inputs(tmp_path):
    docs = [Document(id=f"p{i}", text=f"entity{i} about subject{i % 4}", source="web") for i in range(20)]
    corpus = write_corpus(tmp_path / "orig", docs)
    anserini = tmp_path / "anserini"
    anserini.mkdir()
    with open(anserini / "docs-00000-of-00001.jsonl", "w") as fh:
        for d in docs:
            fh.write(json.dumps({"id": d.id, "contents": d.text + f" keyword{int(d.id[1:]) % 4}"}) + "\n")
    (tmp_path / "q.tsv").write_text("".join(f"q{i}\tkeyword{i % 4} entity{i}\n" for i in range(20)) + "broken\n")
    (tmp_path / "qrels.tsv").write_text("".join(f"q{i}\t0\tp{i}\t1\n" for i in range(20)) + "q1\t0\tnope\t1\n")
    report_path = tmp_path / "report.json"
    report = _eval(["--corpus", corpus, "--expanded", str(anserini), "--queries", str(tmp_path / "q.tsv"),
                    "--qrels", str(tmp_path / "qrels.tsv"), "--report", str(report_path)])
    assert report["counts"]["queries_evaluated"] == 20
    assert report["counts"]["qrels_unknown_passage"] == 1
    assert report["skipped_lines"]["queries"] == {"no_tab": 1}
    assert report["expanded"]["MRR@10"] >= report["original"]["MRR@10"]
    assert json.loads(report_path.read_text())["expanded"] == report["expanded"]
    with pytest.raises(UsageError, match="no such file"):
        _eval(["--corpus", corpus, "--expanded", corpus, "--queries", str(tmp_path / "none.tsv"),
               "--qrels", str(tmp_path / "qrels.tsv")])

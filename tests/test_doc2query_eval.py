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
    assert coll.texts == {"1": "dup"}  # the one duplicate-id rule: the text first in code-point order
    assert dict(coll.skipped) == {"empty_text": 1, "no_tab": 1, "duplicate_id": 1, "invalid_utf8": 1,
                                  "count:duplicate_id_conflict": 1}
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
    report = _eval(["--input", corpus, "--expanded", str(anserini), "--queries", str(tmp_path / "q.tsv"),
                    "--qrels", str(tmp_path / "qrels.tsv"), "--report", str(report_path)])
    assert report["counts"]["queries_evaluated"] == 20
    assert report["counts"]["qrels_unknown_passage"] == 1
    assert report["skipped_lines"]["queries"] == {"no_tab": 1}
    assert report["expanded"]["MRR@10"] >= report["original"]["MRR@10"]
    assert json.loads(report_path.read_text())["expanded"] == report["expanded"]
    with pytest.raises(UsageError, match="no such file"):
        _eval(["--input", corpus, "--expanded", corpus, "--queries", str(tmp_path / "none.tsv"),
               "--qrels", str(tmp_path / "qrels.tsv")])


# --- issue 17: release formats, ties, duplicates, errors before work -------------------------

def _write_gz(path, text: str) -> str:
    import gzip

    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(text)
    return str(path)


def test_eval_reads_gzipped_qrels_queries_collections_and_docs_folders(tmp_path):
    texts = {str(i): f"entity{i} about subject{i % 3}" for i in range(12)}
    coll = _write_gz(tmp_path / "collection.tsv.gz", "".join(f"{k}\t{v}\n" for k, v in texts.items()))
    folder = tmp_path / "docTTTTTquery-out"  # docsNN.json files, as docTTTTTquery / Anserini write them
    folder.mkdir()
    for n, chunk in enumerate((list(texts.items())[:6], list(texts.items())[6:])):
        (folder / f"docs{n:02d}.json").write_text("".join(
            json.dumps({"id": k, "contents": f"{v} keyword{int(k) % 3}"}) + "\n" for k, v in chunk))
    gz_jsonl = _write_gz(tmp_path / "expanded.jsonl.gz", "".join(
        json.dumps({"id": k, "contents": f"{v} keyword{int(k) % 3}"}) + "\n" for k, v in texts.items()))
    queries = _write_gz(tmp_path / "queries.tsv.gz", "".join(f"q{i}\tentity{i} keyword{i % 3}\n" for i in range(12)))
    qrels = _write_gz(tmp_path / "qrels.txt.gz", "".join(f"q{i} 0 {i} 1\n" for i in range(12)))
    for expanded in (str(folder), gz_jsonl):
        report = _eval(["--input", coll, "--expanded", expanded, "--queries", queries, "--qrels", qrels])
        assert report["counts"]["queries_evaluated"] == 12
        assert report["passages"] == {"original": 12, "expanded": 12}
        assert report["expanded"]["MRR@10"] == pytest.approx(1.0)


def test_tied_scores_rank_by_passage_id_on_duplicate_passages():
    # MS MARCO repeats passages under several pids: identical texts tie, and the lower pid
    # (numerically, as pids are integers) ranks first whatever order the collection lists them in
    same = "the manhattan project built the first atomic bomb"
    for order in (["12", "7", "3", "40"], ["40", "3", "12", "7"]):
        texts = {pid: same for pid in order} | {"5": "a passage about cooking rice"}
        ranked = BM25Index(texts).search(["manhattan project bomb"], 3)[0]
        assert [pid for pid, _ in ranked] == ["3", "7", "12"]
        report = compare(texts, texts, {"q": "manhattan project bomb"}, {"q": {"3"}})
        assert report["original"]["MRR@10"] == 1.0
    mixed = BM25Index({"b": same, "a": same, "10": same, "9": same}).search([same], 4)[0]
    assert [pid for pid, _ in mixed] == ["9", "10", "a", "b"]


def test_top_k_keeps_every_tie_at_the_cut_until_ordered():
    import numpy as np

    from corpora.doc2query.evaluate import top_k

    scores = np.array([1.0, 2.0, 0.0, 2.0, 2.0, 3.0])
    assert top_k(scores, 3) == [(5, 3.0), (1, 2.0), (3, 2.0)]
    assert top_k(scores, 10) == [(5, 3.0), (1, 2.0), (3, 2.0), (4, 2.0), (0, 1.0)]


def test_duplicate_qrels_and_bad_collection_lines_are_counted(tmp_path):
    (tmp_path / "c.tsv").write_text("1\tcats purr\n2\tdogs bark\nno tab here\n3\t\n")
    (tmp_path / "q.tsv").write_text("q1\tcats\nq2\tdogs\n")
    (tmp_path / "r.txt").write_text("q1 0 1 1\nq1 0 1 1\nq2 0 2 1\n")
    rel, skipped = read_qrels(str(tmp_path / "r.txt"))
    assert rel == {"q1": {"1"}, "q2": {"2"}} and skipped == {"duplicate_judgement": 1}
    report = _eval(["--input", str(tmp_path / "c.tsv"), "--expanded", str(tmp_path / "c.tsv"),
                    "--queries", str(tmp_path / "q.tsv"), "--qrels", str(tmp_path / "r.txt")])
    assert report["skipped_lines"]["qrels"] == {"duplicate_judgement": 1}
    assert report["skipped_lines"]["corpus"] == {"no_tab": 1, "empty_text": 1}


def test_eval_refuses_what_would_print_a_meaningless_mrr(tmp_path):
    (tmp_path / "c.tsv").write_text("1\tcats purr\n2\tdogs bark\n")
    (tmp_path / "renamed.jsonl").write_text('{"id": "doc-1", "contents": "cats purr"}\n')
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "q.tsv").write_text("q1\tcats\n")
    (tmp_path / "r.txt").write_text("q1 0 1 1\n")
    (tmp_path / "r-outside.txt").write_text("q1 0 7067032 1\n")
    base = ["--input", str(tmp_path / "c.tsv"), "--queries", str(tmp_path / "q.tsv")]
    with pytest.raises(UsageError, match="--expanded: no passages"):
        _eval(base + ["--expanded", str(tmp_path / "empty.jsonl"), "--qrels", str(tmp_path / "r.txt")])
    with pytest.raises(UsageError, match="no query can be evaluated.*qrels_unknown_passage=1"):
        _eval(base + ["--expanded", str(tmp_path / "c.tsv"), "--qrels", str(tmp_path / "r-outside.txt")])
    with pytest.raises(UsageError, match="holds none of the 1 relevant"):
        _eval(base + ["--expanded", str(tmp_path / "renamed.jsonl"), "--qrels", str(tmp_path / "r.txt")])


# --- issue 15: the collection readers are core (pipeline.fileio), no Beam ----------------------

def test_read_lines_decompresses_by_name_and_keeps_every_line(tmp_path):
    """Each suffix Beam's file systems decompress by (.gz, .bz2, .zst, .xz, .deflate) reads back the
    same lines: blank lines and a carriage return kept, a last line without newline kept."""
    import bz2
    import gzip
    import lzma
    import zlib

    import zstandard

    from corpora.doc2query.collection import read_lines

    data = b"1\tone\n\n2\ttwo\r\n" + b"3\t" + b"x" * (3 << 20) + b"\n4\tlast"  # a line across read chunks
    expected = [b"1\tone", b"", b"2\ttwo\r", b"3\t" + b"x" * (3 << 20), b"4\tlast"]
    for name, packed in (("c.tsv", data), ("c.tsv.gz", gzip.compress(data) + gzip.compress(b"\n5\tmember")),
                         ("c.tsv.bz2", bz2.compress(data)), ("c.tsv.zst", zstandard.compress(data)),
                         ("c.tsv.xz", lzma.compress(data)), ("c.tsv.deflate", zlib.compress(data))):
        (tmp_path / name).write_bytes(packed)
        extra = [b"5\tmember"] if name.endswith(".gz") else []
        assert list(read_lines(str(tmp_path / name))) == expected + extra, name


def test_eval_reads_collections_and_corpora_through_fileio(tmp_path):
    """An fsspec store (memory://) holds a TSV collection and a corpus: both read as local ones are."""
    from pipeline import fileio

    docs = [Document(id=f"p{i}", text=f"entity{i} about subject{i % 4}", source="web") for i in range(6)]
    corpus = write_corpus(tmp_path / "orig", docs)
    store = "memory://d2q-eval-test"
    try:
        for path in sorted((tmp_path / "orig" / "data").glob("*.parquet")):
            fileio.write_atomic(fileio.join(store, "corpus", "data", path.name), path.read_bytes())
        fileio.write_atomic(fileio.join(store, "c.tsv"), "".join(f"p{i}\tentity{i}\n" for i in range(6)).encode())
        from_store = read_collection(fileio.join(store, "corpus"))
        assert from_store.texts == read_collection(corpus).texts and len(from_store.texts) == 6
        assert read_collection(fileio.join(store, "c.tsv")).texts == {f"p{i}": f"entity{i}" for i in range(6)}
        with pytest.raises(ValueError, match="no corpus Parquet files"):
            read_collection(fileio.join(store, "nothing"))
    finally:
        fileio.delete(store, recursive=True)

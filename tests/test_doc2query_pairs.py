"""doc2query training pairs: sentence windows, MS MARCO readers, mined headings, the doc2query-pairs job."""

from __future__ import annotations

import glob
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpora.doc2query.pairs import (
    BadLine,
    MiningConfig,
    decode_line,
    is_heading,
    is_heldout,
    mine_pairs,
    parse_id_text,
    parse_qrels,
    sections,
)
from corpora.doc2query.passages import PassageConfig, sentence_windows, split_passages, split_sentences
from pipeline.jobs import UsageError
from pipeline.records import Document
from pipeline.schema import CORPUS_SCHEMA

BEAM = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]


# --- passages ---------------------------------------------------------------------------------

def test_sentences_keep_abbreviations_quotes_and_cjk():
    text = 'Dr. Smith arrived. He said "Stop." Then 3 dogs ran!\n\nNo stop at the end\n春季集市开幕。市民很多。'
    assert split_sentences(text) == [
        "Dr. Smith arrived.", 'He said "Stop."', "Then 3 dogs ran!", "No stop at the end", "春季集市开幕。", "市民很多。"]


def test_windows_overlap_by_stride_and_cover_every_sentence():
    sents = [f"s{i}." for i in range(23)]
    windows = sentence_windows(sents, PassageConfig(window=10, stride=5))
    assert [w.split()[0] for w in windows] == ["s0.", "s5.", "s10.", "s15."]
    assert windows[-1].split()[-1] == "s22."
    assert len(sentence_windows(sents[:10], PassageConfig(10, 5))) == 1  # no tail window already covered
    assert len(sentence_windows(sents, PassageConfig(10, 5, max_passages=2))) == 2
    assert split_passages("   \n\n ") == []


@pytest.mark.parametrize("window,stride", [(0, 1), (5, 0), (5, 6)])
def test_bad_window_settings_are_refused(window, stride):
    with pytest.raises(ValueError):
        PassageConfig(window, stride)


# --- MS MARCO readers -------------------------------------------------------------------------

def test_line_parsers_name_what_is_wrong():
    assert parse_id_text("7\tA passage  with   spaces") == ("7", "A passage with spaces")
    assert parse_id_text("no tab here") == BadLine("no_tab", "no tab here")
    assert parse_id_text("7\t   ").reason == "empty_text"
    assert parse_id_text("\tabc").reason == "empty_id"
    assert parse_qrels("1\t0\t7\t1") == ("1", "7", 1)
    assert parse_qrels("1 0 7 2") == ("1", "7", 2)
    assert parse_qrels("1\t7") == ("1", "7", 1)
    assert parse_qrels("1\t0\t7").reason == "bad_columns"
    assert parse_qrels("1\t0\t7\tx").reason == "bad_relevance"
    assert decode_line(b"\xff\xfe bad").reason == "invalid_utf8"
    assert decode_line(b"x" * 20, max_bytes=10).reason == "line_too_long"
    assert decode_line(b"ok\r") == "ok"


# --- mining -----------------------------------------------------------------------------------

PAGE = """Travel Notes

Why you should never throw away coffee grounds

Coffee grounds make an excellent fertiliser for roses and tomatoes. They also keep slugs away from young plants. \
Many gardeners mix them into compost heaps every week. Some even use them to scrub pans.

Published 4 March 2024 by Anna · 3 comments

How to store them

Dry the grounds on a tray before you store them in a jar. Wet grounds go mouldy within days in a warm kitchen. \
A sealed jar keeps them fresh for months."""


def test_headings_and_bylines():
    cfg = MiningConfig()
    assert is_heading("Why you should never throw away coffee grounds", cfg)
    assert is_heading("Is it safe?", cfg)  # a question heading is a query
    assert not is_heading("Published 4 March 2024 by Anna · 3 comments", cfg)  # byline: year, separator
    assert not is_heading("Coffee grounds make an excellent fertiliser.", cfg)  # a sentence
    assert not is_heading("Home", cfg)  # one word: navigation, not a heading


def test_mining_pairs_a_heading_with_the_passage_under_it():
    secs = sections(PAGE)
    assert [h for h, _ in secs] == ["Why you should never throw away coffee grounds", "How to store them"]
    pairs, reason = mine_pairs("doc1", PAGE, "web", config=MiningConfig(min_passage_words=10))
    assert reason is None
    assert [p.query for p in pairs] == ["Why you should never throw away coffee grounds", "How to store them"]
    assert pairs[0].passage.startswith("Coffee grounds make") and "Published" not in pairs[0].passage
    assert pairs[0].pid == "doc1-s0-p0" and pairs[0].qid == "doc1-s0" and pairs[0].split_key == "doc1"


def test_mining_reasons_and_meta_title():
    assert mine_pairs("d", "", "web") == ([], "empty_text")
    assert mine_pairs("d", "Just one long sentence without any heading at all.", "web") == ([], "no_heading")
    assert mine_pairs("d", "A short heading\n\nToo short.", "web") == ([], "short_passage")
    body = "Body sentence one is here. " * 10
    pairs, _ = mine_pairs("d", body, "web", title="The page title")
    assert [p.query for p in pairs] == ["The page title"]


def test_heldout_split_is_deterministic_and_proportional():
    keys = [f"doc{i}" for i in range(4000)]
    held = [k for k in keys if is_heldout(k, 0.25, seed=1)]
    assert held == [k for k in keys if is_heldout(k, 0.25, seed=1)]
    assert 0.2 < len(held) / len(keys) < 0.3
    assert not any(is_heldout(k, 0.0) for k in keys)


# --- the job ----------------------------------------------------------------------------------

def run_step(add_arguments, run, argv: list[str]) -> dict:
    """Parse ``argv`` with a doc2query step's own arguments into its config and run it quietly on one
    in-memory worker."""
    import argparse

    from corpora.doc2query import job

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args, beam_args = parser.parse_known_args(argv)
    config_of = {job.run_pairs: job.pairs_config, job.run_expand: job.expand_config}[run]
    return run(config_of(args), beam_args + BEAM, overwrite=args.overwrite, quiet=True)


def stage_of(report: dict, name: str) -> dict:
    """The row of stage ``name`` in a stats.json report."""
    return next(s for s in report["stages"] if s["stage"] == name)


def _run_pairs(argv: list[str]):
    from corpora.doc2query.job import add_pairs_arguments, run_pairs

    return run_step(add_pairs_arguments, run_pairs, argv)


def test_msmarco_pairs_job_counts_every_bad_line(tmp_path):
    coll = tmp_path / "collection.tsv"
    coll.write_bytes(b"0\tThe first passage about cats.\n1\tThe second passage about dogs.\n"
                     b"2\t   \nno tab line\n3\t\xff\xfe broken utf8\n4\tA passage nobody judged.\n")
    queries = tmp_path / "queries.tsv"
    queries.write_text("q0\twhat do cats eat\nq1\tdog breeds\nq2\torphan query\nbad line\n")
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("q0\t0\t0\t1\nq1\t0\t1\t1\nq1\t0\t1\t1\nq0\t0\t99\t1\nq9\t0\t0\t1\nq1\t0\t4\t0\nq2 0 5\n")
    out = tmp_path / "out"
    report = _run_pairs(["--collection", str(coll), "--queries", str(queries), "--qrels", str(qrels),
                         "--output", str(out), "--rejects"])
    assert report["accounting_ok"]
    assert stage_of(report, "collection")["dropped"] == {"empty_text": 1, "no_tab": 1, "invalid_utf8": 1}
    assert stage_of(report, "queries")["dropped"] == {"no_tab": 1}
    assert stage_of(report, "qrels")["dropped"] == {"not_relevant": 1, "bad_columns": 1}
    assert stage_of(report, "join")["dropped"] == {"duplicate_judgement": 1, "unknown_passage": 1, "unknown_query": 1}
    lines = [json.loads(x) for f in sorted(glob.glob(str(out / "pairs" / "*.jsonl"))) for x in open(f)]
    assert sorted((p["qid"], p["pid"], p["query"]) for p in lines) == [
        ("q0", "0", "what do cats eat"), ("q1", "1", "dog breeds")]
    assert {p["source"] for p in lines} == {"msmarco"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["outputs"]["rows"] == 2
    rejects = pq.read_table(str(out / "rejects")).to_pylist()
    dropped = sum(sum(s["dropped"].values()) for s in report["stages"])
    assert len(rejects) == dropped
    assert {(r["stage"], r["reason"]) for r in rejects} >= {("join", "unknown_passage"), ("collection", "no_tab")}
    assert sum(f["rows"] for f in manifest["outputs"]["rejects"]) == dropped
    with pytest.raises(UsageError, match="--overwrite"):
        _run_pairs(["--collection", str(coll), "--queries", str(queries), "--qrels", str(qrels),
                    "--output", str(out)])


def test_pairs_arguments_are_checked_before_work(tmp_path):
    with pytest.raises(UsageError, match="missing --qrels"):
        _run_pairs(["--collection", "c.tsv", "--queries", "q.tsv", "--output", str(tmp_path / "o")])
    with pytest.raises(UsageError, match="no such file"):
        _run_pairs(["--collection", str(tmp_path / "nope.tsv"), "--queries", "q", "--qrels", "r",
                    "--output", str(tmp_path / "o")])
    with pytest.raises(UsageError, match="not both"):
        _run_pairs(["--input", "x", "--collection", "c", "--output", str(tmp_path / "o")])
    assert not (tmp_path / "o").exists()


def write_corpus(directory, docs: list[Document]) -> str:
    os.makedirs(os.path.join(directory, "data"), exist_ok=True)
    pq.write_table(pa.Table.from_pylist([d.to_row() for d in docs], schema=CORPUS_SCHEMA),
                   os.path.join(directory, "data", "part-00000-of-00001.parquet"))
    return str(directory)


def test_mined_pairs_job_drops_boilerplate_headings_and_holds_out(tmp_path):
    body = "This sentence talks about the topic at length and adds detail. " * 4
    docs = [Document(id=f"d{i}", text=f"Site Menu Label\n\nUnique heading number {i}\n\n{body}", source="web")
            for i in range(12)]
    docs += [Document(id=f"b{i}", text=f"Related articles\n\n{body}", source="web") for i in range(4)]
    docs += [Document(id="empty", text="   ", source="web"), Document(id="flat", text=body, source="web")]
    corpus = write_corpus(tmp_path / "corpus", docs)
    out = tmp_path / "pairs"
    report = _run_pairs(["--input", corpus, "--output", str(out), "--max-query-docs", "3",
                         "--heldout-fraction", "0.3", "--seed", "3"])
    assert report["accounting_ok"]
    assert stage_of(report, "mine")["dropped"] == {"empty_text": 1, "no_heading": 1}
    assert stage_of(report, "headings")["dropped"] == {"boilerplate_heading": 4}  # heads 4 > 3 documents
    train = [json.loads(x) for f in glob.glob(str(out / "pairs" / "*.jsonl")) for x in open(f)]
    held = [json.loads(x) for f in glob.glob(str(out / "heldout" / "*.jsonl")) for x in open(f)]
    assert len(train) + len(held) == 12 and held and train
    assert {p["query"] for p in train + held} == {f"Unique heading number {i}" for i in range(12)}
    queries = (out / "heldout" / "queries.tsv").read_text().splitlines()
    qrels = (out / "heldout" / "qrels.tsv").read_text().splitlines()
    assert sorted(q.split("\t")[0] for q in queries) == sorted(p["qid"] for p in held)
    assert sorted(r.split("\t")[2] for r in qrels) == sorted(p["pid"] for p in held)
    passages = pq.read_table(glob.glob(str(out / "passages" / "data" / "*.parquet"))).to_pylist()
    assert sorted(r["id"] for r in passages) == sorted(p["pid"] for p in train + held)
    assert all("heading" not in r["text"] for r in passages)


def test_corpus_inputs_describe_each_file_once_with_its_size(tmp_path):
    from corpora.doc2query.beam_common import corpus_inputs

    a = write_corpus(tmp_path / "a", [Document(id="a1", text="One. Two.", source="web")])
    b = write_corpus(tmp_path / "b", [Document(id="b1", text="Three.", source="web")])
    described, columns = corpus_inputs([b, a, a], "--input")  # a corpus given twice is read once
    files = sorted(glob.glob(str(tmp_path / "*" / "data" / "*.parquet")))
    assert described == [{"path": f, "bytes": os.path.getsize(f)} for f in files]
    assert columns == ["id", "text", "source", "url", "lang", "lang_score", "meta"]
    empty = write_corpus(tmp_path / "empty", [])
    with pytest.raises(UsageError, match=r"^--input .*empty: the corpus has no rows"):
        corpus_inputs([empty], "--input")
    with pytest.raises(UsageError, match=r"^--input .*nothing: no corpus Parquet files \(no file matches"):
        corpus_inputs([str(tmp_path / "nothing")], "--input")

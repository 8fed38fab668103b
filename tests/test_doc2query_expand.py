"""doc2query expansion: the pure core, the Beam job with a tiny HF seq2seq, bad generators, Anserini export."""

from __future__ import annotations

import glob
import json

import pyarrow.parquet as pq
import pytest

from corpora.doc2query.expand import (
    ExpandConfig,
    SplitPassages,
    anserini_record,
    assemble_document,
    attach_queries,
    expanded_text,
)
from corpora.doc2query.passages import PassageConfig
from pipeline.jobs import UsageError
from pipeline.records import Document, Drop
from tests.test_doc2query_pairs import run_step, stage_of, write_corpus
from tests.tiny_models import make_tiny_seq2seq


def test_split_passages_step_counts_and_drops_empty():
    step = SplitPassages(PassageConfig(window=2, stride=1))
    items = step({"id": "d", "text": "One. Two. Three."})
    assert [(i.doc_id, i.index, i.text) for i in items] == [("d", 0, "One. Two."), ("d", 1, "Two. Three.")]
    assert step.last_counts == {"passages": 2}
    assert isinstance(step({"id": "e", "text": "  \n "}), Drop)
    assert step({"id": "e", "text": None}).reason == "empty_text"


def test_assemble_keeps_id_orders_passages_and_records_queries():
    row = {"id": "doc-1", "text": "Original text.", "source": "web", "url": "http://x", "lang": "en",
           "lang_score": 0.9, "meta": json.dumps({"charset": "utf-8"})}
    # queries arrive in any order; empty generator outputs are dropped by attach_queries
    parts = [attach_queries(type("P", (), {"doc_id": "doc-1", "index": 1})(), ["second  q", ""])[1],
             (0, ["first q", "first q"])]
    doc = assemble_document(row, parts, ExpandConfig(num_queries=2, separator=" || "), "hf:/m")
    assert doc.id == "doc-1" and doc.source == "doc2query" and doc.url == "http://x"
    assert doc.text == "Original text. || first q\nfirst q\nsecond q"  # duplicates kept, as docTTTTTquery
    assert doc.meta["predicted_queries"] == ["first q", "first q", "second q"]
    assert doc.meta["charset"] == "utf-8" and doc.meta["doc2query"]["orig_source"] == "web"
    assert expanded_text("t", []) == "t"
    assert json.loads(anserini_record({"id": "a", "text": "b"})) == {"id": "a", "contents": "b"}


@pytest.fixture(scope="module")
def tiny_t5(tmp_path_factory):
    return make_tiny_seq2seq(str(tmp_path_factory.mktemp("t5")))


def _expand(argv: list[str]) -> dict:
    from corpora.doc2query.job import add_expand_arguments, run_expand

    return run_step(add_expand_arguments, run_expand, argv)


def test_expand_job_with_a_tiny_seq2seq(tiny_t5, tmp_path):
    long_text = " ".join(f"Sentence number {i} talks about rivers and mills." for i in range(12))
    docs = [Document(id="long", text=long_text, source="web", lang="en", lang_score=0.9),
            Document(id="short", text="Marie Curie was born in Warsaw.", source="web"),
            Document(id="blank", text="   ", source="web"),
            Document(id="huge", text="word " * 3000 + ".", source="web")]
    corpus = write_corpus(tmp_path / "in", docs)
    out = tmp_path / "out"
    report = _expand(["--input", corpus, "--generator", f"hf:{tiny_t5}", "--num-queries", "3",
                      "--max-new-tokens", "6", "--max-input-tokens", "64", "--window", "5", "--stride", "5",
                      "--output", str(out), "--anserini", "--separator", "\\n--\\n", "--rejects"])
    assert report["accounting_ok"]
    split = stage_of(report, "split")
    assert split["in"] == 4 and split["dropped"] == {"empty_text": 1}
    assert split["counts"]["passages"] == 3 + 1 + 1  # 12 sentences in windows of 5 -> 3
    generate = stage_of(report, "generate")
    assert generate["in"] == 5 and generate["out"] == 5
    assert generate["counts"].get("truncated_inputs", 0) >= 1  # the 3000-word document
    expand = stage_of(report, "expand")
    assert expand["in"] == 3 and expand["out"] == 3
    rows = {r["id"]: r for f in glob.glob(str(out / "data" / "*.parquet")) for r in pq.read_table(f).to_pylist()}
    assert set(rows) == {"long", "short", "huge"}
    long = rows["long"]
    meta = json.loads(long["meta"])
    assert long["source"] == "doc2query" and long["lang"] == "en"
    assert meta["doc2query"]["passages"] == 3
    queries = meta["predicted_queries"]
    empties = generate["counts"].get("empty_outputs", 0)
    assert sum(len(json.loads(r["meta"])["predicted_queries"]) for r in rows.values()) == 5 * 3 - empties
    if queries:
        assert long["text"] == long_text + "\n--\n" + "\n".join(queries)
    anserini = [json.loads(x) for f in glob.glob(str(out / "anserini" / "*.jsonl")) for x in open(f)]
    assert {a["id"]: a["contents"] for a in anserini} == {i: r["text"] for i, r in rows.items()}
    listed = json.loads((out / "manifest.json").read_text())["outputs"]["anserini"]
    assert sum(f["rows"] for f in listed) == len(anserini) and all(f["path"].startswith("anserini/") for f in listed)
    rejects = pq.read_table(str(out / "rejects")).to_pylist()
    assert [(r["id"], r["stage"], r["reason"]) for r in rejects] == [("blank", "split", "empty_text")]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["generation"]["top_k"] == 10 and manifest["config"]["generator"] == f"hf:{tiny_t5}"


def test_expand_refuses_bad_generators_and_flags_before_work(tmp_path):
    corpus = write_corpus(tmp_path / "in", [Document(id="a", text="Some text.", source="web")])
    out = tmp_path / "out"
    base = ["--input", corpus, "--output", str(out)]
    not_a_model = tmp_path / "not-a-model"
    not_a_model.mkdir()
    (not_a_model / "notes.txt").write_text("hello")
    with pytest.raises(UsageError, match="config.json"):
        _expand(base + ["--generator", f"hf:{not_a_model}"])
    with pytest.raises(UsageError, match="no such directory"):
        _expand(base + ["--generator", f"hf:{tmp_path / 'missing'}"])
    with pytest.raises(UsageError, match="unknown kind"):
        _expand(base + ["--generator", "gpt:foo"])
    with pytest.raises(UsageError, match="not a trainer checkpoint"):
        _expand(base + ["--generator", f"native:{not_a_model}"])
    with pytest.raises(UsageError, match="num_return_sequences|num-queries"):
        _expand(base + ["--generator", f"hf:{not_a_model}", "--num-queries", "0"])
    with pytest.raises(UsageError, match="--window"):
        _expand(base + ["--generator", f"hf:{not_a_model}", "--window", "2", "--stride", "3"])
    assert not out.exists()


def test_expand_cli_help_lists_the_jobs():
    from beam_runner import COMMANDS, load_job

    assert {"doc2query-pairs", "doc2query", "doc2query-eval"} <= set(COMMANDS)
    assert load_job("doc2query").name == "doc2query"

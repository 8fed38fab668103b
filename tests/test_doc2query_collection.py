"""doc2query on collections as released: pids kept end to end, TSV/JSONL/.gz/docsNN.json folders,
mojibake repair, one duplicate-id rule, split by query, precomputed queries, empty inputs."""

from __future__ import annotations

import glob
import gzip
import json

import pyarrow.parquet as pq
import pytest

from corpora.doc2query.collection import parse_collection_line
from corpora.doc2query.ids import id_order, pick_copy
from corpora.doc2query.pairs import BadLine
from corpora.doc2query.precomputed import PrecomputedError, align_lines, check_keyed, parse_spec
from pipeline.jobs import UsageError, make_pipeline
from pipeline.records import Document
from tests.test_doc2query_pairs import run_step, stage_of, write_corpus
from tests.tiny_models import make_tiny_seq2seq

MOJIBAKE = "from 194 \u00c3\u00a2\u00c2\u0080\u00c2\u00a6 2-1946"  # MS MARCO pid 3, as released


def test_collection_lines_tsv_jsonl_and_mojibake():
    assert parse_collection_line("7\t  two  words ", "tsv") == ("7", "two words")
    assert parse_collection_line('{"id": 7, "contents": "x y"}', "jsonl") == ("7", "x y")
    assert parse_collection_line('{"id": "a", "text": "t"}', "jsonl") == ("a", "t")
    assert parse_collection_line('{"contents": "x"}', "jsonl").reason == "bad_json"
    assert parse_collection_line('{"id": "a", "contents": " "}', "jsonl").reason == "empty_text"
    assert parse_collection_line(f"3\t{MOJIBAKE}", "tsv") == ("3", MOJIBAKE)  # kept unless asked
    assert parse_collection_line(f"3\t{MOJIBAKE}", "tsv", fix=True) == ("3", "from 194 \u2026 2-1946")
    assert isinstance(parse_collection_line("no tab", "tsv"), BadLine)


def test_one_duplicate_rule_whatever_the_order():
    copies = ["zeta text", "alpha text", "zeta text"]
    for order in (copies, copies[::-1], copies[1:] + copies[:1]):
        kept, dropped, conflict = pick_copy(order, str)
        assert kept == "alpha text" and sorted(dropped) == ["zeta text", "zeta text"] and conflict
    assert pick_copy(["same", "same"], str)[2] is False
    assert sorted(["10", "9", "b", "a"], key=id_order) == ["9", "10", "a", "b"]


def test_precomputed_line_files_align_with_the_collection(tmp_path):
    s0, s1 = tmp_path / "sample000.txt", tmp_path / "sample001.txt"
    s0.write_text("q a0\nq b0\nq c0\n")
    s1.write_text("q a1\n\nq c1\n")
    pre = parse_spec(f"precomputed:{tmp_path}/sample*.txt")
    assert pre.files == (str(s0), str(s1)) and not pre.keyed
    out = tmp_path / "aligned.jsonl"
    counts = align_lines(pre, ["10", None, "30"], str(out))
    assert counts == {"passages": 3, "queries": 5}
    assert [json.loads(x) for x in out.read_text().splitlines()] == [
        {"id": "10", "predicted_queries": ["q a0", "q a1"]}, {"id": "", "predicted_queries": ["q b0"]},
        {"id": "30", "predicted_queries": ["q c0", "q c1"]}]
    with pytest.raises(PrecomputedError, match="has 3 lines but the collection has more"):
        align_lines(pre, ["1", "2", "3", "4"], str(out))
    with pytest.raises(PrecomputedError, match="more lines than the collection's 2"):
        align_lines(pre, ["1", "2"], str(out))
    with pytest.raises(PrecomputedError, match="appears twice"):
        align_lines(pre, ["1", "2", "1"], str(out))


def test_precomputed_jsonl_ids_must_match(tmp_path):
    f = tmp_path / "pred.jsonl"
    f.write_text('{"id": "1", "predicted_queries": ["a", "b"]}\n{"id": 2, "predicted_queries": []}\n')
    pre = parse_spec(f"precomputed:{f}")
    assert pre.keyed and check_keyed(pre, ["1", "2"]) == {"passages": 2, "queries": 2, "bad_lines": 0}
    with pytest.raises(PrecomputedError, match="1 of 3 passages have no predicted queries"):
        check_keyed(pre, ["1", "2", "3"])
    with pytest.raises(PrecomputedError, match="id 2 is not a passage"):
        check_keyed(pre, ["1"])
    with pytest.raises(PrecomputedError, match="matches no file"):
        parse_spec(f"precomputed:{tmp_path}/none*.txt")


# --- the jobs --------------------------------------------------------------------------------

def _pairs(argv):
    from corpora.doc2query.job import add_pairs_arguments, run_pairs

    return run_step(add_pairs_arguments, run_pairs, argv)


def _expand(argv):
    from corpora.doc2query.job import add_expand_arguments, run_expand

    return run_step(add_expand_arguments, run_expand, argv)


def _jsonl(pattern: str) -> list[dict]:
    return [json.loads(x) for f in sorted(glob.glob(pattern)) for x in open(f)]


def test_pairs_split_by_query_with_every_judgement_on_one_side(tmp_path):
    coll = tmp_path / "collection.jsonl.gz"
    with gzip.open(coll, "wt") as fh:
        for i in range(40):
            fh.write(json.dumps({"id": i, "contents": f"passage {i} text"}) + "\n")
        fh.write(json.dumps({"id": 5, "contents": "another passage 5"}) + "\n")  # a repeated pid
    (tmp_path / "q.tsv").write_text("".join(f"{q}\tquery {q}\n" for q in range(30)) + "3\tquery 3 again\n")
    # every query judges three passages; passages are shared between queries
    (tmp_path / "r.txt").write_text("".join(f"{q} 0 {(q + k) % 40} 1\n" for q in range(30) for k in range(3)))
    out = tmp_path / "out"
    report = _pairs(["--collection", str(coll), "--queries", str(tmp_path / "q.tsv"), "--qrels",
                     str(tmp_path / "r.txt"), "--heldout-fraction", "0.3", "--output", str(out)])
    assert report["accounting_ok"]
    assert stage_of(report, "collection_ids")["dropped"] == {"duplicate_id": 1}
    assert stage_of(report, "query_ids")["dropped"] == {"duplicate_id": 1}
    train, held = _jsonl(str(out / "pairs" / "*.jsonl")), _jsonl(str(out / "heldout" / "pairs*.jsonl"))
    assert held and train and len(train) + len(held) == 90
    assert not {p["qid"] for p in train} & {p["qid"] for p in held}
    qrels = [line.split("\t") for line in (out / "heldout" / "qrels.tsv").read_text().splitlines()]
    held_q = {p["qid"] for p in held}
    assert sorted((q, pid) for q, _, pid, _ in qrels) == sorted(
        (str(q), str((q + k) % 40)) for q in map(int, held_q) for k in range(3))
    texts = {p["pid"]: p["passage"] for p in train + held}
    assert texts.get("5", "another passage 5") == "another passage 5"  # the rule: first in code-point order
    queries = {p["qid"]: p["query"] for p in train + held}
    assert queries["3"] == "query 3"


def test_pairs_and_expand_refuse_empty_inputs(tmp_path):
    (tmp_path / "empty.tsv").write_text("")
    (tmp_path / "q.tsv").write_text("1\tq\n")
    with pytest.raises(UsageError, match="empty input"):
        _pairs(["--collection", str(tmp_path / "empty.tsv"), "--queries", str(tmp_path / "q.tsv"),
                "--qrels", str(tmp_path / "q.tsv"), "--output", str(tmp_path / "o")])
    with pytest.raises(UsageError, match="empty input"):
        _expand(["--collection", str(tmp_path / "empty.tsv"), "--generator", f"precomputed:{tmp_path / 'q.tsv'}",
                 "--output", str(tmp_path / "o")])
    with pytest.raises(UsageError, match="no rows"):
        _expand(["--input", write_corpus(tmp_path / "c", []), "--generator", f"precomputed:{tmp_path / 'q.tsv'}",
                 "--output", str(tmp_path / "o")])
    assert not (tmp_path / "o").exists()


def test_nothing_written_exits_non_zero(tmp_path, capsys):
    from beam_runner import main

    (tmp_path / "c.tsv").write_text("no tab at all\n")
    (tmp_path / "q.tsv").write_text("1\tq\n")
    (tmp_path / "r.txt").write_text("1 0 1 1\n")
    code = main(["doc2query-pairs", "--collection", str(tmp_path / "c.tsv"), "--queries", str(tmp_path / "q.tsv"),
                 "--qrels", str(tmp_path / "r.txt"), "--output", str(tmp_path / "o"),
                 "--direct_num_workers=1", "--direct_running_mode=in_memory"])
    assert code == 1 and "no pairs written" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_t5(tmp_path_factory):
    return make_tiny_seq2seq(str(tmp_path_factory.mktemp("t5")))


def test_expand_collection_keeps_pids_and_expands_a_duplicate_id_once(tiny_t5, tmp_path):
    coll = tmp_path / "collection.tsv.gz"
    with gzip.open(coll, "wt") as fh:
        fh.write(f"0\tThe first passage. {MOJIBAKE}\n7\tMarie Curie was born in Warsaw.\n"
                 "7\tA second copy of pid seven, longer. It has two sentences.\nbad line\n")
    out = tmp_path / "out"
    report = _expand(["--collection", str(coll), "--fix-mojibake", "--generator", f"hf:{tiny_t5}",
                      "--num-queries", "3", "--max-new-tokens", "4", "--output", str(out), "--anserini"])
    assert report["accounting_ok"]
    assert stage_of(report, "collection")["dropped"] == {"no_tab": 1}
    assert stage_of(report, "dedupe")["dropped"] == {"duplicate_id": 1}
    rows = {r["id"]: r for f in glob.glob(str(out / "data" / "*.parquet")) for r in pq.read_table(f).to_pylist()}
    assert set(rows) == {"0", "7"}
    assert rows["7"]["text"].startswith("A second copy")  # the rule's copy, whatever the read order
    assert "\u2026" in rows["0"]["text"]
    for r in rows.values():
        meta = json.loads(r["meta"])
        assert len(meta["predicted_queries"]) <= 3 * meta["doc2query"]["passages"]
    assert len(json.loads(rows["7"]["meta"])["predicted_queries"]) <= 3  # one passage: one copy's queries
    assert {a["id"] for a in _jsonl(str(out / "anserini" / "*.jsonl"))} == {"0", "7"}


def test_expand_with_precomputed_docttttquery_files_and_jsonl(tmp_path):
    folder = tmp_path / "collection"  # a docsNN.json folder as collection
    folder.mkdir()
    (folder / "docs00.json").write_text('{"id": "0", "contents": "first passage"}\n'
                                        '{"id": "1", "contents": "second passage"}\n')
    (folder / "docs01.json").write_text('{"id": "2", "contents": "third passage"}\n{"id": "3", "contents": ""}\n')
    (tmp_path / "s000.txt").write_text("query zero a\nquery one a\nquery two a\norphan\n")
    (tmp_path / "s001.txt").write_text("query zero b\nquery one b\nquery two b\norphan\n")
    out = tmp_path / "out"
    report = _expand(["--collection", str(folder), "--generator", f"precomputed:{tmp_path}/s00*.txt",
                      "--output", str(out)])
    assert report["accounting_ok"]
    assert stage_of(report, "generate")["dropped"] == {"collection_line_dropped": 1}
    rows = {r["id"]: r for r in pq.read_table(str(out / "data")).to_pylist()}
    assert rows["1"]["text"] == "second passage\n\nquery one a\nquery one b"
    assert not glob.glob(str(out / "*.jsonl"))  # the zipped ids were a temporary file
    pred = tmp_path / "pred.jsonl"
    pred.write_text("".join(json.dumps({"id": str(i), "predicted_queries": [f"k{i}", f"l{i}", f"m{i}"]}) + "\n"
                            for i in range(3)))
    corpus = write_corpus(tmp_path / "corpus", [Document(id=str(i), text=f"passage {i}", source="web")
                                                for i in range(3)])
    report = _expand(["--input", corpus, "--generator", f"precomputed:{pred}", "--num-queries", "2",
                      "--output", str(tmp_path / "out2")])
    rows = {r["id"]: r for r in pq.read_table(str(tmp_path / "out2" / "data")).to_pylist()}
    assert rows["2"]["text"] == "passage 2\n\nk2\nl2"
    with pytest.raises(UsageError, match="has 4 lines but the collection has more"):
        (tmp_path / "s001.txt").write_text("a\nb\nc\nd\n")
        (folder / "docs02.json").write_text('{"id": "9", "contents": "one more"}\n')
        _expand(["--collection", str(folder), "--generator", f"precomputed:{tmp_path}/s00*.txt",
                 "--output", str(tmp_path / "out3")])
    with pytest.raises(UsageError, match="aligned with a collection's line order"):
        _expand(["--input", corpus, "--generator", f"precomputed:{tmp_path}/s000.txt",
                 "--output", str(tmp_path / "out3")])
    assert not (tmp_path / "out3" / "data").exists()


def _packed_collections(tmp_path) -> dict[str, bytes]:
    """Collections whose names lie about their compression (or say none), with the lines they hold."""
    import bz2
    import lzma

    import zstandard

    tsv = "".join(f"p{i}\tpassage {i}\n" for i in range(5)).encode()
    files = {"gzip-named.tsv": gzip.compress(tsv), "plain-named.tsv.gz": tsv, "zstd-named.txt": zstandard.compress(tsv),
             "bz2-named.tsv": bz2.compress(tsv), "xz-named.tsv.gz": lzma.compress(tsv),
             "plain-BZh9.tsv.bz2": b"BZh9\tlooks like bzip2\n" + tsv}  # "BZh9" alone is no bzip2 stream
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return files


def test_collections_are_decompressed_as_their_bytes_say_not_their_names(tmp_path):
    """read_lines (the driver, doc2query-eval) and ReadCollection (the Beam jobs) both tell the
    compression by magic bytes: a gzip file named .tsv and a plain one named .gz read right."""
    from apache_beam.testing.util import assert_that, equal_to

    from corpora.doc2query.beam_common import ReadCollection
    from corpora.doc2query.collection import read_lines
    from corpora.doc2query.precomputed import collection_ids
    from pipeline import beam_io

    files = _packed_collections(tmp_path)
    expected = [(f"p{i}", f"passage {i}") for i in range(5)]
    for name in files:
        path = str(tmp_path / name)
        lines = [parse_collection_line(raw.decode(), "tsv") for raw in read_lines(path)]
        extra = [("BZh9", "looks like bzip2")] if "BZh9" in name else []
        assert lines == extra + expected, name
        assert list(collection_ids([path], open_fn=beam_io.open_raw)) == [k for k, _ in extra + expected], name
    paths = [str(tmp_path / name) for name in files]
    with make_pipeline(["--runner=DirectRunner"]) as p:
        out = p | ReadCollection(paths, fix=False, max_line_bytes=1 << 20, keep_rejects=False)
        assert_that(out["out"], equal_to(expected * len(files) + [("BZh9", "looks like bzip2")]))

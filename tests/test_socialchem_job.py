"""The ``socialchem`` job end to end through beam_runner: Beam steps (situations, render, propose), the
plain steps, argument errors before any work, and the demo chain with the shipped sample annotations."""

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import beam_runner
from corpora.sample_web import _FORUM_COMMENTS, _FORUM_POSTS
from corpora.socialchem.demo import run_socialchem_demo
from pipeline.schema import CORPUS_SCHEMA, REJECTS_SCHEMA
from pipeline.stats import stage
from tests.socialchem_rows import REAL_ROWS, generated_rows, line_of, tsv, write_tsv

TWO_WORKERS = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]
ONE_WORKER = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]
OTHER_TEXTS = [
    "We took the train to Millbrook early on Monday morning and walked along the river.",
    "The secret to a good risotto is patience.\nAdd the stock one ladle at a time.",
    "",
]


def forum_corpus(directory, extra_duplicate=True):
    """A corpus like the web job's output for the demo's forum pages: title line, post, comments."""
    texts = ["\n".join([title] + sentences + _FORUM_COMMENTS[:2]) for _, title, sentences in _FORUM_POSTS]
    if extra_duplicate:
        texts.append("WIBTA if I skipped my cousin's wedding to attend a job interview?? (repost)\nPlease help.")
    texts += OTHER_TEXTS
    (directory / "data").mkdir(parents=True)
    half = len(texts) // 2
    for i, chunk in enumerate((texts[:half], texts[half:])):
        ids = [f"web-{i}-{j:03d}" for j in range(len(chunk))]
        table = pa.table({"id": ids, "text": chunk, "source": ["web"] * len(chunk), "url": [None] * len(chunk),
                          "lang": ["en"] * len(chunk), "lang_score": [1.0] * len(chunk), "meta": ["{}"] * len(chunk)},
                         schema=CORPUS_SCHEMA)
        pq.write_table(table, directory / "data" / f"part-{i:05d}-of-00002.parquet")
    return directory, len(texts)


def run(*argv):
    return beam_runner.main(["socialchem", *map(str, argv)])


def test_situations_step_on_two_workers(tmp_path):
    corpus, n_docs = forum_corpus(tmp_path / "web")
    block = tmp_path / "block.txt"
    block.write_text("# my words\nhousework\n", encoding="utf-8")
    out = tmp_path / "sit"
    run("situations", "--input", corpus, "--output", out, "--blocklist", block, "--rejects", *TWO_WORKERS)
    report = json.loads((out / "stats.json").read_text())
    assert report["accounting_ok"]
    assert stage(report, "read")["in"] == n_docs
    assert stage(report, "mine")["out"] == 21 and stage(report, "mine")["dropped"] == {"no_candidate": n_docs - 21}
    assert stage(report, "normalize")["dropped"] == {"blocked_word": 1}  # "split the housework" is blocked
    assert stage(report, "dedup")["dropped"] == {"duplicate": 1}
    lines = [json.loads(x) for x in (out / "situations.jsonl").read_text().splitlines()]
    assert len(lines) == report["situations"] == 19
    assert [x["situation_short_id"] for x in lines] == sorted(x["situation_short_id"] for x in lines)
    assert report["by_area"] == {"amitheasshole": 17, "confessions": 2}
    rejects = pq.read_table(out / "rejects")  # the rejects layout of every job: rejects/part-*.parquet
    assert rejects.schema.names == REJECTS_SCHEMA.names
    assert {r["reason"] for r in rejects.to_pylist()} == {"no_candidate", "blocked_word", "duplicate"}
    assert rejects.num_rows == n_docs - 21 + 1 + 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["outputs"]["rows"] == 2 * 19 and len(manifest["inputs"]) == 2
    assert all(f["path"].startswith("rejects/part-") for f in manifest["outputs"]["rejects"])
    assert sum(f["rows"] for f in manifest["outputs"]["rejects"]) == rejects.num_rows
    with pytest.raises(SystemExit):  # an existing output is refused without --overwrite, before any work
        run("situations", "--input", corpus, "--output", out, *ONE_WORKER)


def test_bad_arguments_fail_before_any_work(tmp_path, capsys):
    with pytest.raises(SystemExit):
        run("situations", "--input", tmp_path / "nope", "--output", tmp_path / "o")
    assert "no corpus Parquet files" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    with pytest.raises(SystemExit):
        run("agreement", "--input", tmp_path / "missing.tsv", "--output", tmp_path / "a")
    assert "no such file" in capsys.readouterr().err
    write_tsv(tmp_path / "x.tsv", generated_rows(3))
    with pytest.raises(SystemExit):
        run("split", "--input", tmp_path / "x.tsv", "--output", tmp_path / "s", "--fractions", "0.5,0.5")
    assert "three non-negative numbers" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run("stats", "--input", tmp_path / "x.tsv", "--output", tmp_path / "st", "--direct_num_workers=2")
    assert "runs in plain Python" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run("render", "--input", tmp_path / "x.tsv", "--output", tmp_path / "r", "--modes", "rot,story")
    assert "--modes" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run("propose", "--input", tmp_path / "x.tsv", "--generator", "hf:" + str(tmp_path / "no-model"),
            "--output", tmp_path / "p")
    assert "no such directory" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run("import-annotations", "--tasks", tmp_path / "x.tsv", "--input", tmp_path / "a.txt", "--output", tmp_path)
    assert "no such file" in capsys.readouterr().err


def test_validate_cli_reports_and_sets_exit_status(tmp_path, capsys):
    good = tmp_path / "good.tsv"
    good.write_text(tsv(REAL_ROWS), encoding="utf-8")
    assert run("validate", good) == 0
    assert "OK" in capsys.readouterr().out
    bad = tmp_path / "bad.tsv"
    cells = REAL_ROWS[0].split("\t")
    cells[13] = "unknown"
    bad.write_text(tsv([REAL_ROWS[1], "\t".join(cells), "\t".join(cells[:20])]), encoding="utf-8")
    assert run("validate", bad, "--json", tmp_path / "r.json") == 1
    out = capsys.readouterr().out
    assert "line 3, column 'action-legal': value 'unknown'" in out and "line 4: 20 fields instead of 25" in out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["issues"] == {"bad_value": 1, "wrong_column_count": 1} and report["valid_rows"] == 1


def test_render_step_writes_a_corpus_with_exact_accounting(tmp_path):
    rows = generated_rows(12, rots_per=2, seed=5)
    for i, r in enumerate(rows):
        r["split"] = ["train", "train", "dev"][i % 3] if r["situation-short-id"].endswith(("0", "2", "4")) else "train"
    rows[0]["rot-bad"] = "1"
    rows[1]["action"] = ""
    from corpora.socialchem.split import split_rows

    rows = split_rows(rows, seed=0).rows
    rows[0]["rot-bad"], rows[1]["action"] = "1", ""
    path = write_tsv(tmp_path / "set.tsv", rows)
    with open(path, "a", encoding="utf-8") as f:
        f.write("broken\trow\n")
    out = tmp_path / "corpus"
    run("render", "--input", path, "--output", out, "--rejects", *ONE_WORKER)
    report = json.loads((out / "stats.json").read_text())
    assert report["accounting_ok"]
    n_train = sum(1 for r in rows if r["split"] == "train")
    assert stage(report, "read")["in"] == len(rows) + 1
    assert stage(report, "read")["dropped"] == {"wrong_column_count": 1}
    select = stage(report, "select")
    assert select["dropped"]["split_not_selected"] == len(rows) - n_train
    bad_in_train = 1 if rows[0]["split"] == "train" else 0
    assert select["dropped"].get("rot_bad", 0) == bad_in_train
    docs = pq.read_table(str(out / "data")).to_pylist()
    assert len(docs) == stage(report, "write")["out"] == 2 * select["out"] - stage(report, "render")["dropped"].get(
        "no_action_text", 0)
    assert {d["source"] for d in docs} == {"socialchem"} and len({d["id"] for d in docs}) == len(docs)
    assert all(" [attrs] " in d["text"] and (" [rot] " in d["text"] or " [action] " in d["text"]) for d in docs)
    assert os.path.isdir(out / "rejects") and json.loads((out / "manifest.json").read_text())["outputs"]["rows"] == len(docs)


def test_demo_chain_with_the_shipped_sample_annotations(tmp_path):
    corpus, _ = forum_corpus(tmp_path / "web", extra_duplicate=False)
    result = run_socialchem_demo(str(corpus), str(tmp_path / "sc"), ONE_WORKER, overwrite=False)
    assert result["situations"] == 20 and result["rots"] == 37
    assert result["rejected_answers"] == 5  # the five answers that are wrong on purpose
    assert result["multi_annotated_rots"] >= 10
    rejects = pq.read_table(os.path.join(result["dirs"]["annotations"], "rejects", "part-00000-of-00001.parquet"))
    assert rejects.schema.names == REJECTS_SCHEMA.names  # every job's rejects layout
    rows = rejects.to_pylist()
    assert sorted(r["reason"] for r in rows) == ["bad_value", "bad_value", "duplicate_answer", "unknown_task_id"]
    assert {r["stage"] for r in rows} == {"import"} and all(r["source_file"].endswith(".csv") for r in rows)
    bad = [json.loads(r["detail"]) for r in rows if r["reason"] == "bad_value"]
    assert all(isinstance(d["line"], int) and d["worker_id"] and d["problems"] for d in bad)
    assert all({"column", "value", "allowed"} <= set(p) for d in bad for p in d["problems"])
    from corpora.socialchem.validate import validate_file

    split_tsv = os.path.join(result["dirs"]["split"], "socialchem.tsv")
    assert validate_file(split_tsv).ok
    docs = pq.read_table(os.path.join(result["corpus"], "data")).to_pylist()
    assert len(docs) == result["documents"] > 100
    assert os.path.isfile(os.path.join(result["dirs"]["stats"], "dimensions.png"))
    with pytest.raises(Exception, match="already holds"):  # a second run into it needs overwrite=True
        run_socialchem_demo(str(corpus), str(tmp_path / "sc"), ONE_WORKER, overwrite=False)


def test_propose_with_a_tiny_seq2seq_model_marks_output_machine_made(tmp_path):
    pytest.importorskip("transformers")
    from tests.tiny_models import make_tiny_seq2seq

    model = make_tiny_seq2seq(str(tmp_path / "model"))
    sit = tmp_path / "situations.jsonl"
    sit.write_text("\n".join(json.dumps({"situation": s, "situation_short_id": f"web/amitheasshole/s{i}",
                                         "area": "amitheasshole"}) for i, s in enumerate(
        ["telling my sister the truth", "keeping money I found"])) + "\n", encoding="utf-8")
    out = tmp_path / "prop"
    run("propose", "--input", sit, "--generator", f"hf:{model}", "--output", out, "--max-new-tokens", "8",
        *ONE_WORKER)
    records = [json.loads(x) for x in (out / "proposals.jsonl").read_text().splitlines()]
    assert len(records) == 2 and all(r["machine_made"] is True for r in records)
    assert all(r["worker_id"] == "machine:hf:model" and len(r["proposals"]) == 1 for r in records)
    report = json.loads((out / "stats.json").read_text())
    assert stage(report, "propose")["in"] == 2 and report["accounting_ok"]
    tasks = tmp_path / "tasks"
    run("export-tasks", "--situations", sit, "--proposals", out, "--output", tasks)
    task = json.loads((tasks / "rot_tasks.jsonl").read_text().splitlines()[0])["data"]
    if any(p["text"] for p in records[0]["proposals"]):
        assert task["machine_proposals"].startswith("MACHINE-MADE SUGGESTIONS")


def test_stats_step_refuses_a_file_with_a_wrong_header_before_writing(tmp_path, capsys):
    path = tmp_path / "x.tsv"
    path.write_text("area\tm\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        run("stats", "--input", path, "--output", tmp_path / "st")
    assert "missing column(s)" in capsys.readouterr().err and not (tmp_path / "st").exists()


def test_forum_pages_leave_the_rest_of_the_web_sample_unchanged(tmp_path):
    from corpora.sample_web import write_sample

    plain = write_sample(str(tmp_path / "a"), pages=20)
    forum = write_sample(str(tmp_path / "b"), pages=20, forum_pages=5)
    assert "forum_pages" not in plain and forum["forum_pages"] == 5 and forum["files"] == plain["files"] + 1
    assert sorted(os.listdir(tmp_path / "b")) == sorted(os.listdir(tmp_path / "a") + ["sample-forum.warc.gz"])
    for name in os.listdir(tmp_path / "a"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    from warcio.archiveiterator import ArchiveIterator

    with open(tmp_path / "b" / "sample-forum.warc.gz", "rb") as f:
        bodies = [r.content_stream().read() for r in ArchiveIterator(f) if r.rec_type == "response"]
    assert len(bodies) == 5 and all(b"<h1>" in b for b in bodies)
    assert b"AITA for telling my sister her boyfriend is rude to waiters?" in bodies[0]


def test_bom_files_are_read_and_empty_inputs_fail_with_a_clear_message(tmp_path, capsys):
    rows = generated_rows(4, rots_per=1)
    for r in rows:
        r["split"] = "train"
    bom = tmp_path / "bom.tsv"
    bom.write_bytes(b"\xef\xbb\xbf" + tsv([line_of(r) for r in rows]).encode("utf-8"))
    assert run("validate", bom) == 0
    out = tmp_path / "corpus"
    run("render", "--input", bom, "--output", out, "--modes", "rot", *ONE_WORKER)
    assert len(pq.read_table(str(out / "data")).to_pylist()) == 4
    run("split", "--input", bom, "--output", tmp_path / "split")
    capsys.readouterr()
    empty, header_only = tmp_path / "empty.tsv", tmp_path / "header.tsv"
    empty.write_bytes(b"")
    header_only.write_text(tsv([]), encoding="utf-8")
    for path, message in ((empty, "empty file"), (header_only, "no rows after the header")):
        assert run("validate", path) == 1
        assert message in capsys.readouterr().out
        for step in ("render", "split", "stats"):
            with pytest.raises(SystemExit):
                run(step, "--input", path, "--output", tmp_path / f"o-{step}")
            assert message in capsys.readouterr().err, (step, path)
            assert not (tmp_path / f"o-{step}").exists()


def test_split_step_keeps_existing_splits_unless_resplit(tmp_path, capsys):
    rows = generated_rows(30, rots_per=1, seed=6)
    for i, r in enumerate(rows):
        r["split"] = ("train", "dev", "test")[i % 3]  # a layout no seed would give
    write_tsv(tmp_path / "in.tsv", rows)
    run("split", "--input", tmp_path / "in.tsv", "--output", tmp_path / "kept")
    report = json.loads((tmp_path / "kept" / "report.json").read_text())
    assert report["kept_situations"] == 30 and report["split_situations"] == 0
    assert "kept the existing splits of 30 situation(s)" in capsys.readouterr().out
    assert (tmp_path / "kept" / "socialchem.tsv").read_text(encoding="utf-8") == (tmp_path / "in.tsv").read_text(
        encoding="utf-8")
    run("split", "--input", tmp_path / "in.tsv", "--output", tmp_path / "re", "--resplit")
    report = json.loads((tmp_path / "re" / "report.json").read_text())
    assert report["kept_situations"] == 0 and report["split_situations"] == 30
    resplit = (tmp_path / "re" / "socialchem.tsv").read_text(encoding="utf-8")
    assert resplit != (tmp_path / "in.tsv").read_text(encoding="utf-8")


def test_every_step_ends_with_the_shared_run_flags():
    """--overwrite (every step that writes a folder) and -v are added once for all steps, last in each
    step's --help; validate, which writes no folder, has -v only."""
    import argparse

    from corpora.socialchem.job import OVERWRITE_HELP, STEPS, add_arguments

    parser = argparse.ArgumentParser(prog="socialchem")
    add_arguments(parser)
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(subparsers.choices) == set(STEPS)
    for name, sub in subparsers.choices.items():
        last = [a.option_strings for a in sub._actions[-2:]]
        if name == "validate":
            assert last[-1] == ["-v", "--verbose"] and "--overwrite" not in sub.format_help()
        else:
            assert last == [["--overwrite"], ["-v", "--verbose"]], name
            assert sub._actions[-2].help == OVERWRITE_HELP

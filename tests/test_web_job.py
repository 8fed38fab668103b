"""End-to-end: the web job on the DirectRunner with several workers, and its CLI checks."""

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from corpora.web import WebConfig, run_web
from pipeline.schema import CORPUS_SCHEMA
from pipeline.stats import stage
from tests.warc_factory import DE, EN, Page, html_page, language_pages, warc_bytes, wet_bytes

ROOT = Path(__file__).resolve().parents[1]
TWO_WORKERS = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("in")
    for f in range(3):
        pages = language_pages(f"http://site{f}.test", 4)
        pages.append(Page(f"http://site{f}.test/gone", b"gone", status="404 Not Found"))
        (d / f"crawl-{f}.warc.gz").write_bytes(warc_bytes(pages, with_request=True))
    data = warc_bytes([Page(f"http://cut.test/{i}", html_page("c", EN)) for i in range(8)])
    (d / "crawl-cut.warc.gz").write_bytes(data[: len(data) * 2 // 3])
    (d / "crawl-empty.warc.gz").write_bytes(b"")
    (d / "crawl-junk.warc").write_bytes(b"hello, not a warc\n" * 40)
    (d / "cc.warc.wet.gz").write_bytes(wet_bytes([("http://wet.test/1", " ".join(EN).encode())]))
    jsonl = [json.dumps({"text": " ".join(DE), "url": "http://j.test/1"}), "{broken", json.dumps({"x": 1})]
    (d / "extra.jsonl.gz").write_bytes(gzip.compress(("\n".join(jsonl) + "\n").encode()))
    return d


def read_corpus(out: Path):
    files = sorted((out / "data").glob("part-*-of-*.parquet"))
    assert files
    tables = [pq.read_table(f) for f in files]
    return files, [row for t in tables for row in t.to_pylist()], tables


def test_web_job_end_to_end(inputs, tmp_path):
    out = tmp_path / "corpus"
    cfg = WebConfig(inputs=[str(inputs / "crawl-*"), str(inputs / "cc.warc.wet.gz"), str(inputs / "*.jsonl.gz")],
                    output=str(out), rejects=True)
    report = run_web(cfg, TWO_WORKERS, quiet=True)

    assert report["accounting_ok"]
    for s in report["stages"]:
        assert s["in"] == s["out"] + sum(s["dropped"].values()), s
    files = stage(report, "files")
    assert files["in"] == 8 and files["dropped"] == {"empty_file": 1, "not_warc": 1, "truncated_gzip": 1}
    read = stage(report, "read")
    assert read["dropped"]["non_200"] == 3
    assert read["dropped"]["truncated_record"] == 1
    assert read["dropped"]["invalid_json"] == 1 and read["dropped"]["missing_text_field"] == 1
    # chain: each stage's input is the previous stage's output
    names = [s["stage"] for s in report["stages"]]
    assert names == ["files", "read", "extract", "normalize", "langid", "write"]
    for prev, nxt in zip(report["stages"][1:], report["stages"][2:], strict=False):
        assert nxt["in"] == prev["out"]

    data_files, rows, tables = read_corpus(out)
    cut_pages = read["out"] - 36 - 1 - 1  # 3 files x 12 pages, one WET record, one JSONL line
    assert 3 <= cut_pages < 8
    assert len(rows) == stage(report, "write")["out"] == 36 + 2 + cut_pages
    assert all(t.schema.equals(CORPUS_SCHEMA, check_metadata=False) for t in tables)
    assert len({r["id"] for r in rows}) == len(rows)
    langs = {r["url"]: r["lang"] for r in rows}
    assert langs["http://site0.test/de/1"] == "de" and langs["http://site2.test/fr/3"] == "fr"
    assert langs["http://wet.test/1"] == "en" and langs["http://j.test/1"] == "de"
    page = next(r for r in rows if r["url"] == "http://site1.test/en/0")
    assert "lighthouse" in page["text"] and "All rights reserved" not in page["text"]
    meta = json.loads(page["meta"])
    assert meta["warc_record_id"].startswith("<urn:uuid:") and meta["charset"] == "utf-8"
    assert meta["fetch_date"] == "2024-05-01T12:00:00Z" and meta["content_type"] == "text/html"

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["job"] == "web" and manifest["config"]["extractor"] == "resiliparse"
    assert len(manifest["inputs"]) == 8 and all(f["bytes"] >= 0 for f in manifest["inputs"])
    assert sorted(f["path"] for f in manifest["outputs"]["data"]) == sorted(f"data/{f.name}" for f in data_files)
    assert sum(f["rows"] for f in manifest["outputs"]["data"]) == len(rows)
    import hashlib

    for f in manifest["outputs"]["data"]:
        assert hashlib.sha256((out / f["path"]).read_bytes()).hexdigest() == f["sha256"]

    rejects = [r for f in (out / "rejects").glob("*.parquet") for r in pq.read_table(f).to_pylist()]
    dropped_total = sum(sum(s["dropped"].values()) for s in report["stages"])
    assert len(rejects) == dropped_total
    assert {"non_200", "truncated_gzip", "not_warc", "invalid_json"} <= {r["reason"] for r in rejects}

    from datasets import load_dataset

    ds = load_dataset("parquet", data_files=str(out / "data" / "*.parquet"), split="train")
    assert ds.num_rows == len(rows) and set(ds.column_names) == set(CORPUS_SCHEMA.names)


def test_same_ids_on_any_runner_setup(inputs, tmp_path):
    cfg1 = WebConfig(inputs=[str(inputs / "crawl-*")], output=str(tmp_path / "a"), langs="en,de")
    cfg2 = WebConfig(inputs=[str(inputs / "crawl-*")], output=str(tmp_path / "b"), langs="en,de", num_shards=3)
    r1 = run_web(cfg1, ["--direct_num_workers=1", "--direct_running_mode=in_memory"], quiet=True)
    r2 = run_web(cfg2, TWO_WORKERS, quiet=True)
    rows1 = {r["id"]: r for r in read_corpus(tmp_path / "a")[1]}
    rows2 = {r["id"]: r for r in read_corpus(tmp_path / "b")[1]}
    assert rows1 == rows2 and len(rows1) > 0
    assert {r["lang"] for r in rows1.values()} == {"en", "de"}
    assert stage(r1, "langid")["dropped"] == stage(r2, "langid")["dropped"] == {"lang_not_selected": 12}
    assert len(list((tmp_path / "b" / "data").glob("*.parquet"))) == 3


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "beam_runner.py", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_help_lists_jobs_and_examples():
    top = run_cli("--help")
    assert top.returncode == 0 and "web" in top.stdout and "demo" in top.stdout
    web = run_cli("web", "--help")
    assert web.returncode == 0 and "--extractor" in web.stdout and "examples:" in web.stdout


@pytest.mark.parametrize("args, message", [
    (["--input", "/nonexistent/dir/*.warc.gz"], "no file matches"),
    (["--input", "{inputs}/crawl-0.warc.gz", "--langs", "english"], "not ISO 639"),
    (["--input", "{inputs}/crawl-0.warc.gz", "--no-such-flag"], "unknown option"),
    (["--input", "{inputs}/crawl-0.warc.gz", "--lang-threshold", "2"], "threshold"),
    (["--input", "{inputs}/crawl-0.warc.gz", "--extractor", "magic"], "invalid choice"),
    (["--input", "{inputs}/crawl-0.warc.gz", "stray"], "unexpected argument"),
    (["--input", "{inputs}/crawl-0.warc.gz", "--filters", "gopher,c4"], "unknown step 'gopher'"),
    (["--input", "{inputs}/crawl-0.warc.gz", "--recipe", "/nonexistent.yaml"], "cannot read it"),
    (["--input", "{inputs}/crawl-0.warc.gz", "--filters", "c4", "--dedup-against", "{inputs}"], "needs a dedup step"),
    (["--input", "{inputs}/crawl-0.warc.gz", "--filters", "exact_dedup", "--dedup-against", "{inputs}"],
     "not a finished corpus"),
    (["--input", "{inputs}/crawl-0.warc.gz", "--filters", "c4", "--recipe", "x.yaml"], "not allowed with"),
])
def test_bad_arguments_fail_before_any_work(inputs, tmp_path, args, message):
    out = tmp_path / "never"
    result = run_cli("web", *[a.format(inputs=inputs) for a in args], "--output", str(out))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert not out.exists()


def test_refuses_existing_output_unless_overwrite(inputs, tmp_path):
    out = tmp_path / "o"
    cfg = WebConfig(inputs=[str(inputs / "cc.warc.wet.gz")], output=str(out))
    run_web(cfg, ["--direct_running_mode=in_memory"], quiet=True)
    result = run_cli("web", "--input", str(inputs / "cc.warc.wet.gz"), "--output", str(out))
    assert result.returncode == 2 and "already holds a finished corpus" in result.stderr
    result = run_cli("web", "--input", str(inputs / "cc.warc.wet.gz"), "--output", str(out), "--overwrite",
                     "--direct_running_mode=in_memory")
    assert result.returncode == 0, result.stderr
    assert "wrote 1 documents" in result.stdout and "accounting ok" in result.stdout

"""TensorFlow Datasets' C4 WET test files (LF-only header lines) read in full, alone and through the web job."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from corpora.web import WebConfig, run_web
from pipeline.readers import ReaderConfig, read_file
from pipeline.records import Drop, FileDone, RawRecord
from pipeline.stats import stage

CC0_URLS = ["http://fake.com/url/1", "http://fake.com/url/2", "http://fake.com/url/de",
            "http://fake.com/url/de-786", "http://fake.com/url/und", "http://fake.com/url/und-27"]


def test_cc0_gives_its_six_pages(realdata):
    out = list(read_file(str(realdata / "web" / "c4-wet" / "cc_0.warc.wet.gz"), ReaderConfig()))
    records = [o for o in out if isinstance(o, RawRecord)]
    assert [r.url for r in records] == CC0_URLS
    assert records[0].payload.startswith("Once upon a time there was a dear little girl")
    assert all("WARC/1.0" not in r.payload and "WARC-Type" not in r.payload for r in records)
    assert [d.reason for d in out if isinstance(d, Drop)] == ["skipped_record_type"]  # warcinfo
    assert isinstance(out[-1], FileDone) and out[-1].status == "ok" and out[-1].records == 7
    assert len({r.key for r in records}) == 6  # the file reuses one WARC-Record-ID for five pages


def test_both_files_through_the_web_job(realdata, tmp_path):
    cfg = WebConfig(inputs=[str(realdata / "web" / "c4-wet" / "cc_*.warc.wet.gz")], output=str(tmp_path / "out"))
    report = run_web(cfg, ["--direct_num_workers=1"], quiet=True)
    read = stage(report, "read")
    assert read["out"] == 9 and read["dropped"] == {"skipped_record_type": 2}
    assert stage(report, "files")["out"] == 2 and report["accounting_ok"]
    rows = pq.read_table(tmp_path / "out" / "data").to_pylist()
    cc0 = [r["url"] for r in rows if json.loads(r["meta"])["source_file"] == "cc_0.warc.wet.gz"]
    assert sorted(cc0) == sorted(CC0_URLS)

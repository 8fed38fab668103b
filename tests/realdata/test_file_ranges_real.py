"""Real pages in one large WARC, read in parts by two worker processes: the corpus of the file read
whole. And real files that cannot be cut (one gzip member, LF-only headers) are read whole."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from bench.extraction import load_benchmark
from corpora.web import WebConfig, run_web
from pipeline.readers.ranges import plan_ranges
from tests.warc_factory import Page, warc_bytes


def test_real_pages_read_in_parts_give_the_corpus_of_the_whole_file(realdata, tmp_path):
    data = realdata / "web" / "extraction-benchmark"
    if not (data / "ground-truth.json").is_file():
        pytest.skip(f"article-extraction benchmark not found at {data}")
    pages = [Page(f"https://realdata.example/{key}", html, content_type="text/html")
             for key, html, _ in load_benchmark(data)]
    path = tmp_path / "real.warc.gz"
    path.write_bytes(warc_bytes(pages))  # warcio, one gzip member per record (as Common Crawl)
    size = path.stat().st_size
    parts = plan_ranges(str(path), size, "warc", size // 6)
    assert parts is not None and len(parts) >= 6
    reports = {}
    for name, split_mb in (("whole", 0), ("parts", size / 6 / (1 << 20))):
        cfg = WebConfig(inputs=[str(path)], output=str(tmp_path / name), split_mb=split_mb)
        reports[name] = run_web(cfg, ["--direct_num_workers=2", "--direct_running_mode=multi_processing"],
                                quiet=True)

    def rows(name):
        table = pq.read_table(tmp_path / name / "data").to_pylist()
        return sorted(json.dumps(r, sort_keys=True) for r in table)

    assert rows("parts") == rows("whole") and len(rows("whole")) > 150
    assert reports["parts"]["stages"] == reports["whole"]["stages"]


def test_real_files_that_cannot_be_cut_are_read_whole(realdata, tmp_path):
    joined = tmp_path / "joined.warc.wet.gz"  # two real WET files, each one gzip member of LF-only records
    joined.write_bytes(b"".join(p.read_bytes() for p in sorted((realdata / "web" / "c4-wet").glob("cc_*.warc.wet.gz"))))
    assert plan_ranges(str(joined), joined.stat().st_size, "wet", 64) is None

"""WARC and WET reading, including every broken input the issue lists."""

import gzip

from pipeline.limits import Limits
from pipeline.readers import ReaderConfig, detect_format, read_file
from pipeline.records import Drop, FileDone, RawRecord
from tests.warc_factory import EN, Page, html_page, warc_bytes, wet_bytes


def read_all(path, **kw):
    out = list(read_file(str(path), ReaderConfig(**kw)))
    records = [o for o in out if isinstance(o, RawRecord)]
    drops = [o for o in out if isinstance(o, Drop)]
    done = out[-1]
    assert isinstance(done, FileDone)
    return records, drops, done


def pages(n):
    return [Page(f"http://example.test/{i}", html_page(f"Page {i}", EN)) for i in range(n)]


def test_detect_format_from_names():
    assert detect_format("a/CC-MAIN-1.warc.gz") == "warc"
    assert detect_format("x.warc") == "warc"
    assert detect_format("gs://b/CC-MAIN-1.warc.wet.gz") == "wet"
    assert detect_format("d.jsonl.zst") == "jsonl"
    assert detect_format("d.jsonl.gz") == "jsonl"
    assert detect_format("p.parquet") == "parquet"
    assert detect_format("notes.txt") is None


def test_reads_gzipped_and_plain_warc(tmp_path):
    for gz, name in ((True, "a.warc.gz"), (False, "a.warc")):
        path = tmp_path / name
        path.write_bytes(warc_bytes(pages(5), gzip=gz, with_request=True))
        records, drops, done = read_all(path)
        assert done.status == "ok"
        assert [r.url for r in records] == [f"http://example.test/{i}" for i in range(5)]
        assert all(r.kind == "html" and b"lighthouse" in r.payload for r in records)
        assert records[0].header_charset == "utf-8"
        assert records[0].meta["warc_record_id"].startswith("<urn:uuid:")
        assert records[0].meta["fetch_date"] == "2024-05-01T12:00:00Z"
        # warcinfo + one request per page are counted as skipped record types
        assert [d.reason for d in drops] == ["skipped_record_type"] * 6
        assert done.records == 11


def test_non_200_non_html_and_oversized_are_counted(tmp_path):
    big = b"<html><body>" + b"<p>spam</p>" * (50 * 1024 * 1024 // 11) + b"</body></html>"  # a 50 MB page
    path = tmp_path / "mixed.warc.gz"
    path.write_bytes(warc_bytes([
        Page("http://a.test/ok", html_page("ok", EN)),
        Page("http://a.test/missing", b"not found", status="404 Not Found"),
        Page("http://a.test/img.png", b"\x89PNG....", content_type="image/png"),
        Page("http://a.test/huge", big),
    ]))
    records, drops, done = read_all(path)
    assert [r.url for r in records] == ["http://a.test/ok"]
    reasons = {d.url: d.reason for d in drops if d.url}
    assert reasons["http://a.test/missing"] == "non_200"
    assert reasons["http://a.test/img.png"] == "not_html"
    assert reasons["http://a.test/huge"] == "oversized"
    assert done.status == "ok"


def test_wrong_content_length_costs_one_record(tmp_path):
    raw = warc_bytes(pages(4), gzip=False)
    # Make record 2's WARC Content-Length 40 bytes too long.
    starts = [i for i in range(len(raw)) if raw.startswith(b"WARC/1.", i)]
    second = starts[2]  # 0 is warcinfo
    cl = raw.index(b"Content-Length: ", second)
    end = raw.index(b"\r\n", cl)
    value = int(raw[cl + 16:end])
    broken = raw[:cl] + b"Content-Length: " + str(value + 40).encode() + raw[end:]
    path = tmp_path / "badlen.warc.gz"
    path.write_bytes(gzip.compress(broken))
    records, drops, done = read_all(path)
    assert [r.url for r in records] == ["http://example.test/0", "http://example.test/2", "http://example.test/3"]
    bad = [d for d in drops if d.reason == "bad_content_length"]
    assert len(bad) == 1 and bad[0].url == "http://example.test/1"
    assert done.status == "ok"


def test_truncated_gzip_keeps_complete_records(tmp_path):
    data = warc_bytes(pages(10))
    path = tmp_path / "cut.warc.gz"
    path.write_bytes(data[: int(len(data) * 0.7)])
    records, drops, done = read_all(path)
    assert done.status == "truncated_gzip"
    assert 4 <= len(records) < 10
    assert [r.url for r in records] == [f"http://example.test/{i}" for i in range(len(records))]
    assert [d.reason for d in drops].count("truncated_record") == 1


def test_empty_file_and_not_a_warc(tmp_path):
    empty = tmp_path / "empty.warc.gz"
    empty.write_bytes(b"")
    assert read_all(empty)[2].status == "empty_file"
    text = tmp_path / "notes.warc"
    text.write_bytes(b"this is not a WARC file at all\n" * 100)
    assert read_all(text)[2].status == "not_warc"
    gz = tmp_path / "zip.warc.gz"
    gz.write_bytes(gzip.compress(b"PK\x03\x04 definitely a zip" * 50))
    records, drops, done = read_all(gz)
    assert done.status == "not_warc" and not records


def test_corrupt_gzip(tmp_path):
    data = bytearray(warc_bytes(pages(6)))
    for i in range(len(data) // 2, len(data) // 2 + 200):
        data[i] ^= 0x5A
    path = tmp_path / "corrupt.warc.gz"
    path.write_bytes(bytes(data))
    records, drops, done = read_all(path)
    assert done.status in ("corrupt_compression", "truncated_gzip")
    assert 1 <= len(records) < 6


def test_wet_conversion_records(tmp_path):
    path = tmp_path / "x.warc.wet.gz"
    path.write_bytes(wet_bytes([
        ("http://w.test/1", " ".join(EN).encode()),
        ("http://w.test/2", b"caf\xe9 invalid utf-8 \xff"),
    ]))
    records, drops, done = read_all(path)
    assert done.status == "ok"
    assert [r.url for r in records] == ["http://w.test/1"]
    assert records[0].kind == "text" and records[0].payload.startswith("The old lighthouse")
    assert records[0].meta["cc_lang"] == "eng"
    assert sorted(d.reason for d in drops) == ["invalid_utf8", "skipped_record_type"]


def test_record_size_limit_is_configurable(tmp_path):
    path = tmp_path / "a.warc.gz"
    path.write_bytes(warc_bytes(pages(2)))
    records, drops, _ = read_all(path, limits=Limits(max_record_bytes=100))
    assert not records and [d.reason for d in drops].count("oversized") == 2

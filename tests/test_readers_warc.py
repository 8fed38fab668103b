"""WARC and WET reading, including every broken input the issue lists."""

import gzip
import io
import json
import os
import random

from pipeline.limits import Limits
from pipeline.readers import ReaderConfig, detect_format, read_file
from pipeline.records import Drop, FileDone, RawRecord
from tests.warc_factory import (
    EN,
    Page,
    html_page,
    lf_wet_bytes,
    per_record_members,
    record_id,
    record_starts,
    warc_bytes,
    wet_bytes,
)


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


def _set_length(raw: bytes, record: int, value: int) -> bytes:
    """``raw`` with record ``record``'s WARC Content-Length set to ``value``."""
    start = record_starts(raw)[record]
    cl = raw.index(b"Content-Length: ", start)
    end = raw.index(b"\r\n", cl)
    return raw[:cl] + b"Content-Length: " + str(value).encode() + raw[end:]


def urls(records):
    return [r.url for r in records]


def test_content_length_past_the_end_is_truncated_and_later_records_recovered(tmp_path):
    """Issue 14 item 1: an overrun is not a document swallowing the rest of the file."""
    raw = _set_length(warc_bytes(pages(4), gzip=False), 2, 10 ** 9)
    for name, data in (("over.warc", raw), ("over.warc.gz", gzip.compress(raw))):
        path = tmp_path / name
        path.write_bytes(data)
        records, drops, done = read_all(path)
        assert urls(records) == ["http://example.test/0", "http://example.test/2", "http://example.test/3"], name
        assert [d.url for d in drops if d.reason == "truncated_record"] == ["http://example.test/1"], name
        assert all(b"WARC/1.0" not in r.payload for r in records)
        assert done.status == "ok", name  # the file itself goes on after the bad record


def test_last_record_cut_short_is_truncated(tmp_path):
    """Items 1 and 2: a cut-off last record in an intact gzip member or an uncompressed file."""
    raw = warc_bytes(pages(3), gzip=False)
    for name, data in (("cut.warc", raw[:-300]), ("cut.warc.gz", gzip.compress(raw[:-300]))):
        path = tmp_path / name
        path.write_bytes(data)
        records, drops, done = read_all(path)
        assert urls(records) == ["http://example.test/0", "http://example.test/1"], name
        assert [d.url for d in drops if d.reason == "truncated_record"] == ["http://example.test/2"], name
        assert done.status == "truncated_file", name


def test_whole_record_is_kept_when_the_bytes_after_it_are_damaged(tmp_path):
    """Item 3: damage in record 2's header costs record 2 only."""
    raw = warc_bytes(pages(4), gzip=False)
    start = record_starts(raw)[2]
    header = raw.index(b"WARC-Type", start)
    damaged = raw[:header] + b"\x00\x01garbage without a colon" + raw[header + 25:]
    path = tmp_path / "damaged.warc"
    path.write_bytes(damaged)
    records, drops, done = read_all(path)
    assert urls(records) == ["http://example.test/0", "http://example.test/2", "http://example.test/3"]
    assert not [d for d in drops if d.reason in ("bad_content_length", "truncated_record")]
    assert [d.reason for d in drops if d.reason != "skipped_record_type"] == ["malformed_record"]


def test_corrupt_stretch_in_per_record_gzip_costs_only_its_members(tmp_path):
    """Item 4: 20 flipped bytes lose the records they hit, not the rest of the file."""
    members = [gzip.compress(m) for m in per_record_members(warc_bytes(pages(200), gzip=False))]
    data = bytearray(b"".join(members))
    middle = sum(len(m) for m in members[:100]) + 40
    for i in range(middle, middle + 20):
        data[i] ^= 0x55
    path = tmp_path / "flipped.warc.gz"
    path.write_bytes(bytes(data))
    records, drops, done = read_all(path)
    assert len(records) == 199
    assert [d.reason for d in drops if d.reason != "skipped_record_type"] == ["corrupt_record"]
    assert done.status == "corrupt_compression"
    assert done.counts["skipped_compressed_bytes"] > 0


class _NoSeek(io.RawIOBase):
    """A forward-only stream (as a remote object read is): seeking back is an error."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        chunk = self._inner.read(len(b))
        b[: len(chunk)] = chunk
        return len(chunk)


def test_gzip_encoded_body_over_the_limit_is_oversized_while_streaming(tmp_path):
    """Item 5: decoded size is checked as it inflates; no rewinding of the file."""
    rng = random.Random(5)
    words = ["".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randrange(2, 9))) for _ in range(5000)]
    body = gzip.compress(html_page("big", [" ".join(rng.choice(words) for _ in range(400_000))]))  # 1 MB -> 2.4 MB
    big = [Page(f"http://big.test/{i}", body, extra_headers=[("Content-Encoding", "gzip")]) for i in range(4)]
    small = Page("http://small.test/", gzip.compress(html_page("small", EN)), extra_headers=[("Content-Encoding", "gzip")])
    data = warc_bytes(big + [small])
    config = ReaderConfig(limits=Limits(max_record_bytes=len(body) + 10_000))
    out = list(read_file("stream.warc.gz", config, open_fn=lambda _: io.BufferedReader(_NoSeek(data))))
    assert [o.url for o in out if isinstance(o, RawRecord)] == ["http://small.test/"]
    assert [o.url for o in out if isinstance(o, Drop) and o.reason == "oversized"] == [p.url for p in big]
    assert b"lighthouse" in next(o for o in out if isinstance(o, RawRecord)).payload


def test_lf_only_wet_headers_read_every_page(tmp_path):
    """Item 6: TFDS-style WET (LF-only lines, Content-Length out of step with the text)."""
    texts = [(f"http://lf.test/{i}", f"Page {i}. " + " ".join(EN[: i + 1])) for i in range(5)]
    path = tmp_path / "lf.warc.wet.gz"
    path.write_bytes(gzip.compress(lf_wet_bytes(texts)))
    records, drops, done = read_all(path)
    assert [(r.url, r.payload) for r in records] == texts
    assert [d.reason for d in drops] == ["skipped_record_type"]
    assert done.status == "ok" and done.counts["lf_only_headers"] == 6


def test_warc_truncated_is_recorded_counted_and_droppable(tmp_path):
    """Item 7: WARC-Truncated goes to meta and the counts; --drop-truncated drops it."""
    cut = Page("http://cut.test/", html_page("cut", EN), warc_headers={"WARC-Truncated": "length"})
    path = tmp_path / "t.warc.gz"
    path.write_bytes(warc_bytes([cut, *pages(1)]))
    records, _, done = read_all(path)
    assert [r.meta.get("warc_truncated") for r in records] == ["length", None]
    assert done.counts["warc_truncated"] == 1
    records, drops, _ = read_all(path, drop_truncated=True)
    assert urls(records) == ["http://example.test/0"]
    assert [d.url for d in drops if d.reason == "warc_truncated"] == ["http://cut.test/"]


def test_block_digest_mismatch_is_dropped(tmp_path):
    """A flipped body byte in an uncompressed WARC is caught by WARC-Block-Digest."""
    raw = bytearray(warc_bytes(pages(3), gzip=False))
    i = raw.index(b"lighthouse", record_starts(bytes(raw))[2])
    raw[i] ^= 0x20
    path = tmp_path / "digest.warc"
    path.write_bytes(bytes(raw))
    records, drops, _ = read_all(path)
    assert urls(records) == ["http://example.test/0", "http://example.test/2"]
    assert [d.url for d in drops if d.reason == "digest_mismatch"] == ["http://example.test/1"]


def test_ids_come_from_record_identity_not_the_path(tmp_path, monkeypatch):
    """Item 10: the same record gives the same key from any path form; WARC keys are the record id."""
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "x.jsonl").write_text(json.dumps({"text": "a document"}) + "\n")
    (sub / "x.warc.gz").write_bytes(warc_bytes(pages(1)))
    monkeypatch.chdir(tmp_path)
    for name in ("x.jsonl", "x.warc.gz"):
        keys = {list(read_file(p, ReaderConfig()))[-2].key
                for p in (f"sub/{name}", f"./sub/{name}", os.path.join(tmp_path, "sub", name))}
        assert len(keys) == 1, keys
    assert list(read_file("sub/x.warc.gz", ReaderConfig()))[-2].key == record_id("http://example.test/0", 0)
    assert list(read_file("sub/x.jsonl", ReaderConfig()))[-2].key == "x.jsonl:1"


def test_a_record_id_reused_within_a_file_gets_a_distinct_key(tmp_path):
    texts = [(f"http://lf.test/{i}", f"text {i}") for i in range(3)]
    data = lf_wet_bytes(texts).replace(b"8000-000000000001", b"8000-000000000000")
    path = tmp_path / "reuse.warc.wet"
    path.write_bytes(data)
    records, _, _ = read_all(path)
    assert [r.key for r in records] == [
        "<urn:uuid:22222222-0000-4000-8000-000000000000>",
        "<urn:uuid:22222222-0000-4000-8000-000000000000>#2",
        "<urn:uuid:22222222-0000-4000-8000-000000000002>",
    ]


def test_a_run_that_read_nothing_usable_exits_non_zero(tmp_path, capsys):
    """Item 8: no readable file, or only unreadable records, is an error with the reason."""
    import beam_runner
    from pipeline.stats import nothing_readable

    (tmp_path / "notes.warc").write_bytes(b"this is not a WARC file at all\n" * 10)
    code = beam_runner.main(["web", "--input", str(tmp_path / "notes.warc"), "--output", str(tmp_path / "out"),
                             "--direct_num_workers=1"])
    assert code == 1 and "none of the 1 input file(s) could be read (not_warc=1)" in capsys.readouterr().err

    def report(files_out, read_out, dropped):
        return {"stages": [{"stage": "files", "in": 1, "out": files_out, "dropped": {} if files_out else {"truncated_gzip": 1}},
                           {"stage": "read", "in": read_out + sum(dropped.values()), "out": read_out, "dropped": dropped}]}

    assert "unreadable (invalid_json=2)" in nothing_readable(report(1, 0, {"invalid_json": 2}))
    assert nothing_readable(report(1, 0, {"non_200": 3})) is None  # read fine, nothing wanted: not an error
    assert nothing_readable(report(0, 2, {"truncated_record": 1})) is None

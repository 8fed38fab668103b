"""JSONL (plain, gzip, zstd) and Parquet reading, with their malformed inputs."""

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from pipeline.limits import Limits
from pipeline.readers import ReaderConfig, read_file
from pipeline.records import Drop, FileDone, RawRecord


def read_all(path, **kw):
    out = list(read_file(str(path), ReaderConfig(**kw)))
    return ([o for o in out if isinstance(o, RawRecord)], [o for o in out if isinstance(o, Drop)], out[-1])


LINES = [
    json.dumps({"text": "first document", "url": "http://x.test/1", "doc": "a"}),
    "{not json",
    json.dumps({"body": "no text field"}),
    json.dumps(["a", "list"]),
    json.dumps({"text": 42}),
    "",
    json.dumps({"text": "second document", "doc": "b"}),
]


def test_jsonl_plain_gzip_zstd(tmp_path):
    data = ("\n".join(LINES) + "\n").encode()
    variants = {
        "d.jsonl": data,
        "d.jsonl.gz": gzip.compress(data),
        "d.jsonl.zst": zstandard.ZstdCompressor().compress(data),
    }
    for name, payload in variants.items():
        path = tmp_path / name
        path.write_bytes(payload)
        records, drops, done = read_all(path)
        assert isinstance(done, FileDone) and done.status == "ok", name
        assert [r.payload for r in records] == ["first document", "second document"], name
        assert records[0].url == "http://x.test/1"
        assert sorted(d.reason for d in drops) == [
            "invalid_json", "invalid_json", "missing_text_field", "missing_text_field"
        ], name
        assert records[1].key == f"{path.name}:7"  # the file name only: the same from any path form


def test_jsonl_id_and_text_fields(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(LINES[:1] + LINES[6:]) + "\n")
    records, _, _ = read_all(path, id_field="doc")
    assert [r.key for r in records] == ["d.jsonl:a", "d.jsonl:b"]
    records, drops, _ = read_all(path, text_field="doc")
    assert [r.payload for r in records] == ["a", "b"]


def test_jsonl_invalid_utf8_and_long_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(
        b'{"text": "ok one"}\n{"text": "caf\xe9"}\n{"text": "' + b"x" * 5000 + b'"}\n{"text": "ok two"}\n'
    )
    records, drops, done = read_all(path, limits=Limits(max_line_bytes=1000))
    assert [r.payload for r in records] == ["ok one", "ok two"]
    assert sorted(d.reason for d in drops) == ["invalid_utf8", "line_too_long"]
    assert done.status == "ok"


def test_jsonl_truncated_gzip_and_empty(tmp_path):
    data = gzip.compress(("\n".join(json.dumps({"text": f"doc {i}"}) for i in range(2000)) + "\n").encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    records, _, done = read_all(path)
    assert done.status == "truncated_gzip" and 0 < len(records) < 2000
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert read_all(empty)[2].status == "empty_file"


def test_parquet(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": ["one", None, "three"], "url": ["u1", None, None]}), path)
    records, drops, done = read_all(path)
    assert done.status == "ok"
    assert [r.payload for r in records] == ["one", "three"] and records[0].url == "u1"
    assert [d.reason for d in drops] == ["missing_text_field"]
    pq.write_table(pa.table({"body": ["x"]}), tmp_path / "nofield.parquet")
    assert read_all(tmp_path / "nofield.parquet")[2].status == "missing_text_field"
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all" * 10)
    assert read_all(tmp_path / "junk.parquet")[2].status == "not_parquet"


def test_jsonl_utf8_bom_on_the_first_line(tmp_path):
    """Issue 14 item 9: a byte order mark does not make the first line invalid JSON."""
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + (json.dumps({"text": "first"}) + "\n" + json.dumps({"text": "second"}) + "\n").encode())
    records, drops, done = read_all(path)
    assert [r.payload for r in records] == ["first", "second"] and not drops and done.status == "ok"

"""A large per-record gzip WARC/WET file read in parts (``pipeline.readers.ranges``): the cuts fall
where a gzip member holds one whole record, and the parts together read what the whole file reads,
damaged or not. Archives written by warcio; a Beam job on two worker processes at the end."""

from __future__ import annotations

import gzip
import io
import json
import random
import re
import zlib

import pyarrow.parquet as pq
import pytest

from pipeline.readers import ReaderConfig, read_file, read_range
from pipeline.readers.ranges import (
    FileRange,
    RangeDone,
    combine_ranges,
    plan_ranges,
    plan_work,
    record_member_from,
)
from pipeline.records import Drop, FileDone, RawRecord
from tests.test_warc_faults import BODIES, DAMAGE, LAYOUTS, _intact, _mutate
from tests.warc_factory import EN, FR, Page, html_page, per_record_members, warc_bytes, wet_bytes

PAGES = [Page(f"http://parts.test/{i}", html_page(f"Page {i}", (EN + FR)[i % 5:i % 5 + 3])) for i in range(120)]


def _write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _read_whole(path: str):
    out = list(read_file(path, ReaderConfig()))
    return [o for o in out if not isinstance(o, FileDone)], out[-1]


def _read_parts(parts: list[FileRange]):
    """The records and drops of every part in order, and the file's one outcome."""
    items, done = [], []
    for part in parts:
        out = list(read_range(part, ReaderConfig()))
        items += [o for o in out if not isinstance(o, FileDone)]
        end = out[-1]
        done.append(RangeDone(part.index, part.count, end.status, end.detail, end.records, part.describe()))
    return items, combine_ranges(parts[0].path, done), done


def _seen(items) -> list[tuple]:
    return [(type(o).__name__, o.key, o.url, o.payload) if isinstance(o, RawRecord) else ("Drop", o.id, o.reason)
            for o in items]


def _member_starts(data: bytes) -> set[int]:
    """Where each gzip member of a per-record gzip file starts (inflating member by member)."""
    starts, pos = set(), 0
    while pos < len(data):
        starts.add(pos)
        d = zlib.decompressobj(31)
        d.decompress(data[pos:])
        pos = len(data) - len(d.unused_data)
    return starts


@pytest.mark.parametrize("kind", ["warc", "wet"])
def test_parts_read_what_the_whole_file_reads(tmp_path, kind):
    if kind == "warc":
        data = warc_bytes(PAGES, gzip=True, with_request=True)
    else:
        data = wet_bytes([(p.url, " ".join(EN[i % 4:]).encode() * (1 + i % 7)) for i, p in enumerate(PAGES)])
    path = _write(tmp_path, f"big.{kind}.gz" if kind == "warc" else "big.warc.wet.gz", data)
    parts = plan_ranges(path, len(data), kind, split_bytes=len(data) // 9)
    assert parts is not None and len(parts) >= 8
    assert [p.index for p in parts] == list(range(len(parts))) and {p.count for p in parts} == {len(parts)}
    assert parts[0].start == 0 and parts[-1].stop == len(data)
    assert all(a.stop == b.start for a, b in zip(parts, parts[1:], strict=False))  # no byte twice, none left out
    assert {p.start for p in parts} <= _member_starts(data)  # every cut is a member boundary
    whole, whole_done = _read_whole(path)
    items, outcome, done = _read_parts(parts)
    assert _seen(items) == _seen(whole)  # the same records, keys and drops, in the same order
    assert outcome == path and whole_done.status == "ok"
    assert sum(d.records for d in done) == whole_done.records
    assert all(d.records > 0 for d in done)


def test_the_plan_depends_on_the_file_alone(tmp_path):
    data = warc_bytes(PAGES, gzip=True)
    path = _write(tmp_path, "a.warc.gz", data)
    first = plan_ranges(path, len(data), "warc", split_bytes=len(data) // 5)
    assert first == plan_ranges(path, len(data), "warc", split_bytes=len(data) // 5)
    items = plan_work([{"path": path, "bytes": len(data)}], "auto", len(data) // 5)
    assert items == first


def test_files_that_are_read_whole(tmp_path):
    data = warc_bytes(PAGES, gzip=True)
    split = len(data) // 5
    plain = warc_bytes(PAGES, gzip=False)
    one_member = gzip.compress(warc_bytes(PAGES, gzip=False), mtime=0)  # a whole-file gzip: no member to cut at
    # each record spread over two members: no member holds a whole record, so no cut can be trusted
    halves = b"".join(gzip.compress(m[:len(m) // 2], mtime=0) + gzip.compress(m[len(m) // 2:], mtime=0)
                      for m in per_record_members(plain))
    cases = {"small.warc.gz": (data, 2 * len(data)), "plain.warc": (plain, split),
             "one.warc.gz": (one_member, split), "halves.warc.gz": (halves, split)}
    for name, (content, split_bytes) in cases.items():
        path = _write(tmp_path, name, content)
        assert plan_ranges(path, len(content), "warc", split_bytes) is None, name
    path = _write(tmp_path, "big.warc.gz", data)
    assert plan_ranges(path, len(data), "warc", 0) is None  # 0: never cut
    assert plan_ranges(path, len(data), "jsonl", split) is None
    assert plan_ranges(str(tmp_path / "missing.warc.gz"), len(data), "warc", split) is None  # the reader says why
    files = [{"path": _write(tmp_path, "p.warc", plain), "bytes": len(plain)}, {"path": path, "bytes": len(data)}]
    items = plan_work(files, "auto", split)
    assert items[0] == files[0]["path"] and all(isinstance(i, FileRange) for i in items[1:]) and len(items) > 3


def test_no_cut_inside_a_crawled_archive(tmp_path):
    """A response whose body is itself a per-record gzip WARC of incompressible records: deflate
    stores such bytes verbatim, so whole members of the inner file lie inside the outer member.
    None of them may become a cut: the parts read exactly what the whole file reads (the archive is
    one record, never its inner records)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    rng = random.Random(5)
    inner = warc_bytes([Page(f"http://inner.test/{i}", rng.randbytes(3000 + 97 * i % 20000),
                             content_type="application/octet-stream") for i in range(60)])
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    starts = []
    for i in range(80):
        starts.append(buf.tell())
        body, ctype = (inner, "application/gzip") if i == 40 else (html_page(f"Outer {i}", EN), "text/html")
        http = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(f"http://outer.test/{i}", "response",
                                                      payload=io.BytesIO(body), http_headers=http))
    data = buf.getvalue()
    nest = (starts[40], starts[41])
    inside = [i for i in range(nest[0] + 1, nest[1]) if data.startswith(b"\x1f\x8b\x08", i)]
    assert len(inside) > 10  # the inner file's members, verbatim
    path = _write(tmp_path, "outer.warc.gz", data)
    with open(path, "rb") as raw:
        assert all(record_member_from(raw, at, len(data)) == nest[1] for at in range(nest[0] + 1, nest[1], 9000))
    parts = plan_ranges(path, len(data), "warc", split_bytes=len(data) // 40)
    assert parts is not None and not any(nest[0] < p.start < nest[1] for p in parts)
    whole, _ = _read_whole(path)
    items, outcome, _ = _read_parts(parts)
    assert _seen(items) == _seen(whole) and outcome == path
    assert not any(isinstance(o, RawRecord) and "inner.test" in (o.url or "") for o in items)


def test_a_record_whose_length_runs_into_the_next_part_is_dropped_as_in_the_whole_file(tmp_path):
    plain = per_record_members(warc_bytes(PAGES, gzip=False))
    members = [gzip.compress(m, mtime=0) for m in plain]
    data = b"".join(members)
    split = len(data) // 6
    parts = plan_ranges(_write(tmp_path, "ok.warc.gz", data), len(data), "warc", split)
    cut = parts[2].start
    starts = [sum(len(m) for m in members[:i]) for i in range(len(members))]
    i = starts.index(cut) - 1  # the record just before a cut
    header, _, rest = plain[i].partition(b"Content-Length: ")
    number, _, tail = rest.partition(b"\r\n")
    plain[i] = header + b"Content-Length: " + str(int(number) + 40).encode() + b"\r\n" + tail
    path = _write(tmp_path, "long.warc.gz", b"".join(gzip.compress(m, mtime=0) for m in plain))
    size = len(open(path, "rb").read())
    parts = plan_ranges(path, size, "warc", split)
    assert sum(len(gzip.compress(m, mtime=0)) for m in plain[:i + 1]) in {p.start for p in parts}
    whole, whole_done = _read_whole(path)
    items, outcome, _ = _read_parts(parts)
    assert [d.reason for d in items if isinstance(d, Drop) and d.reason != "skipped_record_type"] == [
        "bad_content_length"] == [d.reason for d in whole if isinstance(d, Drop) and d.reason != "skipped_record_type"]
    assert _seen(items) == _seen(whole) and outcome == path and whole_done.status == "ok"


def _large_layout() -> tuple[bytes, list[tuple[int, int, str | None]], dict[str, bytes]]:
    """A 300 KB per-record gzip WARC (300 pages and their requests), each record's byte range and
    page URL, and the pages' bodies: large enough for cuts before and after a damaged spot."""
    pages = [Page(f"http://big.test/{i}", html_page(f"Page {i}", (EN + FR)[i % 5:i % 5 + 3] * (1 + i % 4)))
             for i in range(300)]
    spans, members, pos = [], [], 0
    for raw in per_record_members(warc_bytes(pages, gzip=False, with_request=True)):
        member = gzip.compress(raw, mtime=0)
        url = raw.split(b"WARC-Target-URI: ", 1)[1].split(b"\r\n", 1)[0].decode() if b"WARC-Type: response" in raw else None
        spans.append((pos, pos + len(member), url))
        members.append(member)
        pos += len(member)
    return b"".join(members), spans, {p.url: p.body for p in pages}


@pytest.mark.parametrize("layout", ["small", "large"])
def test_damage_in_parts_costs_what_it_costs_in_the_whole_file(tmp_path, layout):
    """Seeded random flips, truncations and garbage over a per-record gzip WARC: reading it in parts,
    every record met is accounted for, nothing comes out twice or changed, every intact record is
    kept, and a loss is never silent: the same promises as reading it whole. In the small file
    (24 KB) every cut lies after the damage (a cut starts a 128 KB run of whole members, or one to
    the end); in the large one (300 KB, about 8 parts) damage also falls inside later parts."""
    data, spans, bodies = (*LAYOUTS[True], BODIES) if layout == "small" else _large_layout()
    rng = random.Random(77)
    cut_cases = 0
    for case in range(120 if layout == "small" else 60):
        damaged, touched, what = _mutate(data, rng)
        path = _write(tmp_path, f"case-{case}.warc.gz", damaged)
        parts = plan_ranges(path, len(damaged), "warc", split_bytes=len(damaged) // (6 if layout == "small" else 12))
        if parts is None:
            continue
        cut_cases += 1 if layout == "small" or len(parts) > 4 else 0
        items, outcome, done = _read_parts(parts)
        records = [o for o in items if isinstance(o, RawRecord)]
        drops = [o for o in items if isinstance(o, Drop)]
        assert len(records) + len(drops) == sum(d.records for d in done), what
        payloads = [r.payload for r in records]
        assert len(payloads) == len(set(payloads)) and set(payloads) <= set(bodies.values()), what
        assert _intact(spans, touched) <= {r.url for r in records}, what
        whole, whole_done = _read_whole(path)
        kept_whole = {o.payload for o in whole if isinstance(o, RawRecord)}
        assert kept_whole <= set(payloads), what  # the parts keep at least what the whole file keeps
        cut = len(damaged) if not what.startswith("truncate") else touched[0][0]
        lost = {url for a, _, url in spans if url and a < cut and bodies[url] not in payloads}
        if lost:  # (a cut at a record boundary leaves a shorter valid file: what lay after it is not lost)
            assert outcome != path or {d.reason for d in drops} & DAMAGE, what
        if whole_done.status != "ok":
            assert isinstance(outcome, Drop) or {d.reason for d in drops} & DAMAGE, what
    assert cut_cases > (60 if layout == "small" else 40)  # a cut needs a clean run of members after it


def test_the_files_outcome_is_the_first_failing_part():
    ok = [RangeDone(i, 3, "ok", "", 5, f"part {i + 1} of 3") for i in range(3)]
    assert combine_ranges("f.warc.gz", ok) == "f.warc.gz"
    bad = [ok[0], RangeDone(1, 3, "corrupt_compression", "1 stretch", 4, "part 2 of 3"),
           RangeDone(2, 3, "truncated_gzip", "ends", 1, "part 3 of 3")]
    drop = combine_ranges("f.warc.gz", reversed(bad))
    assert isinstance(drop, Drop) and drop.reason == "corrupt_compression" and drop.detail == "part 2 of 3: 1 stretch"
    with pytest.raises(RuntimeError, match="not all of them"):
        combine_ranges("f.warc.gz", ok[:2])


def test_the_web_job_reads_one_large_file_on_two_workers_as_it_reads_it_whole(tmp_path, capsys):
    """The same corpus, rejects and per-stage counts as the file read whole by one worker; the files
    stage counts the file once, under the reason of its one damaged part."""
    from corpora.web import WebConfig, run_web

    data = warc_bytes(PAGES, gzip=True)  # every record after the warcinfo a response
    damaged = bytearray(data)
    parts = plan_ranges(_write(tmp_path, "probe.warc.gz", data), len(data), "warc", len(data) // 8)
    at = parts[3].start + 60
    damaged[at:at + 20] = bytes(x ^ 0xFF for x in damaged[at:at + 20])  # one corrupt member
    path = _write(tmp_path, "one.warc.gz", bytes(damaged))
    split_mb = len(data) / 8 / (1 << 20)
    reports = {}
    for name, split in (("whole", 0), ("parts", split_mb)):
        cfg = WebConfig(inputs=[path], output=str(tmp_path / name), rejects=True, split_mb=split)
        reports[name] = run_web(cfg, ["--direct_num_workers=2", "--direct_running_mode=multi_processing"])
    out = capsys.readouterr().out
    cut = re.search(r"web: reading 1 file\(s\) \(in (\d+) work items: \1 parts of large files\)", out)
    assert cut and int(cut.group(1)) >= 4 and "note:" not in out[cut.end():]

    def rows(name, sub):
        tables = sorted((tmp_path / name / sub).glob("*.parquet"))
        return sorted(json.dumps(r, sort_keys=True, default=str) for t in tables for r in pq.read_table(t).to_pylist())

    assert rows("parts", "data") == rows("whole", "data") and len(rows("parts", "data")) == len(PAGES) - 1
    # the rejects: the same, but for the names of places without a record id (@<part start>+<offset>)
    # and the files stage's detail, which names the failing part
    rejects = {name: [json.loads(r) for r in rows(name, "rejects")] for name in ("whole", "parts")}

    def comparable(rows_: list[dict]) -> list[str]:
        return sorted(json.dumps({k: v for k, v in r.items() if k != "id" and (k != "detail" or r["stage"] == "read")},
                                 sort_keys=True) for r in rows_)

    assert comparable(rejects["parts"]) == comparable(rejects["whole"])
    assert sorted((r["stage"], r["reason"]) for r in rejects["parts"]) == [
        ("files", "corrupt_compression"), ("read", "corrupt_record"), ("read", "skipped_record_type")]
    assert re.fullmatch(r"one\.warc\.gz@\d+\+\d+", next(r["id"] for r in rejects["parts"] if r["reason"] == "corrupt_record"))
    assert re.fullmatch(r"part \d of \d+ \(bytes \d+-\d+\): .*corrupt gzip member.*",
                        next(r["detail"] for r in rejects["parts"] if r["stage"] == "files"))
    stages = {name: {s["stage"]: s for s in r["stages"]} for name, r in reports.items()}
    assert stages["parts"] == stages["whole"]
    assert stages["parts"]["files"]["in"] == 1 and stages["parts"]["files"]["dropped"] == {"corrupt_compression": 1}
    manifest = json.loads((tmp_path / "parts" / "manifest.json").read_text())
    assert manifest["config"]["split_mb"] == split_mb


def test_a_negative_part_size_is_refused_before_any_work(tmp_path, capsys):
    import beam_runner

    src = _write(tmp_path, "a.warc.gz", warc_bytes(PAGES[:2]))
    with pytest.raises(SystemExit) as stop:
        beam_runner.main(["web", "--input", src, "--output", str(tmp_path / "out"), "--split-mb", "-1"])
    assert stop.value.code == 2
    assert "--split-mb must be 0" in capsys.readouterr().err and not (tmp_path / "out").exists()


def _parquet(tmp_path, name: str, rows: int, row_group_size: int) -> str:
    """A Parquet file of ``rows`` rows (every 7th text null, every 11th with an id) in row groups."""
    import pyarrow as pa

    texts = [None if i % 7 == 3 else f"row {i}: " + " ".join(EN[i % 4:]) for i in range(rows)]
    ids = [f"doc-{i}" if i % 11 == 0 else None for i in range(rows)]
    path = tmp_path / name
    pq.write_table(pa.table({"text": texts, "id": ids, "url": [f"http://pq.test/{i}" for i in range(rows)]}),
                   path, row_group_size=row_group_size)
    return str(path)


def test_a_parquet_file_is_cut_between_row_groups_and_its_parts_read_what_it_reads(tmp_path):
    from pipeline.readers.ranges import plan_row_groups

    path = _parquet(tmp_path, "big.parquet", rows=5000, row_group_size=400)  # 13 row groups
    size = len(open(path, "rb").read())
    parts = plan_row_groups(path, size, split_bytes=size // 5)
    assert parts is not None and 4 <= len(parts) <= 7
    assert [(p.start, p.stop) for p in parts][0][0] == 0 and parts[-1].stop == 13
    assert all(a.stop == b.start for a, b in zip(parts, parts[1:], strict=False))
    assert [p.first_row for p in parts] == [400 * p.start for p in parts]
    config = ReaderConfig("parquet", id_field="id")
    whole = list(read_file(path, config))
    items = [o for p in parts for o in read_range(p, config)]
    assert _seen([o for o in items if not isinstance(o, FileDone)]) == _seen(whole[:-1])  # same keys: row numbers kept
    done = [o for o in items if isinstance(o, FileDone)]
    assert all(d.status == "ok" for d in done) and sum(d.records for d in done) == whole[-1].records == 5000
    assert plan_work([{"path": path, "bytes": size}], "auto", size // 5) == parts
    one_group = _parquet(tmp_path, "one.parquet", rows=5000, row_group_size=5000)
    assert plan_row_groups(one_group, size, split_bytes=size // 5) is None  # a row group is never cut
    assert plan_row_groups(path, size, split_bytes=size) is None  # under twice the part size
    not_parquet = _write(tmp_path, "bad.parquet", b"PAR1" + b"\0" * size)
    assert plan_row_groups(not_parquet, size + 4, split_bytes=size // 5) is None  # read whole: the reader says why


def test_the_web_job_reads_a_large_parquet_file_in_parts_as_it_reads_it_whole(tmp_path, capsys):
    from corpora.web import WebConfig, run_web

    path = _parquet(tmp_path, "big.parquet", rows=3000, row_group_size=300)
    size = len(open(path, "rb").read())
    reports = {}
    for name, split in (("whole", 0), ("parts", size / 4 / (1 << 20))):
        cfg = WebConfig(inputs=[path], output=str(tmp_path / name), rejects=True, split_mb=split)
        reports[name] = run_web(cfg, ["--direct_num_workers=2", "--direct_running_mode=multi_processing"])
    assert re.search(r"\(in \d+ work items: \d+ parts of large files\)", capsys.readouterr().out)

    def rows(name, sub):
        return sorted(json.dumps(r, sort_keys=True) for t in sorted((tmp_path / name / sub).glob("*.parquet"))
                      for r in pq.read_table(t).to_pylist())

    assert rows("parts", "data") == rows("whole", "data") and rows("parts", "rejects") == rows("whole", "rejects")
    assert reports["parts"]["stages"] == reports["whole"]["stages"]
    read = {s["stage"]: s for s in reports["parts"]["stages"]}
    assert read["files"]["in"] == read["files"]["out"] == 1 and read["read"]["in"] == 3000
    assert read["read"]["dropped"] == {"missing_text_field": 3000 // 7 + (3000 % 7 > 3)}


def test_the_header_names_large_files_that_are_read_whole(tmp_path):
    from corpora.web import uncut_note

    data = warc_bytes(PAGES, gzip=True)
    split_mb = len(data) / 5 / (1 << 20)
    cuttable = _write(tmp_path, "a.warc.gz", data)
    one_stream = _write(tmp_path, "b.warc.gz", gzip.compress(warc_bytes(PAGES, gzip=False), mtime=0))
    files = [{"path": cuttable, "bytes": len(data)}, {"path": one_stream, "bytes": len(data)},
             {"path": "small.warc.gz", "bytes": 10}]
    items = plan_work(files, "auto", int(split_mb * (1 << 20)))
    note = uncut_note(files, items, split_mb)
    assert note.startswith("\nnote: 1 file(s) of ") and "(e.g. b.warc.gz)" in note
    assert uncut_note(files, items, 0) == "" and uncut_note(files[:1], items, split_mb) == ""


def test_a_remote_file_is_planned_as_its_local_copy(tmp_path):
    """Through fsspec (``memory://`` here; ``gs://``, ``s3://`` alike), small reads, cuts looked for
    in threads: the same parts as the local file's, and those parts read what the local ones read."""
    from pipeline import fileio

    data = warc_bytes(PAGES, gzip=True, with_request=True)
    local = _write(tmp_path, "a.warc.gz", data)
    remote = "memory://ranges-test/a.warc.gz"
    fileio.write_atomic(remote, data)
    try:
        here = plan_ranges(local, len(data), "warc", len(data) // 7)
        there = plan_ranges(remote, len(data), "warc", len(data) // 7)
        assert there is not None and [(p.start, p.stop) for p in there] == [(p.start, p.stop) for p in here]
        items = [o for p in there for o in read_range(p, ReaderConfig(), open_fn=fileio.open_read)]
        assert _seen([o for o in items if not isinstance(o, FileDone)]) == _seen(_read_whole(local)[0])
    finally:
        fileio.delete(remote)

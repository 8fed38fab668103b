"""Dedup's waiting documents parked in spill files: same output as in memory, files gone, failures loud."""

import gc
import os
import random
import tempfile

import pyarrow.parquet as pq
import pytest

import beam_runner
from corpora.web import WebConfig, build_web, run_web
from pipeline.beam_dedup import _drop_verdicts
from pipeline.beam_dedup_spill import ReadBack, _file_verdicts
from pipeline.dedup.spill import (
    FOLDER_PREFIX,
    SpillError,
    SpillReader,
    SpillWriter,
    make_spill_folder,
    spill_file_of,
)
from pipeline.errors import UsageError
from pipeline.jobs import make_pipeline
from pipeline.recipe import steps_from_flag
from pipeline.records import Document
from tests.test_dedup_job import ONE_WORKER, edit, essay, write_jsonl

RECIPE = "exact_dedup,minhash_dedup"


def doc(i: int, text: str) -> Document:
    return Document(id=f"d{i}", text=text, source="s.jsonl", url=f"https://x/{i}", meta={"line": i})


def test_parked_documents_read_back_per_file_with_their_references(tmp_path):
    docs = [doc(i, "word " * i + "é\u2028") for i in range(50)]
    writers = [SpillWriter(str(tmp_path)), SpillWriter(str(tmp_path))]  # two bundles, two files
    refs = [writers[i % 2].write(d) for i, d in enumerate(docs)]
    for w in writers:
        w.close()
    assert sorted(os.listdir(tmp_path)) == sorted(w.name for w in writers)
    assert [spill_file_of(r) for r in refs] == [writers[i % 2].name for i in range(50)]
    reader = SpillReader(str(tmp_path))
    back = dict(pair for w in writers for pair in reader.records(w.name))
    assert [back[r] for r in refs] == docs


def test_a_damaged_or_missing_spill_file_fails_loudly(tmp_path):
    writer = SpillWriter(str(tmp_path))
    writer.write(doc(1, "alpha " * 40)), writer.write(doc(2, "beta " * 40))
    writer.close()
    (path,) = tmp_path.iterdir()
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # a flipped byte in the second document
    path.write_bytes(bytes(data))
    records = SpillReader(str(tmp_path)).records(writer.name)
    assert next(records)[1].id == "d1"
    with pytest.raises(SpillError, match="crc32"):
        next(records)
    path.unlink()
    with pytest.raises(SpillError, match="cannot read"):
        list(SpillReader(str(tmp_path)).records(writer.name))


def test_a_spill_file_reads_back_in_order_with_the_references_write_gave(tmp_path):
    docs = [doc(i, "mot " * i) for i in range(30)]
    writer = SpillWriter(str(tmp_path))
    refs = [writer.write(d) for d in docs]
    writer.close()
    reader = SpillReader(str(tmp_path))
    assert list(reader.records(writer.name)) == list(zip(refs, docs, strict=True))
    path = tmp_path / writer.name
    path.write_bytes(path.read_bytes()[:-5])  # the last record cut short
    with pytest.raises(SpillError, match="expected"):
        list(reader.records(writer.name))
    path.write_bytes(path.read_bytes()[:3])  # cut inside the first header
    with pytest.raises(SpillError, match="header"):
        list(reader.records(writer.name))


def test_only_dropped_copies_get_a_verdict_each_sent_to_its_spill_file():
    file_a, file_b = b"A" * 16, b"B" * 16
    refs = {"b": file_b + b"\x00" * 16, "a2": file_a + b"\x02" * 16, "a1": file_a + b"\x01" * 16}
    entries = [("new", "b", refs["b"]), ("new", "a", refs["a2"]), ("new", "a", refs["a1"])]
    drops = list(_drop_verdicts(("h", entries)))
    assert all(name == spill_file_of(ref) for name, (ref, _) in drops)
    verdicts = {ref: v for _, (ref, v) in drops}
    # the smallest id survives, and of two copies under it, the one with the smaller reference
    assert sorted(verdicts) == sorted([refs["a2"], refs["b"]])
    assert verdicts[refs["b"]].reason == "exact_duplicate" and verdicts[refs["b"]].detail == "same text as a"
    earlier = {ref: v for _, (ref, v) in _drop_verdicts(("h", [*entries, ("old", "e")]))}  # none kept
    assert sorted(earlier) == sorted(refs.values())
    assert [earlier[refs[k]].counts_previous for k in ("a1", "a2", "b")] == [True, False, False]


def test_a_verdict_for_no_parked_document_fails_the_read_back(tmp_path):
    writer = SpillWriter(str(tmp_path))
    kept = writer.write(doc(1, "alpha"))
    writer.close()
    join = lambda ref, d, verdicts: (d.id, verdicts.get(ref))  # noqa: E731
    read = ReadBack(str(tmp_path), join)
    assert list(read.process((writer.name, {kept: "drop"}))) == [("d1", "drop")]
    with pytest.raises(SpillError, match="1 verdict"):  # a reference in no record of the file
        list(read.process((writer.name, {kept[:16] + b"\xff" * 16: "drop"})))
    # the job's verdicts as a side input: looked up, the others' not expected here
    assert list(read.process(writer.name, {kept: "drop", b"elsewhere": "drop"})) == [("d1", "drop")]
    with pytest.raises(SpillError, match="no bundle wrote"):
        _file_verdicts(("00" * 16, {"file": [], "verdicts": [(b"\x00" * 32, "drop")]}))
    assert _file_verdicts((writer.name, {"file": [writer.name], "verdicts": [(kept, "drop")]})) == (
        writer.name, {kept: "drop"})


def test_an_unusable_spill_folder_is_a_usage_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(UsageError, match="--dedup_spill_dir"):
        make_spill_folder(str(blocker / "spill"), "exact_dedup")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = random.Random(11)
    d = tmp_path_factory.mktemp("spill")
    originals = [essay(rng) for _ in range(20)]
    docs = [(f"u{i:03d}", t) for i, t in enumerate(originals)]
    docs += [(f"x{i:03d}", originals[i].upper()) for i in range(4)]  # exact duplicates
    docs += [(f"n{i:03d}", edit(rng, originals[8 + i], 1)) for i in range(5)]  # near duplicates
    rng.shuffle(docs)
    write_jsonl(d / "a.jsonl", docs[:15])
    write_jsonl(d / "b.jsonl", docs[15:])
    return d


def config(corpus, out) -> WebConfig:
    return WebConfig(inputs=[str(corpus / "*.jsonl")], output=str(out), id_field="id", rejects=True,
                     recipe=[s.describe() for s in steps_from_flag(RECIPE)])


def outputs(out) -> tuple[list, list]:
    read = lambda part: [r for f in sorted((out / part).glob("*.parquet")) for r in pq.read_table(f).to_pylist()]  # noqa: E731
    return read("data"), sorted(read("rejects"), key=lambda r: (r["stage"], r["id"]))


def test_spilled_and_in_memory_joins_give_the_same_corpus_and_leave_no_files(corpus, tmp_path):
    spill = tmp_path / "spill"
    spill.mkdir()
    mem = run_web(config(corpus, tmp_path / "mem"), ONE_WORKER + ["--dedup_spill_dir=memory"], quiet=True)
    disk = run_web(config(corpus, tmp_path / "disk"), ONE_WORKER + [f"--dedup_spill_dir={spill}"], quiet=True)
    assert disk["stages"] == mem["stages"] and disk["accounting_ok"]
    dropped = {s["stage"]: s["dropped"] for s in disk["stages"]}
    assert dropped["exact_dedup"] == {"exact_duplicate": 4} and dropped["minhash_dedup"] == {"near_duplicate": 5}
    assert outputs(tmp_path / "disk") == outputs(tmp_path / "mem")  # rows, in order, and rejects
    assert list(spill.iterdir()) == []  # each step removed its spill folder once it had read it back


def test_the_local_runner_spills_by_default_and_a_dropped_pipeline_removes_its_folders(corpus, tmp_path, monkeypatch):
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    p = make_pipeline(ONE_WORKER)
    run = build_web(p, config(corpus, tmp_path / "never-run"), [])
    spills = lambda: sorted(f.name.split("-")[2] for f in temp.glob(FOLDER_PREFIX + "*"))  # noqa: E731
    assert spills() == ["exact_dedup", "minhash_dedup"]
    assert list(temp.glob("beam-pipeline-temp*"))  # Beam's own folder, made with the pipeline
    del p, run
    gc.collect()
    assert spills() == []  # a job that never ran (or failed) leaves nothing behind
    assert list(temp.glob("beam-pipeline-temp*")) == []  # Beam removes it only after a run


def test_a_bad_spill_folder_stops_the_job_before_any_work(corpus, tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = tmp_path / "out"
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    with pytest.raises(SystemExit) as exit_:
        beam_runner.main(["web", "--input", str(corpus / "*.jsonl"), "--id-field", "id", "--filters", RECIPE,
                          "--output", str(out), f"--dedup_spill_dir={blocker}/spill", *ONE_WORKER])
    assert exit_.value.code == 2
    assert "--dedup_spill_dir" in capsys.readouterr().err
    assert not (out / "data").exists() and not (out / "stats.json").exists()
    del exit_  # its traceback holds the pipeline, as a process holds it until it exits
    gc.collect()
    assert list(temp.iterdir()) == []  # nor a temporary folder: the build failed, nothing ran

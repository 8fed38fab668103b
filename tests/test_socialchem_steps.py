"""The plain ``socialchem`` steps on the job shape: configs refuse bad input before any work,
the steps read and write through pipeline/fileio (real fsspec ``memory://`` URLs here), and every
row or answer they leave out is counted in stats.json under a registered reason."""

from __future__ import annotations

import io
import json
import uuid
from collections import Counter

import fsspec
import pyarrow.parquet as pq
import pytest

from corpora.socialchem.configs import (
    AgreementConfig,
    ExportTasksConfig,
    ImportConfig,
    RenderStepConfig,
    SituationsConfig,
    SplitConfig,
    StatsConfig,
    ValidateConfig,
)
from corpora.socialchem.steps import run_agreement, run_export_tasks, run_import, run_split, run_stats
from corpora.socialchem.tasks import rot_task_id
from corpora.socialchem.validate import validate_file
from pipeline.errors import UsageError
from pipeline.reasons import registered
from pipeline.stats import stage
from tests.socialchem_rows import SITUATIONS, generated_rows, line_of, tsv, write_tsv

ANSWERS = ("task_id,worker_id,rot_1,rot_2\n"
           f"{rot_task_id('web/amitheasshole/aaaa1111')},w1,It's good to be honest.,Be polite to waiters.\n"
           f"{rot_task_id('web/amitheasshole/bbbb2222')},w2,You should return lost money.,\n"
           "rot-task/web/amitheasshole/nope,w1,x,\n"
           f"{rot_task_id('web/amitheasshole/bbbb2222')},w2,again,\n")


@pytest.fixture
def mem():
    """A fresh ``memory://`` folder of fsspec's in-memory file system, removed afterwards."""
    fs = fsspec.filesystem("memory")
    root = f"memory://sc-{uuid.uuid4().hex}"
    yield fs, root
    fs.rm(root.removeprefix("memory://"), recursive=True)


def _read(fs, url: str) -> bytes:
    with fs.open(url.removeprefix("memory://"), "rb") as f:
        return f.read()


def _with_bad_rows(rows: list[dict]) -> str:
    """The rows as TSV text with one bad value, one list not narrator-first and one short line."""
    bad_value = dict(rows[0], **{"rot-agree": "9"})
    not_narrator = dict(rows[1], characters="my friend|narrator")
    return tsv([line_of(r) for r in rows[2:]] + [line_of(bad_value), line_of(not_narrator), "too\tfew\tcolumns"])


def test_steps_read_inputs_from_and_write_outputs_to_memory_urls(mem):
    fs, root = mem
    fs.pipe(f"{root}/sit/situations.jsonl".removeprefix("memory://"),
            "".join(json.dumps(s) + "\n" for s in SITUATIONS).encode())
    fs.pipe(f"{root}/answers.csv".removeprefix("memory://"), ANSWERS.encode())

    tasks = run_export_tasks(ExportTasksConfig(output=f"{root}/tasks", situations=f"{root}/sit"), quiet=True)
    assert tasks["tasks"] == 2 and tasks["files"]["jsonl"] == f"{root}/tasks/rot_tasks.jsonl"
    manifest = json.loads(_read(fs, f"{root}/tasks/rot_tasks.manifest.json"))
    assert manifest["tasks"] == 2

    report = run_import(ImportConfig(tasks=f"{root}/tasks/rot_tasks.jsonl", input=[f"{root}/answers.csv"],
                                     output=f"{root}/rots"), quiet=True)
    rots = [json.loads(x) for x in _read(fs, f"{root}/rots/rots.jsonl").decode().splitlines()]
    assert [r["rot"] for r in rots] == ["It's good to be honest.", "Be polite to waiters.",
                                         "You should return lost money."] and report["records_out"] == 3
    rejects = pq.read_table(io.BytesIO(_read(fs, f"{root}/rots/rejects/part-00000-of-00001.parquet"))).to_pylist()
    assert sorted(r["reason"] for r in rejects) == ["duplicate_answer", "unknown_task_id"]
    stats = json.loads(_read(fs, f"{root}/rots/stats.json"))
    assert stage(stats, "import") | {"counts": None} == {
        "stage": "import", "in": 4, "out": 2, "dropped": {"duplicate_answer": 1, "unknown_task_id": 1},
        "balanced": True, "counts": None}

    fs.pipe(f"{root}/set.tsv".removeprefix("memory://"), _with_bad_rows(generated_rows(12, breakdowns=2)).encode())
    split = run_split(SplitConfig(input=f"{root}/set.tsv", output=f"{root}/split"), quiet=True)
    assert split["output"] == f"{root}/split/socialchem.tsv" and validate_file(split["output"]).ok
    read = stage(json.loads(_read(fs, f"{root}/split/stats.json")), "read")
    assert (read["in"], read["out"]) == (12 * 2 * 2 - 2 + 3, 12 * 2 * 2 - 2)
    agreement = run_agreement(AgreementConfig(input=f"{root}/split", output=f"{root}/agreement"), quiet=True)
    # the two bad rows were both breakdowns of the first RoT
    assert agreement["rots"] == 12 * 2 - 1 and fs.isfile(f"{root}/agreement/aggregated.tsv".removeprefix("memory://"))
    run_stats(StatsConfig(input=f"{root}/split", output=f"{root}/stats"), quiet=True)
    assert _read(fs, f"{root}/stats/dimensions.png")[:4] == b"\x89PNG"
    left = [p for p in fs.find(root.removeprefix("memory://")) if ".tmp-" in p]
    assert left == []  # every output was written under a temporary name and renamed whole


def test_every_row_or_answer_left_out_is_in_stats_json_under_a_registered_reason(tmp_path):
    path = tmp_path / "set.tsv"
    path.write_text(_with_bad_rows(generated_rows(10, breakdowns=2)), encoding="utf-8")
    run_split(SplitConfig(input=str(path), output=str(tmp_path / "split")), quiet=True)
    read = stage(json.loads((tmp_path / "split" / "stats.json").read_text()), "read")
    assert read["dropped"] == {"bad_value": 1, "narrator_not_first": 1, "wrong_column_count": 1}
    assert read["in"] == 10 * 2 * 2 + 1 and read["out"] == 10 * 2 * 2 - 2 and read["balanced"]
    run_stats(StatsConfig(input=str(path), output=str(tmp_path / "stats"), no_plots=True), quiet=True)
    stats = json.loads((tmp_path / "stats" / "stats.json").read_text())
    assert stage(stats, "read")["dropped"] == read["dropped"] and stats["rows"] == read["out"]

    (tmp_path / "sit.jsonl").write_text("".join(json.dumps(s) + "\n" for s in SITUATIONS), encoding="utf-8")
    (tmp_path / "answers.csv").write_text(ANSWERS + "a,b,c,d,e\n", encoding="utf-8")
    run_export_tasks(ExportTasksConfig(output=str(tmp_path / "tasks"), situations=str(tmp_path / "sit.jsonl")),
                     quiet=True)
    run_import(ImportConfig(tasks=str(tmp_path / "tasks"), input=[str(tmp_path / "answers.csv")],
                            output=str(tmp_path / "rots")), quiet=True)
    dropped = stage(json.loads((tmp_path / "rots" / "stats.json").read_text()), "import")["dropped"]
    rejects = pq.read_table(str(tmp_path / "rots" / "rejects")).column("reason").to_pylist()
    assert dropped == dict(Counter(rejects)) == {"duplicate_answer": 1, "unknown_task_id": 1, "unreadable": 1}
    assert all(registered(r) for r in [*read["dropped"], *dropped])


@pytest.mark.parametrize("make, message", [
    (lambda p: ExportTasksConfig(output=p("o"), situations=p("s.jsonl"), rots=p("r.jsonl")), "give one of"),
    (lambda p: ExportTasksConfig(output=p("o"), situations=p("s.jsonl"), m=0), "--m must be at least 1"),
    (lambda p: ExportTasksConfig(output=p("o"), rots=p("nowhere")), "--rots"),
    (lambda p: ImportConfig(tasks=p("s.jsonl"), input=[p("set.tsv")], output=p("o")), "expected .csv"),
    (lambda p: ImportConfig(tasks=p("s.jsonl"), input=[p("gone.csv")], output=p("o")), "no such file"),
    (lambda p: AgreementConfig(input=p("set.tsv"), output=p("o"), low_agreement=1.5), "--low-agreement"),
    (lambda p: SplitConfig(input=p("set.tsv"), output=p("o"), fractions="0.5,0.6,0"), "--fractions"),
    (lambda p: SplitConfig(input=p("set.tsv"), output=p("o"), aggregated=p("gone")), "--aggregated"),
    (lambda p: StatsConfig(input=p("empty-dir"), output=p("o")), "no socialchem.tsv"),
    (lambda p: ValidateConfig(path=p("gone.tsv")), "no such file"),
    (lambda p: ValidateConfig(path=p("set.tsv"), max_examples=-1), "--max-examples"),
    (lambda p: SituationsConfig(input=[p("web")], output=p("o"), blocklist=p("gone.txt")), "--blocklist"),
    (lambda p: RenderStepConfig(input=[p("set.tsv")], output=p("o"), splits="train,holdout"), "--splits"),
])
def test_configs_refuse_bad_input_before_any_work(tmp_path, make, message):
    write_tsv(tmp_path / "set.tsv", generated_rows(2))
    (tmp_path / "s.jsonl").write_text(json.dumps(SITUATIONS[0]) + "\n", encoding="utf-8")
    (tmp_path / "empty-dir").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(UsageError, match=message):
        make(lambda name: str(tmp_path / name))
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, not even the output folder

"""Tasks out and annotations in: CSV / JSONL / Label Studio formats, rejects with reasons, 25-column rows."""

import csv
import json
import xml.etree.ElementTree as ET

from corpora.socialchem.annotations import import_breakdowns, import_rots
from corpora.socialchem.schema import COLUMNS, DIMENSIONS, SCHEMA
from corpora.socialchem.tasks import (
    breakdown_task_id,
    breakdown_tasks,
    label_studio_config,
    load_tasks,
    rot_task_id,
    rot_tasks,
    write_tasks,
)
from corpora.socialchem.validate import validate_file
from tests.socialchem_rows import SITUATIONS

GOOD = {"rot-bad": "0", "rot-judgment": "It's good", "action": "being honest", "rot-categorization": "social-norms",
        "rot-moral-foundations": "care-harm|loyalty-betrayal", "rot-agree": "3", "rot-char-targeting": "char-1",
        "action-agency": "agency", "action-moral-judgment": "1", "action-agree": "3", "action-legal": "legal",
        "action-pressure": "1", "action-char-involved": "char-0", "action-hypothetical": "explicit"}


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, header)
        w.writeheader()
        w.writerows(rows)
    return str(path)


def test_rot_tasks_prefill_characters_narrator_first(tmp_path):
    tasks = rot_tasks(SITUATIONS + SITUATIONS[:1], m=3)
    assert len(tasks) == 2  # the repeated situation id is one task
    assert tasks[0]["characters"] == "narrator|my sister|her boyfriend"
    assert tasks[1]["characters"] == "narrator"  # extracted when the situation has none
    paths = write_tasks(tasks, "rot", str(tmp_path))
    with open(paths["csv"], encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["task_id"] for r in rows] == [rot_task_id(s["situation_short_id"]) for s in SITUATIONS]
    assert rows[0]["m"] == "3"
    first = json.loads(open(paths["jsonl"], encoding="utf-8").readline())
    assert first["id"] == 1 and first["data"]["situation"] == SITUATIONS[0]["situation"]
    assert set(load_tasks(paths["jsonl"])) == {r["task_id"] for r in rows}
    ls = json.loads(open(paths["label_studio"], encoding="utf-8").read())
    assert isinstance(ls, list) and ls[1]["data"]["characters"] == "narrator"


def test_label_studio_config_offers_exactly_the_schema_values():
    root = ET.fromstring(label_studio_config("breakdown"))
    choices = {c.get("name"): [x.get("value") for x in c] for c in root.iter("Choices")}
    assert set(choices) == set(DIMENSIONS)
    assert choices["action-legal"] == list(SCHEMA["action-legal"].values)
    assert choices["action-pressure"] == ["-2", "-1", "0", "1", "2"]
    assert root.find(".//Choices[@name='rot-categorization']").get("choice") == "multiple"
    ET.fromstring(label_studio_config("rot"))


def _rot_round(tmp_path):
    tasks = {t["task_id"]: t for t in rot_tasks(SITUATIONS, m=1)}
    answers = write_csv(tmp_path / "rots.csv", ["Input.task_id", "Answer.worker_id", "Answer.rot_1", "Answer.rot_2",
                                                 "Answer.characters_edit"], [
        {"Input.task_id": rot_task_id("web/amitheasshole/aaaa1111"), "Answer.worker_id": "w1",
         "Answer.rot_1": "It's good to be honest.", "Answer.rot_2": "People should be polite to waiters."},
        {"Input.task_id": rot_task_id("web/amitheasshole/bbbb2222"), "Answer.worker_id": "w2",
         "Answer.rot_1": "You should return lost money.", "Answer.characters_edit": "narrator|the owner"},
        {"Input.task_id": "rot-task/web/amitheasshole/nope", "Answer.worker_id": "w1", "Answer.rot_1": "x"},
        {"Input.task_id": rot_task_id("web/amitheasshole/bbbb2222"), "Answer.worker_id": "w3", "Answer.rot_1": ""},
        {"Input.task_id": rot_task_id("web/amitheasshole/bbbb2222"), "Answer.worker_id": "w4",
         "Answer.rot_1": "ok", "Answer.characters_edit": "the owner|narrator"},
    ])
    return import_rots([answers], tasks)


def test_import_rots_assigns_rot_ids_and_sets_rejects_aside(tmp_path):
    result = _rot_round(tmp_path)
    assert len(result.accepted) == 3
    ids = [r["rot-id"] for r in result.accepted]
    assert ids[0].startswith("rot/web/amitheasshole/aaaa1111/") and ids[0].endswith("/w1/1") and ids[1].endswith("/w1/2")
    assert result.accepted[2]["characters"] == "narrator|the owner" and result.accepted[2]["n-characters"] == 2
    assert result.reasons == {"bad_characters": 1, "no_rot": 1, "unknown_task_id": 1}
    assert {r.line for r in result.rejects} == {4, 5, 6}
    assert _rot_round(tmp_path).accepted == result.accepted  # ids are deterministic


def test_import_breakdowns_assembles_valid_25_column_rows(tmp_path):
    rots = _rot_round(tmp_path).accepted
    tasks = {t["task_id"]: t for t in breakdown_tasks(rots, m=3)}
    first = breakdown_task_id(rots[0]["rot-id"])
    header = ["task_id", "worker_id"] + list(GOOD)
    answers = [
        {"task_id": first, "worker_id": "b1", **GOOD},
        {"task_id": first, "worker_id": "b2", **GOOD, "rot-agree": "4", "rot-categorization": "advice, social-norms"},
        {"task_id": first, "worker_id": "b3", **GOOD, "rot-agree": "9"},  # out of range
        {"task_id": first, "worker_id": "b4", **GOOD, "action-char-involved": "char-3"},  # 3 characters: 0..2
        {"task_id": "breakdown-task/rot/none/x/w/1", "worker_id": "b1", **GOOD},  # unknown task
        {"task_id": first, "worker_id": "b1", **GOOD},  # duplicate answer
        {"task_id": breakdown_task_id(rots[2]["rot-id"]), "worker_id": "machine:hf:m", **GOOD,
         "rot-char-targeting": "char-0"},
    ]
    path = write_csv(tmp_path / "bd.csv", header, answers)
    result = import_breakdowns([path], tasks)
    assert result.reasons == {"bad_value": 2, "duplicate_answer": 1, "machine_made": 1, "unknown_task_id": 1}
    bad = {r.line: r for r in result.rejects}
    assert bad[4].problems[0]["column"] == "rot-agree" and "0..4" in bad[4].problems[0]["allowed"]
    assert "char index beyond n-characters=3" in str(bad[5])
    assert len(result.accepted) == 2
    assert all(list(r) == list(COLUMNS) or set(r) == set(COLUMNS) for r in result.accepted)
    assert result.accepted[1]["rot-categorization"] == "social-norms|advice"  # schema order, "," accepted
    assert {r["m"] for r in result.accepted} == {"2"}  # accepted breakdowns of that RoT
    out = tmp_path / "annotations.tsv"
    from corpora.socialchem.files import write_tsv

    write_tsv(str(out), result.accepted)
    assert validate_file(str(out)).ok
    allowed = import_breakdowns([path], tasks, allow_machine=True)
    assert allowed.counts["machine_made_rows"] == 1


def test_label_studio_export_and_jsonl_are_read(tmp_path):
    rots = _rot_round(tmp_path).accepted
    tasks = {t["task_id"]: t for t in breakdown_tasks(rots, m=1)}
    tid = breakdown_task_id(rots[0]["rot-id"])
    result = [{"from_name": k, "type": "choices", "value": {"choices": v.split("|")}} for k, v in GOOD.items()
              if k not in ("rot-judgment", "action")]
    result += [{"from_name": "rot-judgment", "type": "textarea", "value": {"text": ["It's good"]}},
               {"from_name": "action", "type": "textarea", "value": {"text": ["being honest"]}}]
    export = [{"id": 1, "data": tasks[tid], "annotations": [
        {"completed_by": {"email": "ann@example.org"}, "result": result},
        {"completed_by": 7, "was_cancelled": True, "result": []}]}]
    ls = tmp_path / "export.json"
    ls.write_text(json.dumps(export), encoding="utf-8")
    flat = tmp_path / "answers.jsonl"
    flat.write_text(json.dumps({"task_id": tid, "worker_id": "b9", **GOOD}) + "\nnot json\n", encoding="utf-8")
    out = import_breakdowns([str(ls), str(flat)], tasks)
    assert [r["breakdown-worker-id"] for r in out.accepted] == ["ann@example.org", "b9"]
    assert out.accepted[0]["rot-moral-foundations"] == "care-harm|loyalty-betrayal"
    assert out.reasons == {"unreadable": 1} and out.rejects[0].line == 2

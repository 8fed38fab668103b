"""Completed tasks in: validate every answer and assemble RoTs and 25-column rows.

Accepted files: a crowdsourcing platform's results CSV (``Input.``/``Answer.`` prefixes are
stripped), flat JSONL (one answer per line) and a Label Studio JSON export (tasks with their
``annotations``). Every answer is checked against the exported tasks (its ``task_id`` must
exist) and against the schema; an answer that fails is set aside in ``rejects/`` (the rejects
layout of every job: ``Reject.to_row``) with its file, line, column, value and the allowed values,
and counted by reason. Nothing is
dropped without a record.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from corpora.socialchem.files import open_text, read_jsonl
from corpora.socialchem.schema import (
    BREAKDOWN_TEXT,
    DIMENSIONS,
    MAX_CHAR_INDEX,
    MULTI_SEP,
    NARRATOR,
    SCHEMA,
    row_errors,
)
from corpora.socialchem.tasks import BREAKDOWN_KIND, MAX_ROTS, ROT_FIELDS, ROT_KIND

MACHINE_PREFIX = "machine:"
_PREFIXES = ("Input.", "Answer.")
MAX_FIELD_CHARS = 2000
IMPORT_STAGE = "import"  # the stage of import-annotations' rejects


@dataclass
class Reject:
    """An answer set aside: where it is, whose it is, and every problem found in it."""

    file: str
    line: int | str
    reason: str
    task_id: str = ""
    worker_id: str = ""
    problems: list[dict] = field(default_factory=list)

    def __str__(self) -> str:
        where = f"{self.file.rstrip('/').rsplit('/', 1)[-1]} line {self.line}"
        if not self.problems:
            return f"{where}: {self.reason} (task {self.task_id!r}, worker {self.worker_id!r})"
        parts = [f"column {p['column']!r}: value {p['value']!r}: {p['reason']}" +
                 (f" (allowed: {p['allowed']})" if p.get("allowed") else "") for p in self.problems]
        return f"{where}: " + "; ".join(parts)

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "reason": self.reason, "task_id": self.task_id,
                "worker_id": self.worker_id, "problems": self.problems}

    def to_row(self) -> dict[str, Any]:
        """A row of the rejects every job writes (pipeline.schema.REJECTS_SCHEMA): the task id as ``id``,
        stage ``import``; line, task, worker and problems (column, value, reason, allowed) as JSON
        in ``detail``."""
        detail = {"line": self.line, "task_id": self.task_id, "worker_id": self.worker_id, "problems": self.problems}
        return {"id": self.task_id or None, "stage": IMPORT_STAGE, "reason": self.reason, "url": None,
                "source_file": self.file, "detail": json.dumps(detail, ensure_ascii=False), "text": None}


@dataclass
class ImportResult:
    """What an import produced: accepted records, rejects, and counts."""

    kind: str
    accepted: list[dict] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    answers: int = 0
    counts: Counter = field(default_factory=Counter)

    @property
    def reasons(self) -> dict[str, int]:
        return dict(sorted(Counter(r.reason for r in self.rejects).items()))

    def summary(self) -> dict:
        return {"kind": self.kind, "answers": self.answers, "accepted_answers": self.answers - len(self.rejects),
                "rejected_answers": len(self.rejects), "rejects_by_reason": self.reasons,
                "records_out": len(self.accepted), "counts": dict(sorted(self.counts.items()))}


# -- reading answer files --------------------------------------------------------------------

def _flat(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return MULTI_SEP.join(_flat(v) for v in value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value).strip()


def _clean_keys(record: dict) -> dict[str, str]:
    out = {}
    for key, value in record.items():
        for prefix in _PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix):]
        out[key] = _flat(value)
    return out


def _label_studio_answers(task: dict) -> Iterator[dict]:
    data = task.get("data", {})
    for ann in task.get("annotations") or []:
        if ann.get("was_cancelled"):
            continue
        who = ann.get("completed_by")
        if isinstance(who, dict):
            who = who.get("email") or who.get("id")
        record = {"task_id": data.get("task_id", ""), "worker_id": _flat(who)}
        for res in ann.get("result") or []:
            value = res.get("value") or {}
            if "choices" in value:
                record[res.get("from_name", "")] = MULTI_SEP.join(value["choices"])
            elif "text" in value:
                text = value["text"]
                record[res.get("from_name", "")] = " ".join(text) if isinstance(text, list) else str(text)
        yield record


def read_answers(path: str) -> Iterator[tuple[int | str, dict[str, str] | None, str]]:
    """(line or position, answer, error) for every answer in a CSV, JSONL or Label Studio JSON file."""
    if path.endswith(".csv"):
        with open_text(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            for record in reader:
                if None in record:  # more cells than header columns
                    yield reader.line_num, None, f"{len(record[None])} cell(s) beyond the header's columns"
                    continue
                yield reader.line_num, _clean_keys(record), ""
        return
    if path.endswith(".json"):
        with open_text(path) as f:
            try:
                tasks = json.load(f)
            except ValueError as exc:
                yield 1, None, f"not JSON ({exc})"
                return
        if not isinstance(tasks, list):
            yield 1, None, "expected a Label Studio export (a JSON list of tasks)"
            return
        for i, task in enumerate(tasks):
            for j, record in enumerate(_label_studio_answers(task) if isinstance(task, dict) else []):
                yield f"task {i + 1} annotation {j + 1}", _clean_keys(record), ""
        return
    for line, obj, error in read_jsonl(path):
        if error:
            yield line, None, error
        elif "annotations" in obj and "data" in obj:
            for j, record in enumerate(_label_studio_answers(obj)):
                yield f"{line} annotation {j + 1}", _clean_keys(record), ""
        else:
            yield line, _clean_keys(obj), ""


# -- checks shared by both kinds -------------------------------------------------------------

def _bad_id(value: str) -> str | None:
    if not value:
        return "empty"
    if any(c in value for c in "\t\n\r/|"):
        return "contains a tab, newline, '/' or '|'"
    return None


def _common(path: str, line, record: dict | None, error: str, tasks: dict[str, dict], kind: str,
            seen: set, allow_machine: bool) -> Reject | None:
    if record is None:
        return Reject(path, line, "unreadable", problems=[{"column": None, "value": None, "reason": error}])
    task_id, worker = record.get("task_id", ""), record.get("worker_id", "")
    if not task_id:
        return Reject(path, line, "missing_task_id", worker_id=worker)
    task = tasks.get(task_id)
    if task is None:
        return Reject(path, line, "unknown_task_id", task_id, worker,
                      [{"column": "task_id", "value": task_id, "reason": "no exported task has this id",
                        "allowed": "a task_id from the exported tasks file"}])
    if task.get("kind") != kind:
        return Reject(path, line, "wrong_task_kind", task_id, worker,
                      [{"column": "task_id", "value": task_id, "reason": f"a {task.get('kind')} task",
                        "allowed": f"a {kind} task"}])
    problem = _bad_id(worker)
    if problem:
        return Reject(path, line, "bad_worker_id", task_id, worker,
                      [{"column": "worker_id", "value": worker, "reason": problem, "allowed": "a worker id"}])
    if worker.startswith(MACHINE_PREFIX) and not allow_machine:
        return Reject(path, line, "machine_made", task_id, worker,
                      [{"column": "worker_id", "value": worker, "reason": "machine-made answer",
                        "allowed": "human answers (pass --allow-machine to import proposals, kept marked)"}])
    too_long = [k for k, v in record.items() if len(v) > MAX_FIELD_CHARS]
    if too_long:
        return Reject(path, line, "value_too_long", task_id, worker,
                      [{"column": k, "value": record[k][:60] + "...", "reason": f"over {MAX_FIELD_CHARS} characters"}
                       for k in too_long])
    if (task_id, worker) in seen:
        return Reject(path, line, "duplicate_answer", task_id, worker,
                      [{"column": "worker_id", "value": worker, "reason": "this worker already answered this task"}])
    seen.add((task_id, worker))
    return None


def _assignment(task_id: str, worker: str) -> str:
    digest = hashlib.blake2b(f"{task_id}\x00{worker}".encode(), digest_size=15).digest()
    return base64.b32encode(digest).decode("ascii")


def _characters(value: str) -> tuple[list[str] | None, str]:
    chars = [c.strip() for c in value.split(MULTI_SEP)]
    if not chars or chars[0] != NARRATOR:
        return None, f"the first character must be {NARRATOR!r}"
    if any(not c for c in chars):
        return None, "an empty character"
    if len(chars) > MAX_CHAR_INDEX + 1:
        return None, f"at most {MAX_CHAR_INDEX + 1} characters (char-0..char-{MAX_CHAR_INDEX})"
    return chars, ""


def _checked_answers(paths: list[str], tasks: dict[str, dict], kind: str, allow_machine: bool,
                     result: ImportResult) -> Iterator[tuple[str, Any, dict, dict, str]]:
    """(path, line, record, task, worker) of every answer that passes the checks shared by both
    kinds; each answer is counted in ``result.answers``, the others go to ``result.rejects``."""
    seen: set = set()
    for path in paths:
        for line, record, error in read_answers(path):
            result.answers += 1
            reject = _common(path, line, record, error, tasks, kind, seen, allow_machine)
            if reject:
                result.rejects.append(reject)
                continue
            yield path, line, record, tasks[record["task_id"]], record["worker_id"]


# -- RoT-writing answers ---------------------------------------------------------------------

def import_rots(paths: list[str], tasks: dict[str, dict], allow_machine: bool = False) -> ImportResult:
    """RoT-writing answers -> RoT records (``rots.jsonl``): one per written RoT, with its rot-id."""
    result = ImportResult(ROT_KIND)
    for path, line, record, task, worker in _checked_answers(paths, tasks, ROT_KIND, allow_machine, result):
        texts = [(i, " ".join(record.get(f, "").split())) for i, f in enumerate(ROT_FIELDS, 1)]
        texts = [(i, t) for i, t in texts if t]
        if not texts:
            result.rejects.append(Reject(path, line, "no_rot", task["task_id"], worker,
                                         [{"column": "rot_1", "value": "", "reason": "no RoT written",
                                           "allowed": f"1 to {MAX_ROTS} RoTs in {', '.join(ROT_FIELDS)}"}]))
            continue
        edited = record.get("characters_edit") or ""
        chars, problem = _characters(edited or task["characters"])
        if chars is None:
            result.rejects.append(Reject(path, line, "bad_characters", task["task_id"], worker,
                                         [{"column": "characters_edit" if edited else "characters",
                                           "value": edited or task["characters"], "reason": problem,
                                           "allowed": "narrator|character|... (at most 6)"}]))
            continue
        assignment = record.get("assignment_id") or _assignment(task["task_id"], worker)
        for n, text in texts:
            result.accepted.append({
                "rot-id": f"rot/{task['situation-short-id']}/{assignment}/{worker}/{n}", "rot": text,
                "rot-worker-id": worker, "situation": task["situation"],
                "situation-short-id": task["situation-short-id"], "area": task["area"],
                "characters": MULTI_SEP.join(chars), "n-characters": len(chars),
                "machine_made": worker.startswith(MACHINE_PREFIX),
            })
        result.counts["rots"] += len(texts)
    return result


# -- breakdown answers -----------------------------------------------------------------------

BREAKDOWN_ANSWERS: tuple[str, ...] = BREAKDOWN_TEXT + DIMENSIONS


def import_breakdowns(paths: list[str], tasks: dict[str, dict], allow_machine: bool = False) -> ImportResult:
    """Breakdown answers -> 25-column rows (cells), split ``none`` until the split step."""
    result = ImportResult(BREAKDOWN_KIND)
    answers_per_task: Counter = Counter()
    for path, line, record, task, worker in _checked_answers(paths, tasks, BREAKDOWN_KIND, allow_machine, result):
        chars = task["characters"]
        cells = {
            "area": task["area"], "m": "1", "split": "none", "situation": task["situation"],
            "situation-short-id": task["situation-short-id"], "rot": task["rot"], "rot-id": task["rot-id"],
            "rot-worker-id": task["rot-worker-id"], "breakdown-worker-id": worker,
            "n-characters": str(chars.count(MULTI_SEP) + 1), "characters": chars,
        }
        for name in BREAKDOWN_ANSWERS:
            value = " ".join(record.get(name, "").split())
            if SCHEMA[name].kind == "multi" and value:
                labels = [v.strip() for v in value.replace(",", MULTI_SEP).split(MULTI_SEP)]
                known = [v for v in SCHEMA[name].values if v in labels]
                value = MULTI_SEP.join(known + [v for v in labels if v not in known])
            cells[name] = value
        if cells["rot-bad"] == "":
            cells["rot-bad"] = "0"  # not marked as bad
        problems = row_errors(cells)
        if problems:
            result.rejects.append(Reject(path, line, "bad_value", task["task_id"], worker, [
                {"column": c, "value": v, "reason": r, "allowed": SCHEMA[c].allowed()} for c, v, r in problems]))
            continue
        answers_per_task[task["task_id"]] += 1
        if answers_per_task[task["task_id"]] > int(task["m"]):
            result.counts["answers_beyond_m"] += 1
        if worker.startswith(MACHINE_PREFIX):
            result.counts["machine_made_rows"] += 1
        result.accepted.append(cells)
    per_rot = Counter(cells["rot-id"] for cells in result.accepted)
    for cells in result.accepted:  # m: how many annotators broke this RoT down (accepted answers)
        cells["m"] = str(per_rot[cells["rot-id"]])
    result.counts["rots_broken_down"] = len(answers_per_task)
    result.counts["rots_without_answers"] = sum(
        1 for t in tasks.values() if t.get("kind") == BREAKDOWN_KIND and t["task_id"] not in answers_per_task)
    return result

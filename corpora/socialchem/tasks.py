"""Annotation tasks out: RoT-writing tasks per situation and breakdown tasks per RoT.

Each task is one item (a situation, or a RoT) with ``m``: how many annotators should answer
it (Label Studio: the project's overlap; a crowdsourcing platform: assignments per item).
Tasks are written three ways from the same records:

* ``<kind>_tasks.csv``: a flat CSV for a crowdsourcing platform's upload (columns become the
  template's ``${variables}``);
* ``<kind>_tasks.jsonl``: the tasks, one Label Studio ``{"id", "data": {...}}`` per line (what
  ``import-annotations --tasks`` reads), and ``<kind>_tasks.label_studio.json``, the same as
  one JSON list, the form Label Studio's import takes;
* ``<kind>_label_config.xml``: a Label Studio labeling config whose choices are exactly the
  schema's allowed values, so answers come back in the format the importer checks.

Characters are prefilled, narrator first, from the situation text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from xml.sax.saxutils import quoteattr

from corpora.socialchem.files import read_jsonl, write_csv, write_json, write_jsonl, write_text_atomic
from corpora.socialchem.schema import CHAR_VALUES, DIMENSIONS, MAX_CHAR_INDEX, MULTI, MULTI_SEP, SCHEMA
from corpora.socialchem.situations import extract_characters
from pipeline import fileio

ROT_KIND = "rot"
BREAKDOWN_KIND = "breakdown"
MAX_ROTS = 5
ROT_FIELDS = [f"rot_{i}" for i in range(1, MAX_ROTS + 1)]

ROT_TASK_COLUMNS = ["task_id", "kind", "situation-short-id", "area", "situation", "characters", "m", "min_rots",
                    "max_rots", "machine_proposals"]
BREAKDOWN_TASK_COLUMNS = ["task_id", "kind", "rot-id", "rot", "rot-worker-id", "situation-short-id", "area", "situation",
                          "characters", "character_choices", "m", "machine_proposals"]

ROT_INSTRUCTIONS = ("Write 1 to 5 rules of thumb (RoTs): short, general statements of a social or moral norm "
                    "that the situation brings up, each with a judgment and an action (\"It's bad to ...\").")
BREAKDOWN_INSTRUCTIONS = ("Break the rule of thumb down: its judgment and action parts, then answer the 12 "
                          "questions. Leave a question unanswered when it does not apply.")


def rot_task_id(situation_short_id: str) -> str:
    return f"rot-task/{situation_short_id}"


def breakdown_task_id(rot_id: str) -> str:
    return f"breakdown-task/{rot_id}"


def character_choices(characters: list[str]) -> str:
    """``char-0: narrator; char-1: my boyfriend`` (what a ``char-N`` answer refers to)."""
    return "; ".join(f"char-{i}: {c}" for i, c in enumerate(characters[:MAX_CHAR_INDEX + 1]))


def rot_tasks(situations: Iterable[dict], m: int, proposals: dict[str, list[str]] | None = None) -> list[dict]:
    """One RoT-writing task per situation (input order kept, duplicates of an id skipped)."""
    out, seen = [], set()
    for s in situations:
        sid = s["situation_short_id"]
        if sid in seen:
            continue
        seen.add(sid)
        chars = s.get("characters") or extract_characters(s["situation"])
        out.append({
            "task_id": rot_task_id(sid), "kind": ROT_KIND, "situation-short-id": sid, "area": s["area"],
            "situation": s["situation"], "characters": MULTI_SEP.join(chars), "m": m, "min_rots": 1,
            "max_rots": MAX_ROTS, "machine_proposals": _proposals(proposals, sid),
        })
    return out


def breakdown_tasks(rots: Iterable[dict], m: int, proposals: dict[str, list[str]] | None = None) -> list[dict]:
    """One breakdown task per RoT (from ``rots.jsonl`` written by the RoT import)."""
    out, seen = [], set()
    for r in rots:
        if r["rot-id"] in seen:
            continue
        seen.add(r["rot-id"])
        chars = r["characters"].split(MULTI_SEP)
        out.append({
            "task_id": breakdown_task_id(r["rot-id"]), "kind": BREAKDOWN_KIND, "rot-id": r["rot-id"], "rot": r["rot"],
            "rot-worker-id": r["rot-worker-id"],
            "situation-short-id": r["situation-short-id"], "area": r["area"], "situation": r["situation"],
            "characters": r["characters"], "character_choices": character_choices(chars), "m": m,
            "machine_proposals": _proposals(proposals, r["rot-id"]),
        })
    return out


def _proposals(proposals: dict[str, list[str]] | None, key: str) -> str:
    """Machine-made suggestions shown beside the task, labelled as such (never as answers)."""
    if not proposals or key not in proposals:
        return ""
    return "MACHINE-MADE SUGGESTIONS (not human labels): " + " || ".join(proposals[key])


def label_studio_config(kind: str) -> str:
    """A Label Studio labeling config for one task kind; choice values are the schema's values."""
    if kind == ROT_KIND:
        body = ['  <Header value="Situation"/>', '  <Text name="situation" value="$situation"/>',
                '  <Header value="Characters (narrator first)"/>', '  <Text name="characters" value="$characters"/>',
                f"  <Header value={quoteattr(ROT_INSTRUCTIONS)}/>"]
        for i, name in enumerate(ROT_FIELDS, 1):
            required = "true" if i == 1 else "false"
            body.append(f'  <TextArea name="{name}" toName="situation" placeholder="RoT {i}" maxSubmissions="1" '
                        f'required="{required}"/>')
        body.append('  <TextArea name="characters_edit" toName="situation" placeholder="characters, |-separated, '
                    'narrator first (leave empty to keep the prefilled list)" maxSubmissions="1"/>')
    elif kind == BREAKDOWN_KIND:
        body = ['  <Header value="Situation"/>', '  <Text name="situation" value="$situation"/>',
                '  <Header value="Rule of thumb"/>', '  <Text name="rot" value="$rot"/>',
                '  <Text name="character_choices" value="$character_choices"/>',
                f"  <Header value={quoteattr(BREAKDOWN_INSTRUCTIONS)}/>",
                '  <TextArea name="rot-judgment" toName="rot" placeholder="judgment part" maxSubmissions="1"/>',
                '  <TextArea name="action" toName="rot" placeholder="action part" maxSubmissions="1"/>',
                '  <Choices name="rot-bad" toName="rot" choice="single"><Choice value="0" alias="0"/>'
                '<Choice value="1" alias="1"/></Choices>']
        for dim in DIMENSIONS:
            if dim == "rot-bad":
                continue
            col = SCHEMA[dim]
            values = [str(v) for v in (range(col.lo, col.hi + 1) if col.kind == "int" else
                                       (CHAR_VALUES if col.kind == "char" else col.values))]
            choice = "multiple" if col.kind == MULTI else "single"
            choices = "".join(f"<Choice value={quoteattr(v)}/>" for v in values)
            body.append(f'  <Header value="{dim}"/>')
            body.append(f'  <Choices name="{dim}" toName="rot" choice="{choice}">{choices}</Choices>')
    else:
        raise ValueError(f"unknown task kind {kind!r} (rot or breakdown)")
    return "<View>\n" + "\n".join(body) + "\n</View>\n"


def write_tasks(tasks: list[dict], kind: str, out_dir: str,
                before_manifest: Callable[[dict[str, str]], None] | None = None) -> dict[str, str]:
    """Write CSV, Label Studio JSONL and the labeling config, then (after ``before_manifest``, if
    given, has written what else goes with them) the manifest, last; returns {format: path}."""
    columns = ROT_TASK_COLUMNS if kind == ROT_KIND else BREAKDOWN_TASK_COLUMNS
    paths = {"csv": fileio.join(out_dir, f"{kind}_tasks.csv"),
             "jsonl": fileio.join(out_dir, f"{kind}_tasks.jsonl"),
             "label_studio": fileio.join(out_dir, f"{kind}_tasks.label_studio.json"),
             "label_config": fileio.join(out_dir, f"{kind}_label_config.xml")}
    write_csv(paths["csv"], columns, tasks)
    ls_tasks = [{"id": i + 1, "data": {c: t[c] for c in columns}} for i, t in enumerate(tasks)]
    write_jsonl(paths["jsonl"], ls_tasks)
    write_json(paths["label_studio"], ls_tasks)
    write_text_atomic(paths["label_config"], label_studio_config(kind))
    if before_manifest is not None:
        before_manifest(paths)
    write_json(fileio.join(out_dir, f"{kind}_tasks.manifest.json"),
               {"kind": kind, "tasks": len(tasks), "m": tasks[0]["m"] if tasks else None, "files": paths})
    return paths


def load_tasks(path: str) -> dict[str, dict]:
    """Exported tasks by task id, from a ``*_tasks.jsonl`` (Label Studio form) file."""
    tasks = {}
    for line, obj, error in read_jsonl(path):
        if error:
            raise ValueError(f"{path}:{line}: {error}")
        data = obj.get("data", obj)
        if "task_id" not in data:
            raise ValueError(f"{path}:{line}: no task_id (is this a file written by export-tasks?)")
        tasks[data["task_id"]] = data
    return tasks


def load_situations(path: str) -> list[dict]:
    """Situations from ``situations.jsonl`` (the situations step's output); bad lines raise."""
    out = []
    for line, obj, error in read_jsonl(path):
        if error:
            raise ValueError(f"{path}:{line}: {error}")
        missing = [k for k in ("situation", "situation_short_id", "area") if not obj.get(k)]
        if missing:
            raise ValueError(f"{path}:{line}: missing {', '.join(missing)}")
        out.append(obj)
    return out

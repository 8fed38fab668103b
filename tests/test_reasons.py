"""The drop-reason registry (pipeline/reasons.py): every reason written in the code is registered,
with one spelling, and every registered reason is still written somewhere."""

from __future__ import annotations

import ast
from pathlib import Path

from pipeline.reasons import REASONS, meaning, registered

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "corpora", "tokenizer")
#: call -> the position of its reason argument (Drop(stage, reason), BadLine(reason), drop(reason),
#: Reject(file, line, reason) of socialchem's annotation import, ...)
REASON_ARG = {"Drop": 1, "BadLine": 0, "drop": 0, "MarkupError": 0, "FileDone": 1, "Reject": 2}
REASON_KEYWORDS = ("reason", "status")
NOT_A_REASON = {"ok", ""}  # FileDone's status when the file was read whole


def _sources():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def _constants() -> dict[str, str]:
    """Module-level UPPER_CASE names bound to a string, across the code (names used as reasons)."""
    out: dict[str, str] = {}
    for _, tree in _sources():
        for node in tree.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id.isupper() and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)):
                out[node.targets[0].id] = node.value.value
    return out


def _spelled(value: ast.expr, constants: dict[str, str]) -> str | None:
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value
    if isinstance(value, ast.JoinedStr):  # f"dup_{n}_gram" -> the family "dup_{}_gram"
        return "".join(p.value if isinstance(p, ast.Constant) else "{}" for p in value.values)
    name = value.id if isinstance(value, ast.Name) else value.attr if isinstance(value, ast.Attribute) else None
    return constants.get(name) if name else None


def written_reasons() -> dict[str, str]:
    """reason -> a file writing it, for every reason spelled out at a Drop, BadLine, drop, MarkupError
    or FileDone call (a literal, an f-string family, or a module constant)."""
    constants = _constants()
    found: dict[str, str] = {}
    for path, tree in _sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name not in REASON_ARG:
                continue
            values = node.args[REASON_ARG[name]:REASON_ARG[name] + 1]
            values += [kw.value for kw in node.keywords if kw.arg in REASON_KEYWORDS]
            for value in values:
                reason = _spelled(value, constants)
                if reason is not None and reason not in NOT_A_REASON:
                    found.setdefault(reason, str(path.relative_to(ROOT)))
    return found


def test_every_reason_written_in_the_code_is_registered():
    found = written_reasons()
    assert len(found) > 60  # the scan sees the code (a broken scan must not pass quietly)
    missing = {r: where for r, where in found.items() if r not in REASONS and registered(r) is None}
    assert not missing, f"register these in pipeline/reasons.py: {missing}"


def test_every_registered_reason_is_still_written_somewhere():
    text = "\n".join(path.read_text(encoding="utf-8") for package in PACKAGES
                     for path in (ROOT / package).rglob("*.py") if path.name != "reasons.py")
    unused = [r for r in REASONS if "{}" not in r and f'"{r}"' not in text and f"'{r}'" not in text]
    assert not unused, f"no code writes these registered reasons: {unused}"


def test_families_and_meanings():
    assert registered("dup_7_gram") == "dup_{}_gram" and registered("no_rot_text") == "no_{}_text"
    assert registered("dup_seven_gram!") is None and registered("near_dupe") is None
    assert meaning("near_duplicate").startswith("in a MinHash cluster")
    assert all(REASONS.values()) and all(r == r.lower() and " " not in r for r in REASONS)

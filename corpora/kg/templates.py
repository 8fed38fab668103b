"""Relation templates: a YAML or JSON file mapping a relation (by id such as ``P19`` or by its
label) to one or more sentence templates with ``{subject}`` and ``{object}`` slots.

File layout (see ``corpora/kg/templates/wikidata.yaml``)::

    lang: en                     # the language the templates write (default en): the rows' lang tag
    qualifiers:                  # how a statement's qualifiers read, after the fact
      P580: {label: start time, text: "from {value}"}    # or just the text: P580: "from {value}"
    relations:
      P19:
        label: place of birth    # used in the generic fallback and in kelm.jsonl
        text: "{subject} was born in {object}"   # or a list: one is picked per subgraph
        past: "{subject} was born in {object}"   # optional: used when the subject has died/ended
        relative: true           # may become a relative clause ("X, who was born in Y, ...")
        order: 21                # clauses are verbalized by ascending order (default 50)
        event: birth             # clauses of one event may merge: "was born on 11 March 1952 in Cambridge"
      P172:
        text: "{subject} belongs to the ethnic group {object}"
        only: [person]           # for other subjects (a country): their own text below, else the generic pattern
        place: "{subject} is home to the ethnic group {object}"

Subject kinds (``subgraphs.subject_kind``): person, place, organisation, work, thing.

Slots: ``{subject}``, ``{object}``, ``{object|when}`` (a date with its preposition: "on 11
March 1952", "in 1952"), ``{object|a}`` (with "a"/"an"); qualifier templates use
``{value}`` and ``{value|when}``. A template whose text starts with ``{subject} `` can be
joined with others of the same subject ("X was born in Y and died in Z"); any other one
is a sentence of its own. A slot name that does not exist is an error naming the template.
"""

from __future__ import annotations

import json
import os
import re
import string
from dataclasses import dataclass, field

RELATION_SLOTS = {"subject", "object", "object|when", "object|a"}
SUBJECT_KINDS = ("person", "place", "organisation", "work", "thing")
RELATION_KEYS = {"label", "text", "past", "relative", "order", "event", "only", *SUBJECT_KINDS}
QUALIFIER_SLOTS = {"value", "value|when"}
DEFAULT_ORDER = 50
BUNDLED = os.path.join(os.path.dirname(__file__), "templates", "wikidata.yaml")


class TemplateError(ValueError):
    """A template file that cannot be used, with the template and the fix named."""


@dataclass(frozen=True)
class RelationTemplate:
    relation: str
    label: str | None
    texts: tuple[str, ...]
    past: tuple[str, ...] = ()
    relative: bool = False
    order: int = DEFAULT_ORDER
    event: str | None = None  # clauses of the same event may be merged (birth date and birth place)
    only: tuple[str, ...] = ()  # subject kinds ``texts`` apply to (empty: all)
    by_kind: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False, compare=False)

    def texts_for(self, kind: str, past: bool) -> tuple[str, ...]:
        """The texts for a subject of this kind (its own, the past ones, the default), or () when the
        template does not apply to such a subject."""
        if kind in self.by_kind:
            return self.by_kind[kind]
        if self.only and kind not in self.only:
            return ()
        return self.past if past and self.past else self.texts


@dataclass
class TemplateSet:
    """Templates by relation id and by label (lower case), plus qualifier phrases."""

    relations: dict[str, RelationTemplate] = field(default_factory=dict)
    by_label: dict[str, RelationTemplate] = field(default_factory=dict)
    qualifiers: dict[str, str] = field(default_factory=dict)
    qualifier_labels: dict[str, str] = field(default_factory=dict)
    source: str = ""
    lang: str = "en"  # the language the templates write (the corpus rows are tagged with it)

    def find(self, relation: str, label: str | None = None) -> RelationTemplate | None:
        """The template of a relation, by id first, then by its label."""
        t = self.relations.get(relation)
        if t is None and label:
            t = self.by_label.get(label.strip().lower())
        return t

    def label_of(self, relation: str) -> str | None:
        t = self.relations.get(relation)
        return t.label if t and t.label else self.qualifier_labels.get(relation)


def slots(text: str) -> list[str]:
    """The slot names used by a template text (``{object|when}`` -> ``object|when``)."""
    try:
        return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise TemplateError(f"bad braces ({exc})") from exc


def _check_text(where: str, text: str, allowed: set[str], required: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise TemplateError(f"{where}: a template must be a non-empty string")
    names = slots(text)
    for name in names:
        if name not in allowed:
            raise TemplateError(f"{where}: template {text!r} has the slot {{{name}}}, which does not exist "
                                f"(known slots: {', '.join('{' + s + '}' for s in sorted(allowed))})")
    if not any(n.split("|")[0] == required for n in names):
        raise TemplateError(f"{where}: template {text!r} has no {{{required}}} slot (the value would be lost)")
    return text.strip()


def _texts(where: str, value, allowed: set[str]) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise TemplateError(f"{where}: needs at least one template")
    return tuple(_check_text(where, t, allowed, "object") for t in items)


def parse_templates(obj: dict, source: str = "<templates>") -> TemplateSet:
    """A TemplateSet from the parsed file; TemplateError names the bad entry."""
    if not isinstance(obj, dict) or not isinstance(obj.get("relations"), dict):
        raise TemplateError(f"{source}: expected a mapping with a 'relations' section")
    out = TemplateSet(source=source, lang=str(obj.get("lang") or "en").lower())
    for rel, q in (obj.get("qualifiers") or {}).items():
        where = f"{source}: qualifier {rel}"
        if isinstance(q, dict):
            if "text" not in q or set(q) - {"text", "label"}:
                raise TemplateError(f"{where}: expected a template string or a mapping with 'text' (and 'label')")
            if q.get("label"):
                out.qualifier_labels[str(rel)] = str(q["label"])
            q = q["text"]
        out.qualifiers[str(rel)] = _check_text(where, q, QUALIFIER_SLOTS, "value")
    for rel, entry in obj["relations"].items():
        rel = str(rel)
        where = f"{source}: relation {rel}"
        if isinstance(entry, str | list):
            entry = {"text": entry}
        if not isinstance(entry, dict) or "text" not in entry:
            raise TemplateError(f"{where}: expected a template string or a mapping with 'text'")
        unknown = set(entry) - RELATION_KEYS
        if unknown:
            raise TemplateError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} "
                                f"(known: {', '.join(sorted(RELATION_KEYS))})")
        only = entry.get("only") or []
        only = [only] if isinstance(only, str) else only
        if not isinstance(only, list) or set(only) - set(SUBJECT_KINDS):
            raise TemplateError(f"{where}: 'only' lists subject kinds ({', '.join(SUBJECT_KINDS)})")
        t = RelationTemplate(
            relation=rel, label=entry.get("label"), texts=_texts(where, entry["text"], RELATION_SLOTS),
            past=_texts(where + " (past)", entry["past"], RELATION_SLOTS) if entry.get("past") else (),
            relative=bool(entry.get("relative", False)), order=int(entry.get("order", DEFAULT_ORDER)),
            event=entry.get("event"), only=tuple(only),
            by_kind={k: _texts(f"{where} ({k})", entry[k], RELATION_SLOTS) for k in SUBJECT_KINDS if k in entry},
        )
        if t.relative and not all(x.startswith("{subject} ") for x in t.texts):
            raise TemplateError(f"{where}: relative: true needs templates that start with '{{subject}} '")
        out.relations[rel] = t
        if not re.match(r"^[QP]\d+$", rel):  # a key that is a label, e.g. "birth place"
            out.by_label[rel.lower()] = t
        if t.label:
            out.by_label.setdefault(t.label.lower(), t)
    return out


def load_templates(path: str | None = None) -> TemplateSet:
    """Load a YAML or JSON template file (default: the bundled Wikidata templates)."""
    path = path or BUNDLED
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise TemplateError(f"--templates {path}: cannot read it ({exc})") from exc
    if path.endswith(".json"):
        try:
            obj = json.loads(text)
        except ValueError as exc:
            raise TemplateError(f"--templates {path}: not valid JSON ({exc})") from exc
    else:
        import yaml

        try:
            obj = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise TemplateError(f"--templates {path}: not valid YAML ({exc})") from exc
    return parse_templates(obj, path)

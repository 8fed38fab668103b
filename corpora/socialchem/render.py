"""Rows to attribute-conditioned training text (the paper's "Neural Norm Transformer" format).

RoT mode:    ``<situation> [attrs] <categories> <moral foundations> <rot-agree> [rot] <rot>``
Action mode: ``<situation> [attrs] <agency> <judgment> <action-agree> <legal> <pressure>
<hypothetical> [action] <action>``

Attributes are the tokenizer's SOCIAL-CHEM special tokens (:mod:`tokenizer.special_tokens`:
numeric buckets as words, ``<rot-agree:most>``); multi-valued attributes are sorted; an
unanswered attribute is left out. Markers and attributes are listed in the document's
``meta["special_spans"]`` (:mod:`pipeline.markup`), so the tokenize job puts in their ids (a
situation that merely spells ``[rot]`` stays text); it appends the end-of-document token, so a
document is exactly one training example. Rows with ``rot-bad`` = 1 are excluded by default.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from pipeline.ids import make_doc_id
from pipeline.markup import SPECIAL_SPANS, Marker, join_with_markers
from pipeline.records import Document, Drop
from tokenizer.special_tokens import socialchem_token

SOURCE = "socialchem"
MODES = ("rot", "action")
ROT_ATTRIBUTES = ("rot-categorization", "rot-moral-foundations", "rot-agree")
ACTION_ATTRIBUTES = ("action-agency", "action-moral-judgment", "action-agree", "action-legal", "action-pressure",
                     "action-hypothetical")
_MULTI = ("rot-categorization", "rot-moral-foundations")
ALL_SPLITS = ("train", "dev", "test", "dev-extra", "test-extra", "analysis", "none")
FORMATS = ("corpusforge", "official")


def attribute_tokens(row: dict[str, str], attributes: tuple[str, ...]) -> list[str]:
    """The special tokens of a row's answered attributes, in the format's order."""
    out = []
    for attr in attributes:
        value = row.get(attr, "")
        if not value:
            continue
        if attr in _MULTI:
            out += sorted(socialchem_token(attr, v) for v in value.split("|"))
        else:
            out.append(socialchem_token(attr, value))
    return out


def prompt_text(situation: str, mode: str, tokens: list[str]) -> str:
    """The conditioning part: ``<situation> [attrs] <tokens> [rot]`` (or ``[action]``)."""
    return " ".join([situation.strip(), "[attrs]", *tokens, f"[{mode}]"])


def render_text(row: dict[str, str], mode: str) -> str | None:
    """The training text of one row in one mode; None when the row has no text for that mode."""
    marked = render_marked(row, mode)
    return None if marked is None else marked[0]


def render_marked(row: dict[str, str], mode: str) -> tuple[str, list[list[int]]] | None:
    """The training text of one row in one mode and the spans of its markers and attribute
    tokens (``meta["special_spans"]``, :mod:`pipeline.markup`); None without text for that mode."""
    if mode == "rot":
        target, attrs = row.get("rot", ""), ROT_ATTRIBUTES
    elif mode == "action":
        target, attrs = row.get("action", ""), ACTION_ATTRIBUTES
    else:
        raise ValueError(f"unknown mode {mode!r} (rot, action)")
    target = " ".join(target.split())
    if not target:
        return None
    # = NFC(prompt_text(...) + " " + target): the markers are ASCII and spaces separate the parts
    parts: list[str | Marker] = [unicodedata.normalize("NFC", row["situation"].strip()) + " ", Marker("[attrs]")]
    for token in [*attribute_tokens(row, attrs), f"[{mode}]"]:
        parts += [" ", Marker(token)]
    return join_with_markers([*parts, " " + unicodedata.normalize("NFC", target)])


@dataclass
class RenderConfig:
    """What the render step keeps and how; saved into manifest.json."""

    modes: list[str] = field(default_factory=lambda: list(MODES))
    splits: list[str] = field(default_factory=lambda: ["train"])
    keep_bad: bool = False
    format: str = "corpusforge"  # or "official": SOCIAL-CHEM-101's own (corpora.socialchem.render_official)

    def check(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"--format: unknown {self.format!r} (choose from {', '.join(FORMATS)})")
        bad = [m for m in self.modes if m not in MODES]
        if bad or not self.modes:
            raise ValueError(f"--modes: unknown or empty {bad} (choose from {', '.join(MODES)})")
        bad = [s for s in self.splits if s not in ALL_SPLITS]
        if bad or not self.splits:
            raise ValueError(f"--splits: unknown or empty {bad} (choose from {', '.join(ALL_SPLITS)} or 'all')")


class SelectRow:
    """Pure step: keep rows of the chosen splits, without ``rot-bad`` = 1 unless asked."""

    def __init__(self, config: RenderConfig) -> None:
        self.splits = set(config.splits)
        self.keep_bad = config.keep_bad

    def __call__(self, item: tuple[int, dict[str, str]]):
        line, row = item
        if row["split"] not in self.splits:
            return Drop("select", "split_not_selected", id=row["rot-id"], detail=f"line {line}: split {row['split']}")
        if row["rot-bad"] == "1" and not self.keep_bad:
            return Drop("select", "rot_bad", id=row["rot-id"], detail=f"line {line}")
        return item


class RenderRow:
    """Pure step: (row, mode) -> a corpus Document of source ``socialchem``, or a Drop."""

    def __call__(self, item: tuple[tuple[int, dict[str, str]], str]):
        (line, row), mode = item
        marked = render_marked(row, mode)
        if marked is None:
            return Drop("render", f"no_{mode}_text", id=row["rot-id"], detail=f"line {line}")
        text, spans = marked
        key = f"{mode}\x00{row['rot-id']}\x00{row['breakdown-worker-id']}"
        meta = {"mode": mode, "rot-id": row["rot-id"], "situation-short-id": row["situation-short-id"],
                "area": row["area"], "split": row["split"], "breakdown-worker-id": row["breakdown-worker-id"],
                "m": int(row["m"]), SPECIAL_SPANS: spans}
        return Document(id=make_doc_id(SOURCE, key), text=text, source=SOURCE, url=None, lang="en", lang_score=1.0,
                        meta=meta)

"""The SOCIAL-CHEM-101 row format: 25 columns, their types and allowed values (one source of truth).

Every other module of :mod:`corpora.socialchem` reads, checks and writes rows through this
file, so our sets stay interchangeable with the released ``social-chem-101.v1.0.tsv``.
Categorical value lists shared with the tokenizer's attribute tokens are taken from
:mod:`tokenizer.special_tokens`, never repeated here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tokenizer.special_tokens import SOCIALCHEM_ATTRIBUTES

COLUMNS: tuple[str, ...] = (
    "area", "m", "split", "rot-agree", "rot-categorization", "rot-moral-foundations", "rot-char-targeting",
    "rot-bad", "rot-judgment", "action", "action-agency", "action-moral-judgment", "action-agree", "action-legal",
    "action-pressure", "action-char-involved", "action-hypothetical", "situation", "situation-short-id", "rot",
    "rot-id", "rot-worker-id", "breakdown-worker-id", "n-characters", "characters",
)
N_COLUMNS = len(COLUMNS)
HEADER = "\t".join(COLUMNS)

AREAS: tuple[str, ...] = ("confessions", "dearabby", "rocstories", "amitheasshole")
SPLITS: tuple[str, ...] = ("train", "dev", "test", "dev-extra", "test-extra", "analysis", "none")
#: splits that belong together when checking that a situation stays in one split; ``analysis``
#: (the release's 50-annotator sample) and ``none`` (not split yet) conflict with no split
SPLIT_FAMILY: dict[str, str | None] = {"train": "train", "dev": "dev", "dev-extra": "dev", "test": "test",
                                       "test-extra": "test", "analysis": None, "none": None}
RELEASE_M: tuple[int, ...] = (1, 3, 5, 50)  # the annotator counts of the release (any m >= 1 is accepted)
NARRATOR = "narrator"
MAX_CHAR_INDEX = 5
#: the release lists at most six characters (narrator + char-1..char-5) while ``n-characters``
#: counts all that were identified (its README: 1-10), so the list holds min(n-characters, 6)
LISTED_CHARACTERS = MAX_CHAR_INDEX + 1
MULTI_SEP = "|"

# kinds of column
TEXT = "text"  # free text (may be required non-empty)
CATEGORY = "category"  # one of ``values``
MULTI = "multi"  # "|"-separated subset of ``values``
INT = "int"  # integer in [lo, hi]
CHAR = "char"  # char-none or char-N, N < n-characters


@dataclass(frozen=True)
class Column:
    """One TSV column: its kind, allowed values or range, and whether "" (unanswered) is allowed."""

    name: str
    kind: str
    nullable: bool
    values: tuple[str, ...] = ()
    lo: int | None = None
    hi: int | None = None
    ordered: bool = False  # an ordered scale (ordinal agreement), else nominal
    about: str = ""

    def allowed(self) -> str:
        """The allowed values in words, for error messages."""
        null = ' or "" (unanswered)' if self.nullable else ""
        if self.kind == CATEGORY:
            return ", ".join(self.values) + null
        if self.kind == MULTI:
            return f'"|"-separated values from {{{", ".join(self.values)}}}, or ""'
        if self.kind == INT:
            upper = "" if self.hi is None else f"..{self.hi}"
            return f"an integer {self.lo}{upper}{null}"
        if self.kind == CHAR:
            return f"char-none or char-N (N in 0..{MAX_CHAR_INDEX}, below n-characters){null}"
        return "non-empty text" if not self.nullable else "any text"

    def error(self, value: str) -> str | None:
        """Why ``value`` is not allowed in this column (None when it is); per-row checks aside."""
        if value == "":
            return None if self.nullable else "empty"
        if self.kind == TEXT:
            return None
        if value != value.strip():
            return "surrounding whitespace"
        if self.kind == CATEGORY:
            return None if value in self.values else "not an allowed value"
        if self.kind == MULTI:
            labels = value.split(MULTI_SEP)
            if any(label not in self.values for label in labels):
                return "not an allowed value"
            if len(set(labels)) != len(labels):
                return "repeated label"
            return None
        if self.kind == INT:
            try:
                n = int(value)
            except ValueError:
                return "not an integer"
            if str(n) != value:
                return "not an integer"
            if (self.lo is not None and n < self.lo) or (self.hi is not None and n > self.hi):
                return "out of range"
            return None
        if self.kind == CHAR:
            return None if value in CHAR_VALUES else "not an allowed value"
        raise AssertionError(self.kind)

    def parse(self, value: str):
        """The typed value: int for INT columns, a sorted tuple for MULTI, None for "", else str."""
        if value == "":
            return () if self.kind == MULTI else None
        if self.kind == INT:
            return int(value)
        if self.kind == MULTI:
            return tuple(value.split(MULTI_SEP))
        return value

    def format(self, value) -> str:
        """Back to the TSV cell (inverse of :meth:`parse`)."""
        if value is None:
            return ""
        if self.kind == MULTI:
            return MULTI_SEP.join(value)
        return str(value)


CHAR_VALUES: tuple[str, ...] = SOCIALCHEM_ATTRIBUTES["rot-char-targeting"]
_HYPOTHETICAL = SOCIALCHEM_ATTRIBUTES["action-hypothetical"]

SCHEMA: dict[str, Column] = {c.name: c for c in (
    Column("area", CATEGORY, False, AREAS, about="source domain"),
    Column("m", INT, False, lo=1, about="annotators who broke this RoT down (release: 1, 3, 5, 50)"),
    Column("split", CATEGORY, False, SPLITS),
    Column("rot-agree", INT, True, lo=0, hi=4, ordered=True, about="share of people who agree with the RoT"),
    Column("rot-categorization", MULTI, True, SOCIALCHEM_ATTRIBUTES["rot-categorization"]),
    Column("rot-moral-foundations", MULTI, True, SOCIALCHEM_ATTRIBUTES["rot-moral-foundations"]),
    Column("rot-char-targeting", CHAR, True, CHAR_VALUES),
    Column("rot-bad", INT, False, lo=0, hi=1, about="1: RoT marked confusing or low quality"),
    Column("rot-judgment", TEXT, True),
    Column("action", TEXT, True),
    Column("action-agency", CATEGORY, True, SOCIALCHEM_ATTRIBUTES["action-agency"]),
    Column("action-moral-judgment", INT, True, lo=-2, hi=2, ordered=True),
    Column("action-agree", INT, True, lo=0, hi=4, ordered=True),
    Column("action-legal", CATEGORY, True, SOCIALCHEM_ATTRIBUTES["action-legal"]),
    Column("action-pressure", INT, True, lo=-2, hi=2, ordered=True),
    Column("action-char-involved", CHAR, True, CHAR_VALUES),
    Column("action-hypothetical", CATEGORY, True, _HYPOTHETICAL, ordered=True),
    Column("situation", TEXT, False),
    Column("situation-short-id", TEXT, False),
    Column("rot", TEXT, False),
    Column("rot-id", TEXT, False),
    Column("rot-worker-id", TEXT, False),
    Column("breakdown-worker-id", TEXT, False),
    Column("n-characters", INT, False, lo=1, about="characters identified, the narrator included"),
    Column("characters", TEXT, False, about='"|"-separated, narrator first'),
)}
assert tuple(SCHEMA) == COLUMNS

#: the 12 breakdown dimensions annotators answer (what agreement is computed on)
DIMENSIONS: tuple[str, ...] = (
    "rot-categorization", "rot-moral-foundations", "rot-agree", "rot-char-targeting", "rot-bad",
    "action-agency", "action-moral-judgment", "action-agree", "action-legal", "action-pressure",
    "action-char-involved", "action-hypothetical",
)
#: free-text answers of a breakdown
BREAKDOWN_TEXT: tuple[str, ...] = ("rot-judgment", "action")
CHAR_COLUMNS: tuple[str, ...] = ("rot-char-targeting", "action-char-involved")


def char_index(value: str | None) -> int | None:
    """``char-3`` -> 3; ``char-none``, None and "" -> None."""
    if not value or value == "char-none":
        return None
    return int(value[len("char-"):])


def row_errors(row: dict[str, str]) -> list[tuple[str, str, str]]:
    """Every problem of one row as (column, value, reason), single cells and cross-column rules.

    Cross-column rules: ``char-N`` below ``n-characters``; no more ``characters`` listed than
    min(``n-characters``, 6) (the release lists at most six); the first character is the narrator.
    """
    problems = []
    for name, col in SCHEMA.items():
        reason = col.error(row[name])
        if reason:
            problems.append((name, row[name], reason))
    problems += cross_errors(row)
    return problems


def cross_errors(row: dict[str, str]) -> list[tuple[str, str, str]]:
    """The cross-column rules alone (see :func:`row_errors`); skips cells already invalid."""
    problems = []
    n_raw = row["n-characters"]
    n = int(n_raw) if n_raw.isdigit() else None
    if n is not None:
        for name in CHAR_COLUMNS:
            value = row[name]
            if value in CHAR_VALUES and value != "char-none" and char_index(value) >= n:
                problems.append((name, value, f"char index beyond n-characters={n}"))
        chars = row["characters"]
        if chars and chars.count(MULTI_SEP) + 1 > min(n, LISTED_CHARACTERS):
            problems.append(("n-characters", n_raw, f"characters lists {chars.count(MULTI_SEP) + 1}"))
    chars = row["characters"]
    if chars and chars.split(MULTI_SEP, 1)[0] != NARRATOR:
        problems.append(("characters", chars, f"first character must be {NARRATOR!r}"))
    return problems


def parse_row(row: dict[str, str]) -> dict:
    """Typed values of a valid row (ints, label tuples, None for unanswered)."""
    return {name: SCHEMA[name].parse(row[name]) for name in COLUMNS}


def format_row(values: dict) -> dict[str, str]:
    """TSV cells of a typed row (inverse of :func:`parse_row`); multi-labels keep schema order."""
    out = {}
    for name in COLUMNS:
        col, value = SCHEMA[name], values.get(name)
        if col.kind == MULTI and value:
            value = tuple(v for v in col.values if v in set(value))
        out[name] = col.format(value)
    return out


def to_line(row: dict[str, str]) -> str:
    """One TSV line (no newline) of a row of cells; tabs and newlines in text become spaces."""
    return "\t".join(_clean_cell(row.get(name, "")) for name in COLUMNS)


def _clean_cell(value) -> str:
    text = "" if value is None else str(value)
    if "\t" in text or "\n" in text or "\r" in text:
        text = " ".join(text.replace("\t", " ").split())
    return text


def allowed_values(dimension: str) -> tuple:
    """The answers of one dimension in scale order: ints for INT columns, strings otherwise."""
    col = SCHEMA[dimension]
    if col.kind == INT:
        return tuple(range(col.lo, col.hi + 1))
    return col.values


def sorted_labels(column: str, labels: Iterable[str]) -> tuple[str, ...]:
    """Labels of a multi-label column in schema order."""
    wanted = set(labels)
    return tuple(v for v in SCHEMA[column].values if v in wanted)

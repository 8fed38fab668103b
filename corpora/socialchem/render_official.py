"""SOCIAL-CHEM-101's own training format, byte for byte as the release's ``sc/`` code builds it.

Reproduces ``sc/model/common.py`` of github.com/mbforbes/social-chemistry-101: ``load_data``
with its defaults (``input_type="situation_and_attributes"``, ``output_type="action_or_rot"``),
i.e. ``get_rot_examples`` / ``get_action_examples`` over ``get_rot_attributes`` /
``get_action_attributes`` / ``get_attr``, on the file as ``pd.read_csv(sep="\\t")`` reads it:

    input:  "<situation> [attrs] <tok> <tok> ... [rot]"      output: "<rot> <eos>"
    input:  "<situation> [attrs] <tok> ... [action]"         output: "<action> <eos>"

Attribute tokens are the bare values shared across columns (``<most>`` for rot-agree and
action-agree alike; ``<advice>``, ``<agency>``, ``<bad>``, ``<strong-for>``), multi-labels
sorted by spelling, unanswered attributes left out but the spaces kept (no attributes:
``[attrs]  [action]``); no Unicode or space normalisation. Cells are read as pandas does: a
cell in pandas' default NA list reads as ``<NA>`` and a cell opening with ``"`` is CSV-unquoted.
The document text is ``input + " " + output``; ``meta["official_input_chars"]`` is
``len(input)``, so ``text[:n]`` and ``text[n + 1:]`` are the official pair exactly.

Where the official code would train on garbage we drop the row with a counted reason instead:
an empty (or NA) RoT/action (``no_rot_text``: the official text would be ``<NA> <eos>``), and
a cell whose opening quote never closes on its line (``unterminated_quote``: pandas would
swallow the following lines into it).
"""

from __future__ import annotations

from pipeline.ids import make_doc_id
from pipeline.records import Document, Drop

SOURCE = "socialchem"
FORMAT = "official"
EOS = "<eos>"
_AGREE = {"0": "nobody", "1": "rare", "2": "controversial", "3": "most", "4": "all"}
_JUDGMENT = {"-2": "very-bad", "-1": "bad", "0": "ok", "1": "good", "2": "very-good"}
_PRESSURE = {"-2": "strong-against", "-1": "against", "0": "discretionary", "1": "for", "2": "strong-for"}
#: how get_attr spells each attribute: a value map, None for the value itself, "multi" for sorted labels
_ATTRS: dict[str, dict[str, str] | str | None] = {
    "rot-categorization": "multi", "rot-moral-foundations": "multi", "rot-agree": _AGREE,
    "action-agency": None, "action-moral-judgment": _JUDGMENT, "action-agree": _AGREE, "action-legal": None,
    "action-pressure": _PRESSURE, "action-hypothetical": None,
}
ROT_ATTRIBUTES = ("rot-categorization", "rot-moral-foundations", "rot-agree")  # get_rot_attributes
ACTION_ATTRIBUTES = ("action-agency", "action-moral-judgment", "action-agree", "action-legal", "action-pressure",
                     "action-hypothetical")  # get_action_attributes
#: pandas' default ``na_values`` (``pandas._libs.parsers.STR_NA_VALUES``): such a cell reads as NA
PANDAS_NA = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                       "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"})
NA_TEXT = "<NA>"  # how an f-string prints pandas.NA


class UnterminatedQuote(ValueError):
    """A cell opens a CSV quote that its line never closes."""


def pandas_cell(cell: str) -> str | None:
    """The value ``pd.read_csv`` gives a cell: None for NA, a quoted cell unquoted (``""`` -> ``"``,
    text after the closing quote appended), else the cell as it is."""
    if cell in PANDAS_NA:
        return None
    if not cell.startswith('"'):
        return cell
    out, i = [], 1
    while i < len(cell):
        if cell[i] == '"':
            if cell[i + 1:i + 2] == '"':
                out.append('"')
                i += 2
                continue
            return "".join(out) + cell[i + 1:]
        out.append(cell[i])
        i += 1
    raise UnterminatedQuote(cell[:60])


def attribute_tokens(row: dict[str, str], attributes: tuple[str, ...]) -> list[str]:
    """``get_attr`` for each attribute in order: the tokens of the answered ones."""
    out: list[str] = []
    for attr in attributes:
        value = pandas_cell(row.get(attr, ""))
        if value is None:
            continue
        spelling = _ATTRS[attr]
        if spelling == "multi":
            out += [f"<{label}>" for label in sorted(value.split("|"))]
        else:
            out.append(f"<{spelling[value] if isinstance(spelling, dict) else value}>")
    return out


def official_example(row: dict[str, str], mode: str) -> tuple[str, str] | str:
    """The official (input, output) pair of one row in one mode, or the reason there is none."""
    if mode == "rot":
        attrs = ROT_ATTRIBUTES
    elif mode == "action":
        attrs = ACTION_ATTRIBUTES
    else:
        raise ValueError(f"unknown mode {mode!r} (rot, action)")
    try:
        target = pandas_cell(row.get(mode, ""))
        situation = pandas_cell(row["situation"])
        tokens = attribute_tokens(row, attrs)
    except UnterminatedQuote:
        return "unterminated_quote"
    if target is None:
        return f"no_{mode}_text"
    situation = NA_TEXT if situation is None else situation
    return f"{situation} [attrs] {' '.join(tokens)} [{mode}]", f"{target} {EOS}"


class RenderOfficialRow:
    """Pure step: (row, mode) -> a corpus Document in the official format, or a Drop."""

    def __call__(self, item: tuple[tuple[int, dict[str, str]], str]):
        (line, row), mode = item
        pair = official_example(row, mode)
        if isinstance(pair, str):
            return Drop("render", pair, id=row["rot-id"], detail=f"line {line}")
        source, target = pair
        key = f"{FORMAT}\x00{mode}\x00{row['rot-id']}\x00{row['breakdown-worker-id']}"
        meta = {"mode": mode, "format": FORMAT, "official_input_chars": len(source), "rot-id": row["rot-id"],
                "situation-short-id": row["situation-short-id"], "area": row["area"], "split": row["split"],
                "breakdown-worker-id": row["breakdown-worker-id"], "m": int(row["m"])}
        return Document(id=make_doc_id(SOURCE, key), text=f"{source} {target}", source=SOURCE, url=None, lang="en",
                        lang_score=1.0, meta=meta)

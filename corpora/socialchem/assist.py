"""Model-assisted annotation: a generator proposes attributes and a RoT (or action) per situation.

The prompt is the conditioning prefix of the training format, ``<situation> [attrs]``; a model
trained on rendered text (:mod:`corpora.socialchem.render`) continues it with attribute
tokens, the ``[rot]``/``[action]`` marker and the text. :func:`parse_proposal` reads that back
into TSV values. Every proposal carries ``machine_made: true`` and the worker id
``machine:<generator>``, and the importer refuses ``machine:*`` answers unless told otherwise,
so proposals are never mistaken for human labels.
"""

from __future__ import annotations

import re

from corpora.socialchem.files import read_jsonl
from corpora.socialchem.schema import SCHEMA
from tokenizer.special_tokens import SOCIALCHEM_ATTRIBUTES, SOCIALCHEM_MARKERS, socialchem_token

MACHINE_PREFIX = "machine:"
_TOKEN = re.compile(r"<([a-z-]+):([a-z-]+)>")


def _token_values() -> dict[str, tuple[str, str]]:
    """Attribute token -> (column, TSV value), e.g. ``<rot-agree:most>`` -> ("rot-agree", "3")."""
    out = {}
    for attr in SOCIALCHEM_ATTRIBUTES:
        col = SCHEMA[attr]
        raws = [str(v) for v in range(col.lo, col.hi + 1)] if col.kind == "int" else list(col.values)
        for raw in raws:
            out[socialchem_token(attr, raw)] = (attr, raw)
    return out


TOKEN_VALUES = _token_values()


def machine_worker_id(spec: str) -> str:
    """``machine:<scheme>:<model dir name>``: a worker id usable inside rot-ids (no '/')."""
    scheme, _, path = spec.partition(":")
    name = path.rstrip("/").rsplit("/", 1)[-1] or "model"
    return MACHINE_PREFIX + scheme + ":" + re.sub(r"[^A-Za-z0-9._-]", "_", name)


def prompt_for(situation: dict) -> str:
    """The model input for one situation: ``<situation> [attrs]``."""
    return f"{situation['situation'].strip()} [attrs]"


def parse_proposal(text: str, mode: str = "rot") -> dict:
    """Attributes (TSV values) and the proposed text from a generated continuation.

    Unknown ``<...>`` tokens are ignored (and counted in ``unknown_tokens``); multi-label
    values are joined with "|" in schema order.
    """
    marker = f"[{mode}]"
    head, sep, tail = text.partition(marker)
    if not sep:  # no marker: whatever is not an attribute token is the proposal
        head, tail = text, _TOKEN.sub(" ", text)
    for m in SOCIALCHEM_MARKERS:
        tail = tail.replace(m, " ")
    attrs: dict[str, list[str]] = {}
    unknown = 0
    for m in _TOKEN.finditer(head):
        token = m.group(0)
        if token in TOKEN_VALUES:
            col, raw = TOKEN_VALUES[token]
            attrs.setdefault(col, [])
            if raw not in attrs[col]:
                attrs[col].append(raw)
        else:
            unknown += 1
    values = {}
    for col, raws in attrs.items():
        if SCHEMA[col].kind == "multi":
            values[col] = "|".join(v for v in SCHEMA[col].values if v in raws)
        else:
            values[col] = raws[0]
    return {"text": " ".join(tail.split()), "attributes": values, "unknown_tokens": unknown}


def attach(situation: dict, outputs: list[str], spec: str, mode: str) -> dict:
    """The proposal record of one situation (every generated output parsed), marked machine-made."""
    return {
        "situation-short-id": situation["situation_short_id"], "situation": situation["situation"],
        "area": situation["area"], "mode": mode, "machine_made": True, "generator": spec,
        "worker_id": machine_worker_id(spec), "proposals": [parse_proposal(o, mode) | {"raw": o} for o in outputs],
    }


def load_proposals(path: str) -> dict[str, list[str]]:
    """situation-short-id -> proposal texts (for showing beside tasks); refuses unmarked records."""
    out: dict[str, list[str]] = {}
    for line, obj, error in read_jsonl(path):
        if error:
            raise ValueError(f"{path}:{line}: {error}")
        if obj.get("machine_made") is not True:
            raise ValueError(f"{path}:{line}: not marked machine_made (only propose output is accepted)")
        texts = [p["text"] for p in obj.get("proposals", []) if p.get("text")]
        out.setdefault(obj["situation-short-id"], []).extend(texts)
    return out

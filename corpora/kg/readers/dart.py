"""DART (Nan et al. 2021) JSON: a JSON array of entries, each a ``tripleset`` of
``[subject, relation, object]`` names and its ``annotations`` (reference texts with their source).

As job input every triple becomes a Fact the way WebNLG's do (names are labels, ``customer
rating`` is the relation as written). DART's entries are unrelated examples that reuse names
(its E2E part has many restaurants called "The Eagle", each with other facts), so entity ids
are scoped to their entry (``entry12/The Eagle``), never merged across entries. The file is one JSON document (not one
entity per line), so it is one work item and is parsed whole: DART's released files are a
few tens of MB. ``iter_dart_entries`` gives (triples, texts) per entry for the pairs export.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO

from corpora.kg.readers import Chunk, ReadOptions, ReadStats, Record, drop
from corpora.kg.readers.webnlg import triple_records


def _triple(t) -> tuple[str, str, str] | None:
    if isinstance(t, list) and len(t) == 3 and all(isinstance(x, str) and x.strip() for x in t):
        return t[0].strip(), t[1].strip(), t[2].strip()
    return None


def iter_dart_entries(raw: BinaryIO) -> Iterator[tuple[str, list[tuple[str, str, str] | None], list[str]]]:
    """(entry id, [(s, p, o) or None when malformed], [reference texts]) per entry; ValueError when
    the file is not a JSON array."""
    data = json.load(raw)
    if not isinstance(data, list):
        raise ValueError("a DART file is a JSON array of entries")
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or not isinstance(entry.get("tripleset"), list):
            yield f"entry {i}", [None], []
            continue
        texts = [a["text"].strip() for a in entry.get("annotations") or []
                 if isinstance(a, dict) and isinstance(a.get("text"), str) and a["text"].strip()]
        yield f"entry {i}", [_triple(t) for t in entry["tripleset"]], texts


def read_dart(raw: BinaryIO, chunk: Chunk, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    named: set[str] = set()
    try:
        entries = list(iter_dart_entries(raw))
    except (ValueError, UnicodeDecodeError) as exc:
        stats.records += 1
        yield drop("invalid_json", chunk, "file", str(exc))
        return
    for eid, triples, _ in entries:
        for i, t in enumerate(triples):
            stats.records += 1
            if t is None:
                yield drop("malformed_triple", chunk, f"{eid} triple {i + 1}", "expected [subject, relation, object]")
                continue
            yield from triple_records(*t, named, options.langs[0], scope=eid.replace(" ", ""))

"""WebNLG XML (``benchmark/entries/entry``): ``modifiedtripleset/mtriple`` as
``subject | property | object`` plus ``lex`` reference texts.

As job input, every triple becomes a Fact (DBpedia-style names: ``Alan_Bean`` is the id,
``Alan Bean`` its label; ``birthPlace`` reads ``birth place``). ``read_webnlg_pairs`` gives
(triples, reference texts) per entry for evaluation and for training a model verbalizer.
The file is parsed incrementally (``iterparse``), one entry in memory at a time.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from corpora.kg.model import ENTITY, STRING, Fact, Label, Value
from corpora.kg.rdf import humanize_id
from corpora.kg.readers import Chunk, ReadOptions, ReadStats, Record, drop
from corpora.kg.values import time_value

if TYPE_CHECKING:
    from corpora.kg.subgraphs import Subgraph

_DATE = re.compile(r'^"?(\d{4}-\d{2}-\d{2})"?$')
_NUMBER = re.compile(r"^[+-]?\d[\d,]*(?:\.\d+)?$")


def webnlg_value(text: str) -> Value:
    text = text.strip()
    m = _DATE.match(text)
    if m:
        return time_value(m.group(1), None)
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        return Value(STRING, text[1:-1].strip())
    if _NUMBER.match(text):  # a count or an amount, not a name: kept as written
        return Value(STRING, text)
    return Value(ENTITY, text)


def name_label(name: str) -> str:
    """``Alan_Bean`` -> ``Alan Bean``; ``"Texas"`` -> ``Texas``."""
    return name.strip().strip('"').replace("_", " ").strip()


def triple_records(s: str, p: str, o: str, named: set[str], lang: str, scope: str = "") -> Iterator[Record]:
    """A name triple as its Fact, preceded by the labels of names not ``named`` yet (added to it).
    ``scope`` prefixes entity ids (``scope/name``) for datasets whose entries are unrelated examples
    that reuse names (DART's invented restaurants): the label stays the name."""
    value = webnlg_value(o)
    if scope and value.kind == ENTITY:
        value = Value(ENTITY, f"{scope}/{value.v}")
    subject = f"{scope}/{s}" if scope else s
    names = [(subject, s), (p, p)] + ([(value.v, o)] if value.kind == ENTITY else [])
    for ent, name in names:
        if ent not in named:
            named.add(ent)
            yield Label(ent, humanize_id(name) if ent == p else name_label(name), lang)
    yield Fact(subject, p, value)


def iter_entries(raw: BinaryIO) -> Iterator[tuple[str, list[tuple[str, str, str]], list[str]]]:
    """(entry id, [(s, p, o)], [reference texts]) per entry, parsed incrementally."""
    for _, elem in ET.iterparse(raw, events=("end",)):
        if elem.tag != "entry":
            continue
        triples = []
        for mt in elem.iter("mtriple"):
            parts = [p.strip() for p in (mt.text or "").split("|")]
            triples.append(tuple(parts) if len(parts) == 3 and all(parts) else None)
        texts = [(lex.text or "").strip() for lex in elem.iter("lex") if (lex.text or "").strip()]
        eid = f"{elem.get('category', '')}/{elem.get('eid', '')}/{elem.get('size', '')}"
        elem.clear()
        yield eid, triples, texts


def read_webnlg(raw: BinaryIO, chunk: Chunk, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    named: set[str] = set()
    try:
        for eid, triples, _ in iter_entries(raw):
            for i, t in enumerate(triples):
                stats.records += 1
                if t is None:
                    yield drop("malformed_triple", chunk, f"entry {eid} triple {i + 1}", "expected s | p | o")
                    continue
                yield from triple_records(*t, named, options.langs[0])
    except ET.ParseError as exc:
        stats.records += 1
        yield drop("invalid_xml", chunk, "file", str(exc))


def entry_subgraph(eid: str, triples: list[tuple[str, str, str]], lang: str = "en") -> Subgraph:
    """An entry's triples as the Subgraph the kg job would verbalize (facts, labels of the names)."""
    from corpora.kg.subgraphs import Subgraph, subject_kind

    named: set[str] = set()
    facts, labels = [], {}
    for t in triples:
        for rec in triple_records(*t, named, lang):
            if isinstance(rec, Label):
                labels[rec.entity] = rec.text
            else:
                facts.append(rec)
    subject = facts[0].subject
    return Subgraph(eid, subject, facts, labels=labels, kind=subject_kind([f for f in facts if f.subject == subject]))


def pairs_rows(entries, templates=None, lang: str = "en") -> Iterator[dict]:
    """One row per (well-formed entry, reference text): ``id``, ``triples`` and ``serialized_triples``
    exactly as the kg job builds a model's prompt (``model_verbalizer.serialize``), ``sentence``."""
    from corpora.kg.model_verbalizer import serialize, triples_for_kelm

    for eid, triples, texts in entries:
        if not triples or any(t is None for t in triples):
            continue
        sg = entry_subgraph(eid, triples, lang)
        row = {"id": eid, "triples": triples_for_kelm(sg, templates, lang),
               "serialized_triples": serialize(sg, templates, lang)}
        for text in texts:
            yield {**row, "sentence": text}


def read_webnlg_pairs(path: str) -> list[dict]:
    """[{"id", "triples": [[s, p, o]], "texts": [...]}] for every well-formed entry of a file."""
    out = []
    with open(path, "rb") as f:
        for eid, triples, texts in iter_entries(f):
            if triples and all(t is not None for t in triples):
                out.append({"id": eid, "triples": [[name_label(s), humanize_id(p), name_label(o)]
                                                   for s, p, o in triples], "texts": texts})
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m corpora.kg.readers.webnlg IN OUT.jsonl``: (triples, reference texts) pairs of a WebNLG
    XML or DART JSON file as JSONL, one line per reference text, in the layout of kg-align's pairs
    (``triples``, ``serialized_triples``, ``sentence``), for evaluating or training a model
    verbalizer. ``serialized_triples`` is the prompt the kg job gives the model (the same function)."""
    import argparse
    import json
    import os

    from corpora.kg.readers.dart import iter_dart_entries
    from corpora.kg.templates import load_templates

    ap = argparse.ArgumentParser(prog="python -m corpora.kg.readers.webnlg", description=main.__doc__)
    ap.add_argument("input", help="a WebNLG XML file or a DART JSON file")
    ap.add_argument("output", help="where to write the JSONL")
    ap.add_argument("--templates", default=None, help="template file whose relation labels to use (as the kg job)")
    args = ap.parse_args(argv)
    templates = load_templates(args.templates)
    n = 0
    tmp = args.output + ".tmp"
    with open(args.input, "rb") as raw, open(tmp, "w", encoding="utf-8") as out:
        entries = iter_dart_entries(raw) if args.input.endswith(".json") else iter_entries(raw)
        for row in pairs_rows(entries, templates):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    os.replace(tmp, args.output)
    print(f"wrote {n} (triples, text) pairs to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

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
from typing import BinaryIO

from corpora.kg.model import ENTITY, STRING, Fact, Label, Value
from corpora.kg.rdf import humanize_id
from corpora.kg.readers import Chunk, ReadOptions, ReadStats, Record, drop
from corpora.kg.values import time_value

_DATE = re.compile(r'^"?(\d{4}-\d{2}-\d{2})"?$')


def webnlg_value(text: str) -> Value:
    text = text.strip()
    m = _DATE.match(text)
    if m:
        return time_value(m.group(1), None)
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        return Value(STRING, text[1:-1].strip())
    return Value(ENTITY, text)


def name_label(name: str) -> str:
    """``Alan_Bean`` -> ``Alan Bean``; ``"Texas"`` -> ``Texas``."""
    return name.strip().strip('"').replace("_", " ").strip()


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
                s, p, o = t
                value = webnlg_value(o)
                for ent in [s, p] + ([o] if value.kind == ENTITY else []):
                    if ent not in named:
                        named.add(ent)
                        yield Label(ent, humanize_id(ent) if ent == p else name_label(ent), options.langs[0])
                yield Fact(s, p, value)
    except ET.ParseError as exc:
        stats.records += 1
        yield drop("invalid_xml", chunk, "file", str(exc))


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
    """``python -m corpora.kg.readers.webnlg IN.xml OUT.jsonl``: (triples, reference texts) pairs as
    JSONL, one line per reference text, in the layout of kg-align's pairs (``triples``,
    ``serialized_triples``, ``sentence``), for evaluating or training a model verbalizer."""
    import argparse
    import json

    ap = argparse.ArgumentParser(prog="python -m corpora.kg.readers.webnlg", description=main.__doc__)
    ap.add_argument("xml", help="a WebNLG XML file")
    ap.add_argument("output", help="where to write the JSONL")
    args = ap.parse_args(argv)
    n = 0
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        for entry in read_webnlg_pairs(args.xml):
            serialized = " ".join([entry["triples"][0][0]] + [x for t in entry["triples"] for x in t[1:]])
            for text in entry["texts"]:
                out.write(json.dumps({"id": entry["id"], "triples": entry["triples"], "serialized_triples": serialized,
                                      "sentence": text}, ensure_ascii=False) + "\n")
                n += 1
    import os

    os.replace(tmp, args.output)
    print(f"wrote {n} (triples, text) pairs to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

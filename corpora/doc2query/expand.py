"""The pure core of document expansion: documents -> passages -> prompts; queries -> expanded documents.

A document is split into passages (sentence windows, :mod:`corpora.doc2query.passages`);
each passage gets ``num_queries`` predicted queries; the expanded document is the original
text, the separator, then every predicted query (one per line, in passage order). The
queries also go into ``meta.predicted_queries``. Duplicate queries are kept, as in
docTTTTTquery: a repeated prediction raises that term's weight in BM25, which is part of
why expansion works.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from corpora.doc2query.passages import PassageConfig, split_passages
from pipeline.records import Document, Drop

SOURCE = "doc2query"
DEFAULT_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class ExpandConfig:
    """What decides the expanded text besides the generator: passages, queries, separator."""

    num_queries: int = 5  # 0: every precomputed query (model generators need at least 1)
    separator: str = DEFAULT_SEPARATOR
    passage: PassageConfig = field(default_factory=PassageConfig)

    def __post_init__(self) -> None:
        if self.num_queries < 0:
            raise ValueError(f"--num-queries must be at least 1 (got {self.num_queries})")


@dataclass(frozen=True)
class PassageItem:
    """One passage of a document on its way to the generator."""

    doc_id: str
    index: int
    text: str


def has_text(row: dict) -> bool:
    """Whether a corpus row has any text to expand (rows without are dropped as ``empty_text``)."""
    text = row.get("text")
    return bool(text and text.strip())


class SplitPassages:
    """Pure step: a corpus row -> its passages (``last_counts['passages']`` says how many) or a Drop."""

    def __init__(self, config: PassageConfig) -> None:
        self.config = config
        self.last_counts: dict[str, int] = {}

    def __call__(self, row: dict) -> list[PassageItem] | Drop:
        if not has_text(row):
            return Drop("split", "empty_text", id=row.get("id"))
        passages = split_passages(row["text"], self.config)
        if not passages:  # text of only whitespace-like characters the splitter drops
            return Drop("split", "empty_text", id=row.get("id"))
        self.last_counts = {"passages": len(passages)}
        return [PassageItem(row["id"], i, p) for i, p in enumerate(passages)]


def passage_prompt(item: PassageItem) -> str:
    """The generator's input for a passage: the passage itself (each generator adds its own
    format, e.g. the bundled model's separator token)."""
    return item.text


def attach_queries(item: PassageItem, outputs: list[str]) -> tuple[str, tuple[int, list[str]]]:
    """(doc id, (passage index, non-empty queries)): empty outputs are dropped here; the
    generator has counted them as ``empty_outputs``."""
    queries = [" ".join(q.split()) for q in outputs]
    return item.doc_id, (item.index, [q for q in queries if q])


def expanded_text(text: str, queries: list[str], separator: str = DEFAULT_SEPARATOR) -> str:
    """Original text + separator + one query per line (the original alone when there are none)."""
    if not queries:
        return text
    return text + separator + "\n".join(queries)


def _meta(raw) -> dict:
    if isinstance(raw, dict):
        return dict(raw)
    if isinstance(raw, str) and raw:
        try:
            value = json.loads(raw)
        except ValueError:
            return {"orig_meta": raw}
        return value if isinstance(value, dict) else {"orig_meta": value}
    return {}


def assemble_document(row: dict, passages: list[tuple[int, list[str]]], config: ExpandConfig,
                      generator: str) -> Document:
    """The expanded document of ``row`` from its passages' queries (any order; sorted by index).

    The id stays the input id, so qrels written for the original corpus apply unchanged.
    """
    ordered = sorted(passages, key=lambda p: p[0])
    queries = [q for _, qs in ordered for q in qs]
    meta = _meta(row.get("meta"))
    meta["predicted_queries"] = queries
    meta["doc2query"] = {"generator": generator, "passages": len(ordered), "num_queries": config.num_queries,
                         "orig_source": row.get("source")}
    return Document(
        id=row["id"], text=expanded_text(row["text"], queries, config.separator), source=SOURCE,
        url=row.get("url"), lang=row.get("lang") or "und", lang_score=float(row.get("lang_score") or 0.0),
        meta=meta,
    )


def anserini_record(row: dict) -> str:
    """One line of Anserini's JsonCollection (``{"id": ..., "contents": ...}``) from a corpus row."""
    return json.dumps({"id": row["id"], "contents": row["text"]}, ensure_ascii=False)

"""Plain data records that flow between pipeline steps (no Beam, cheap to pickle)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RawRecord:
    """One unit read from an input file, before text extraction.

    ``payload`` is ``bytes`` for HTML (decoded by the extractor, which knows the charset
    rules) and ``str`` for formats that already carry text (WET, JSONL, Parquet).
    """

    key: str  # unique, deterministic key of the record in its input (becomes the doc id)
    source_file: str
    kind: str  # "html" or "text"
    payload: bytes | str
    url: str | None = None
    content_type: str | None = None
    header_charset: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Document:
    """A document of the corpus; ``to_row`` gives the Parquet row of the corpus schema (docs/architecture.md)."""

    id: str
    text: str
    source: str
    url: str | None = None
    lang: str = "und"
    lang_score: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    def to_row(self) -> dict[str, Any]:
        import json

        return {
            "id": self.id,
            "text": self.text,
            "source": self.source,
            "url": self.url,
            "lang": self.lang,
            "lang_score": float(self.lang_score),
            "meta": json.dumps(self.meta, ensure_ascii=False, sort_keys=True),
        }


@dataclass
class Drop:
    """Why one record or document left the pipeline at a given stage.

    ``text`` and ``detail`` are kept for ``--rejects`` so a user can inspect what went.
    """

    stage: str
    reason: str
    id: str | None = None
    url: str | None = None
    source_file: str | None = None
    detail: str = ""
    text: str | None = None

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "stage": self.stage,
            "reason": self.reason,
            "url": self.url,
            "source_file": self.source_file,
            "detail": self.detail[:2000],
            "text": self.text,
        }


@dataclass
class FileDone:
    """End-of-file marker from a reader: how reading the whole file ended."""

    path: str
    status: str  # "ok" or a file-level failure reason (empty_file, not_warc, ...)
    detail: str = ""
    records: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # things counted without dropping (stats "counts")

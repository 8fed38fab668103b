"""What every quality filter is: a pure ``evaluate(doc) -> Verdict`` with its thresholds as fields.

A filter is a dataclass whose fields are its parameters (published defaults, validated in
``__post_init__`` so a bad value fails before any work). ``FilterStep`` adapts a filter to
a pipeline step: it drops, rewrites the text (C4 line cleaning, PII redaction), or, in
annotate mode, only records the verdict and signals in ``meta["filters"][name]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from pipeline.records import Document, Drop


@dataclass
class Verdict:
    """A filter's decision on one document.

    ``reason`` names the rule that dropped it; ``text`` replaces the document text when the
    filter rewrites it; ``signals`` are the measured values (for --annotate); ``counts`` are
    things to add up in stats.json even when nothing is dropped (e.g. emails redacted).
    """

    keep: bool
    reason: str | None = None
    text: str | None = None
    signals: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def keep(signals: dict[str, Any] | None = None, text: str | None = None, **counts: int) -> Verdict:
    return Verdict(True, None, text, signals or {}, counts)


def drop(reason: str, signals: dict[str, Any] | None = None) -> Verdict:
    return Verdict(False, reason, None, signals or {})


class DocumentFilter:
    """Base class of filters. Subclasses are dataclasses that set ``name`` and ``evaluate``.

    ``rewrites_in_annotate`` is True for formatters (PII) whose rewrite applies even when
    annotating, because annotate mode is about not dropping, not about keeping PII.
    """

    name: ClassVar[str] = ""
    rewrites_in_annotate: ClassVar[bool] = False

    def setup(self) -> None:
        """Load heavy state (word lists, models) once per worker."""

    def evaluate(self, doc: Document) -> Verdict:
        raise NotImplementedError


def check_range(owner: str, name: str, value: float, low: float | None = None, high: float | None = None) -> None:
    """Raise ValueError naming the filter and parameter when a threshold is out of range."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"{owner}.{name} must be a number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"[{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]"
        raise ValueError(f"{owner}.{name} = {value} is out of range {bounds}")


class FilterStep:
    """Pipeline step around one filter: Document -> Document | Drop (see module docstring)."""

    def __init__(self, filt: DocumentFilter, annotate: bool = False, langs: frozenset[str] | None = None) -> None:
        self.filter = filt
        self.annotate = annotate
        self.langs = langs  # apply only to these languages; None = all
        self.last_counts: dict[str, int] = {}  # read by the Beam shell after each call

    @property
    def name(self) -> str:
        return self.filter.name

    def setup(self) -> None:
        self.filter.setup()

    def __call__(self, doc: Document) -> Document | Drop:
        if self.langs is not None and doc.lang not in self.langs:
            self.last_counts = {"skipped_other_lang": 1}
            return doc
        verdict = self.filter.evaluate(doc)
        self.last_counts = verdict.counts
        if self.annotate:
            doc.meta.setdefault("filters", {})[self.name] = {
                "keep": verdict.keep, "reason": verdict.reason, **verdict.signals
            }
            if verdict.text is not None and self.filter.rewrites_in_annotate:
                doc.text = verdict.text
            return doc
        if not verdict.keep:
            return Drop(self.name, verdict.reason or "dropped", id=doc.id, url=doc.url,
                        detail=_describe(verdict.signals), text=doc.text)
        if verdict.text is not None:
            doc.text = verdict.text
        return doc


def _describe(signals: dict[str, Any]) -> str:
    parts = []
    for k, v in signals.items():
        parts.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}")
    return " ".join(parts)[:500]

"""FineWeb's own quality rules (Penedo et al. 2024), as datatrove's ``FineWebQualityFilter``.

FineWeb applies them after the Gopher filters and C4 (run with ``filter_terminal_punct``
off). ``FineWebQuality`` (name ``fineweb``), rules in datatrove's order:

=====================  ==================================================================  =======
reason                 drops when                                                          default
=====================  ==================================================================  =======
``line_punct_ratio``   lines ending in one of ``. ' " ! ?`` / lines < ``line_punct_ratio``  0.12
``short_line_ratio``   lines of <= ``short_line_length`` (30) chars / lines >               0.67
                       ``short_line_ratio``
``char_dup_ratio``     chars in duplicated lines / chars > ``char_duplicates_ratio``        0.1
=====================  ==================================================================  =======

As in datatrove 0.3.0 (the code FineWeb was built with): lines are ``text.split("\\n")``
(blank lines included in the two line ratios, and not stripped, so a trailing space hides
the final punctuation); the punctuation set is its ``stop_chars``
``(".", "'", '"', "!", "?")``; with
``line_punct_exclude_zero`` a document with *no* punctuated line is not dropped by that
rule; the duplicate-character count runs ``find_duplicates`` over the non-blank lines
(first occurrence not counted) and divides by the length of the text without its newlines.

Comparisons are strict, as the reference rules state them (< 0.12, > 0.67, > 0.1); datatrove
0.3.0 dropped at equality (``<=``/``>=``), 0.10.1 is strict too. Its code default for the
duplicate ratio is 0.01, not the published 0.1, and its fourth rule (newline/word
``list_ratio``) is not part of the published three and is not implemented (both releases).
datatrove 0.10.1 (re-checked; the current release) also removes blank lines before all
three ratios and defaults ``stop_chars`` to 159 sentence-final marks of many scripts
(``。`` included, quotes not); this filter keeps 0.3.0's definitions.

Chinese/Japanese text without ``.!?'"`` line endings (``。`` is not in the set) is dropped as
``line_punct_ratio``, as it would be by the original.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pipeline.filters.base import DocumentFilter, Verdict, check_range, drop, keep
from pipeline.filters.text_stats import check_flag, find_duplicates, ratio
from pipeline.records import Document

STOP_CHARS = (".", "'", '"', "!", "?")


@dataclass
class FineWebQuality(DocumentFilter):
    """FineWeb's three line-based rules (see module docstring)."""

    name: ClassVar[str] = "fineweb"

    line_punct_ratio: float = 0.12
    line_punct_exclude_zero: bool = False
    short_line_ratio: float = 0.67
    short_line_length: int = 30
    char_duplicates_ratio: float = 0.1

    def __post_init__(self) -> None:
        check_range(self.name, "line_punct_ratio", self.line_punct_ratio, 0, 1)
        check_flag(self.name, "line_punct_exclude_zero", self.line_punct_exclude_zero)
        check_range(self.name, "short_line_ratio", self.short_line_ratio, 0, 1)
        check_range(self.name, "short_line_length", self.short_line_length, 0)
        check_range(self.name, "char_duplicates_ratio", self.char_duplicates_ratio, 0, 1)

    def evaluate(self, doc: Document) -> Verdict:
        text = doc.text
        lines = text.split("\n")
        n_lines = len(lines)
        punct = ratio(sum(1 for ln in lines if ln.endswith(STOP_CHARS)), n_lines)
        short = ratio(sum(1 for ln in lines if len(ln) <= self.short_line_length), n_lines)
        dup_chars = find_duplicates(ln for ln in lines if ln.strip())[1]
        dup = ratio(dup_chars, len(text) - (n_lines - 1))  # = len(text.replace("\n", ""))
        signals = {"line_punct_ratio": punct, "short_line_ratio": short, "char_dup_ratio": dup}
        if punct < self.line_punct_ratio and not (punct == 0 and self.line_punct_exclude_zero):
            return drop("line_punct_ratio", signals)
        if short > self.short_line_ratio:
            return drop("short_line_ratio", signals)
        if dup > self.char_duplicates_ratio:
            return drop("char_dup_ratio", signals)
        return keep(signals)

"""Text normalization: NFC, control characters removed, whitespace tidied, optional ftfy."""

from __future__ import annotations

import re
import unicodedata

from pipeline.limits import Limits
from pipeline.records import Document, Drop

STAGE = "normalize"

# C0/C1 controls except tab and newline; also the Unicode non-characters and lone BOMs.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\ufffe\uffff]")
_INLINE_SPACE = re.compile(r"[^\S\n]+")
_SPACE_AROUND_NEWLINE = re.compile(r" ?\n ?")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def normalize_text(text: str, fix_mojibake: bool = False) -> str:
    """Return the text NFC-normalized, without control characters, with tidy whitespace.

    Runs of spaces/tabs become one space, lines are stripped, and more than one blank
    line in a row becomes one. With ``fix_mojibake``, ftfy repairs encoding mix-ups first.
    """
    if fix_mojibake:
        import ftfy

        text = ftfy.fix_text(text, normalization="NFC")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = _INLINE_SPACE.sub(" ", text)  # whole-text passes: far cheaper than per line
    text = _SPACE_AROUND_NEWLINE.sub("\n", text)
    text = _MANY_NEWLINES.sub("\n\n", text)
    return text.strip()


class Normalizer:
    """Pure step: Document -> Document with normalized text, or Drop when empty/too long."""

    def __init__(self, fix_mojibake: bool = False, limits: Limits | None = None) -> None:
        self.fix_mojibake = fix_mojibake
        self.limits = limits or Limits()

    def __call__(self, doc: Document) -> Document | Drop:
        def drop(reason: str, detail: str = "") -> Drop:
            return Drop(STAGE, reason, id=doc.id, url=doc.url, detail=detail, text=doc.text[:10000])

        if len(doc.text) > 4 * self.limits.max_doc_chars:
            return drop("too_long", f"{len(doc.text)} characters")
        text = normalize_text(doc.text, self.fix_mojibake)
        if not text:
            return drop("empty_text")
        if len(text) > self.limits.max_doc_chars:
            return drop("too_long", f"{len(text)} characters > {self.limits.max_doc_chars}")
        doc.text = text
        return doc

"""Text normalization: NFC, control characters removed, whitespace tidied, optional ftfy."""

from __future__ import annotations

import re
import unicodedata

from pipeline.limits import Limits
from pipeline.records import Document, Drop

STAGE = "normalize"

# C0/C1 controls except tab and newline; also the Unicode non-characters and lone BOMs.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\ufffe\uffff]")
# Whitespace (regex \s, i.e. str.isspace) other than " " and "\n". A positive class: a negated
# one (like [^\S\n]) costs a category lookup per character.
ODD_SPACES = "\t\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + (
    "\u2028\u2029\u202f\u205f\u3000"
)
_ODD = "[" + re.escape(ODD_SPACES) + "]"
_INLINE = "[ " + re.escape(ODD_SPACES) + "]"  # whitespace other than "\n"
# [^\S\n]+ -> " " in two passes: a run from its first odd space on becomes " " (the regex engine
# scans for the rare odd spaces in C), then runs of two or more " " become one (found by "  ").
_ODD_RUN = re.compile(f"{_ODD}{_INLINE}*")
_SPACES = re.compile("   *")
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
    # Whole-text passes (far cheaper than per line), each matching only what it changes: most
    # extracted text is already tidy, and a pass that matched every word gap and newline only
    # to write them back unchanged cost more than the rest of normalization.
    text = _ODD_RUN.sub(" ", text)
    if "  " in text:
        text = _SPACES.sub(" ", text)
    # Spaces are single now: " ?\n ?" -> "\n" is dropping every space next to a newline.
    text = text.replace(" \n", "\n").replace("\n ", "\n")
    if "\n\n\n" in text:
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

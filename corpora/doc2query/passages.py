"""Split documents into passages: sentence windows with a stride (docTTTTTquery's 10 / 5).

Sentences come from a rule-based splitter (terminal punctuation followed by a space and
an upper-case letter, digit or quote; CJK full stops; paragraph breaks; line breaks unless
the next line starts in lower case, i.e. is a wrapped line). It is a
heuristic, good enough to cut long documents into model-sized windows, not a linguistic
sentence segmenter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_WINDOW = 10
DEFAULT_STRIDE = 5

# A sentence ends at . ! ? (and any closing quotes/brackets after it) before whitespace and a
# character that can start a sentence, or right after a CJK full stop / exclamation / question mark.
_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*(?=\s+[\"'\u201c\u2018(\[]?[A-Z0-9\u00c0-\u024f\u0400-\u04ff])"
                  r"|[\u3002\uff01\uff1f]")
# Abbreviations whose period does not end a sentence (lower-cased, without the period).
_ABBREVIATIONS = frozenset("mr mrs ms dr prof st jr sr vs etc e.g i.e no fig approx ca cf".split())
_PARAGRAPH = re.compile(r"\n\s*\n+")
_SPACE = re.compile(r"[ \t\r\f\v]+")


@dataclass(frozen=True)
class PassageConfig:
    """Sentence-window parameters: ``window`` sentences per passage, a new window every ``stride``."""

    window: int = DEFAULT_WINDOW
    stride: int = DEFAULT_STRIDE
    max_passages: int = 0  # 0: no limit; else only the first N windows of a document

    def __post_init__(self) -> None:
        if self.window < 1:
            raise ValueError(f"passage window (--window) must be at least 1 sentence (got {self.window})")
        if not 1 <= self.stride <= self.window:
            raise ValueError(f"passage stride (--stride) must be between 1 and the window --window {self.window}; got "
                             f"{self.stride} (a stride larger than the window would skip sentences)")
        if self.max_passages < 0:
            raise ValueError(f"--max-passages must be 0 (no limit) or more (got {self.max_passages})")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` in order, whitespace inside each collapsed; paragraphs always break."""
    sentences: list[str] = []
    for para in text_blocks(text):
        start = 0
        for m in _END.finditer(para):
            if m.group().startswith(".") and _is_abbreviation(para, m.start()):
                continue
            piece = para[start:m.end()].strip()
            if piece:
                sentences.append(piece)
            start = m.end()
        tail = para[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences


def text_blocks(text: str) -> list[str]:
    """Paragraphs, and lines inside them, that start a new sentence: a line break continues the
    sentence only when the next line starts with a lower-case letter (a wrapped line)."""
    blocks: list[str] = []
    for para in _PARAGRAPH.split(text):
        current = ""
        for line in para.split("\n"):
            line = _SPACE.sub(" ", line).strip()
            if not line:
                continue
            if current and line[0].islower():
                current += " " + line
            else:
                if current:
                    blocks.append(current)
                current = line
        if current:
            blocks.append(current)
    return blocks


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the period at ``dot`` closes an abbreviation (Mr., e.g.) or a single initial (J.)."""
    word = text[max(0, text.rfind(" ", 0, dot) + 1):dot].lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def sentence_windows(sentences: list[str], config: PassageConfig = PassageConfig()) -> list[str]:
    """Windows of ``config.window`` sentences starting every ``config.stride`` sentences.

    Every sentence is in at least one window; the last window ends at the last sentence (a
    shorter tail window is not emitted when the previous window already reached the end).
    """
    if not sentences:
        return []
    passages: list[str] = []
    start = 0
    while True:
        passages.append(" ".join(sentences[start:start + config.window]))
        if start + config.window >= len(sentences):
            break
        start += config.stride
        if config.max_passages and len(passages) >= config.max_passages:
            break
    return passages


def split_passages(text: str, config: PassageConfig = PassageConfig()) -> list[str]:
    """The passages of a document (empty list for a document without text)."""
    return sentence_windows(split_sentences(text), config)

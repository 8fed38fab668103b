"""Distant-supervision alignment (KELM's first step): sentences of a corpus that mention an
entity (by label or alias) together with one or more of its objects.

Names and sentences are compared as sequences of word tokens (``\\w+``, case-folded), so
matching is case- and whitespace-insensitive, ignores punctuation between words and respects
word boundaries ("Paris" does not match inside "Parisian"). A sentence is split into word
n-grams up to the longest name; n-grams made only of stop words are skipped. A fact matches a
sentence when its subject is mentioned and its object is: an entity object by one of its
names, a literal by one of its rendered forms (``values.surface_forms``). A sentence that
mentions several facts of the subject is kept once, with all of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from corpora.kg.faithfulness import mentions, normalize
from corpora.kg.model import ENTITY, Fact
from corpora.kg.values import surface_forms

MAX_NAME_TOKENS = 8
MIN_SENTENCE_CHARS = 20
MAX_SENTENCE_CHARS = 1000
_WORD = re.compile(r"\w+")
STOP_WORDS = frozenset("""a an the of and or in on at to for from by with as is was are were be been it its
he she his her they their this that these those which who whom there here not no but if then than so""".split())
_ABBREV = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|Mt|Jr|Sr|vs|etc|e\.g|i\.e|No|Inc|Ltd|Co|[A-Z])\.$")


def name_key(text: str) -> str:
    """The matching key of a name or an n-gram: its word tokens, case-folded, space-joined."""
    return " ".join(_WORD.findall(text.casefold()))


def split_sentences(text: str) -> list[str]:
    """Sentences of a document: split after . ! ? followed by a space and a capital, digit or quote,
    except after common abbreviations and initials (see ``sentence_size`` for the length limits)."""
    out: list[str] = []
    for para in re.split(r"\n\s*\n|\n", text):
        start = 0
        for m in re.finditer(r"[.!?][\"')\]]?\s+(?=[A-Z0-9\"'(\u201c])", para):
            piece = para[start:m.start() + 1]
            if _ABBREV.search(piece.rstrip()):
                continue
            out.append(piece.strip())
            start = m.end()
        out.append(para[start:].strip())
    return [s for s in out if s]


def sentence_size(sentence: str) -> str | None:
    """None for a usable sentence, else ``sentence_too_short`` / ``sentence_too_long``."""
    if len(sentence) < MIN_SENTENCE_CHARS:
        return "sentence_too_short"
    if len(sentence) > MAX_SENTENCE_CHARS:
        return "sentence_too_long"
    return None


def sentence_keys(sentence: str, max_tokens: int = MAX_NAME_TOKENS) -> set[str]:
    """Every n-gram key (n <= max_tokens) of a sentence that is not only stop words."""
    tokens = _WORD.findall(sentence.casefold())
    keys = set()
    for i in range(len(tokens)):
        for n in range(1, min(max_tokens, len(tokens) - i) + 1):
            gram = tokens[i:i + n]
            if all(t in STOP_WORDS for t in gram):
                continue
            keys.add(" ".join(gram))
    return keys


def match_facts(sentence: str, subject: str, facts: Iterable[Fact], mentioned: set[str],
                label: Callable[[str], str], lang: str = "en") -> list[Fact]:
    """The subject's facts whose object the sentence mentions (entities by name, literals by form)."""
    text = normalize(sentence)
    out = []
    for f in facts:
        if f.subject != subject:
            continue
        if f.value.kind == ENTITY:
            if f.value.v in mentioned and f.value.v != subject:
                out.append(f)
        elif any(mentions(text, form) for form in surface_forms(f.value, label, lang)):
            out.append(f)
    return out


def names_of(entity: str, labels: Iterable[tuple[str, bool]], min_chars: int = 2) -> Iterator[str]:
    """Distinct matching keys of an entity's labels and aliases (too-short or stop-word names skipped)."""
    seen = set()
    for text, _alias in labels:
        key = name_key(text)
        if len(key) < min_chars or key in seen or all(t in STOP_WORDS for t in key.split()):
            continue
        if len(key.split()) > MAX_NAME_TOKENS:
            continue
        seen.add(key)
        yield key

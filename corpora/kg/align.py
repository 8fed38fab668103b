"""Distant-supervision alignment (KELM's first step): sentences of a corpus that mention an
entity (by label or alias) together with one or more of its objects.

Names and sentences are compared as sequences of word tokens (``\\w+``, case-folded,
diacritics folded: "Noel" matches "Noël"), so matching is case- and whitespace-insensitive,
ignores punctuation between words and respects word boundaries ("Paris" does not match
inside "Parisian"). Within a document, an entity named in full is then also found by its
short name (the last word of its label: "Adams") and by a pronoun ("he", "she", "it",
"his", ...) in the sentences that follow (``resolve_document``): Wikipedia names its
subject in full once and then says "Adams" or "He". A sentence is split into word
n-grams up to the longest name; n-grams made only of stop words are skipped. A fact matches a
sentence when its subject is mentioned and its object is: an entity object by one of its
names, a literal by one of its rendered forms (``values.surface_forms``). A sentence that
mentions several facts of the subject is kept once, with all of them.
"""

from __future__ import annotations

import re
import unicodedata
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


PRONOUNS = frozenset({"he", "she", "it", "his", "her", "its", "him"})
FULL, SHORT = "full", "short"


def fold(text: str) -> str:
    """Case-folded, with diacritics removed ("Noël" -> "noel")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_key(text: str) -> str:
    """The matching key of a name or an n-gram: its word tokens, folded (``fold``), space-joined."""
    return " ".join(_WORD.findall(fold(text)))


def short_names(label: str) -> list[str]:
    """Keys an entity named in full earlier in a document may go by: the last word of a label of
    two words or more ("Douglas Adams" -> "adams"), when it is a name (capitalized, 3+ letters)."""
    words = [w for w in re.findall(r"[^\W\d_][\w'-]*", label)]
    if len(words) < 2 or not words[-1][:1].isupper() or len(words[-1]) < 3:
        return []
    key = name_key(words[-1])
    return [] if key in STOP_WORDS else [key]


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
    tokens = _WORD.findall(fold(sentence))
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
    text = normalize(fold(sentence))
    out = []
    for f in facts:
        if f.subject != subject:
            continue
        if f.value.kind == ENTITY:
            if f.value.v in mentioned and f.value.v != subject:
                out.append(f)
        elif any(mentions(text, fold(form)) for form in surface_forms(f.value, label, lang)):
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


def name_keys(labels: list[tuple[str, bool]]) -> list[tuple[str, str]]:
    """(key, kind) of an entity's names: ``full`` for its labels and aliases (``names_of``), ``short``
    for the family names of its labels (``short_names``) that are not full names too."""
    full = list(names_of("", labels))
    shorts = sorted({k for text, alias in labels if not alias for k in short_names(text)} - set(full))
    return [(k, FULL) for k in full] + [(k, SHORT) for k in shorts]


def _position(folded: str, key: str) -> int:
    m = re.search(r"(?<!\w)" + r"\W+".join(map(re.escape, key.split())) + r"(?!\w)", folded)
    return m.start() if m else len(folded)


def resolve_document(sentences: Iterable[tuple[int, str, str]], mentions: Iterable[tuple[str, str, str, str, str]],
                     resolve: bool = True) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(sentence id, text, {entity: label}) for each sentence of one document, in order.

    ``sentences``: (index, sentence id, text); ``mentions``: (sentence id, entity, label, key, kind)
    where kind is ``full`` (a label or alias) or ``short`` (``short_names``). A short name counts
    once the entity was named in full in this document (or in the same sentence), and stands for
    the first entity so named ("Adams" after "Douglas Adams" and "Polly Adams" is Douglas); a pronoun
    stands for the subject of the latest sentence that named one (its first mention), unless the
    sentence names that entity itself. ``resolve=False``: full names only (the matching before
    issue 16, kept for comparison).
    """
    by_sentence: dict[str, list[tuple[str, str, str, str]]] = {}
    for sid, entity, label, key, kind in mentions:
        by_sentence.setdefault(sid, []).append((entity, label, key, kind))
    named: dict[str, str] = {}
    last_subject: str | None = None
    for _, sid, text in sorted(sentences):
        here = by_sentence.get(sid, [])
        full = {e: lab for e, lab, _, kind in here if kind == FULL}
        resolved = dict(full)
        if resolve:  # a short name shared by several entities named so far is the one named first
            order = {e: i for i, e in enumerate(list(named) + [e for e in full if e not in named])}
            by_key: dict[str, list[tuple[int, str, str]]] = {}
            for e, lab, key, kind in here:
                if kind == SHORT and e in order:
                    by_key.setdefault(key, []).append((order[e], e, lab))
            for cands in by_key.values():
                _, e, lab = min(cands)
                resolved.setdefault(e, lab)
        folded = fold(text)
        first = min(((_position(folded, key), e) for e, _, key, _ in here if e in resolved), default=None)
        if resolve and last_subject and last_subject not in resolved and PRONOUNS & set(_WORD.findall(folded)):
            pronoun_at = min(_position(folded, p) for p in PRONOUNS)
            if first is None or pronoun_at < first[0]:  # the pronoun comes before any other name
                resolved[last_subject] = named[last_subject]
                first = (pronoun_at, last_subject)
        named.update(full)
        if first is not None and first[1] in named:
            last_subject = first[1]
        yield sid, text, resolved

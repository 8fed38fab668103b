"""Text measurements shared by the quality filters (pure functions, linear time).

Definitions, following the Gopher paper (Rae et al. 2021, App. A) as implemented by
datatrove's ``GopherQualityFilter`` / ``GopherRepetitionFilter``:

- **word**: a whitespace-separated token that is not made only of symbols, i.e. has at
  least one character outside the Unicode punctuation (``P*``) and symbol (``S*``)
  categories. ``"--"``, ``"|"``, ``"…"`` and ``"©"`` are not words; ``"end."``, ``"$5"`` and
  ``"#tag"`` are (punctuation attached to a word stays part of it, so lengths include it).
  Languages written without spaces (Chinese, Japanese, Thai) have very few "words" under
  this definition: a whole sentence or paragraph is one token.
- **lines**: ``text.splitlines()`` for the Gopher quality ratios; non-empty pieces of the
  text split on runs of ``"\\n"`` for the repetition ratios (datatrove's ``\\n+`` split).
- **paragraphs**: the stripped text split on two or more newlines.
- **duplicates** (``find_duplicates``): an element that equals an earlier element is a
  duplicate; the first occurrence is not. Returns the number of duplicates and their
  total length in characters.
- **top n-gram coverage**: ``count * len(" ".join(ngram))`` for the most frequent word
  n-gram (overlapping occurrences counted, as ``Counter`` over all positions does); 0 when
  no n-gram occurs twice.
- **duplicated n-gram coverage**: the characters of the words covered by any occurrence
  (first one included) of an n-gram that occurs more than once, each word counted once
  however many duplicated n-grams overlap it. Characters are those of the words, not the
  spaces between them (datatrove's ``find_all_duplicate`` joins with ``""``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import compress, islice

# Fast path: a letter or a digit makes a token a word without looking at each character.
_ALNUM = re.compile(r"[^\W_]")
_PARAGRAPH_SPLIT = re.compile(r"\n{2,}")
_LINE_RUNS = re.compile(r"\n+")


def is_symbol_token(token: str) -> bool:
    """True when every character is Unicode punctuation or symbol (category P* or S*)."""
    if _ALNUM.search(token):
        return False
    return all(unicodedata.category(ch)[0] in "PS" for ch in token)


def gopher_words(text: str) -> list[str]:
    """Whitespace tokens of ``text`` that are not pure symbols (the Gopher notion of word)."""
    return [tok for tok in text.split() if not is_symbol_token(tok)]


def split_lines(text: str) -> list[str]:
    """Lines as ``str.splitlines`` gives them (empty lines included, [] for empty text)."""
    return text.splitlines()


def nonempty_lines(text: str) -> list[str]:
    """Non-empty pieces of ``text`` split on runs of newlines (repetition-filter lines)."""
    return [line for line in _LINE_RUNS.split(text) if line]


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs: the stripped text split on two or more consecutive newlines."""
    return _PARAGRAPH_SPLIT.split(text.strip())


def find_duplicates(items: Iterable[str]) -> tuple[int, int]:
    """(number of elements equal to an earlier one, their total characters)."""
    seen: set[str] = set()
    n_dup = 0
    dup_chars = 0
    for item in items:
        if item in seen:
            n_dup += 1
            dup_chars += len(item)
        else:
            seen.add(item)
    return n_dup, dup_chars


def _ngrams(words: Sequence[str], n: int) -> Iterable[tuple[str, ...]]:
    return zip(*(islice(words, k, None) for k in range(n)), strict=False)


def top_ngram_coverage(words: Sequence[str], n: int) -> int:
    """Characters covered by the most frequent word n-gram: ``count * len(" ".join(ngram))``.

    Returns 0 when the text has fewer than ``n`` words or no n-gram occurs twice.
    """
    if len(words) < n:
        return 0
    counts = Counter(_ngrams(words, n))
    ngram, count = counts.most_common(1)[0]
    if count < 2:
        return 0
    return count * (sum(map(len, ngram)) + n - 1)


def duplicate_ngram_coverage(words: Sequence[str], n: int, lengths: Sequence[int] | None = None) -> int:
    """Characters of the words covered by n-grams that occur more than once.

    One pass with a dict n-gram -> index of its first occurrence: on a repeat, the words of
    this occurrence and (once) of the first occurrence are marked; the result is the total
    length of the marked words, so overlapping duplicated n-grams are not double counted.
    ``lengths`` (``[len(w) for w in words]``) may be passed in to share it across n.
    """
    if len(words) < n:
        return 0
    covered = bytearray(len(words))
    ones = b"\x01" * n
    first: dict[tuple[str, ...], int] = {}
    for i, gram in enumerate(_ngrams(words, n)):
        j = first.setdefault(gram, i)
        if j != i:
            covered[i:i + n] = ones
            if j >= 0:
                covered[j:j + n] = ones
                first[gram] = -1  # first occurrence marked
    if lengths is None:
        lengths = [len(w) for w in words]
    return sum(compress(lengths, covered))


def ratio(num: float, den: float) -> float:
    """num / den, or 0.0 when den is 0 (empty documents measure as 0)."""
    return num / den if den else 0.0


def check_flag(owner: str, name: str, value: object) -> None:
    """Raise ValueError naming the filter and parameter when a switch is not a bool."""
    if not isinstance(value, bool):
        raise ValueError(f"{owner}.{name} must be true or false, got {value!r}")


def check_strings(owner: str, name: str, value: object) -> tuple[str, ...]:
    """Validate a list/tuple of strings parameter; return it as a tuple."""
    if isinstance(value, str) or not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{owner}.{name} must be a list of strings, got {value!r}")
    return tuple(value)

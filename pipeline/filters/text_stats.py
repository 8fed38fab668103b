"""Text measurements shared by the quality filters (pure functions, linear time).

Definitions, following the Gopher paper (Rae et al. 2021, App. A) as implemented by
datatrove's ``GopherQualityFilter`` / ``GopherRepetitionFilter``:

- **word**: a whitespace-separated token, symbol tokens included (the denominator of the
  "#"/ellipsis ratios and of the "80% of words contain a letter" rule).
- **content word**: a word that is not made only of symbols, i.e. has at least one
  character outside the Unicode punctuation (``P*``) and symbol (``S*``) categories.
  ``"--"``, ``"|"``, ``"…"``, ``"✔"`` and ``"©"`` are not content words; ``"end."``, ``"$5"``
  and ``"#tag"`` are (punctuation attached to a word stays part of it, so lengths include
  it). The word-count and mean-length rules and the repetition n-grams use content words.
  Languages written without spaces (Chinese, Japanese, Thai) have very few words under
  either definition: a whole sentence or paragraph is one token.
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

``top_ngram_coverage`` / ``duplicate_ngram_coverage`` compute one n directly (a dict of
n-gram -> first index, covered word positions marked). ``ngram_repetition`` gives the same
numbers for n = 2, 3, ... incrementally and is what the filter uses: an (n+1)-gram can only
occur twice if the n-grams at its start and at the next word both do, so each level only
looks at positions that were duplicated at the level below. Ordinary prose pays for about
two full passes over its words instead of nine.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate, compress, count, islice

# A letter or a digit makes a token a word without looking at each character.
_ALNUM = re.compile(r"[^\W_]")
# Whitespace tokens without any letter or digit: the only candidates for pure-symbol tokens.
_NO_ALNUM_TOKEN = re.compile(r"(?<!\S)(?:[^\w\s]|_)+(?!\S)")
# Tokens holding a letter-like character (\w minus digits and "_": letters, plus the rare
# numeric-but-not-decimal characters such as "½", which ``alpha_token_count`` accounts for).
_LETTERLIKE_TOKEN = re.compile(r"(?<!\S)\S*?[^\W\d_]")
_PARAGRAPH_SPLIT = re.compile(r"\n{2,}")
_LINE_RUNS = re.compile(r"\n+")


def is_symbol_token(token: str) -> bool:
    """True when every character is Unicode punctuation or symbol (category P* or S*)."""
    if _ALNUM.search(token):
        return False
    return all(unicodedata.category(ch)[0] in "PS" for ch in token)


def _content_words_and_count(text: str) -> tuple[list[str], int]:
    """(content words of ``text``, number of all whitespace words), from one split."""
    tokens = text.split()
    symbols = {tok for tok in set(_NO_ALNUM_TOKEN.findall(text)) if is_symbol_token(tok)}
    if not symbols:
        return tokens, len(tokens)
    return [tok for tok in tokens if tok not in symbols], len(tokens)


def gopher_words(text: str) -> list[str]:
    """Whitespace tokens of ``text`` that are not pure symbols (Gopher's content words)."""
    return _content_words_and_count(text)[0]


_last_words: tuple[str, tuple[str, ...], int] = ("", (), 0)


def _shared_words(text: str) -> tuple[tuple[str, ...], int]:
    global _last_words
    cached_text, words, n_all = _last_words
    if cached_text is text:
        return words, n_all
    content, n_all = _content_words_and_count(text)
    words = tuple(content)
    _last_words = (text, words, n_all)
    return words, n_all


def shared_gopher_words(text: str) -> tuple[str, ...]:
    """``gopher_words(text)`` as a tuple, remembered for the last text seen (by identity).

    The Gopher quality and repetition filters run one after the other on the same document
    (fused in one worker), so the second reuses the first's words instead of tokenizing
    again. A filter that rewrites the text makes a new string, which misses the cache.
    """
    return _shared_words(text)[0]


def shared_word_count(text: str) -> int:
    """``len(text.split())``: all whitespace words, symbol tokens included (same cache)."""
    return _shared_words(text)[1]


def has_alpha(token: str) -> bool:
    return any(ch.isalpha() for ch in token)


def alpha_token_count(text: str, words: Sequence[str]) -> int:
    """How many of ``words`` (the text's content words) contain an alphabetic character.

    A symbol token never contains a letter, so this is also the number of all whitespace
    words with a letter. One regex pass over the text; exact per-word checks only when the
    text contains a character that the regex would take for a letter but ``str.isalpha``
    does not.
    """
    if any(ch.isnumeric() and not ch.isdecimal() for ch in set(text)):
        return sum(1 for w in words if has_alpha(w))
    return len(_LETTERLIKE_TOKEN.findall(text))


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


def ngram_repetition(words: Sequence[str], max_n: int) -> Iterator[tuple[int, int, int]]:
    """Yield ``(n, top_coverage, duplicate_coverage)`` for n = 2 .. ``max_n``.

    The values equal ``top_ngram_coverage(words, n)`` and ``duplicate_ngram_coverage(words,
    n)``; a caller can stop early. ``dup`` maps the start of every occurrence of a duplicated
    n-gram to the start of its first occurrence (that first-index dict identifies n-grams:
    an (n+1)-gram is the pair of the n-grams at i and i + 1).
    """
    lengths = [len(w) for w in words]
    cum = [0, *accumulate(lengths)]
    first: dict = {}
    ids = list(map(first.setdefault, words, count()))
    counts = Counter(ids)
    dup: dict[int, int] = {i: f for i, f in enumerate(ids) if counts[f] > 1}
    for n in range(2, max_n + 1):
        first = {}
        keys = []
        starts = []
        for i, f in dup.items():
            g = dup.get(i + 1)
            if g is not None:
                key = (f, g)
                first.setdefault(key, i)
                keys.append(key)
                starts.append(i)
        counts = Counter(keys)
        dup = {i: first[k] for i, k in zip(starts, keys, strict=True) if counts[k] > 1}
        top = 0
        if dup:
            key, c = counts.most_common(1)[0]
            f = first[key]
            top = c * (cum[f + n] - cum[f] + n - 1)
        covered = bytearray(len(words))
        ones = b"\x01" * n
        for i in dup:
            covered[i:i + n] = ones
        yield n, top, sum(compress(lengths, covered)) if dup else 0


def trie_pattern(words: Iterable[str], shortest: bool = False) -> str | None:
    """A regex alternation of literal ``words`` with shared prefixes factored out (a trie).

    Python's ``re`` tries alternatives one by one at each position; factoring prefixes makes
    the cost per position depend on the text, not on the number of words. With
    ``shortest``, words that extend another word are dropped (enough when any occurrence
    counts); otherwise longer words are tried first and the match backtracks to shorter
    ones, so trailing context (word boundaries) still selects correctly. None when empty.
    """
    end = ""
    trie: dict[str, dict] = {}
    for word in words:
        if not word:
            continue
        node = trie
        for ch in word:
            if shortest and end in node:
                break
            node = node.setdefault(ch, {})
        else:
            if shortest:
                node.clear()
            node[end] = {}
    if not trie:
        return None

    def build(node: dict[str, dict]) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch != end]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 and end not in node else "(?:" + "|".join(alts) + ")"
        if end in node:
            return body + "?"
        return body

    return build(trie)

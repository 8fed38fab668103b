"""Gopher quality and repetition filters (Rae et al. 2021, "Scaling Language Models", App. A.1.1).

Two word counts are used, as in the paper and in datatrove (see ``text_stats``): *words*
are all whitespace tokens; *content words* are the words not made of punctuation/symbols
alone. Thresholds are the published ones (Table A1 and the quality-filter list); a
document is dropped when a measured value is strictly beyond its threshold.

``GopherQuality`` (name ``gopher_quality``), rules in the order checked, with drop reasons:

=========================  ====================================================  ==========
reason                     drops when                                            default
=========================  ====================================================  ==========
``too_few_words``          content words < ``min_words``                         50
``too_many_words``         content words > ``max_words``                         100,000
``mean_word_length_low``   mean content-word length < ``min_mean_word_length``   3
``mean_word_length_high``  mean content-word length > ``max_mean_word_length``   10
``hash_ratio``             count("#") / words > ``max_symbol_word_ratio``        0.1
``ellipsis_ratio``         (count("...") + count("…")) / words > same            0.1
``bullet_lines``           lines starting with a bullet / lines >                0.9
                           ``max_bullet_lines_ratio``
``ellipsis_lines``         lines ending with "..." or "…" / lines >              0.3
                           ``max_ellipsis_lines_ratio``
``non_alpha_words``        words with an alphabetic char / words (all            0.8
                           whitespace words: "✔ ✔ ✔" spam fails) <
                           ``min_alpha_words_ratio``
``few_stop_words``         distinct stop words present < ``min_stop_words``      2
=========================  ====================================================  ==========

Details: lines are ``text.splitlines()`` (blank lines count in the denominator, as in
datatrove); a line "starts with a bullet" when, after leading whitespace, it starts with one
of ``bullets`` (datatrove's ``•`` and ``-``); word length counts attached punctuation
(``"end."`` is 4 characters); a stop word is matched case-insensitively on the word with
surrounding punctuation stripped, and the rule counts *distinct* stop words (the paper:
"at least two of the following English words").

``GopherRepetition`` (name ``gopher_repetition``), checked in datatrove's order:

- ``dup_para_frac``: duplicate paragraphs / paragraphs > ``dup_para_frac`` (0.30);
- ``dup_para_char_frac``: chars in duplicate paragraphs / chars > ``dup_para_char_frac`` (0.20);
- ``dup_line_frac``: duplicate lines / lines > ``dup_line_frac`` (0.30);
- ``dup_line_char_frac``: chars in duplicate lines / chars > ``dup_line_char_frac`` (0.20);
- ``top_2_gram``, ``top_3_gram``, ``top_4_gram``: chars covered by the most frequent n-gram /
  chars > ``top_{n}gram_frac`` (0.20, 0.18, 0.16);
- ``dup_5_gram`` ... ``dup_10_gram``: chars covered by duplicated n-grams / chars >
  ``dup_{n}gram_frac`` (0.15, 0.14, 0.13, 0.12, 0.11, 0.10).

"chars" is ``len(text)``; a duplicate line/paragraph is one equal to an earlier one (the
first occurrence is not counted); n-gram coverage is defined in ``text_stats``.

Where this differs from datatrove (checked against datatrove 0.10.1; numbers can differ
slightly from its output): words are whitespace tokens (the reference definition) rather
than an NLTK/spaCy word tokenizer's tokens, which split punctuation off words (so datatrove's
"all words" include every "," and "." and its letter ratio is lower on ordinary prose);
duplicated n-gram coverage counts every occurrence of a repeated n-gram, the first included,
with overlaps counted once (the paper's wording and RedPajama-v2's implementation), where
datatrove's ``find_all_duplicate`` counts only later occurrences and skips ahead n words
after each; the top n-gram coverage is 0 when no n-gram repeats (datatrove counts a single
occurrence, which only matters for very short texts); stop words are matched
case-insensitively with surrounding punctuation stripped (datatrove: exact, case-sensitive
tokens; both count distinct stop words). docs/quality-and-dedup.md has the full list.

Languages written without spaces (Chinese, Japanese, Thai): a whole line is one "word", so
``GopherQuality`` drops such text as ``too_few_words`` (or ``mean_word_length_high``) and
the n-gram rules of ``GopherRepetition`` see almost nothing; the line and paragraph rules
still work. These filters are meant for space-delimited languages, like the paper's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from pipeline.filters.base import DocumentFilter, Verdict, check_range, drop, keep
from pipeline.filters.text_stats import (
    alpha_token_count,
    check_strings,
    find_duplicates,
    ngram_repetition,
    nonempty_lines,
    ratio,
    shared_gopher_words,
    shared_word_count,
    split_lines,
    split_paragraphs,
)
from pipeline.records import Document

STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")
BULLETS = ("•", "-")
_STRIP_PUNCT = "\"'`“”‘’«»()[]{}<>.,;:!?…-–—*_/\\|"


@dataclass
class GopherQuality(DocumentFilter):
    """Gopher's document quality heuristics (see module docstring for rules and reasons)."""

    name: ClassVar[str] = "gopher_quality"

    min_words: int = 50
    max_words: int = 100_000
    min_mean_word_length: float = 3
    max_mean_word_length: float = 10
    max_symbol_word_ratio: float = 0.1
    max_bullet_lines_ratio: float = 0.9
    max_ellipsis_lines_ratio: float = 0.3
    min_alpha_words_ratio: float = 0.8
    min_stop_words: int = 2
    stop_words: tuple[str, ...] = STOP_WORDS
    bullets: tuple[str, ...] = BULLETS

    def __post_init__(self) -> None:
        owner = self.name
        check_range(owner, "min_words", self.min_words, 0)
        check_range(owner, "max_words", self.max_words, self.min_words)
        check_range(owner, "min_mean_word_length", self.min_mean_word_length, 0)
        check_range(owner, "max_mean_word_length", self.max_mean_word_length, self.min_mean_word_length)
        check_range(owner, "max_symbol_word_ratio", self.max_symbol_word_ratio, 0)
        check_range(owner, "max_bullet_lines_ratio", self.max_bullet_lines_ratio, 0, 1)
        check_range(owner, "max_ellipsis_lines_ratio", self.max_ellipsis_lines_ratio, 0, 1)
        check_range(owner, "min_alpha_words_ratio", self.min_alpha_words_ratio, 0, 1)
        self.stop_words = tuple(w.lower() for w in check_strings(owner, "stop_words", self.stop_words))
        check_range(owner, "min_stop_words", self.min_stop_words, 0, len(self.stop_words))
        self.bullets = check_strings(owner, "bullets", self.bullets)
        if not all(self.bullets):
            raise ValueError(f"{owner}.bullets must not contain an empty string")
        # a whitespace token that is a stop word once surrounding punctuation is stripped
        edge = "[" + re.escape(_STRIP_PUNCT) + "]*"
        alternation = "|".join(sorted(map(re.escape, set(self.stop_words)), key=len, reverse=True))
        self._stop_re = re.compile(rf"(?<!\S){edge}({alternation}){edge}(?!\S)") if alternation else None

    def evaluate(self, doc: Document) -> Verdict:
        text = doc.text
        words = shared_gopher_words(text)  # content words
        n_words = len(words)
        n_all = shared_word_count(text)  # all whitespace words, symbol tokens included
        mean_len = ratio(sum(map(len, words)), n_words)
        hash_ratio = ratio(text.count("#"), n_all)
        ellipsis_ratio = ratio(text.count("...") + text.count("…"), n_all)
        lines = split_lines(text)
        bullets = self.bullets
        bullet_ratio = ratio(sum(1 for ln in lines if ln.lstrip().startswith(bullets)), len(lines))
        ellipsis_lines = ratio(sum(1 for ln in lines if ln.rstrip().endswith(("...", "…"))), len(lines))
        alpha_ratio = ratio(alpha_token_count(text, words), n_all)
        found = set(self._stop_re.findall(text.lower())) if self._stop_re else set()
        signals = {
            "words": n_words,
            "mean_word_length": mean_len,
            "hash_ratio": hash_ratio,
            "ellipsis_ratio": ellipsis_ratio,
            "bullet_lines_ratio": bullet_ratio,
            "ellipsis_lines_ratio": ellipsis_lines,
            "alpha_words_ratio": alpha_ratio,
            "stop_words": len(found),
        }
        if n_words < self.min_words:
            return drop("too_few_words", signals)
        if n_words > self.max_words:
            return drop("too_many_words", signals)
        if mean_len < self.min_mean_word_length:
            return drop("mean_word_length_low", signals)
        if mean_len > self.max_mean_word_length:
            return drop("mean_word_length_high", signals)
        if hash_ratio > self.max_symbol_word_ratio:
            return drop("hash_ratio", signals)
        if ellipsis_ratio > self.max_symbol_word_ratio:
            return drop("ellipsis_ratio", signals)
        if bullet_ratio > self.max_bullet_lines_ratio:
            return drop("bullet_lines", signals)
        if ellipsis_lines > self.max_ellipsis_lines_ratio:
            return drop("ellipsis_lines", signals)
        if alpha_ratio < self.min_alpha_words_ratio:
            return drop("non_alpha_words", signals)
        if len(found) < self.min_stop_words:
            return drop("few_stop_words", signals)
        return keep(signals)


TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)


@dataclass
class GopherRepetition(DocumentFilter):
    """Gopher's repetition heuristics (see module docstring for rules and reasons).

    Checks stop at the first failing rule, so a dropped document's signals hold the values
    measured up to that rule; a kept one has them all.
    """

    name: ClassVar[str] = "gopher_repetition"

    dup_line_frac: float = 0.30
    dup_para_frac: float = 0.30
    dup_line_char_frac: float = 0.20
    dup_para_char_frac: float = 0.20
    top_2gram_frac: float = 0.20
    top_3gram_frac: float = 0.18
    top_4gram_frac: float = 0.16
    dup_5gram_frac: float = 0.15
    dup_6gram_frac: float = 0.14
    dup_7gram_frac: float = 0.13
    dup_8gram_frac: float = 0.12
    dup_9gram_frac: float = 0.11
    dup_10gram_frac: float = 0.10

    def __post_init__(self) -> None:
        for name in ("dup_line_frac", "dup_para_frac", "dup_line_char_frac", "dup_para_char_frac"):
            check_range(self.name, name, getattr(self, name), 0, 1)
        for n in TOP_NGRAMS:
            check_range(self.name, f"top_{n}gram_frac", getattr(self, f"top_{n}gram_frac"), 0, 1)
        for n in DUP_NGRAMS:
            check_range(self.name, f"dup_{n}gram_frac", getattr(self, f"dup_{n}gram_frac"), 0, 1)

    def evaluate(self, doc: Document) -> Verdict:
        text = doc.text
        n_chars = len(text)
        signals: dict[str, float] = {}

        for unit, pieces in (("para", split_paragraphs(text)), ("line", nonempty_lines(text))):
            n_dup, dup_chars = find_duplicates(pieces)
            signals[f"dup_{unit}_frac"] = ratio(n_dup, len(pieces))
            signals[f"dup_{unit}_char_frac"] = ratio(dup_chars, n_chars)
            for rule in (f"dup_{unit}_frac", f"dup_{unit}_char_frac"):
                if signals[rule] > getattr(self, rule):
                    return drop(rule, signals)

        for n, top, dup in ngram_repetition(shared_gopher_words(text), DUP_NGRAMS[-1]):
            if n in TOP_NGRAMS:
                value = signals[f"top_{n}gram_frac"] = ratio(top, n_chars)
                if value > getattr(self, f"top_{n}gram_frac"):
                    return drop(f"top_{n}_gram", signals)
            if n in DUP_NGRAMS:
                value = signals[f"dup_{n}gram_frac"] = ratio(dup, n_chars)
                if value > getattr(self, f"dup_{n}gram_frac"):
                    return drop(f"dup_{n}_gram", signals)
        return keep(signals)

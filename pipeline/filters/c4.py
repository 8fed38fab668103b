"""C4's page cleaning (Raffel et al. 2020), as the TFDS builder's ``clean_page`` does it.

``C4Filter`` (name ``c4``) first drops pages over ``max_page_chars`` (C4's 190,000-character
cap, applied before cleaning), then walks the lines (``str.splitlines``, each stripped) in
order, applying to each line:

1. a whitespace token longer than ``max_word_length`` (1000) chars: line removed;
2. citation markers ``[1]``, ``[]``, ``[edit]``, ``[citation needed]`` deleted from the line
   (``remove_citations``);
3. a line not ending in ``.``, ``?``, ``!`` or ``"``, or ending in ``...``: removed
   (``filter_terminal_punct``; FineWeb runs C4 with it off);
4. fewer than ``min_words_per_line`` (5) whitespace tokens (counted after step 2): removed;
5. ``lorem ipsum`` (any case) in the line: **page dropped**, reason ``lorem_ipsum``;
6. ``javascript`` (any case) in the line: removed;
7. ``{`` in the line: **page dropped**, reason ``curly_bracket``;
8. a policy phrase ("terms of use", "privacy policy", "cookie policy", "uses cookies",
   "use of cookies", "use cookies"; any case): removed.

Lines that survive are joined with ``"\\n"`` (the cleaned text, returned in
``Verdict.text``). The page is then dropped with reason ``too_few_sentences`` when the
kept lines hold fewer than ``min_sentences`` (3) sentences, counted line by line as the
builder does. Steps 5 and 7 only see lines that survived 1-4, exactly as in the builder.

Page drop reasons: ``page_too_long``, ``lorem_ipsum``, ``curly_bracket``,
``too_few_sentences``, ``bad_words``. Line removals are reported as counts on kept pages
(``lines_too_long_word``, ``lines_no_terminal_punct``, ``lines_too_short``,
``lines_javascript``, ``lines_policy``) and as signals.

Bad words: ``bad_words_files`` maps a language code to a word-list file the user supplies
(one word or phrase per line, e.g. the LDNOOBW lists C4 used). After cleaning, the page is
dropped (``bad_words``) when its cleaned text contains an entry of the list for the
document's ``lang`` (region suffix ignored: ``en-GB`` uses ``en``). Matching is
case-insensitive and on word boundaries (the entry must be flanked by non-word characters
or the text ends), except for ``ja``, ``th`` and ``zh``, written without spaces, where an
entry matches anywhere, as in the builder's ``get_badwords_filter_fn``. A language without a
list is not checked. Lists are loaded in ``setup()`` (or on first use).

Sentence counting: C4 used NLTK's punkt model, which needs a data download; this module
uses a small offline regex splitter instead (``split_sentences``): a sentence ends at a run
of ``.``, ``!`` or ``?`` (plus closing quotes/brackets) followed by whitespace and an
uppercase letter or digit (after optional opening quotes/brackets), or by the end of the
line. A single ``.`` does not end a sentence after a common abbreviation (``Mr.``, ``Dr.``,
``e.g.``, ``i.e.``, ``vs.``, ``U.S.``...), a single-letter initial (``J. Smith``) or a dotted
acronym. Counts agree with punkt on ordinary prose; they can differ on unusual
abbreviations, which only matters for pages near the 3-sentence limit.

Not done here, by design: C4's cross-page de-duplication of repeated three-sentence spans
is the ``c4_span_dedup`` dedup step (``pipeline/dedup/spans.py``), and its ``langdetect``
English check (probability >= 0.99) belongs to the language-ID stage. datatrove's
``C4QualityFilter`` (0.3.0 and 0.10.1) differs from the builder: FineWeb's defaults (5
sentences, 3 words per line), ``'`` as a terminal mark, and words counted before citation
markers are removed.

Text without spaces (Chinese, Japanese) has lines of one "word" and no ``.!?"`` ending, so
every line is removed and the page dropped as ``too_few_sentences``: C4's rules are
English-only, as published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from pipeline.filters.base import DocumentFilter, Verdict, check_range, drop, keep
from pipeline.filters.text_stats import check_flag, trie_pattern
from pipeline.records import Document

CITATION_RE = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")
END_MARKS = (".", "?", "!", '"')
ELLIPSIS = "..."
POLICY_SUBSTRINGS = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)
# Languages written without spaces: bad words match without word boundaries (as in C4/mC4).
NO_SPACE_LANGS = frozenset({"ja", "th", "zh"})

# --- sentence splitting ---------------------------------------------------------------

ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "messrs", "dr", "prof", "sr", "jr", "st", "mt", "ft", "vs", "v",
    "inc", "ltd", "co", "corp", "bros", "dept", "univ", "assn", "gen", "gov", "sen", "rep",
    "rev", "hon", "capt", "col", "lt", "sgt", "cpl", "cmdr", "adm", "maj", "fig", "figs", "eq",
    "eqs", "approx", "no", "nos", "vol", "vols", "pp", "ch", "ed", "eds",
    "jan", "feb", "apr", "aug", "sep", "sept", "oct", "nov", "dec", "al", "cf", "ca",
})
# "e.g", "u.s", "a.m", "ph.d"-like tokens (the final "." is the candidate boundary).
_DOTTED = re.compile(r"^(?:[a-z]{1,2}\.)+[a-z]{1,2}$", re.IGNORECASE)
# terminal run (+ closers); lookahead: next visible char (after openers), or end of text.
_BOUNDARY = re.compile(
    r"([.!?]+)[\"'\u201d\u2019)\]\u00bb]*(?=\s+[\"'\u201c\u2018(\[\u00ab]*(\S)|\s*$)"
)
_OPENERS = "\"'\u201c\u2018([\u00ab"


def _word_before(text: str, end: int) -> str:
    """The whitespace token that ends at ``end`` (scans back only over that token)."""
    start = max(text.rfind(" ", 0, end), text.rfind("\t", 0, end)) + 1
    piece = text[start:end].split()  # other whitespace (NBSP...) inside the piece
    return piece[-1] if piece and not text[end - 1].isspace() else ""


def _is_abbreviation(word: str) -> bool:
    word = word.lstrip(_OPENERS)
    if not word:
        return False
    if len(word) == 1 and word.isalpha():
        return True  # initial: "J. Smith"
    return word.lower() in ABBREVIATIONS or bool(_DOTTED.match(word))


def split_sentences(text: str) -> list[str]:
    """Split text into sentences with the offline rules described in the module docstring."""
    sentences = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        nxt = m.group(2)
        if nxt is not None:  # not at the end: the next sentence must start like one
            if not (nxt.isupper() or nxt.isdigit()):
                continue
            if m.group(1) == "." and _is_abbreviation(_word_before(text, m.start())):
                continue
        piece = text[start:m.end()].strip()
        if piece:
            sentences.append(piece)
        start = m.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def count_sentences(text: str) -> int:
    return len(split_sentences(text))


# --- bad words --------------------------------------------------------------------------

def load_word_list(path: str) -> list[str]:
    """Entries of a word-list file: one word or phrase per line, blank lines ignored."""
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def compile_bad_words(words: list[str], lang: str) -> re.Pattern[str] | None:
    """Regex matching any entry in lower-cased text (word-bounded unless ja/th/zh)."""
    alternation = trie_pattern({w.lower() for w in words})
    if alternation is None:
        return None
    if lang in NO_SPACE_LANGS:
        return re.compile(alternation)
    return re.compile(rf"(?:\W|^)(?:{alternation})(?:\W|$)")


def base_language(lang: str | None) -> str:
    return (lang or "").replace("_", "-").split("-")[0].lower()


@dataclass
class C4Filter(DocumentFilter):
    """C4's ``clean_page`` rules plus its page-length cap and bad-words check (see module doc)."""

    name: ClassVar[str] = "c4"

    max_page_chars: int | None = 190_000
    max_word_length: int = 1000
    remove_citations: bool = True
    filter_terminal_punct: bool = True
    min_words_per_line: int = 5
    filter_lorem_ipsum: bool = True
    filter_javascript: bool = True
    filter_curly_bracket: bool = True
    filter_policy: bool = True
    min_sentences: int = 3
    bad_words_files: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        owner = self.name
        if self.max_page_chars is not None:
            check_range(owner, "max_page_chars", self.max_page_chars, 1)
        check_range(owner, "max_word_length", self.max_word_length, 1)
        check_range(owner, "min_words_per_line", self.min_words_per_line, 0)
        check_range(owner, "min_sentences", self.min_sentences, 0)
        for flag in ("remove_citations", "filter_terminal_punct", "filter_lorem_ipsum",
                     "filter_javascript", "filter_curly_bracket", "filter_policy"):
            check_flag(owner, flag, getattr(self, flag))
        files = self.bad_words_files
        if files is None:
            files = {}
        if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()
        ):
            raise ValueError(f"{owner}.bad_words_files must map language codes to file paths, got {files!r}")
        self.bad_words_files = {base_language(k): v for k, v in files.items()}
        self._bad_words: dict[str, re.Pattern[str] | None] | None = None

    def setup(self) -> None:
        self._bad_words = {
            lang: compile_bad_words(load_word_list(path), lang)
            for lang, path in self.bad_words_files.items()
        }

    def _bad_words_regex(self, lang: str | None) -> re.Pattern[str] | None:
        if self._bad_words is None:
            self.setup()
        assert self._bad_words is not None
        return self._bad_words.get(base_language(lang))

    def evaluate(self, doc: Document) -> Verdict:
        text = doc.text
        if self.max_page_chars is not None and len(text) > self.max_page_chars:
            return drop("page_too_long", {"chars": len(text)})

        removed = {"lines_too_long_word": 0, "lines_no_terminal_punct": 0, "lines_too_short": 0,
                   "lines_javascript": 0, "lines_policy": 0}
        kept: list[str] = []
        n_lines = 0
        n_sentences = 0
        max_word = self.max_word_length
        for raw in text.splitlines():
            n_lines += 1
            line = raw.strip()
            if any(len(w) > max_word for w in line.split()):
                removed["lines_too_long_word"] += 1
                continue
            if self.remove_citations:
                line = CITATION_RE.sub("", line)
            if self.filter_terminal_punct and (not line.endswith(END_MARKS) or line.endswith(ELLIPSIS)):
                removed["lines_no_terminal_punct"] += 1
                continue
            if len(line.split()) < self.min_words_per_line:
                removed["lines_too_short"] += 1
                continue
            lower = line.lower()
            if self.filter_lorem_ipsum and "lorem ipsum" in lower:
                return drop("lorem_ipsum", {"line": n_lines})
            if self.filter_javascript and "javascript" in lower:
                removed["lines_javascript"] += 1
                continue
            if self.filter_curly_bracket and "{" in line:
                return drop("curly_bracket", {"line": n_lines})
            if self.filter_policy and any(p in lower for p in POLICY_SUBSTRINGS):
                removed["lines_policy"] += 1
                continue
            n_sentences += count_sentences(line)
            kept.append(line)

        signals: dict[str, int] = {"lines": n_lines, "lines_kept": len(kept), "sentences": n_sentences,
                                   **removed}
        if n_sentences < self.min_sentences:
            return drop("too_few_sentences", signals)
        cleaned = "\n".join(kept).strip()
        regex = self._bad_words_regex(doc.lang)
        if regex is not None and regex.search(cleaned.lower()):
            return drop("bad_words", signals)
        return keep(signals, text=cleaned, **removed)

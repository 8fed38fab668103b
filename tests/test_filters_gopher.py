"""Gopher quality and repetition filters: every rule drops just past its published
threshold and keeps a near miss at it; helpers; parameter validation."""

import itertools
import random

import pytest

from pipeline.filters.base import FilterStep
from pipeline.filters.gopher import GopherQuality, GopherRepetition
from pipeline.filters.text_stats import (
    alpha_token_count,
    duplicate_ngram_coverage,
    find_duplicates,
    gopher_words,
    has_alpha,
    is_symbol_token,
    ngram_repetition,
    nonempty_lines,
    shared_gopher_words,
    split_paragraphs,
    top_ngram_coverage,
)
from pipeline.records import Document, Drop


def doc(text: str) -> Document:
    return Document(id="d", text=text, source="test", url="http://example.com/", lang="en")


# ---------------------------------------------------------------------------- helpers
# Unique words: a code in letters a-p, padded with "x" (not in the code alphabet).
_ids = itertools.count()


def uniq(k: int = 6) -> str:
    i = next(_ids)
    code = ""
    while True:
        code = "abcdefghijklmnop"[i % 16] + code
        i //= 16
        if not i:
            break
    assert len(code) <= k
    return "x" * (k - len(code)) + code


def filler(nchars: int) -> str:
    """Unique words joined by spaces, exactly ``nchars`` characters long (nchars >= 5)."""
    assert nchars >= 5
    words: list[str] = []
    remaining = nchars
    while remaining > 13:
        words.append(uniq(6))
        remaining -= 7
    words.append(uniq(remaining))
    text = " ".join(words)
    assert len(text) == nchars
    return text


def with_repeats(gram: str, copies: int, total: int, sep: str = " ") -> str:
    """``copies`` copies of ``gram`` between unique filler, exactly ``total`` chars long."""
    rest = total - copies * len(gram) - 2 * copies * len(sep)
    n_fill = copies + 1
    sizes = [rest // n_fill + (1 if i < rest % n_fill else 0) for i in range(n_fill)]
    parts = [filler(sizes[0])]
    for size in sizes[1:]:
        parts += [gram, filler(size)]
    text = sep.join(parts)
    assert len(text) == total
    return text


# --------------------------------------------------------------------- text_stats
def test_words_exclude_pure_symbol_tokens():
    assert gopher_words("Hello -- world | … © #tag $5 end. 3") == ["Hello", "world", "#tag", "$5", "end.", "3"]
    assert is_symbol_token("--") and is_symbol_token("«»") and not is_symbol_token("a-")


def test_find_duplicates_counts_repeats_not_first_occurrence():
    assert find_duplicates(["a", "bb", "a", "bb", "a", "c"]) == (3, 1 + 2 + 1)
    assert nonempty_lines("a\n\n\nb\n") == ["a", "b"]
    assert split_paragraphs("\n\np1 l1\np1 l2\n\n\np2\n") == ["p1 l1\np1 l2", "p2"]


def test_top_ngram_coverage():
    words = "a b a b a b c".split()
    assert top_ngram_coverage(words, 2) == 3 * len("a b")
    assert top_ngram_coverage("x y z".split(), 2) == 0  # nothing repeats
    assert top_ngram_coverage(["x"], 2) == 0


def test_duplicate_ngram_coverage_marks_all_occurrences_once():
    w = "aa bb cc dd ee X aa bb cc dd ee Y".split()
    assert duplicate_ngram_coverage(w, 5) == 2 * 10  # both occurrences, word chars only
    # overlapping duplicated n-grams do not double count: run of the same word
    run = ["zz"] * 12
    assert duplicate_ngram_coverage(run, 5) == 24
    assert duplicate_ngram_coverage("a b c d e".split(), 5) == 0
    assert duplicate_ngram_coverage(["a"], 5) == 0


def test_incremental_ngram_levels_match_direct_computation():
    rng = random.Random(7)
    vocab = ["a", "bb", "ccc", "dd", "e", "the", "of"]
    cases = [[rng.choice(vocab) for _ in range(rng.randint(0, 300))] for _ in range(60)]
    cases += [[], ["x"], ["x"] * 40, "one two three four five six one two three four five six".split()]
    for words in cases:
        got = list(ngram_repetition(words, 10))
        assert [n for n, _, _ in got] == list(range(2, 11))
        for n, top, dup in got:
            assert top == top_ngram_coverage(words, n), (words, n)
            assert dup == duplicate_ngram_coverage(words, n), (words, n)


def test_alpha_count_matches_per_word_check():
    for text in ["abc 123 a1 ½ 10² x½ -- é 名前 ٣٤", "plain words and 42 numbers", ""]:
        words = gopher_words(text)
        assert alpha_token_count(text, words) == sum(has_alpha(w) for w in words)


def test_shared_gopher_words_reuses_only_the_same_text():
    text = "Hello -- world | the end. " * 3
    first = shared_gopher_words(text)
    assert first == tuple(gopher_words(text))
    assert shared_gopher_words(text) is first  # same string object: the cached tuple
    rewritten = text.replace("world", "there")  # a filter rewrote the text: a new string
    assert shared_gopher_words(rewritten) == tuple(gopher_words(rewritten))
    assert shared_gopher_words("") == ()


# ------------------------------------------------------------------ GopherQuality
VOCAB = ["the", "cat", "sat", "with", "and", "house", "garden", "river", "yellow", "window"]


def words_text(n: int, vocab=VOCAB) -> str:
    return " ".join(vocab[i % len(vocab)] for i in range(n)) + "."


def quality(text: str, **params):
    return GopherQuality(**params).evaluate(doc(text))


def test_quality_keeps_ordinary_text_with_signals():
    v = quality(words_text(120))
    assert v.keep and v.reason is None
    assert v.signals["words"] == 120 and v.signals["stop_words"] == 3
    assert set(v.signals) >= {"mean_word_length", "hash_ratio", "ellipsis_ratio", "bullet_lines_ratio",
                              "ellipsis_lines_ratio", "alpha_words_ratio"}


def test_min_words_49_dropped_50_kept():
    assert quality(words_text(49)).reason == "too_few_words"
    assert quality(words_text(50)).keep
    # pure-symbol tokens are not words
    assert quality(words_text(49) + " -- | ... •").reason == "too_few_words"


def test_max_words_100001_dropped_100000_kept():
    assert quality(words_text(100_001)).reason == "too_many_words"
    assert quality(words_text(100_000)).keep


def test_mean_word_length_low():
    three = ["the", "and", "cat", "dog", "sun", "red", "big", "run", "box", "fox"]
    text = " ".join(three[i % 10] for i in range(50))  # mean exactly 3
    assert quality(text).keep
    dropped = quality("at" + text[3:])  # one 2-letter word: mean 2.98
    assert dropped.reason == "mean_word_length_low" and dropped.signals["mean_word_length"] == pytest.approx(2.98)


def test_mean_word_length_high():
    long_words = ["abcdefghij"] * 46 + ["abcdefghijklmnopq"] * 2  # 46*10 + 2*17 = 494
    text = " ".join(["the", "and"] + long_words)  # 500 chars of words / 50 = 10.0
    assert quality(text).keep
    assert quality(text + "k").reason == "mean_word_length_high"  # 10.02


def test_hash_ratio_over_0_1_dropped():
    base = words_text(45).rstrip(".").split()
    keep_text = " ".join(base + ["#tag"] * 5)  # 5 '#' / 50 words = 0.1
    assert quality(keep_text).keep
    v = quality(keep_text + " #")  # a lone '#' is a word (not a content word) and a symbol
    assert v.reason == "hash_ratio" and v.signals["hash_ratio"] == pytest.approx(6 / 51)


def test_symbol_ratios_divide_by_all_words_symbol_tokens_included():
    """The reference divides the '#' and ellipsis counts by all whitespace words."""
    base = words_text(100).rstrip(".").split()
    v = quality(" ".join(base + ["#"] * 11))  # 11 '#' / 111 words = 0.099 (not 11 / 100)
    assert v.keep and v.signals["hash_ratio"] == pytest.approx(11 / 111)
    assert v.signals["words"] == 100  # the word-count rule still counts content words
    v = quality(" ".join(["…"] * 11 + base))  # not at the line end (that is another rule)
    assert v.keep and v.signals["ellipsis_ratio"] == pytest.approx(11 / 111)
    assert quality(" ".join(base + ["#"] * 12)).reason == "hash_ratio"  # 12 / 112 > 0.1


def test_checkmark_spam_fails_the_letter_rule():
    """"offer ✔ ✔ ✔": symbol tokens count as words without a letter (paper, datatrove)."""
    line = "the offer of the day and cheap ✔ ✔ ✔"  # 7 words with a letter, 3 symbol tokens
    offers = "\n".join([line] * 20)
    v = quality(offers)
    assert v.reason == "non_alpha_words" and v.signals["alpha_words_ratio"] == pytest.approx(0.7)
    # word count and mean length still measure content words only
    assert v.signals["words"] == 20 * 7
    assert v.signals["mean_word_length"] == pytest.approx(len("theofferofthedayandcheap") / 7)
    assert quality(offers.replace(" ✔ ✔ ✔", "")).keep
    assert quality(offers.replace(" ✔ ✔ ✔", " ✔")).keep  # 7 / 8 words have a letter


def test_ellipsis_ratio_over_0_1_dropped():
    base = words_text(45).rstrip(".").split()
    keep_text = " ".join(base[:20] + ["wait..."] * 4 + ["so…"] + base[20:]) + "."  # 5/50
    assert quality(keep_text).keep
    v = quality(keep_text.replace("cat", "cat...", 1))
    assert v.reason == "ellipsis_ratio" and v.signals["ellipsis_ratio"] == pytest.approx(0.12)


def test_bullet_lines_91_percent_dropped_90_kept():
    def page(n_bullets: int) -> str:
        lines = [("• " if i < n_bullets else "") + "the cat sat with the dog" for i in range(100)]
        lines = [ln if i % 2 else ln.replace("•", "-") for i, ln in enumerate(lines)]  # both bullet kinds
        return "\n".join(lines)

    assert quality(page(90)).keep
    v = quality(page(91))
    assert v.reason == "bullet_lines" and v.signals["bullet_lines_ratio"] == pytest.approx(0.91)


def test_ellipsis_lines_31_percent_dropped_30_kept():
    def page(n: int) -> str:
        return "\n".join("the cat sat with the dog" + ("..." if i < n else ".") for i in range(100))

    assert quality(page(30)).keep
    v = quality(page(31))
    assert v.reason == "ellipsis_lines" and v.signals["ellipsis_lines_ratio"] == pytest.approx(0.31)
    # the unicode ellipsis counts too
    assert quality(page(31).replace("...", "…")).reason == "ellipsis_lines"


def test_alpha_words_below_80_percent_dropped():
    base = words_text(40).rstrip(".").split()
    keep_text = " ".join(base + ["1234"] * 10)  # 40/50 words alphabetic = 0.8
    assert quality(keep_text).keep
    v = quality(" ".join(base[:-1] + ["1234"] * 11))  # 39/50
    assert v.reason == "non_alpha_words" and v.signals["alpha_words_ratio"] == pytest.approx(0.78)


def test_stop_words_fewer_than_two_distinct_dropped():
    filler_words = ["cat", "sat", "house", "garden", "river"]
    one = " ".join(["the"] * 10 + filler_words * 10)
    v = quality(one)
    assert v.reason == "few_stop_words" and v.signals["stop_words"] == 1
    two = " ".join(["The,"] + ["and"] + filler_words * 10)  # case and punctuation ignored
    assert quality(two).keep


def test_quality_parameters_validated():
    with pytest.raises(ValueError, match=r"gopher_quality\.max_bullet_lines_ratio"):
        GopherQuality(max_bullet_lines_ratio=1.5)
    with pytest.raises(ValueError, match=r"gopher_quality\.min_words"):
        GopherQuality(min_words=-1)
    with pytest.raises(ValueError, match=r"gopher_quality\.max_mean_word_length"):
        GopherQuality(min_mean_word_length=5, max_mean_word_length=4)
    with pytest.raises(ValueError, match=r"gopher_quality\.stop_words"):
        GopherQuality(stop_words="the")
    with pytest.raises(ValueError, match=r"gopher_quality\.min_stop_words"):
        GopherQuality(min_stop_words=9)
    assert GopherQuality(stop_words=["The", "A"]).stop_words == ("the", "a")


def test_filter_step_drop_and_annotate():
    step = FilterStep(GopherQuality())
    out = step(doc(words_text(10)))
    assert isinstance(out, Drop) and out.stage == "gopher_quality" and out.reason == "too_few_words"
    assert "words=10" in out.detail
    annotated = FilterStep(GopherQuality(), annotate=True)(doc(words_text(10)))
    assert isinstance(annotated, Document)
    assert annotated.meta["filters"]["gopher_quality"]["reason"] == "too_few_words"


# --------------------------------------------------------------- GopherRepetition
def repetition(text: str, **params):
    return GopherRepetition(**params).evaluate(doc(text))


def test_repetition_keeps_unique_text_with_all_signals():
    v = repetition(filler(2000))
    assert v.keep
    assert len(v.signals) == 4 + 3 + 6 and all(value == 0 for value in v.signals.values())


def _interleaved(n_copies: int, n_unique: int, sep: str) -> str:
    units = []
    for i in range(n_unique):
        units.append(filler(60))
        if i < n_copies:
            units.append("okay.")
    return sep.join(units)


def test_dup_para_frac_31_percent_dropped_30_kept():
    kept = repetition(_interleaved(31, 69, "\n\n"))  # 30 of 100 paragraphs repeat an earlier one
    assert kept.keep and kept.signals["dup_para_frac"] == pytest.approx(0.30)
    v = repetition(_interleaved(32, 68, "\n\n"))
    assert v.reason == "dup_para_frac" and v.signals["dup_para_frac"] == pytest.approx(0.31)


def test_dup_line_frac_31_percent_dropped_30_kept():
    kept = repetition(_interleaved(31, 69, "\n"))
    assert kept.keep and kept.signals["dup_line_frac"] == pytest.approx(0.30)
    assert kept.signals["dup_para_frac"] == 0
    v = repetition(_interleaved(32, 68, "\n"))
    assert v.reason == "dup_line_frac" and v.signals["dup_line_frac"] == pytest.approx(0.31)


def _dup_unit_page(total: int, sep: str) -> str:
    unit = "y" * 100  # one long word: repeats chars without repeating any n-gram
    rest = total - 2 * len(unit) - 4 * len(sep)
    sizes = [rest // 3, rest // 3, rest - 2 * (rest // 3)]
    return sep.join([filler(sizes[0]), unit, filler(sizes[1]), unit, filler(sizes[2])])


def test_dup_para_char_frac_over_0_2_dropped():
    kept = repetition(_dup_unit_page(500, "\n\n"))  # 100 / 500
    assert kept.keep and kept.signals["dup_para_char_frac"] == 0.2
    v = repetition(_dup_unit_page(499, "\n\n"))
    assert v.reason == "dup_para_char_frac"


def test_dup_line_char_frac_over_0_2_dropped():
    kept = repetition(_dup_unit_page(500, "\n"))
    assert kept.keep and kept.signals["dup_line_char_frac"] == 0.2 and kept.signals["dup_para_char_frac"] == 0
    v = repetition(_dup_unit_page(499, "\n"))
    assert v.reason == "dup_line_char_frac"


@pytest.mark.parametrize(
    "n,copies,total,threshold",
    [(2, 4, 260, 0.20), (3, 9, 1000, 0.18), (4, 4, 675, 0.16)],
)
def test_top_ngram_fraction(n, copies, total, threshold):
    gram = " ".join(uniq(6) for _ in range(n))
    kept = repetition(with_repeats(gram, copies, total))
    assert kept.keep and kept.signals[f"top_{n}gram_frac"] == threshold
    v = repetition(with_repeats(gram, copies, total - 1))
    assert v.reason == f"top_{n}_gram" and v.signals[f"top_{n}gram_frac"] > threshold


@pytest.mark.parametrize(
    "n,word_len,total,threshold",
    [(5, 6, 400, 0.15), (6, 7, 600, 0.14), (7, 13, 1400, 0.13), (8, 6, 800, 0.12),
     (9, 11, 1800, 0.11), (10, 5, 1000, 0.10)],
)
def test_duplicated_ngram_fraction(n, word_len, total, threshold):
    gram = " ".join(uniq(word_len) for _ in range(n))
    kept = repetition(with_repeats(gram, 2, total))  # covered: 2 * n * word_len chars
    assert kept.keep and kept.signals[f"dup_{n}gram_frac"] == threshold
    v = repetition(with_repeats(gram, 2, total - 1))
    assert v.reason == f"dup_{n}_gram" and v.signals[f"dup_{n}gram_frac"] > threshold


def test_repetition_parameters_validated():
    with pytest.raises(ValueError, match=r"gopher_repetition\.dup_7gram_frac"):
        GopherRepetition(dup_7gram_frac=2)
    with pytest.raises(ValueError, match=r"gopher_repetition\.dup_line_frac"):
        GopherRepetition(dup_line_frac=-0.1)
    with pytest.raises(ValueError, match=r"gopher_repetition\.top_2gram_frac"):
        GopherRepetition(top_2gram_frac="0.2")
    assert GopherRepetition().top_3gram_frac == 0.18 and GopherRepetition().dup_10gram_frac == 0.10

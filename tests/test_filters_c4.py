"""C4Filter: the TFDS clean_page rules line by line, page drops, bad words, sentence splitter."""

import pytest

from pipeline.filters.base import FilterStep
from pipeline.filters.c4 import C4Filter, compile_bad_words, count_sentences, split_sentences
from pipeline.records import Document

GOOD = [
    "The river runs through the old town in spring.",
    "Many visitors come here every summer to swim.",
    "Local cafes serve coffee and cake all day long.",
]
PAGE = "\n".join(GOOD)


def doc(text: str, lang: str = "en") -> Document:
    return Document(id="d", text=text, source="test", url="http://example.com/", lang=lang)


def c4(text: str, lang: str = "en", **params):
    return C4Filter(**params).evaluate(doc(text, lang))


def test_clean_page_keeps_good_lines_and_returns_cleaned_text():
    v = c4("  Menu\n" + PAGE + "\nHome | About\n")
    assert v.keep and v.text == PAGE
    assert v.signals["lines_kept"] == 3 and v.signals["sentences"] == 3
    assert v.counts["lines_no_terminal_punct"] == 2


def test_page_over_190000_chars_dropped_before_cleaning():
    pad = "\n" + "x" * (190_000 - len(PAGE) - 1)  # a line removed by cleaning
    assert len(PAGE + pad) == 190_000
    kept = c4(PAGE + pad)
    assert kept.keep and kept.text == PAGE
    v = c4(PAGE + pad + "x")
    assert not v.keep and v.reason == "page_too_long" and v.signals["chars"] == 190_001
    assert c4(PAGE + pad + "x", max_page_chars=None).keep


def test_line_with_word_over_1000_chars_removed():
    long_line = "This line has a very long token " + "a" * 1001 + " in it."
    ok_line = "This line has a long but allowed token " + "a" * 1000 + " in it."
    v = c4(PAGE + "\n" + long_line + "\n" + ok_line)
    assert v.keep and long_line not in v.text and ok_line in v.text
    assert v.counts["lines_too_long_word"] == 1


def test_citations_removed():
    text = PAGE + "\nParis is the capital of France.[1]\nIt has many old bridges[edit] and museums.[citation needed]"
    v = c4(text + "\nSome notes about the [a] marker here.[]")
    assert v.keep
    assert "Paris is the capital of France." in v.text.split("\n")
    assert "It has many old bridges and museums." in v.text.split("\n")
    assert "Some notes about the [a] marker here." in v.text.split("\n")  # [a] is not a citation
    off = c4(text, remove_citations=False)
    assert "Paris" not in off.text  # without removal the line ends in "]" and goes


def test_terminal_punctuation_rule():
    lines = [
        "This line has no terminal mark at all",
        "Does this line end with a question mark?",
        "This line ends with an exclamation mark!",
        'He said that this line ends in a "quote"',
        'She said: "this line ends with a quote."',
        "This line trails off with an ellipsis...",
        "This line ends with a colon as well:",
    ]
    v = c4(PAGE + "\n" + "\n".join(lines))
    kept = v.text.split("\n")
    for i in (1, 2, 3, 4):  # ". ? ! and a closing double quote are terminal marks
        assert lines[i] in kept
    for i in (0, 5, 6):
        assert lines[i] not in kept
    assert v.counts["lines_no_terminal_punct"] == 3
    # FineWeb's variant: terminal-punctuation rule (and the "..." rule with it) off
    variant = c4(PAGE + "\n" + "\n".join(lines), filter_terminal_punct=False)
    assert all(line in variant.text.split("\n") for line in lines)


def test_lines_with_fewer_than_5_words_removed():
    four = "Only four words here."
    five = "Exactly five words are here."
    v = c4(PAGE + "\n" + four + "\n" + five)
    assert five in v.text and four not in v.text and v.counts["lines_too_short"] == 1
    # words are counted after citation removal
    assert "Four words and[1] [2]." not in c4(PAGE + "\nFour words and[1] [2].").text


def test_lorem_ipsum_in_kept_line_drops_page():
    v = c4(PAGE + "\nLorem Ipsum dolor sit amet, consectetur adipiscing.")
    assert not v.keep and v.reason == "lorem_ipsum"
    # only lines that survived rules 1-4 are looked at
    assert c4(PAGE + "\nlorem ipsum dolor sit amet").keep
    assert c4(PAGE + "\nLorem ipsum.").keep


def test_javascript_lines_removed():
    js = "Please enable JavaScript in your browser to continue."
    java = "Java is an island and also a programming language."
    v = c4(PAGE + "\n" + js + "\n" + java)
    assert v.keep and js not in v.text and java in v.text and v.counts["lines_javascript"] == 1


def test_curly_bracket_in_kept_line_drops_page():
    v = c4(PAGE + "\nThe function is { return the value; } in this code.")
    assert not v.keep and v.reason == "curly_bracket"
    assert c4(PAGE + "\nvar x = {").keep  # removed by rule 3 before rule 7 sees it
    # javascript comes before the bracket rule: such a line is only removed
    assert c4(PAGE + "\nThe javascript code here is { a: 1 } for sure.").keep


@pytest.mark.parametrize("phrase", ["Terms of Use", "privacy policy", "Cookie Policy", "uses cookies",
                                    "use of cookies", "use cookies"])
def test_policy_lines_removed(phrase):
    line = f"Please read the {phrase} before going any further."
    v = c4(PAGE + "\n" + line)
    assert v.keep and line not in v.text and v.counts["lines_policy"] == 1


def test_policy_near_miss_kept():
    line = "This policy is private and we like cookie recipes."
    assert line in c4(PAGE + "\n" + line).text


def test_fewer_than_3_sentences_drops_page():
    v = c4("\n".join(GOOD[:2]))
    assert not v.keep and v.reason == "too_few_sentences" and v.signals["sentences"] == 2
    assert c4("\n".join(GOOD)).keep
    # sentences are counted inside lines, not lines
    assert c4("One short sentence here. Another one follows it. And a third one ends.").keep
    assert c4("Mr. Smith met Dr. Jones in the U.S. yesterday morning.\n" + "\n".join(GOOD[:1])).reason \
        == "too_few_sentences"
    assert c4("").reason == "too_few_sentences"


def test_sentence_splitter():
    assert count_sentences("It rained. Then it stopped! Did it? Yes.") == 4
    assert count_sentences("Mr. Smith and Dr. Who met e.g. at noon. Today it ended.") == 2
    assert count_sentences("He lives in the U.S. He likes it.") == 1  # abbreviation not split (as punkt)
    assert count_sentences('She said "Stop." Then she left.') == 2
    assert count_sentences("The year was 1999. 2000 came next.") == 2
    assert count_sentences("J. R. R. Tolkien wrote books.") == 1
    assert count_sentences("They met at 5 p.m. Today it ended.") == 1  # dotted abbreviation
    assert count_sentences("lowercase after. this is one sentence") == 1
    assert count_sentences("no final punctuation") == 1
    assert count_sentences("") == 0
    assert split_sentences("First one. Second one!") == ["First one.", "Second one!"]


def _write(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_bad_words_per_language(tmp_path):
    en = _write(tmp_path, "en.txt", ["badword", "two words", ""])
    ja = _write(tmp_path, "ja.txt", ["悪い"])
    filt = C4Filter(bad_words_files={"en": en, "ja": ja})
    filt.setup()
    bad = PAGE + "\nThis sentence has a BadWord inside of it."
    v = filt.evaluate(doc(bad))
    assert not v.keep and v.reason == "bad_words"
    assert filt.evaluate(doc(PAGE + "\nWe saw two Words written on a wall.")).reason == "bad_words"
    # word boundaries: a longer word containing the entry is fine
    assert filt.evaluate(doc(PAGE + "\nThese badwords and badwordy things are fine.")).keep
    # language with no list: not checked; region suffix uses the base language's list
    assert filt.evaluate(doc(bad, lang="de")).keep
    assert filt.evaluate(doc(bad, lang="en-GB")).reason == "bad_words"
    # only the cleaned text is checked: a bad word on a removed line does not matter
    assert filt.evaluate(doc(PAGE + "\nbadword menu")).keep
    # ja is written without spaces: matches anywhere
    ja_text = PAGE + "\nThis line mentions これは悪い例です in Japanese text."
    assert filt.evaluate(doc(ja_text, lang="ja")).reason == "bad_words"
    assert filt.evaluate(doc(ja_text, lang="en")).keep


def test_bad_words_prefix_entries_respect_word_boundaries():
    rx = compile_bad_words(["ass", "asshole", "x-rated"], "en")
    assert rx.search("you asshole!") and rx.search("an ass.") and rx.search("x-rated film")
    assert not rx.search("assholes and classes") and not rx.search("assassin")
    assert compile_bad_words([], "en") is None


def test_bad_words_loaded_lazily_without_setup(tmp_path):
    en = _write(tmp_path, "en.txt", ["badword"])
    filt = C4Filter(bad_words_files={"en": en})
    assert filt.evaluate(doc(PAGE + "\nA badword is on this line here.")).reason == "bad_words"


def test_missing_bad_words_file_fails_at_setup(tmp_path):
    filt = C4Filter(bad_words_files={"en": str(tmp_path / "missing.txt")})
    with pytest.raises(FileNotFoundError):
        filt.setup()


def test_c4_parameters_validated():
    with pytest.raises(ValueError, match=r"c4\.min_words_per_line"):
        C4Filter(min_words_per_line=-1)
    with pytest.raises(ValueError, match=r"c4\.max_word_length"):
        C4Filter(max_word_length=0)
    with pytest.raises(ValueError, match=r"c4\.max_page_chars"):
        C4Filter(max_page_chars=0)
    with pytest.raises(ValueError, match=r"c4\.min_sentences"):
        C4Filter(min_sentences=-2)
    with pytest.raises(ValueError, match=r"c4\.filter_policy"):
        C4Filter(filter_policy="yes")
    with pytest.raises(ValueError, match=r"c4\.bad_words_files"):
        C4Filter(bad_words_files=["en.txt"])
    defaults = C4Filter()
    assert (defaults.max_page_chars, defaults.min_words_per_line, defaults.min_sentences,
            defaults.max_word_length) == (190_000, 5, 3, 1000)


def test_filter_step_rewrites_text():
    d = doc("Navigation\n" + PAGE)
    out = FilterStep(C4Filter())(d)
    assert isinstance(out, Document) and out.text == PAGE
    annotated = FilterStep(C4Filter(), annotate=True)(doc("Navigation\n" + PAGE))
    assert annotated.text.startswith("Navigation")  # annotate mode does not clean
    assert annotated.meta["filters"]["c4"]["keep"] is True

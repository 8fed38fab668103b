"""HTML decoding and extraction, normalization, and language ID on plain data."""

import pytest

from pipeline.charset import UndecodableError, decode_html
from pipeline.extract import TextExtractor, html_depth_exceeds
from pipeline.langid import LanguageFilter, LanguageIdentifier, parse_langs
from pipeline.normalize import Normalizer, normalize_text
from pipeline.records import Document, Drop, RawRecord
from tests.warc_factory import DE, EN, FR, html_page


def raw(body: bytes, charset=None) -> RawRecord:
    return RawRecord("k1", "f.warc.gz", "html", body, url="http://x.test/", header_charset=charset)


def test_charset_header_then_meta_then_detection():
    german = "<html><body><p>Grüße aus Köln, schöne Straße.</p></body></html>"
    assert decode_html(german.encode("cp1252"), "windows-1252")[1:] == ("cp1252", "header")
    meta = '<html><head><meta charset="iso-8859-1"></head><body><p>Grüße aus Köln</p></body></html>'
    text, charset, how = decode_html(meta.encode("latin-1"), None)
    assert "Grüße" in text and how == "meta"
    # A wrong header (utf-8) on latin-1 bytes falls through to the meta tag.
    assert decode_html(meta.encode("latin-1"), "utf-8")[2] == "meta"
    assert decode_html(german.encode("utf-8"), "utf-8")[1:] == ("utf-8", "header")
    # Undeclared or declared otherwise, non-ASCII bytes that are valid UTF-8 are read as UTF-8.
    for header in (None, "windows-1252", "iso-8859-1"):
        assert decode_html(german.encode("utf-8"), header) == (german, "utf-8", "valid_utf8")
    # Pure ASCII keeps the declared charset; with none, detection decides.
    assert decode_html(b"<p>plain</p>", "windows-1252")[1:] == ("cp1252", "header")
    assert decode_html(b"<p>plain words, nothing else</p>" * 20, None)[2] == "detected"


def test_valid_utf8_is_not_read_as_a_detected_legacy_charset():
    # Detection alone reads this real-world shape (a UTF-8 bullet and degree sign in a page that
    # declares nothing) as windows-1252, which turned them into "â€¢" and "Â°".
    page = ("<html><head><style>li:before{content:\"•\"}</style></head><body>"
            "<p>Bengaluru 26 ° C, clouds.</p></body></html>")
    text, charset, how = decode_html(page.encode("utf-8"), None)
    assert text == page and (charset, how) == ("utf-8", "valid_utf8")
    assert "â€" not in text and "Â°" not in text


def test_seven_bit_charsets_still_go_to_detection():
    # ISO-2022-JP is pure ASCII bytes (escape sequences), so it is not taken for UTF-8.
    japanese = "<html><body><p>" + "日本語のテキストです。東京は晴れです。" * 20 + "</p></body></html>"
    text, charset, how = decode_html(japanese.encode("iso2022_jp"), None)
    assert (charset, how) == ("iso2022_jp", "detected") and "東京" in text


def test_legacy_bytes_that_are_not_utf8_keep_their_declared_charset():
    french = "<html><body><p>Le café est très bon, naïve élève à Noël.</p></body></html>"
    assert decode_html(french.encode("latin-1"), "iso-8859-1") == (french, "cp1252", "header")
    assert decode_html(french.encode("cp1252"), None)[0] == french  # detected


def test_undecodable_bytes_are_an_error():
    junk = bytes(range(128, 256)) * 50
    with pytest.raises(UndecodableError):
        decode_html(b"<html>" + junk, "utf-8")


def test_main_content_extraction_drops_boilerplate():
    doc = TextExtractor()(raw(html_page("Lighthouse", EN), "utf-8"))
    assert isinstance(doc, Document)
    assert "spiral staircase" in doc.text
    assert "All rights reserved" not in doc.text and "About us" not in doc.text
    assert doc.id.startswith("web-") and doc.meta["charset"] == "utf-8"
    assert TextExtractor()(raw(html_page("Lighthouse", EN), "utf-8")).id == doc.id  # deterministic


def test_trafilatura_extractor():
    doc = TextExtractor(extractor="trafilatura")(raw(html_page("Lighthouse", EN), "utf-8"))
    assert isinstance(doc, Document) and "spiral staircase" in doc.text
    with pytest.raises(ValueError):
        TextExtractor(extractor="nope")


def test_deeply_nested_html_is_dropped_fast():
    deep = b"<html><body>" + b"<div>" * 100_000 + b"deep" + b"</div>" * 100_000 + b"</body></html>"
    assert html_depth_exceeds(deep, 1024)
    assert not html_depth_exceeds(html_page("x", EN), 1024)
    result = TextExtractor()(raw(deep, "utf-8"))
    assert isinstance(result, Drop) and result.reason == "html_too_deep"


# A documentation page: source hard-wrapped inside paragraphs that hold inline elements.
WRAPPED = b"""<html><head><title>Install</title></head><body><nav><a href="/">Home</a></nav>
<main><h1>Installation guide</h1>
<p>The <code class="literal">install</code> command downloads the package
and all of its dependencies, then builds the <em>wheel</em> files
locally so that later runs are <a href="/cache">much
faster</a> than the first one.</p>
<p>Pass <code>--user</code> to install into
your home directory instead of the system site packages, which needs no root.</p>
<p>Two lines on purpose:<br>
the second after a line break.</p>
<pre>pip install x
pip check</pre>
</main></body></html>"""


@pytest.mark.parametrize("extractor", ["resiliparse", "trafilatura"])
def test_paragraphs_are_whole_lines(extractor):
    doc = TextExtractor(extractor=extractor)(raw(WRAPPED, "utf-8"))
    lines = normalize_text(doc.text).split("\n")
    assert ("The install command downloads the package and all of its dependencies, then builds the wheel "
            "files locally so that later runs are much faster than the first one.") in lines
    assert ("Pass --user to install into your home directory instead of the system site packages, "
            "which needs no root.") in lines
    # An explicit <br> and preformatted text keep their line breaks.
    assert "Two lines on purpose:" in lines and "the second after a line break." in lines
    assert "pip install x" in lines and "pip check" in lines


def test_empty_page_and_invalid_encoding_drops():
    assert TextExtractor()(raw(b"<html><body><script>x()</script></body></html>")).reason == "empty_text"
    assert TextExtractor()(raw(b"<html>" + bytes(range(128, 256)) * 50, "utf-8")).reason == "invalid_encoding"


def test_normalize_text():
    text = "Cafe\u0301  au\tlait\x00\x07\r\n\r\n\r\n\r\n  second   line \u200b"
    out = normalize_text(text)
    assert out.startswith("Café au lait")  # NFC composes e + combining acute
    assert "\x00" not in out and "\x07" not in out
    assert out.split("\n") == ["Café au lait", "", "second line \u200b".strip()]
    assert normalize_text("The Mona Lisa doesnâ€™t have eyebrows.", fix_mojibake=True) == (
        "The Mona Lisa doesn't have eyebrows."
    )


def _normalize_every_pass(text: str) -> str:
    """normalize_text as it was before its passes got substring guards: the reference."""
    import re
    import unicodedata

    from pipeline.normalize import _CONTROL

    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = re.sub(r"[^\S\n]+", " ", unicodedata.normalize("NFC", text))
    return re.sub(r"\n{3,}", "\n\n", re.sub(r" ?\n ?", "\n", text)).strip()


def test_normalize_passes_give_what_the_plain_passes_give():
    import random
    import re
    import sys

    from pipeline.normalize import ODD_SPACES

    every_char = "".join(map(chr, range(sys.maxunicode + 1)))
    assert set(re.findall(r"[^\S\n ]", every_char)) == set(ODD_SPACES)
    alphabet = ["a", "b", " ", " ", "\n", "\n", "\t", "\r", "\xa0", "\u2028", "\u3000", "\x0b", "\x1c", "\x85",
                "e\u0301", "\u200b"]
    rng = random.Random(0)
    for i in range(24_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12 if i % 6 else 48)))
        assert normalize_text(text) == _normalize_every_pass(text), repr(text)


def test_normalizer_drops_empty_and_too_long():
    from pipeline.limits import Limits

    n = Normalizer(limits=Limits(max_doc_chars=100))
    assert n(Document("a", " \x00\n ", "web")).reason == "empty_text"
    assert n(Document("b", "word " * 100, "web")).reason == "too_long"
    assert n(Document("c", "fine  text", "web")).text == "fine text"


def test_language_identification():
    lid = LanguageIdentifier()
    for sentences, code in ((EN, "en"), (DE, "de"), (FR, "fr")):
        lang, score = lid.identify("\n".join(sentences))
        assert lang == code and score > 0.9
    lang, score = lid.identify("zzkq xqv 123 ##")
    assert (lang == "und") == (score < 0.65)


def test_language_filter_keeps_selected():
    keep = LanguageFilter(LanguageIdentifier(), parse_langs("en,de"))
    en = keep(Document("a", " ".join(EN), "web"))
    assert isinstance(en, Document) and en.lang == "en" and en.lang_score > 0.9
    fr = keep(Document("b", " ".join(FR), "web"))
    assert isinstance(fr, Drop) and fr.reason == "lang_not_selected"
    strict = LanguageFilter(LanguageIdentifier(threshold=1.0), parse_langs("en"))
    assert strict(Document("c", "ok then", "web")).reason == "lang_low_score"
    with pytest.raises(ValueError):
        parse_langs("english,de")

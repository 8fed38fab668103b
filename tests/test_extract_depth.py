"""The HTML depth guard estimates the nesting the HTML parser builds, not a count of tags."""

import re

import pytest

from bench.extraction import guard_estimate as estimate
from bench.extraction import parser_depth
from pipeline.extract import TextExtractor, _opening_tag_bound, html_depth_exceeds
from pipeline.records import Document, Drop, RawRecord
from tests.warc_factory import EN, html_page

LIMIT = 1024


def page(body: bytes) -> bytes:
    return b"<!doctype html><html><head><title>t</title></head><body><main><p>" + " ".join(EN).encode() + (
        b"</p>" + body + b"<p>The end of the article.</p></main></body></html>"
    )


def extract(html: bytes) -> Document | Drop:
    return TextExtractor()(RawRecord("k", "f.warc.gz", "html", html, url="http://x.test/", header_charset="utf-8"))


SVG_ICONS = b'<svg viewBox="0 0 24 24"><g fill="none">' + b'<path d="M0 0L1 1"/>' * 1100 + b"</g></svg>"
MATHML = b"<math><mrow>" + b"<mi>x</mi><mo>+</mo><mspace width='1em'/>" * 1100 + b"</mrow></math>"
# Every case is shallow in the parser's tree but has more than LIMIT start tags.
SHALLOW = {
    "inline svg, 1,100 <path/>": SVG_ICONS,
    "mathml, 1,100 <mspace/>": MATHML,
    "svg self-closing with spaces and quotes": b"<svg>" + b"<circle cx='1' cy=\"2\" r=3 />" * 1100 + b"</svg>",
    "void elements, HTML and XHTML spellings": b"<div>" + b"<br><img src=a.png><input type=text><hr/><meta x=1 /><wbr>" * 300 + b"</div>",
    "unclosed spans closed by their parent": b"<section><span>a<b>b</section>" * 1100,
    "tags inside script text": b"<script>var t = '" + b"<div><span>" * 1100 + b"';</script>",
    "tags inside style and textarea": b"<style>/* <div> */" + b"<div>" * 600 + b"</style><textarea>" + b"<p><div>" * 600 + b"</textarea>",
    "implicitly closed list items and paragraphs": b"<ul>" + b"<li>item<p>text" * 1100 + b"</ul>",
    "upper-case tags": b"<DIV><SVG>" + b"<PATH D='x'/>" * 1100 + b"</SVG></DIV>",
}
# Deep in the parser's tree: the guard must still see it, however the tags are spelled.
DEEP = {
    "nested divs": b"<div>" * 2000 + b"x" + b"</div>" * 2000,
    "html ignores /> on a div": b"<div/>" * 2000,
    "unquoted value takes the slash (<g x=1/>)": b"<svg>" + b"<g x=1/>" * 2000 + b"</svg>",
    "quoted '/>' inside an attribute value": b"<svg>" + b'<g x="/>">' * 2000 + b"</svg>",
    "html tag breaks out of svg": b"<svg>" + b"<div/>" * 2000 + b"</svg>",
    "html below svg foreignObject": b"<svg><foreignObject>" + b"<span/>" * 2000 + b"</foreignObject></svg>",
    "svg title is not raw text": b"<svg><title>" + b"<div>" * 2000 + b"</title></svg>",
    "a<b in script does not hide its end tag": b"<script>if (a<b) go();</script>" + b"<div>" * 2000,
}


@pytest.mark.parametrize("name", SHALLOW)
def test_shallow_pages_with_many_tags_pass(name):
    html = page(SHALLOW[name])
    assert _opening_tag_bound(html) > LIMIT  # so the tag scan runs, not just the numpy bound
    assert parser_depth(html) < 20
    assert not html_depth_exceeds(html, LIMIT)
    assert estimate(html) <= parser_depth(html) + 2  # an estimate of the real depth, not of the tag count


def test_inline_svg_page_is_extracted_not_dropped():
    result = extract(page(SVG_ICONS))
    assert isinstance(result, Document), result
    assert "spiral staircase" in result.text


@pytest.mark.parametrize("name", DEEP)
def test_deep_pages_are_dropped(name):
    html = page(DEEP[name])
    assert parser_depth(html) > LIMIT
    assert html_depth_exceeds(html, LIMIT)
    result = extract(html)
    assert isinstance(result, Drop) and result.reason == "html_too_deep"


def test_estimate_follows_the_parser_on_mixed_markup():
    # Self-closing icons, void elements, an unclosed <em> (which the parser nests too) and
    # script text on each of 40 levels: the estimate stays within a few levels of lexbor's tree.
    level = b"<div class=x><svg><use href='#i'/><path d='M0'/></svg><img src=a><br/><em>e<script>x='<div>'</script>"
    html = page(level * 40 + b"y" + b"</div>" * 40)
    real = parser_depth(html)
    assert real > 80 and abs(estimate(html) - real) <= 2
    assert html_depth_exceeds(html, real - 5) and not html_depth_exceeds(html, real + 5)


def test_opening_tag_bound_counts_start_tags():
    for html in (b"", b"<", b"</", b"x<", b"<<//", b"</a></b><c", b"<!-- x --><?p?>< a<1<Z", page(SVG_ICONS),
                 html_page("x", EN), b"<div>" * 50 + b"</div>" * 7):
        assert _opening_tag_bound(html) == len(re.findall(rb"<[A-Za-z]", html))

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


# Tag soup for the bound checks: names the scan treats differently (void, implicitly closed,
# raw text, SVG/MathML and their integration points, breakouts, any case, longer than 8 bytes,
# odd bytes in a name), start and end tags, "/>" and attributes, some text.
_SOUP_NAMES = [b"div", b"span", b"p", b"P", b"li", b"br", b"img", b"td", b"tr", b"input", b"link", b"script",
               b"style", b"title", b"textarea", b"svg", b"SVG", b"math", b"path", b"g", b"foreignObject", b"desc",
               b"mi", b"blockquote", b"optgroupx", b"custom-element", b"p\x00", b"pfoo", b"meta", b"embed", b"option",
               b"abcdefgh", b"ABCDEFGHI", b"SCRIPT", b"xmp", b"a\x00", b"d_v", b"d\x7fv", b"Z[", b"z{", b"\xc1b"]
_SOUP_TAILS = [b">", b"/>", b" />", b" x=1/>", b" x='/>'>", b"\n>", b"", b"<", b" a=b>"]


def _soup(rng) -> bytes:
    parts = []
    for _ in range(rng.randrange(5, 120)):
        name = rng.choice(_SOUP_NAMES)
        parts.append(b"</" + name + b">" if rng.random() < 0.3 else b"<" + name + rng.choice(_SOUP_TAILS))
        if rng.random() < 0.3:
            parts.append(rng.choice([b"text", b" a<b ", b"<1", b"< div", b"<!-- c -->"]))
    return b"".join(parts)


def test_numpy_bounds_never_change_the_verdict():
    # The numpy bounds only skip the tag scan when it could not exceed the limit: on random
    # soups, at every limit from 0 to past the scan's depth, the verdict is the scan's.
    import random

    from pipeline.extract import _nesting_tag_bound, _start_tags, _tag_scan_exceeds

    rng = random.Random(19)
    checked = skipped = 0
    for _ in range(600):
        html = _soup(rng)
        depth = next(d for d in range(len(html) + 1) if not _tag_scan_exceeds(html, d))  # the scan's depth
        starts = _start_tags(html)
        assert _nesting_tag_bound(html, starts) >= depth
        for limit in range(depth + 3):
            assert html_depth_exceeds(html, limit) == _tag_scan_exceeds(html, limit)
            checked += 1
            skipped += _nesting_tag_bound(html, starts) <= limit < len(starts)
    assert checked > 4000 and skipped > 50  # the name bound did settle some of them


def test_name_bound_skips_void_and_paragraph_tags_but_not_svg_children():
    from pipeline.extract import _nesting_tag_bound, _start_tags

    def bound(html: bytes) -> int:
        return _nesting_tag_bound(html, _start_tags(html))

    assert bound(b"<div><P>a<li>b<br/><IMG src=x><meta x><embed>") == 1
    assert bound(b"<td><tr><input><script>x</script><div>") == 1  # no <svg>/<math>: never nested
    assert bound(b"<svg><td><tr><input><script>x</script><div>") == 6  # under <svg> they may nest
    assert bound(b"<pfoo><p\x00><blockquote><br") == 3  # only whole names count; "<br" ends the page
    assert bound(b"<optgroupx><TEXTAREAS><colgroup>") == 2  # 9 bytes: not the 8-byte names


def _scan_depth(html: bytes) -> int:
    from pipeline.extract import _tag_scan_exceeds

    return next(d for d in range(len(html) + 1) if not _tag_scan_exceeds(html, d))


def test_per_name_bound_is_never_below_the_scan_depth():
    # Short soups of every kind of name, and longer ones that nest (few end tags) and close
    # (many): the per-name counters never undercount the scan, and often settle what the name
    # bound leaves to the scan.
    import random

    from pipeline.extract import _nesting_tag_bound, _per_name_depth_bound, _start_tags

    rng = random.Random(7)
    tighter = 0
    for i in range(900):
        if i % 3:
            html = _soup(rng)
        else:
            closing = rng.random() * 0.6
            html = b"".join(b"</" + name + b">" if rng.random() < closing else b"<" + name + rng.choice(_SOUP_TAILS)
                            for name in rng.choices(_SOUP_NAMES, k=rng.randrange(50, 400)))
        depth = _scan_depth(html)
        bound = _per_name_depth_bound(html)
        assert bound >= depth, html
        tighter += bound < _nesting_tag_bound(html, _start_tags(html))
    assert tighter > 100


def test_exact_name_keys_spell_names_as_bytes_lower_does():
    import numpy as np

    from pipeline.extract import _exact_name_keys

    names = [b"div", b"DIV", b"Svg", b"abcdefgh", b"ABCDEFGHI", b"a\x00b", b"d_V", b"Z[@`{", b"x\xc1\xe1Q", b"q"]
    html = b"".join(b"<" + n + end for n, end in zip(names, [b">", b" ", b"/", b"<", b"\t", b">", b"\n", b"\r", b"\f", b""],
                                                         strict=True))
    at = np.array([i + 1 for i in range(len(html)) if html[i:i + 1] == b"<" and html[i + 1:i + 2].isalpha()])
    keys, ambiguous = _exact_name_keys(html, at)
    assert len(at) == len(names)
    for name, key, amb in zip(names, keys.tolist(), ambiguous.tolist(), strict=True):
        assert amb == (len(name) > 8 or b"\x00" in name), name
        if not amb:
            assert key == int.from_bytes(name.lower(), "little"), name


def test_closed_tags_on_an_svg_page_skip_the_scan_but_deep_ones_do_not():
    from pipeline.extract import _nesting_tag_bound, _per_name_depth_bound, _start_tags

    shallow = page(b"<svg><path d='x'/></svg>" + b"<div><a href=x>link</a><span>s</span></div>" * 400)
    assert _nesting_tag_bound(shallow, _start_tags(shallow)) > LIMIT  # the name bound alone cannot tell
    assert _per_name_depth_bound(shallow) < 20 and not html_depth_exceeds(shallow, LIMIT)
    deep = page(b"<svg><path d='x'/></svg>" + b"<div><a href=x>link</a>" * 1100 + b"</div>" * 1100)
    assert _per_name_depth_bound(deep) > LIMIT and html_depth_exceeds(deep, LIMIT)
    script = page(b"<script>s='" + b"</div>" * 1100 + b"'</script>" + b"<div>" * 1100)  # raw-text end tags lower nothing
    assert _per_name_depth_bound(script) > LIMIT and html_depth_exceeds(script, LIMIT)

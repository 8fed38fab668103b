"""Both extractors on 61 of the 181 real article pages of scrapinghub/article-extraction-benchmark.

Scored the benchmark's way (bench/extraction.py, which runs all 181). The floors sit well below
today's scores (F1 0.92 resiliparse, 0.96 trafilatura on this subset) and well above what a
broken extractor gets: the whole page's text scores precision 0.51 / F1 0.67, no text scores 0.
"""

import pytest

from bench.extraction import job_text, load_benchmark, metrics, page_tp_fp_fn, split_lines
from pipeline.charset import decode_html

FLOORS = {"resiliparse": 0.85, "trafilatura": 0.90}


@pytest.fixture(scope="module")
def all_pages(realdata):
    data = realdata / "web" / "extraction-benchmark"
    if not (data / "ground-truth.json").is_file():
        pytest.skip(f"article-extraction benchmark not found at {data}")
    return load_benchmark(data)


@pytest.fixture(scope="module")
def pages(all_pages):
    return all_pages[::3]


def _is_utf8(html: bytes) -> bool:
    try:
        html.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_real_utf8_pages_are_read_as_utf8_without_a_declaration(all_pages):
    # As bench/peers.py wraps them (no charset in the HTTP header): 50 of these pages declare
    # none in <meta> either, and detection alone read 2 of them as windows-1252 ("â€¢", "Â°").
    utf8 = [(key, html) for key, html, _ in all_pages if _is_utf8(html) and not html.isascii()]
    assert len(utf8) >= 0.9 * len(all_pages)
    misread = [key for key, html in utf8 if decode_html(html, None)[:2] != (html.decode("utf-8"), "utf-8")]
    assert not misread


@pytest.mark.parametrize("extractor", sorted(FLOORS))
def test_extraction_quality_on_real_articles(pages, extractor):
    results = [(job_text(extractor, html), truth) for _, html, truth in pages]
    dropped = [reason for (_, reason), _ in results if reason]
    assert not dropped, dropped  # every page is a real article: none too deep, none empty
    scores = metrics([page_tp_fp_fn(truth, text) for (text, _), truth in results])
    assert scores["f1"] >= FLOORS[extractor], scores
    assert scores["precision"] >= 0.75 and scores["recall"] >= 0.90, scores  # no nav junk, nothing missing
    # Paragraphs come out as whole lines: few line breaks where the article text has none.
    cut, breaks = map(sum, zip(*(split_lines(text, truth) for (text, _), truth in results), strict=True))
    assert cut <= 0.02 * breaks, (cut, breaks)


def test_scoring_matches_the_benchmark_on_known_cases():
    words = "one two three four five six"
    assert page_tp_fp_fn(words, words) == (1.0, 0.0, 0.0)
    assert page_tp_fp_fn(words, "") == (0.0, 0.0, 1.0)
    assert page_tp_fp_fn("", "") == (0.0, 0.0, 0.0)
    tp, fp, fn = page_tp_fp_fn(words, "one two three four five six seven")  # 3 true shingles, 4 predicted
    assert (tp, fp, fn) == pytest.approx((3 / 4, 1 / 4, 0.0))
    assert metrics([(1.0, 0.0, 0.0), (0.0, 0.0, 1.0)]) == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3)}

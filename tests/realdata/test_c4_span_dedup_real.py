"""C4 span de-duplication on TensorFlow Datasets' own C4 test pages (real WET files): after
C4 cleaning, every three-sentence span that repeats across or within pages is left exactly
once in the corpus, on one page, and pages without repeats are untouched."""

from __future__ import annotations

from collections import Counter

from pipeline.dedup.spans import page_spans, span_dedup_pages
from pipeline.filters.c4 import C4Filter
from pipeline.readers import ReaderConfig, read_file
from pipeline.records import Document, RawRecord


def cleaned_pages(realdata) -> dict[str, str]:
    c4 = C4Filter()
    pages = {}
    for path in sorted((realdata / "web" / "c4-wet").glob("cc_*.warc.wet.gz")):
        for out in read_file(str(path), ReaderConfig()):
            if isinstance(out, RawRecord):
                page_id = f"{path.name}:{out.url}"
                verdict = c4.evaluate(Document(id=page_id, text=out.payload, source="web", lang="en"))
                if verdict.keep:
                    pages[page_id] = verdict.text if verdict.text is not None else out.payload
    return pages


def test_repeated_spans_of_the_c4_test_pages_are_left_once(realdata):
    pages = cleaned_pages(realdata)
    before = Counter(k for text in pages.values() for k in page_spans(text).keys)
    repeated = {k for k, n in before.items() if n > 1}
    assert len(pages) >= 6 and repeated  # the files repeat pages and sentences on purpose
    out = span_dedup_pages(pages.items())
    kept = {i: v.text if v.text is not None else pages[i] for i, v in out.items() if v.keep}
    after = Counter(k for text in kept.values() for k in page_spans(text).keys)
    assert {k: after[k] for k in repeated} == dict.fromkeys(repeated, 1)
    untouched = [i for i, text in pages.items() if not any(k in repeated for k in page_spans(text).keys)]
    assert untouched and all(out[i].keep and out[i].text is None for i in untouched)

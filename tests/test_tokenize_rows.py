"""marked_rows: the rows whose meta names special_spans, found in Arrow batches of any shape
(a slice of a larger buffer, chunked, all null) without parsing the other rows."""

import json

import pyarrow as pa

from corpora.tokenize_rows import marked_rows

MARKED = json.dumps({"special_spans": [[0, 3, "<|sep|>"]]})


def test_marked_rows_in_whole_sliced_and_chunked_columns():
    metas = ["{}", MARKED, None, '{"x": 1}', MARKED, "{}"]
    batch = pa.record_batch({"meta": metas})
    assert marked_rows(batch) == {1: MARKED, 4: MARKED}
    # a slice shares its parent's buffer: the word outside the slice's rows must not count
    assert marked_rows(batch.slice(2, 2)) == {}
    assert marked_rows(batch.slice(3, 3)) == {1: MARKED}
    table = pa.Table.from_batches([batch.slice(0, 3), batch.slice(3)])
    assert marked_rows(table) == {1: MARKED, 4: MARKED}


def test_marked_rows_without_meta_or_markers():
    assert marked_rows(pa.record_batch({"text": ["a"]})) == {}
    assert marked_rows(pa.record_batch({"meta": pa.array([None, None], pa.string())})) == {}
    assert marked_rows(pa.record_batch({"meta": ["", "{}"]})) == {}
    big = pa.record_batch({"meta": pa.array(["{}"] * 5 + [MARKED], pa.large_string())})
    assert marked_rows(big) == {5: MARKED}

"""The tokenizer's text stream: inputs, laziness, sampling, accounting."""

from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.test_tokenizer_cli import make_texts, write_corpus, write_jsonl
from tokenizer.corpus import CorpusError, TextStream, keep_fraction, resolve_inputs
from tokenizer.special_tokens import SpecialTokens
from tokenizer.train import TrainConfig, train_tokenizer


def test_resolve_inputs(tmp_path):
    corpus = write_corpus(tmp_path / "c", n=20)
    files = resolve_inputs([str(corpus)])
    assert [f.rsplit("/", 1)[-1] for f in files] == ["part-00000-of-00002.parquet", "part-00001-of-00002.parquet"]
    assert resolve_inputs([str(corpus / "data" / "*.parquet"), files[0]]) == files  # no repeats
    loose = tmp_path / "loose"
    write_jsonl(loose / "a.jsonl", n=2)
    write_jsonl(loose / "b.jsonl.gz", n=2)
    (loose / "README.txt").write_text("ignored")
    assert [f.rsplit("/", 1)[-1] for f in resolve_inputs([str(loose)])] == ["a.jsonl", "b.jsonl.gz"]
    with pytest.raises(CorpusError, match="cannot tell the format"):
        resolve_inputs([str(loose / "README.txt")])
    with pytest.raises(CorpusError, match="matches no file"):
        resolve_inputs([str(tmp_path / "*.nothing")])
    with pytest.raises(CorpusError, match="no such file"):
        resolve_inputs([str(tmp_path / "missing")])
    (tmp_path / "unfinished" / "data").mkdir(parents=True)
    with pytest.raises(CorpusError, match="no .parquet files"):
        resolve_inputs([str(tmp_path / "unfinished")])


def test_stream_is_lazy(tmp_path, monkeypatch):
    """Pulling one text reads one record batch of the first file, not the corpus."""
    corpus = write_corpus(tmp_path / "c", n=6000, files=3, empty=0, row_group_size=1024)
    batches = []
    real = pq.ParquetFile.iter_batches

    def counting(self, *args, **kwargs):
        for b in real(self, *args, **kwargs):
            (batches if "text" in b.schema.names else metas).append(b.num_rows)
            yield b

    metas = []  # the meta column (marker spans), read alongside

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", counting)
    stream = TextStream([str(corpus)], log=None)
    stream.check()
    assert stream.estimated_docs() == 6000
    it = iter(stream)
    first = next(it)
    assert first == make_texts(1)[0]
    assert len(batches) == 1 and batches[0] < 6000  # one batch read, not the whole file
    assert [f.status for f in stream.stats.files] == ["ok", "unread", "unread"]
    for _ in range(1500):
        next(it)
    assert sum(batches[:-1]) < 1501 <= sum(batches)  # only the batches needed so far
    assert sum(metas[:-1]) < 1501 <= sum(metas)
    assert sum(1 for _ in it) == 6000 - 1501


def test_training_consumes_a_generator(tmp_path):
    """The trainer takes any iterator (no len(), no list()): texts are pulled as needed."""
    pulled = []

    def texts():
        for t in make_texts(200):
            pulled.append(1)
            yield t

    config = TrainConfig(inputs=[], output=str(tmp_path / "x"), model="bpe", vocab_size=300, show_progress=False)
    tok = train_tokenizer(texts(), config, SpecialTokens("bpe"))
    assert len(pulled) == 200 and tok.get_vocab_size() == 300


def test_sampling_is_per_document_and_order_free(tmp_path):
    corpus = write_corpus(tmp_path / "c", n=400, files=4, empty=0)
    files = resolve_inputs([str(corpus)])
    a = list(TextStream(files, sample_fraction=0.3, seed=5, log=None))
    b = list(TextStream(list(reversed(files)), sample_fraction=0.3, seed=5, log=None))
    c = list(TextStream(files, sample_fraction=0.3, seed=6, log=None))
    assert sorted(a) == sorted(b) and a != b  # the same documents, read in another order
    assert sorted(a) != sorted(c)
    assert 80 < len(a) < 160
    assert keep_fraction("doc-1", 0, 1.0) and not keep_fraction("doc-1", 0, 0.0)
    share = sum(keep_fraction(f"k{i}", 1, 0.2) for i in range(10000)) / 10000
    assert 0.18 < share < 0.22


def test_max_docs_stops_reading(tmp_path):
    corpus = write_corpus(tmp_path / "c", n=300, files=3, empty=0)
    lines = []
    stream = TextStream([str(corpus)], max_docs=30, log=lines.append)
    assert len(list(stream)) == 30
    assert [f.status for f in stream.stats.files] == ["stopped", "unread", "unread"]
    assert len(lines) == 1 and "--max-docs reached" in lines[0]


def test_accounting_of_empty_null_and_bad_records(tmp_path):
    nulls = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"text": ["one", None, "", "  ", "two"]}), nulls)
    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_bytes(b'{"text": "ok"}\n{bad\n["list"]\n{"text": 3}\n\xff\xfe{"text":"x"}\n{"text": "fine"}\n')
    stream = TextStream([str(nulls), str(jsonl)], log=None)
    stream.check()
    assert list(stream) == ["one", "two", "ok", "fine"]
    stats = stream.stats
    assert (stats.docs, stats.empty) == (4, 2)
    assert dict(stats.dropped) == {"invalid_json": 2, "missing_text_field": 2, "invalid_utf8": 1}
    assert stats.bytes == len("onetwookfine")
    assert "4 documents" in stats.summary() and "2 empty" in stats.summary()


def test_truncated_gzip_keeps_what_was_read(tmp_path):
    data = gzip.compress(("\n".join(json.dumps({"text": t}) for t in make_texts(300)) + "\n").encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    stream = TextStream([str(path)], log=None)
    got = list(stream)
    assert 0 < len(got) < 300
    assert stream.stats.files[0].status == "truncated_gzip"
    assert stream.stats.failures()


def test_check_rejects_unreadable_and_non_string_columns(tmp_path):
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet at all")
    with pytest.raises(CorpusError, match="not a readable Parquet file"):
        TextStream([str(junk)], log=None).check()
    ints = tmp_path / "ints.parquet"
    pq.write_table(pa.table({"text": [1, 2]}), ints)
    with pytest.raises(CorpusError, match="not a string"):
        TextStream([str(ints)], log=None).check()
    with pytest.raises(CorpusError, match="--sample-fraction"):
        TextStream([str(ints)], sample_fraction=1.5)

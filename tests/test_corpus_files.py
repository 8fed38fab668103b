"""One way to find a corpus's Parquet files: the core's listing (pipeline.fileio) and the Beam
shell's (Beam's file systems) find the same files and refuse a corpus without any in the same
words, under the flag that named it."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpora.corpus_files import NoCorpusFiles, corpus_parquet_files
from corpora.tokenize import sized_corpus_files
from pipeline.errors import UsageError


def _corpus(root):
    (root / "data").mkdir(parents=True)
    for name in ("part-1.parquet", "part-0.parquet"):
        pq.write_table(pa.table({"id": [name], "text": ["x"]}), root / "data" / name)
    (root / "data" / "notes.txt").write_text("not a part")
    return root


def test_core_and_beam_listings_agree(tmp_path):
    root = _corpus(tmp_path / "c")
    core = corpus_parquet_files(str(root))
    assert [f for f, _ in core] == [str(root / "data" / "part-0.parquet"), str(root / "data" / "part-1.parquet")]
    assert all(n == (root / "data" / f.rsplit("/", 1)[1]).stat().st_size for f, n in core)
    assert [(f["path"], f["bytes"]) for f in sized_corpus_files(str(root))] == core
    one = str(root / "data" / "part-1.parquet")  # a Parquet file, and a glob, name themselves
    assert corpus_parquet_files(one) == [(one, (root / "data" / "part-1.parquet").stat().st_size)]
    assert corpus_parquet_files(str(root / "data" / "*-0.parquet")) == core[:1]


def test_a_corpus_without_files_is_refused_once_under_its_flag(tmp_path):
    missing = str(tmp_path / "nothing")
    expected = f"--corpus {missing}: no corpus Parquet files (no file matches '{missing}/data/*.parquet')"
    with pytest.raises(NoCorpusFiles) as core:
        corpus_parquet_files(missing, "--corpus")
    with pytest.raises(UsageError) as beam:
        sized_corpus_files(missing, "--corpus")
    assert str(core.value) == str(beam.value) == expected  # no second "--input PATTERN:" inside


def test_evaluate_reports_the_same_words(tmp_path):
    from corpora.doc2query.evaluate import EvalInputError, read_collection

    missing = str(tmp_path / "gone" / "*.parquet")
    with pytest.raises(EvalInputError, match=r"^--collection .*gone/\*\.parquet: no corpus Parquet files"):
        read_collection(missing, flag="--collection")

"""The floor of ``bench/peers.py``: only the library calls both sides make, with no framework.

``bench/peers.py`` starts it as ``python bench/peers_floor.py SPEC.json``. It runs the calls a
case cannot do without, on input prepared before the clock starts (pages already read from
their WARCs and decoded; texts already read from the corpus), so its wall time is the least any
program using these libraries can take: resiliparse's ``extract_plain_text`` (or trafilatura's
``extract``) then fastText's ``lid.176`` predict per page, or the tokenizer's
``encode_batch_fast``. With ``"beam": true`` it first imports Apache Beam as our jobs do: the
least a Beam job can take, in time and in memory. It writes ``kept.json`` (documents kept, or
tokens with one end-of-document token each) to the output folder.

With ``"core": true`` (the ``core+beam`` row) it runs our own pure core instead, on the job's real
input and after Beam's import, with no pipeline: for the web case each WARC file read with its
integrity checks (gzip CRC, block digest), decoded, depth-checked, extracted, normalized and
language-identified by the job's own steps (``pipeline.readers``, ``pipeline.chain.StageChain``), in
the job's batches; for the tokenize case each Parquet corpus file's rows encoded by the job's
``DocumentEncoder`` (text-only checks included). Its time less ``floor+beam``'s is what our
correctness work per page costs; ours less it is what the Beam job around the core costs.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import struct
import sys
from collections.abc import Iterator

LENGTH = struct.Struct("<I")


def write_pages(path: str, pages: list[str]) -> None:
    """Prepared input: each page's decoded HTML (or a text), UTF-8, behind its 4-byte length."""
    with open(path, "wb") as f:
        for page in pages:
            data = page.encode("utf-8", "surrogatepass")
            f.write(LENGTH.pack(len(data)))
            f.write(data)


def read_pages(path: str) -> Iterator[str]:
    """The pages of one prepared file, one at a time (memory stays flat)."""
    with open(path, "rb") as f:
        while head := f.read(LENGTH.size):
            yield f.read(LENGTH.unpack(head)[0]).decode("utf-8", "surrogatepass")


class _Web:
    """Extraction (our web job's settings) then fastText ``lid.176``, top label, our threshold."""

    def __init__(self, spec: dict) -> None:
        import fasttext

        self.extractor = spec["extractor"]
        self.langs = set(spec["langs"])
        self.threshold = spec["threshold"]
        self.model = fasttext.load_model(spec["lid_model"])
        if self.extractor == "resiliparse":
            from resiliparse.extract.html2text import extract_plain_text

            self.extract = lambda html: extract_plain_text(html, main_content=True, alt_texts=False,
                                                           list_bullets=True)
        else:
            import trafilatura

            self.extract = lambda html: trafilatura.extract(html, include_comments=False, include_tables=True,
                                                            favor_precision=False) or ""

    def __call__(self, path: str) -> int:
        kept = 0
        for html in read_pages(path):
            text = self.extract(html)
            if not text.strip():
                continue
            labels, scores = self.model.predict(text.replace("\n", " "), k=1)
            kept += labels[0][len("__label__"):] in self.langs and scores[0] >= self.threshold
        return kept


_worker = None  # the file counter the forked pool workers call (_over_files)


def _count(path: str) -> int:
    assert _worker is not None
    return _worker(path)


def _over_files(worker, spec: dict) -> int:
    """``worker(file)`` summed over the spec's files, by ``workers`` forked processes (one file each)."""
    global _worker
    _worker = worker
    if spec["workers"] == 1:
        return sum(map(worker, spec["files"]))
    with multiprocessing.get_context("fork").Pool(spec["workers"]) as pool:
        return sum(pool.imap_unordered(_count, spec["files"]))


def web(spec: dict) -> int:
    """Documents kept over the prepared files."""
    return _over_files(_Web(spec), spec)


def tokenize(spec: dict) -> int:
    """Tokens of every text plus one end-of-document token each, in calls of about 1M characters
    (our job's size); the tokenizer's own threads use the cores, as on both sides."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(spec["tokenizer"])
    return sum(len(e.ids) + 1 for batch in _batches(spec["files"], 1_000_000) for e in tok.encode_batch_fast(batch))


def _batches(files: list[str], chars: int) -> Iterator[list[str]]:
    """The texts of the prepared ``files`` in lists of about ``chars`` characters (the last shorter)."""
    batch: list[str] = []
    size = 0
    for path in files:
        for text in read_pages(path):
            batch.append(text)
            size += len(text)
            if size >= chars:
                yield batch
                batch, size = [], 0
    if batch:
        yield batch


def _chain_batches(records: Iterator) -> Iterator[list]:
    """The reader's records in the web job's batches (``pipeline.chain``: at most ``BATCH_BYTES``,
    each record weighing ``batch_weight``); a heavier record is a batch of its own."""
    from pipeline.chain import BATCH_BYTES, batch_weight

    batch: list = []
    size = 0
    for rec in records:
        n = batch_weight(rec)
        if batch and size + n > BATCH_BYTES:
            yield batch
            batch, size = [], 0
        batch.append(rec)
        size += n
    if batch:
        yield batch


class _WebCore:
    """Our web job's own steps on one WARC file, with no pipeline: read, then extract, normalize
    and language ID over the job's batches; counts the documents kept."""

    def __init__(self, spec: dict) -> None:
        from pipeline.chain import StageChain
        from pipeline.extract import TextExtractor
        from pipeline.langid import LanguageFilter, LanguageIdentifier, parse_langs
        from pipeline.normalize import Normalizer

        self.chain = StageChain([
            ("extract", TextExtractor("web", spec["extractor"])),
            ("normalize", Normalizer()),
            ("langid", LanguageFilter(LanguageIdentifier(spec["threshold"], spec["lid_model"]),
                                      parse_langs(",".join(spec["langs"])))),
        ])
        self.chain.setup()

    def __call__(self, path: str) -> int:
        from pipeline.readers import ReaderConfig, read_file
        from pipeline.records import Document, RawRecord

        records = (r for r in read_file(path, ReaderConfig()) if isinstance(r, RawRecord))
        return sum(isinstance(out, Document) for batch in _chain_batches(records) for out in self.chain(batch))


def web_core(spec: dict) -> int:
    """Documents our core steps keep over the WARC files."""
    return _over_files(_WebCore(spec), spec)


def tokenize_core(spec: dict) -> int:
    """Tokens our tokenize job's core gives the Parquet corpus files: their row groups in slices of
    the job's size (``slice_rows``), each encoded by ``tokenize_slice`` (row rules, ``DocumentEncoder``, text-only
    checks; end-of-document appended)."""
    import pyarrow.parquet as pq
    from tokenizers import Tokenizer

    from corpora.tokenize import slice_rows  # the job's slice size
    from corpora.tokenize_rows import RowSlice, tokenize_slice
    from pipeline.outcomes import Weighted
    from pipeline.shards.batches import DocumentEncoder
    from pipeline.shards.layout import dtype_for_vocab

    tok = Tokenizer.from_file(spec["tokenizer"])
    eod = tok.token_to_id(spec["eos"])
    encoder = DocumentEncoder(tok, dtype_for_vocab(tok.get_vocab_size()), eod)
    tokens = 0
    for path in spec["files"]:
        parquet = pq.ParquetFile(path)
        columns = ["id", "text", "source"] + (["meta"] if "meta" in parquet.schema_arrow.names else [])  # as the job
        for g in range(parquet.metadata.num_row_groups):
            rows = slice_rows(parquet.metadata.row_group(g), columns)
            for batch in parquet.iter_batches(batch_size=rows, row_groups=[g], columns=columns):
                for out in tokenize_slice(RowSlice(None, batch), encoder, lambda _id: "train", eod):
                    if isinstance(out, Weighted):
                        tokens += len(out.item[1].tokens)
    return tokens


def main(spec_path: str) -> None:
    with open(spec_path) as f:
        spec = json.load(f)
    if spec.get("beam"):
        sys.path.insert(0, spec["repo_root"])
        from pipeline.beam_speedups import import_beam_lean

        import_beam_lean()
    if spec.get("core"):
        kept = web_core(spec) if spec["case"] == "web" else tokenize_core(spec)
    else:
        kept = web(spec) if spec["case"] == "web" else tokenize(spec)
    os.makedirs(spec["output"], exist_ok=True)
    with open(os.path.join(spec["output"], "kept.json"), "w") as f:
        json.dump({"kept": kept}, f)


if __name__ == "__main__":
    main(sys.argv[1])

"""The floor of ``bench/peers.py``: only the library calls both sides make, with no framework.

``bench/peers.py`` starts it as ``python bench/peers_floor.py SPEC.json``. It runs the calls a
case cannot do without, on input prepared before the clock starts (pages already read from
their WARCs and decoded; texts already read from the corpus), so its wall time is the least any
program using these libraries can take: resiliparse's ``extract_plain_text`` (or trafilatura's
``extract``) then fastText's ``lid.176`` predict per page, or the tokenizer's
``encode_batch_fast``. With ``"beam": true`` it first imports Apache Beam as our jobs do: the
least a Beam job can take, in time and in memory. It writes ``kept.json`` (documents kept, or
tokens with one end-of-document token each) to the output folder.
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


_worker: _Web | None = None


def _count(path: str) -> int:
    assert _worker is not None
    return _worker(path)


def web(spec: dict) -> int:
    """Documents kept over the prepared files, by ``workers`` forked processes (one file each)."""
    global _worker
    _worker = _Web(spec)
    if spec["workers"] == 1:
        return sum(map(_worker, spec["files"]))
    with multiprocessing.get_context("fork").Pool(spec["workers"]) as pool:
        return sum(pool.imap_unordered(_count, spec["files"]))


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


def main(spec_path: str) -> None:
    with open(spec_path) as f:
        spec = json.load(f)
    if spec.get("beam"):
        sys.path.insert(0, spec["repo_root"])
        from pipeline.beam_speedups import import_beam_lean

        import_beam_lean()
    kept = web(spec) if spec["case"] == "web" else tokenize(spec)
    os.makedirs(spec["output"], exist_ok=True)
    with open(os.path.join(spec["output"], "kept.json"), "w") as f:
        json.dump({"kept": kept}, f)


if __name__ == "__main__":
    main(sys.argv[1])

"""Documents as compact token batches: encode many texts per tokenizer call, split a batch by
shard, and lay a shard's batches out in id order (the pure core of the tokenize job; no Beam).

A :class:`TokenBatch` holds many documents in four arrays (ids, 64-bit id hashes, lengths,
and all their tokens concatenated), so a batch crosses a Beam shuffle as a few numpy buffers
instead of one Python object per document or per token.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_CHUNK_CHARS = 1_000_000  # long documents are encoded in pieces of at most this size
# text per encode call, per tokenizer thread (at least two threads' worth): enough work for each
# thread; the call's per-token Encoding objects peak at about 35 MB per 1M characters, so smaller
# calls keep the peak down (20 MB of text, 2 cores: 1M -> 239 MB peak RSS, 256k -> 215 MB,
# 128k -> 210 MB, CPU the same within noise)
ENCODE_CHARS_PER_THREAD = 1 << 16
ENCODE_BATCH_DOCS = 4096  # and at most this many pieces per call
# tokens copied per write when laying a shard out in id order (a piece is a copy of its tokens)
WRITE_CHUNK_TOKENS = 1 << 18


def chunk_text(text: str, max_chars: int = MAX_CHUNK_CHARS) -> list[str]:
    """Split a long text before a single space so each piece tokenizes as it would in place.

    Byte-level pre-tokenizers attach a leading space to the next word, so cutting just
    before " word" (a space after a non-space) leaves every pre-token unchanged.
    """
    if len(text) <= max_chars:
        return [text]
    pieces, start = [], 0
    while len(text) - start > max_chars:
        cut = start + max_chars
        i = cut
        while i > start + max_chars // 2 and not (text[i] == " " and not text[i - 1].isspace()
                                                   and not text[i + 1:i + 2].isspace()):
            i -= 1
        if i <= start + max_chars // 2:
            i = cut  # no clean cut point in the second half: cut hard
        pieces.append(text[start:i])
        start = i
    pieces.append(text[start:])
    return pieces


def doc_hash(doc_id: str) -> int:
    """64-bit hash of a document id: which shard it lands in (stable across runs and runners)."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest(), "little")


def shard_of(hashes: np.ndarray, shards: int) -> np.ndarray:
    """The shard of each document (``doc_hash`` values) among ``shards``: its hash mod ``shards``."""
    return hashes % np.uint64(shards)


class DocumentEncoder:
    """Texts -> (all token ids concatenated, tokens per document), end-of-document appended.

    Text is encoded as text: the tokenizer (a ``tokenizers.Tokenizer``, or the text of its
    ``to_str()``) is replaced by its :func:`tokenizer.text_only.text_only` copy, so a special
    token's spelling in a text never becomes its id. Ids that a producing job placed on purpose
    come in ``markers`` (per document: ``(start, end, id)`` character
    spans, see :mod:`pipeline.markup`) and are put in by id. Every call checks that the
    control ids in its output are exactly the markers and end-of-document ids it put there
    (:class:`~tokenizer.text_only.TextOnlyError` otherwise).

    Texts are cut with :func:`chunk_text` and encoded in calls of up to ``batch_chars``
    characters / ``batch_docs`` pieces, large enough for the tokenizer's own threads; the
    ids are copied once into one array of ``dtype`` (no per-document array).
    ``encode_batch_fast`` (no character offsets) is used where the tokenizer has it: the ids
    are the same as ``encode_batch``'s. The next call is encoded while this one's ids are copied
    (:func:`encoded_ahead`): the tokenizer releases the GIL, so its threads are not left idle
    while the copy holds it.
    """

    def __init__(self, tokenizer: Any, dtype: Any, eod_id: int, *, batch_chars: int | None = None,
                 batch_docs: int = ENCODE_BATCH_DOCS, max_chunk_chars: int = MAX_CHUNK_CHARS) -> None:
        from tokenizer.text_only import text_only

        self.text = text_only(tokenizer, eod_id)
        self.tokenizer = self.text.tokenizer
        self.dtype = np.dtype(dtype)
        self.eod_id = int(eod_id)
        self.batch_chars = batch_chars or encode_batch_chars(tokenizer_threads())
        self.batch_docs = batch_docs
        self.max_chunk_chars = max_chunk_chars
        self._encode = batch_encoder(self.tokenizer)

    def _units(self, texts: Sequence[str], markers: Sequence[Sequence[tuple[int, int, int]] | None] | None
               ) -> Iterator[tuple[int, str, tuple[int, ...]]]:
        """(document, text, ids that follow it): a document's text between its markers, each
        followed by the next marker's id, the last by end-of-document."""
        eod = (self.eod_id,)
        if markers is None:
            for doc, text in enumerate(texts):
                yield doc, text, eod
            return
        for doc, (text, marks) in enumerate(zip(texts, markers, strict=True)):
            prev = 0
            for start, end, token_id in marks or ():
                yield doc, text[prev:start], (token_id,)
                prev = end
            yield doc, text[prev:] if prev else text, eod

    def _calls(self, texts: Sequence[str], markers: Sequence[Sequence[tuple[int, int, int]] | None] | None
               ) -> Iterator[tuple[list[str], list[int], list[tuple[int, ...]]]]:
        """(pieces, owner document of each piece, ids that follow each piece) per tokenizer call."""
        pieces: list[str] = []
        owners: list[int] = []
        tails: list[tuple[int, ...]] = []
        chars = 0
        for doc, text, tail in self._units(texts, markers):
            cut = chunk_text(text, self.max_chunk_chars)
            for k, piece in enumerate(cut):
                if pieces and (chars + len(piece) > self.batch_chars or len(pieces) >= self.batch_docs):
                    yield pieces, owners, tails
                    pieces, owners, tails, chars = [], [], [], 0
                pieces.append(piece)
                owners.append(doc)
                tails.append(tail if k == len(cut) - 1 else ())
                chars += len(piece)
        if pieces:
            yield pieces, owners, tails

    def encode(self, texts: Sequence[str], markers: Sequence[Sequence[tuple[int, int, int]] | None] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Encode ``texts`` (with ``markers[i]``, sorted ``(start, end, id)`` spans of text i
        to put in as ids, when given); returns ``(tokens, lengths)``: document i is
        ``tokens[sum(lengths[:i]):sum(lengths[:i + 1])]`` and ends with ``eod_id``."""
        lengths = np.zeros(len(texts), dtype=np.int64)
        parts: list[np.ndarray] = []

        def encode_call(call: tuple[list[str], list[int], list[tuple[int, ...]]]) -> list:
            pieces = call[0]  # empty text between markers is not sent (a document's own text never is)
            return self._encode(pieces if markers is None else [p for p in pieces if p], add_special_tokens=False)

        for (pieces, owners, tails), encoded in encoded_ahead(self._calls(texts, markers), encode_call):
            flat: list[int] = []  # one call's ids: Python ints only as long as one call needs them
            placed = 0  # marker and end-of-document ids put in
            if markers is None:
                pairs = zip(owners, tails, (enc.ids for enc in encoded), strict=True)
            else:
                it = iter(encoded)
                pairs = zip(owners, tails, (next(it).ids if p else () for p in pieces), strict=True)
            for owner, tail, ids in pairs:
                flat += ids
                if tail:
                    flat += tail
                    placed += len(tail)
                lengths[owner] += len(ids) + len(tail)
            arr = np.array(flat, dtype=self.dtype)
            if int(np.count_nonzero(self.text.control_mask[arr])) != placed:
                self._control_from_text(pieces, owners)
            parts.append(arr)
        tokens = np.concatenate(parts) if len(parts) > 1 else parts[0] if parts else np.empty(0, dtype=self.dtype)
        return tokens, lengths

    def _control_from_text(self, pieces: list[str], owners: list[int]) -> None:
        """Name the document whose text gave a control id (the text-only probe missed a case)."""
        from tokenizer.text_only import TextOnlyError

        mask = self.text.control_mask
        for piece, owner in zip(pieces, owners, strict=True):
            ids = self.tokenizer.encode(piece, add_special_tokens=False).ids if piece else []
            hit = [i for i in ids if mask[i]]
            if hit:
                raise TextOnlyError(f"document {owner} of the batch: its text {piece[:80]!r} gave control id(s) {hit}")
        raise TextOnlyError("a tokenizer call gave control ids that no marker or end-of-document accounts for")


def encoded_ahead(calls: Iterator[Any], encode: Callable[[Any], Any]) -> Iterator[tuple[Any, Any]]:
    """``(call, encode(call))`` for each call in order, the next call's ``encode`` already running
    on a helper thread while the caller works on this one's result.

    A tokenizer call releases the GIL, so its threads keep the cores busy while the caller copies
    the previous call's ids (which holds the GIL): the 20 MB tokenize bench's core 9% faster on
    2 cores (ten alternating pairs). At most three calls' results are alive at once (the caller's,
    the next one's, and the one being encoded). The helper thread lives only as long as this
    generator, so none outlives an ``encode`` (a driver that forks its workers afterwards has none:
    :mod:`pipeline.fork_safety`). An exception in ``encode`` is raised here, at its call.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="encode-ahead") as pool:
        current = next(calls, _NO_CALL)
        pending = pool.submit(encode, current) if current is not _NO_CALL else None
        while pending is not None:
            following = next(calls, _NO_CALL)
            result = pending.result()
            pending = pool.submit(encode, following) if following is not _NO_CALL else None
            yield current, result
            current = following


_NO_CALL = object()  # the end of encoded_ahead's calls


def tokenizer_threads() -> int:
    """The threads a ``tokenizers`` call uses in this process: ``RAYON_NUM_THREADS`` when set, else
    one per usable CPU."""
    from pipeline.memory import usable_cpus

    value = os.environ.get("RAYON_NUM_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else usable_cpus()


def encode_batch_chars(threads: int) -> int:
    """Characters per encode call for a tokenizer running ``threads`` threads."""
    return ENCODE_CHARS_PER_THREAD * max(2, threads)


def batch_encoder(tokenizer: Any) -> Any:
    """The tokenizer's ``encode_batch_fast`` (no character offsets, same ids), or ``encode_batch``
    on ``tokenizers`` versions without it."""
    return getattr(tokenizer, "encode_batch_fast", None) or tokenizer.encode_batch


@dataclass
class TokenBatch:
    """Documents of one (source, split): ids, their 64-bit hashes, lengths, tokens concatenated."""

    ids: list[str]
    hashes: np.ndarray  # uint64, doc_hash of each id
    lengths: np.ndarray  # int64, tokens per document
    tokens: np.ndarray  # every document's tokens, in the order of ids

    @classmethod
    def build(cls, ids: list[str], lengths: np.ndarray, tokens: np.ndarray) -> TokenBatch:
        """A batch with the id hashes computed."""
        hashes = np.fromiter((doc_hash(i) for i in ids), dtype=np.uint64, count=len(ids))
        return cls(ids, hashes, np.asarray(lengths, dtype=np.int64), tokens)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def token_count(self) -> int:
        return int(self.tokens.size)

    def take(self, docs: np.ndarray) -> TokenBatch:
        """The documents at positions ``docs`` (in that order), their tokens gathered."""
        docs = np.asarray(docs, dtype=np.int64)
        starts = np.cumsum(self.lengths) - self.lengths
        return TokenBatch([self.ids[i] for i in docs.tolist()], self.hashes[docs], self.lengths[docs],
                          _copy_runs([self], np.zeros(docs.size, dtype=np.int64), starts[docs], self.lengths[docs],
                                     self.tokens.dtype))

    def split_by_shard(self, shards: int) -> dict[int, TokenBatch]:
        """shard (= id hash mod ``shards``) -> the batch's documents of that shard, in batch order."""
        which = shard_of(self.hashes, shards)
        if len(self) and (which == which[0]).all():
            return {int(which[0]): self}
        return {int(s): self.take(np.flatnonzero(which == s)) for s in np.unique(which)}


def in_id_order(batches: Iterable[TokenBatch], chunk_tokens: int = WRITE_CHUNK_TOKENS
                ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The documents of several batches sorted by id (stable: equal ids keep batch order), as
    ``(tokens, lengths)`` pieces of about ``chunk_tokens`` tokens each.

    Each piece is copied straight from the batches (no concatenation of the whole shard, no
    per-token index): documents adjacent in both the id order and their batch go in one copy."""
    batches = list(batches)
    if not batches:
        return
    owners = np.repeat(np.arange(len(batches)), [len(b) for b in batches])
    starts = np.concatenate([np.cumsum(b.lengths) - b.lengths for b in batches])  # within its batch
    lengths = np.concatenate([b.lengths for b in batches])
    dtype = np.result_type(*(b.tokens.dtype for b in batches))
    for part in id_order_chunks([i for b in batches for i in b.ids], lengths, chunk_tokens):
        yield _copy_runs(batches, owners[part], starts[part], lengths[part], dtype), lengths[part]


def id_order_chunks(ids: Sequence[str], lengths: np.ndarray, chunk_tokens: int) -> Iterator[np.ndarray]:
    """Positions of the documents ``ids`` (``lengths`` tokens each) sorted by id (stable), cut into
    consecutive parts of about ``chunk_tokens`` tokens (at least one document each)."""
    order = np.array(sorted(range(len(ids)), key=ids.__getitem__), dtype=np.int64)
    ends = np.cumsum(lengths[order])
    lo = 0
    while lo < order.size:
        hi = int(np.searchsorted(ends, (ends[lo - 1] if lo else 0) + chunk_tokens, side="right"))
        hi = max(hi, lo + 1)
        yield order[lo:hi]
        lo = hi


def token_runs(owners: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> list[tuple[int, int, int, int]]:
    """``(owner, first token, end token, position in the output)`` per run of documents
    ``(owners[k], starts[k], lengths[k])`` laid out one after another, a run being documents
    contiguous in the same owner (one copy or one read each)."""
    stops = starts + lengths
    first = np.ones(owners.size, dtype=bool)
    first[1:] = (owners[1:] != owners[:-1]) | (starts[1:] != stops[:-1])
    heads = np.flatnonzero(first)
    tails = np.append(heads[1:], owners.size) - 1
    positions = np.cumsum(lengths) - lengths
    return list(zip(owners[heads].tolist(), starts[heads].tolist(), stops[tails].tolist(), positions[heads].tolist(),
                    strict=True))


def _copy_runs(batches: list[TokenBatch], owners: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
               dtype: np.dtype) -> np.ndarray:
    """The tokens of documents ``(owners[k]'s batch, starts[k], lengths[k])`` one after another,
    copied one run (documents contiguous in the same batch) at a time."""
    out = np.empty(int(lengths.sum()), dtype=dtype)
    for owner, lo, hi, pos in token_runs(owners, starts, lengths):
        out[pos:pos + hi - lo] = batches[owner].tokens[lo:hi]
    return out

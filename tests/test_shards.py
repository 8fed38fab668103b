"""Token shards: Megatron MMIDIDX writer/reader/verifier, the shard manifest, the train/val split.

The layout is checked by two readers written here, independently of ``pipeline.shards``:
``_spec_read`` follows docs/DESIGN "Token shards" field by field, and ``_NeoXIndex`` /
``_NeoXBuilder`` re-type (shortened, torch-free) GPT-NeoX's ``megatron/data/indexed_dataset.py``
``MMapIndexedDataset.Index`` reader and ``MMapIndexedDatasetBuilder`` + ``Index.writer``,
which Megatron-core's ``megatron/core/datasets/indexed_dataset.py`` (``_IndexWriter`` /
``_IndexReader`` / ``IndexedDatasetBuilder``) matches byte for byte.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import struct

import numpy as np
import pytest

from pipeline.shards import verify_cli
from pipeline.shards.manifest import build_shard_manifest, shard_totals, split_for
from pipeline.shards.megatron import (
    DTYPE_CODES,
    EmptyShardError,
    ShardFormatError,
    ShardReader,
    ShardWriter,
    dtype_code,
    dtype_for_vocab,
    verify_shard,
    verify_shards,
)

# --------------------------------------------------------------------------------------------
# Independent readers / writers (not importing pipeline.shards)
# --------------------------------------------------------------------------------------------

_SPEC_DTYPES = {1: "u1", 2: "i1", 3: "<i2", 4: "<i4", 5: "<i8", 6: "<f8", 7: "<f4", 8: "<u2"}


def _spec_read(prefix):
    """Read a shard straight from the layout description."""
    with open(prefix + ".idx", "rb") as f:
        idx = f.read()
    magic = idx[:9]
    (version,) = struct.unpack("<Q", idx[9:17])
    (code,) = struct.unpack("<B", idx[17:18])
    (s,) = struct.unpack("<Q", idx[18:26])
    (d,) = struct.unpack("<Q", idx[26:34])
    off = 34
    lengths = np.frombuffer(idx, dtype="<i4", count=s, offset=off)
    off += 4 * s
    pointers = np.frombuffer(idx, dtype="<i8", count=s, offset=off)
    off += 8 * s
    doc_idx = np.frombuffer(idx, dtype="<i8", count=d, offset=off)
    off += 8 * d
    dtype = np.dtype(_SPEC_DTYPES[code])
    with open(prefix + ".bin", "rb") as f:
        data = f.read()
    docs = [np.frombuffer(data, dtype=dtype, count=int(n), offset=int(p)) for n, p in zip(lengths, pointers, strict=True)]
    return {
        "magic": magic, "version": version, "code": code, "S": s, "D": d, "lengths": lengths,
        "pointers": pointers, "doc_idx": doc_idx, "trailing": len(idx) - off, "bin_bytes": len(data),
        "dtype": dtype, "docs": docs,
    }


class _NeoXIndex:
    """GPT-NeoX ``MMapIndexedDataset.Index.__init__`` + ``MMapIndexedDataset.__getitem__``, re-typed."""

    _HDR_MAGIC = b"MMIDIDX\x00\x00"
    dtypes = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 6: np.float64, 7: np.float32, 8: np.uint16}

    def __init__(self, prefix):
        path = prefix + ".idx"
        with open(path, "rb") as stream:
            magic_test = stream.read(9)
            assert self._HDR_MAGIC == magic_test
            version = struct.unpack("<Q", stream.read(8))
            assert (1,) == version
            (dtype_code_,) = struct.unpack("<B", stream.read(1))
            self._dtype = self.dtypes[dtype_code_]
            self._len = struct.unpack("<Q", stream.read(8))[0]
            self._doc_count = struct.unpack("<Q", stream.read(8))[0]
            offset = stream.tell()
        self._bin_buffer = memoryview(np.memmap(path, mode="r", order="C"))
        self._sizes = np.frombuffer(self._bin_buffer, dtype=np.int32, count=self._len, offset=offset)
        self._pointers = np.frombuffer(self._bin_buffer, dtype=np.int64, count=self._len, offset=offset + self._sizes.nbytes)
        self._doc_idx = np.frombuffer(
            self._bin_buffer, dtype=np.int64, count=self._doc_count,
            offset=offset + self._sizes.nbytes + self._pointers.nbytes,
        )
        self._data = memoryview(np.memmap(prefix + ".bin", mode="r", order="C"))
        # Megatron-core IndexedDataset.__init__ asserts these:
        assert self._sizes.shape[0] == self._doc_idx[-1]
        assert self._sizes.shape[0] == self._len

    def __len__(self):
        return self._len

    def __getitem__(self, idx):
        ptr, size = self._pointers[idx], self._sizes[idx]
        return np.frombuffer(self._data, dtype=self._dtype, count=size, offset=ptr)


class _NeoXBuilder:
    """GPT-NeoX ``MMapIndexedDatasetBuilder`` + ``Index.writer`` (and Megatron-core's), re-typed."""

    codes = {np.uint8: 1, np.int8: 2, np.int16: 3, np.int32: 4, np.int64: 5, np.float64: 6, np.float32: 7, np.uint16: 8}

    def __init__(self, out_file, dtype):
        self._data_file = open(out_file, "wb")
        self._dtype = dtype
        self._sizes = []
        self._doc_idx = [0]

    def add_item(self, array):
        np_array = np.array(array, dtype=self._dtype)
        self._data_file.write(np_array.tobytes(order="C"))
        self._sizes.append(np_array.size)

    def end_document(self):
        self._doc_idx.append(len(self._sizes))

    def finalize(self, index_file):
        self._data_file.close()
        dtype_size = self._dtype().itemsize
        address, pointers = 0, []
        for size in self._sizes:
            pointers.append(address)
            address += size * dtype_size
        with open(index_file, "wb") as f:
            f.write(b"MMIDIDX\x00\x00")
            f.write(struct.pack("<Q", 1))
            f.write(struct.pack("<B", self.codes[self._dtype]))
            f.write(struct.pack("<Q", len(self._sizes)))
            f.write(struct.pack("<Q", len(self._doc_idx)))
            f.write(np.array(self._sizes, dtype=np.int32).tobytes(order="C"))
            f.write(np.array(pointers, dtype=np.int64).tobytes(order="C"))
            f.write(np.array(self._doc_idx, dtype=np.int64).tobytes(order="C"))


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _random_docs(rng, n, vocab, max_len=300, eod=None, empty_at=()):
    docs = []
    for i in range(n):
        if i in empty_at:
            docs.append(np.zeros(0, dtype=np.int64))
            continue
        k = int(rng.integers(1, max_len))
        doc = rng.integers(0, vocab, size=k, dtype=np.int64)
        if eod is not None:
            doc[doc == eod] = eod + 1  # the end-of-document id only at the end, as the tokenize job writes
            doc[-1] = eod
        docs.append(doc)
    return docs


def _write(prefix, docs, dtype, **kw):
    with ShardWriter(str(prefix), dtype, **kw) as w:
        for doc in docs:
            w.add_document(doc)
    return w


def _sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _listing(directory):
    return sorted(
        os.path.relpath(os.path.join(r, f), directory) for r, _, fs in os.walk(directory) for f in fs
    )


VOCAB_SMALL, VOCAB_LARGE = 32000, 100_277


# --------------------------------------------------------------------------------------------
# dtype
# --------------------------------------------------------------------------------------------


def test_dtype_codes_and_vocab_rule():
    assert {c: d.str for c, d in DTYPE_CODES.items()} == {
        1: "|u1", 2: "|i1", 3: "<i2", 4: "<i4", 5: "<i8", 6: "<f8", 7: "<f4", 8: "<u2",
    }
    assert dtype_for_vocab(32000) == np.dtype(np.uint16)
    assert dtype_for_vocab(65499) == np.dtype(np.uint16)
    assert dtype_for_vocab(65500) == np.dtype(np.int32)
    assert dtype_for_vocab(200_000) == np.dtype(np.int32)
    assert dtype_code(np.uint16) == 8 and dtype_code("int32") == 4 and dtype_code(np.dtype("<u2")) == 8
    with pytest.raises(ValueError):
        dtype_code(">u2")
    with pytest.raises(ValueError):
        dtype_for_vocab(0)
    with pytest.raises(ValueError):
        ShardWriter("x", np.float32)


# --------------------------------------------------------------------------------------------
# layout, checked by the independent readers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vocab", [VOCAB_SMALL, VOCAB_LARGE])
def test_spec_reader_reads_every_field(tmp_path, vocab):
    rng = np.random.default_rng(vocab)
    docs = _random_docs(rng, 50, vocab, empty_at={7, 49})  # an empty doc inside and at the end
    dtype = dtype_for_vocab(vocab)
    w = _write(tmp_path / "s", docs, dtype)
    got = _spec_read(str(tmp_path / "s"))
    itemsize = dtype.itemsize
    lengths = np.array([len(d) for d in docs])
    assert got["magic"] == b"MMIDIDX\x00\x00"
    assert got["version"] == 1
    assert got["code"] == (8 if vocab < 65500 else 4)
    assert got["S"] == 50 and got["D"] == 51
    assert got["lengths"].tolist() == lengths.tolist()
    assert got["pointers"].tolist() == (np.concatenate([[0], np.cumsum(lengths)[:-1]]) * itemsize).tolist()
    assert got["doc_idx"].tolist() == list(range(51))
    assert got["trailing"] == 0
    assert got["bin_bytes"] == lengths.sum() * itemsize
    for a, b in zip(got["docs"], docs, strict=True):
        assert a.tolist() == b.tolist()
    # writer accounting agrees with the files
    assert (w.documents, w.tokens) == (50, int(lengths.sum()))
    assert w.bin_bytes == os.path.getsize(tmp_path / "s.bin")
    assert w.idx_bytes == os.path.getsize(tmp_path / "s.idx") == 34 + 50 * 12 + 51 * 8
    assert w.bin_sha256 == _sha(tmp_path / "s.bin") and w.idx_sha256 == _sha(tmp_path / "s.idx")
    assert w.summary() == {
        "documents": 50, "tokens": int(lengths.sum()), "bin_sha256": w.bin_sha256,
        "idx_sha256": w.idx_sha256, "bin_bytes": w.bin_bytes, "idx_bytes": w.idx_bytes,
    }


@pytest.mark.parametrize("vocab", [VOCAB_SMALL, VOCAB_LARGE])
def test_bytes_identical_to_neox_megatron_builder(tmp_path, vocab):
    rng = np.random.default_rng(7)
    docs = _random_docs(rng, 40, vocab, empty_at={3})
    dtype = dtype_for_vocab(vocab)
    _write(tmp_path / "ours", docs, dtype)
    ref = _NeoXBuilder(str(tmp_path / "ref.bin"), dtype.type)
    for doc in docs:
        ref.add_item(doc)
        ref.end_document()
    ref.finalize(str(tmp_path / "ref.idx"))
    for ext in (".bin", ".idx"):
        assert (tmp_path / f"ours{ext}").read_bytes() == (tmp_path / f"ref{ext}").read_bytes(), ext
    neox = _NeoXIndex(str(tmp_path / "ours"))
    assert len(neox) == 40
    for i, doc in enumerate(docs):
        assert neox[i].tolist() == doc.tolist()
        assert neox[i].dtype == dtype


def test_reader_reads_neox_written_files(tmp_path):
    rng = np.random.default_rng(3)
    docs = _random_docs(rng, 20, VOCAB_SMALL)
    ref = _NeoXBuilder(str(tmp_path / "ref.bin"), np.uint16)
    for doc in docs:
        ref.add_item(doc)
        ref.end_document()
    ref.finalize(str(tmp_path / "ref.idx"))
    with ShardReader(str(tmp_path / "ref")) as r:
        assert len(r) == 20 and r.dtype == np.dtype(np.uint16)
        assert [r[i].tolist() for i in range(20)] == [d.tolist() for d in docs]


# --------------------------------------------------------------------------------------------
# writer / reader round trip
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vocab", [VOCAB_SMALL, VOCAB_LARGE])
def test_round_trip_random(tmp_path, vocab):
    rng = np.random.default_rng(11)
    docs = _random_docs(rng, 200, vocab, empty_at={0, 100})
    dtype = dtype_for_vocab(vocab)
    with ShardWriter(str(tmp_path / "a" / "b" / "s"), dtype) as w:  # parent folders are created
        for i, doc in enumerate(docs):
            w.add_document(doc.tolist() if i % 2 else doc)  # lists and arrays
            assert w.documents == i + 1
    with ShardReader(str(tmp_path / "a" / "b" / "s")) as r:
        assert len(r) == 200 and r.document_count == 200
        assert r.dtype == dtype
        assert r.lengths.tolist() == [len(d) for d in docs]
        assert r.total_tokens == sum(len(d) for d in docs)
        assert [x.tolist() for x in r] == [d.tolist() for d in docs]
        assert r[-1].tolist() == docs[-1].tolist()
        view = r[5]
        assert not view.flags.writeable and not view.flags.owndata  # a view on the map
        assert r.max_token_id() == max(int(d.max()) for d in docs if len(d))
        assert r.max_token_id(chunk_tokens=97) == r.max_token_id()
        with pytest.raises(IndexError):
            r[200]


def test_large_document_streamed(tmp_path):
    n = 5_000_000
    big = (np.arange(n, dtype=np.int64) * 7919) % VOCAB_LARGE
    with ShardWriter(str(tmp_path / "big"), np.int32) as w:
        w.add_document(np.array([1, 2, 3]))
        w.add_document(big)
        w.add_document(np.array([4]))
    assert w.tokens == n + 4 and w.bin_bytes == (n + 4) * 4
    assert w.bin_sha256 == _sha(tmp_path / "big.bin")
    with ShardReader(str(tmp_path / "big")) as r:
        assert len(r) == 3
        assert np.array_equal(r[1], big)
        assert r[2].tolist() == [4]
        assert r.max_token_id(chunk_tokens=1 << 20) == int(big.max())


def test_writer_input_checks(tmp_path):
    w = ShardWriter(str(tmp_path / "s"), np.uint16)
    with pytest.raises(ValueError, match="does not fit"):
        w.add_document([1, 70000])
    with pytest.raises(ValueError, match="does not fit"):
        w.add_document(np.array([-1, 2]))
    with pytest.raises(TypeError, match="integers"):
        w.add_document(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="1-D"):
        w.add_document(np.zeros((2, 2), dtype=np.int64))
    w.add_document(np.array([65535, 0], dtype=np.int64))  # in range: fine
    with pytest.raises(RuntimeError, match="after a successful close"):
        _ = w.bin_sha256
    w.close()
    assert w.documents == 1 and w.tokens == 2
    with pytest.raises(RuntimeError):
        w.add_document([1])


# --------------------------------------------------------------------------------------------
# atomicity
# --------------------------------------------------------------------------------------------


def test_exception_inside_with_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        with ShardWriter(str(tmp_path / "s"), np.uint16) as w:
            w.add_document([1, 2, 3])
            assert any(".bin.tmp-" in f for f in os.listdir(tmp_path))  # streamed to a temporary
            raise RuntimeError("boom")
    assert _listing(tmp_path) == []


def test_failed_rewrite_keeps_previous_shard(tmp_path):
    _write(tmp_path / "s", [[1, 2, 3]], np.uint16)
    before = {ext: (tmp_path / f"s{ext}").read_bytes() for ext in (".bin", ".idx")}
    with pytest.raises(KeyError):
        with ShardWriter(str(tmp_path / "s"), np.uint16) as w:
            w.add_document([9, 9, 9, 9])
            raise KeyError("x")
    assert _listing(tmp_path) == ["s.bin", "s.idx"]
    assert {ext: (tmp_path / f"s{ext}").read_bytes() for ext in (".bin", ".idx")} == before
    _write(tmp_path / "s", [[5, 6]], np.uint16)  # a successful rewrite replaces both
    assert _spec_read(str(tmp_path / "s"))["docs"][0].tolist() == [5, 6]
    assert _listing(tmp_path) == ["s.bin", "s.idx"]


def test_rename_failure_cleans_up(tmp_path):
    def bad_rename(src, dst):
        raise OSError("disk on fire")

    with pytest.raises(OSError, match="disk on fire"):
        _write(tmp_path / "s", [[1, 2]], np.uint16, open_fn=lambda p: open(p, "wb"),
               rename_fn=bad_rename, remove_fn=lambda p: os.path.exists(p) and os.remove(p))
    assert _listing(tmp_path) == []


def test_empty_shard(tmp_path):
    with pytest.raises(EmptyShardError, match="no tokens"):
        _write(tmp_path / "e", [], np.uint16)
    with pytest.raises(EmptyShardError):
        _write(tmp_path / "e", [[]], np.uint16)
    assert _listing(tmp_path) == []
    w = _write(tmp_path / "e", [[]], np.uint16, allow_empty=True)
    assert (w.documents, w.tokens, w.bin_bytes) == (1, 0, 0)
    with ShardReader(str(tmp_path / "e")) as r:
        assert len(r) == 1 and r[0].size == 0 and r.max_token_id() is None
    got = _spec_read(str(tmp_path / "e"))
    assert (got["S"], got["D"], got["doc_idx"].tolist()) == (1, 2, [0, 1])


def test_custom_open_and_rename(tmp_path):
    calls = []

    def open_fn(path):
        calls.append(("open", os.path.basename(path)))
        return open(path, "wb")

    def rename_fn(src, dst):
        calls.append(("rename", os.path.basename(src).split(".tmp-")[0], os.path.basename(dst)))
        os.replace(src, dst)

    _write(tmp_path / "s", [[1, 2, 3]], np.uint16, open_fn=open_fn, rename_fn=rename_fn)
    assert [c[0] for c in calls] == ["open", "open", "rename", "rename"]
    assert calls[2][1:] == ("s.bin", "s.bin") and calls[3][1:] == ("s.idx", "s.idx")  # .idx lands last
    assert _spec_read(str(tmp_path / "s"))["docs"][0].tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="together"):
        ShardWriter(str(tmp_path / "t"), np.uint16, open_fn=open_fn)


# --------------------------------------------------------------------------------------------
# reader validation
# --------------------------------------------------------------------------------------------


@pytest.fixture()
def shard(tmp_path):
    _write(tmp_path / "s", [[1, 2, 3], [4, 5], [6, 7, 8, 9]], np.uint16)
    return tmp_path / "s"


def _patch(path, offset, data):
    buf = bytearray(path.read_bytes())
    buf[offset:offset + len(data)] = data
    path.write_bytes(bytes(buf))


def test_reader_wrong_magic(shard):
    _patch(shard.with_suffix(".idx"), 0, b"TNTIDX\x00\x00\x00")
    with pytest.raises(ShardFormatError, match=r"s\.idx: bad magic"):
        ShardReader(str(shard))


@pytest.mark.parametrize(
    "offset,data,match",
    [
        (9, struct.pack("<Q", 2), "unsupported version 2"),
        (17, struct.pack("<B", 9), "unknown dtype code 9"),
        (18, struct.pack("<Q", 4), "needs exactly"),  # sequence count disagrees with the size
        (34 + 3 * 12, struct.pack("<q", 1), "document indices start at 1"),
        (34 + 3 * 12 + 3 * 8, struct.pack("<q", 2), "last document index 2"),
        (34, struct.pack("<i", -1), "negative length"),
    ],
)
def test_reader_corrupt_idx(shard, offset, data, match):
    _patch(shard.with_suffix(".idx"), offset, data)
    with pytest.raises(ShardFormatError, match=match) as exc:
        ShardReader(str(shard))
    assert str(shard) + ".idx" in str(exc.value)


def test_reader_pointer_mismatch(shard):
    _patch(shard.with_suffix(".idx"), 34 + 3 * 4 + 8, struct.pack("<q", 3))  # pointer 1: 3 instead of 6
    with pytest.raises(ShardFormatError, match=r"pointer of sequence 1 is 3, but .* byte offset 6"):
        ShardReader(str(shard))


def test_reader_truncated_files(shard):
    binp, idxp = shard.with_suffix(".bin"), shard.with_suffix(".idx")
    data = binp.read_bytes()
    binp.write_bytes(data[:-2])
    with pytest.raises(ShardFormatError, match=r"s\.bin: 16 bytes, but .* 9 tokens .* 18 bytes \(truncated\?\)"):
        ShardReader(str(shard))
    binp.write_bytes(data + b"\x00\x00")
    with pytest.raises(ShardFormatError, match=r"s\.bin: 20 bytes"):
        ShardReader(str(shard))
    binp.write_bytes(data)
    idx = idxp.read_bytes()
    idxp.write_bytes(idx[:-8])
    with pytest.raises(ShardFormatError, match=r"truncated"):
        ShardReader(str(shard))
    idxp.write_bytes(idx[:20])
    with pytest.raises(ShardFormatError, match="shorter than the 34-byte"):
        ShardReader(str(shard))
    idxp.unlink()
    with pytest.raises(FileNotFoundError, match=r"s\.idx"):
        ShardReader(str(shard))


# --------------------------------------------------------------------------------------------
# verify_shard
# --------------------------------------------------------------------------------------------


def test_verify_shard_ok_and_mismatches(tmp_path):
    w = _write(tmp_path / "s", [[5, 9, 0], [7, 0]], np.uint16)
    expected = w.summary()
    assert verify_shard(str(tmp_path / "s"), expected, vocab_size=10, eod_id=0, dtype="uint16") == []

    wrong = dict(expected, bin_sha256="3fa2" + "0" * 60, documents=3)
    problems = verify_shard(str(tmp_path / "s"), wrong, name="web/train-00001-of-00004")
    assert any(
        p.startswith("web/train-00001-of-00004: .bin sha256 mismatch (manifest 3fa200000000..., file ")
        for p in problems
    ), problems
    assert "web/train-00001-of-00004: documents mismatch (manifest 3, file 2)" in problems
    assert len(problems) == 2

    problems = verify_shard(str(tmp_path / "s"), expected, vocab_size=8, name="x")
    assert problems == ["x: max token id 9 >= vocab size 8 (first at token 1, document 0)"]
    problems = verify_shard(str(tmp_path / "s"), vocab_size=6, eod_id=7, name="x")
    assert problems[0].startswith("x: max token id 9 >= vocab size 6")
    assert "x: 2 document(s) do not end with the end-of-document id 7 (first: document 0)" in problems
    assert verify_shard(str(tmp_path / "s"), dtype="int32", name="x") == [
        "x: .idx declares dtype uint16, manifest says int32"
    ]


def test_verify_shard_tampered_bin_and_missing(tmp_path):
    w = _write(tmp_path / "s", [[1, 2, 0], [3, 0]], np.uint16)
    _patch(tmp_path / "s.bin", 0, struct.pack("<H", 4))
    problems = verify_shard(str(tmp_path / "s"), w.summary(), vocab_size=10, name="kg/val-00000-of-00001")
    assert len(problems) == 1 and "kg/val-00000-of-00001: .bin sha256 mismatch" in problems[0]
    (tmp_path / "s.bin").write_bytes(b"\x00")
    problems = verify_shard(str(tmp_path / "s"), w.summary(), name="k")
    assert any("k: .bin size mismatch (manifest 10 bytes, file 1 bytes)" == p for p in problems)
    assert any(p.startswith("k: ") and "s.bin: 1 bytes" in p for p in problems)
    (tmp_path / "s.bin").unlink()
    assert verify_shard(str(tmp_path / "s"), name="k") == [f"k: .bin file missing ({tmp_path / 's'}.bin)"]


def test_verify_shard_negative_ids_int32(tmp_path):
    _write(tmp_path / "s", [[1, -3, 2]], np.int32)
    assert verify_shard(str(tmp_path / "s"), vocab_size=10, name="n") == [
        "n: negative token ids (first at token 1, document 0)"
    ]


# --------------------------------------------------------------------------------------------
# manifest + verify_shards + CLI
# --------------------------------------------------------------------------------------------

EOD = 0


def _make_dir(tmp_path, vocab=VOCAB_SMALL):
    out = tmp_path / "out"
    rng = np.random.default_rng(5)
    dtype = dtype_for_vocab(vocab)
    entries = []
    for source, split, n in [("web", "train", 2), ("web", "val", 1), ("kg", "train", 1)]:
        for k in range(n):
            rel = f"{source}/{split}-{k:05d}-of-{n:05d}"
            w = _write(out / rel, _random_docs(rng, 30, vocab, eod=EOD), dtype)
            entries.append({"path": rel, "source": source, "split": split, **w.summary()})
    tok = tmp_path / "tokenizer.json"
    tok.write_text("{}")
    manifest = build_shard_manifest(
        str(tok), _sha(tok), dtype.name, EOD, vocab, entries, {"seq": "demo"},
    )
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out, manifest


def test_build_shard_manifest(tmp_path):
    out, m = _make_dir(tmp_path)
    assert [s["path"] for s in m["shards"]] == sorted(s["path"] for s in m["shards"])
    assert m["dtype"] == "uint16" and m["eod_id"] == EOD and m["vocab_size"] == VOCAB_SMALL
    assert set(m["tokenizer"]) == {"path", "sha256"}
    t = m["totals"]
    assert t["shards"] == 4 and t["documents"] == 120
    assert t["tokens"] == sum(s["tokens"] for s in m["shards"])
    assert t["by_split"]["train"]["shards"] == 3 and t["by_split"]["val"]["documents"] == 30
    assert t["by_source"]["web"]["by_split"]["train"]["shards"] == 2
    assert t["by_source"]["kg"]["documents"] == 30
    assert t == shard_totals(m["shards"])
    good = m["shards"][0]
    for bad, match in [
        ({**good, "split": "test"}, "split"),
        ({**good, "path": "/abs/x"}, "relative"),
        ({**good, "path": "../x"}, "relative"),
        ({**good, "path": "web/x.bin"}, "prefix"),
        ({**good, "bin_sha256": "nope"}, "bin_sha256"),
        ({k: v for k, v in good.items() if k != "tokens"}, "missing field"),
    ]:
        with pytest.raises(ValueError, match=match):
            build_shard_manifest("t.json", "0" * 64, "uint16", 0, 10, [bad], {})
    with pytest.raises(ValueError, match="listed twice"):
        build_shard_manifest("t.json", "0" * 64, "uint16", 0, 10, [good, good], {})
    with pytest.raises(ValueError, match="eod_id"):
        build_shard_manifest("t.json", "0" * 64, "uint16", 10, 10, [good], {})
    with pytest.raises(ValueError, match="dtype"):
        build_shard_manifest("t.json", "0" * 64, "float32", 0, 10, [good], {})


def test_verify_shards_ok_then_tampered(tmp_path):
    out, m = _make_dir(tmp_path)
    ok, report = verify_shards(str(out))
    assert ok, report["problems"]
    assert [s["status"] for s in report["shards"]] == ["ok"] * 4
    assert report["totals"]["verified"] == report["totals"]["manifest"] == m["totals"]
    assert report["warnings"] == [] and report["unlisted"] == []

    # flip one token in one shard, add an unlisted shard and a leftover temporary
    _patch(out / "web/train-00001-of-00002.bin", 2, struct.pack("<H", 1))
    _write(out / "web/extra", [[1, EOD]], np.uint16)
    (out / "web/x.bin.tmp-abc").write_bytes(b"")
    ok, report = verify_shards(str(out))
    assert not ok
    status = {s["path"]: s["status"] for s in report["shards"]}
    assert status["web/train-00001-of-00002"] == "FAIL"
    assert sum(v == "ok" for v in status.values()) == 3
    assert report["unlisted"] == ["web/extra"]
    assert any(p.startswith("web/train-00001-of-00002: .bin sha256 mismatch (manifest ") for p in report["problems"])
    assert "web/extra: present on disk but not listed in manifest.json" in report["problems"]
    assert any("web/x.bin.tmp-abc" in w for w in report["warnings"])
    assert report["totals"]["verified"]["shards"] == 3


def test_verify_shards_missing_shard_and_manifest(tmp_path):
    out, _ = _make_dir(tmp_path)
    os.remove(out / "kg/train-00000-of-00001.idx")
    ok, report = verify_shards(str(out))
    assert not ok
    assert any(p.startswith("kg/train-00000-of-00001: .idx file missing") for p in report["problems"])
    os.remove(out / "manifest.json")
    ok, report = verify_shards(str(out))
    assert not ok and "manifest.json: missing" in report["problems"][0]
    (out / "manifest.json").write_text("{not json")
    ok, report = verify_shards(str(out))
    assert not ok and "unreadable JSON" in report["problems"][0]


def _cli(argv):
    parser = argparse.ArgumentParser(prog="verify-shards")
    verify_cli.add_arguments(parser)
    return verify_cli.main(parser.parse_args(argv))


def test_cli(tmp_path, capsys):
    out, _ = _make_dir(tmp_path)
    assert _cli([str(out)]) == 0
    text = capsys.readouterr().out
    assert "web/train-00000-of-00002" in text and "status" in text and "OK: 4 shard(s), 120 documents" in text
    assert re.search(r"\(all\)\s+\(all\)\s+4\s+120\s", text)

    _patch(out / "web/val-00000-of-00001.bin", 0, struct.pack("<H", 3))
    assert _cli([str(out), "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "web/val-00000-of-00001" not in captured.out  # --quiet: no table
    assert "FAIL web/val-00000-of-00001: .bin sha256 mismatch (manifest " in captured.err
    assert "FAILED: 1 of 4 shard(s) failed" in captured.err
    assert _cli([str(tmp_path / "nope")]) == 2


# --------------------------------------------------------------------------------------------
# split_for
# --------------------------------------------------------------------------------------------


def test_split_for_pinned_hash():
    # blake2b(f"{seed}\0{id}", digest_size=8): pinned so a change in the hashing is caught.
    pinned = {
        (0, "web-0"): "fc5300baca3420b4",
        (0, "web-1"): "a4e6470dfa01433c",
        (0, "kg-abc"): "f436e5e3395272e9",
        (0, "socialchem-7"): "5645b66cdabbb59c",
        (0, "doc2query-42"): "db33e371536a4f46",
        (1, "web-0"): "6fb60d3f8f1e3d19",
        (0, "héllo"): "7a4d9192d53b8a3e",
    }
    for (seed, doc_id), hexdigest in pinned.items():
        assert hashlib.blake2b(f"{seed}\x00{doc_id}".encode(), digest_size=8).hexdigest() == hexdigest
        u = (int(hexdigest, 16) >> 11) / 2**53
        for frac in (0.0, 0.1, 0.34, 0.5, 0.9, 1.0):
            assert split_for(doc_id, frac, seed) == ("val" if u < frac else "train"), (doc_id, seed, frac)
    # the resulting values, spelled out
    assert split_for("socialchem-7", 0.5) == "val"  # u = 0.3370...
    assert split_for("socialchem-7", 0.3) == "train"
    assert split_for("web-0", 0.98) == "train"  # u = 0.9856...
    assert split_for("web-0", 0.99) == "val"
    assert split_for("web-0", 0.5, seed=1) == "val"  # u = 0.4364...
    assert split_for("web-0", 0.5, seed=0) == "train"


def test_split_for_fraction_and_edges():
    ids = [f"web-{i:08x}" for i in range(100_000)]
    splits = [split_for(i, 0.1) for i in ids]
    frac = splits.count("val") / len(ids)
    assert abs(frac - 0.1) < 0.005, frac  # ~5 standard deviations
    # a larger fraction only moves documents into val
    bigger = [split_for(i, 0.2) for i in ids[:5000]]
    assert all(b == "val" for s, b in zip(splits[:5000], bigger, strict=False) if s == "val")
    assert {split_for(i, 0.0) for i in ids[:1000]} == {"train"}
    assert {split_for(i, 1.0) for i in ids[:1000]} == {"val"}
    assert [split_for(i, 0.5, seed=3) for i in ids[:200]] != [split_for(i, 0.5) for i in ids[:200]]
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError):
            split_for("x", bad)
    with pytest.raises(TypeError):
        split_for(123, 0.1)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# several documents per write; compact token batches (pipeline.shards.batches)
# --------------------------------------------------------------------------------------------


def test_add_documents_writes_the_same_bytes_as_add_document(tmp_path):
    rng = np.random.default_rng(5)
    docs = _random_docs(rng, 60, VOCAB_SMALL, empty_at={3, 40})
    one = _write(tmp_path / "one", docs, np.uint16)
    with ShardWriter(str(tmp_path / "many"), np.uint16) as w:
        for lo, hi in ((0, 1), (1, 25), (25, 25), (25, 60)):  # a single document, a run, nothing, the rest
            part = docs[lo:hi]
            w.add_documents(np.concatenate(part) if part else np.zeros(0, dtype=np.int64), [len(d) for d in part])
    assert w.summary() == one.summary()
    for ext in (".bin", ".idx"):
        assert (tmp_path / f"many{ext}").read_bytes() == (tmp_path / f"one{ext}").read_bytes()


def test_add_documents_checks_its_input(tmp_path):
    w = ShardWriter(str(tmp_path / "s"), np.uint16)
    with pytest.raises(ValueError, match="lengths sum to 3, but 4 tokens"):
        w.add_documents([1, 2, 3, 4], [1, 2])
    with pytest.raises(ValueError, match=r"lengths must be in \[0"):
        w.add_documents([1, 2], [3, -1])
    with pytest.raises(ValueError, match="1-D sequence of integers"):
        w.add_documents([1, 2], [[1, 1]])
    with pytest.raises(ValueError, match="does not fit"):
        w.add_documents([1, 70000], [2])
    assert (w.documents, w.tokens) == (0, 0)  # nothing was written by the failed calls
    w.add_documents([7, 8, 9], [2, 1])
    w.close()
    assert _spec_read(str(tmp_path / "s"))["docs"][1].tolist() == [9]
    with pytest.raises(RuntimeError, match="after the writer was closed"):
        w.add_documents([1], [1])


@pytest.fixture(scope="module")
def byte_bpe():
    """A tiny byte-level BPE (trained in memory) with <|endoftext|> = 0."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([f"The river {i} flows past the old mill, über Brücken." for i in range(200)], trainer)
    return tok


class _SlowOnly:
    """A tokenizer without ``encode_batch_fast`` (older ``tokenizers``): the encoder falls back."""

    def __init__(self, tok):
        self.tok = tok
        self.calls = []
        self.threads = set()

    def encode_batch(self, texts, add_special_tokens):
        import threading

        self.calls.append(list(texts))
        self.threads.add(threading.current_thread().name.split("_")[0])
        return self.tok.encode_batch(texts, add_special_tokens=add_special_tokens)


def test_document_encoder_matches_one_encode_per_document(byte_bpe):
    from pipeline.shards.batches import DocumentEncoder, batch_encoder

    texts = [f"Document {i}: " + "the river flows past the mill " * (i % 7 + 1) for i in range(50)]
    texts[10] = "a long one " * 400  # 4400 characters: cut into pieces below
    expected = [byte_bpe.encode(t, add_special_tokens=False).ids + [0] for t in texts]
    slow = None
    for fast in (True, False):
        # small calls and pieces: documents span calls, one document spans several pieces
        encoder = DocumentEncoder(byte_bpe, np.uint16, 0, batch_chars=900, batch_docs=8, max_chunk_chars=1000)
        if not fast:  # as on a tokenizers version without encode_batch_fast
            slow = _SlowOnly(encoder.tokenizer)
            encoder._encode = batch_encoder(slow)
            assert encoder._encode == slow.encode_batch
        tokens, lengths = encoder.encode(texts)
        assert tokens.dtype == np.uint16 and lengths.tolist() == [len(e) for e in expected]
        assert tokens.tolist() == [i for e in expected for i in e]
    assert len(slow.calls) > 8 and all(len(c) <= 8 for c in slow.calls)
    assert all(len(p) <= 1000 for c in slow.calls for p in c)
    assert slow.threads == {"encode-ahead"}  # each call encoded while the caller copies the one before
    tokens, lengths = DocumentEncoder(byte_bpe, np.int32, 0).encode([])
    assert tokens.size == 0 and lengths.size == 0 and tokens.dtype == np.int32



def test_encode_calls_grow_with_the_tokenizer_threads(byte_bpe, monkeypatch):
    from pipeline.memory import usable_cpus
    from pipeline.shards.batches import (
        ENCODE_CHARS_PER_THREAD,
        DocumentEncoder,
        encode_batch_chars,
        tokenizer_threads,
    )

    monkeypatch.setenv("RAYON_NUM_THREADS", "6")
    assert tokenizer_threads() == 6
    assert DocumentEncoder(byte_bpe, np.uint16, 0).batch_chars == 6 * ENCODE_CHARS_PER_THREAD
    assert encode_batch_chars(1) == encode_batch_chars(2) == 2 * ENCODE_CHARS_PER_THREAD  # two threads' worth at least
    monkeypatch.setenv("RAYON_NUM_THREADS", "zero")  # not a count: every usable CPU, as the tokenizer does
    assert tokenizer_threads() == usable_cpus()
    # (the call size never changes the tokens: test_document_encoder_matches_one_encode_per_document)

def _ahead_threads():
    import threading

    return [t for t in threading.enumerate() if t.name.startswith("encode-ahead")]


def test_encoded_ahead_encodes_the_next_call_while_the_caller_works():
    """The next call is already being encoded while the caller holds this one's result; results
    come in order, and no helper thread outlives the generator."""
    import threading

    from pipeline.shards.batches import encoded_ahead

    started = {i: threading.Event() for i in range(5)}

    def encode(call):
        started[call].set()
        return call * 10

    seen = []
    for call, result in encoded_ahead(iter(range(5)), encode):
        if call < 4:  # the caller has not asked for the next one yet: it is under way regardless
            assert started[call + 1].wait(10), f"call {call + 1} did not start while call {call} was handled"
        seen.append((call, result))
    assert seen == [(i, i * 10) for i in range(5)]
    assert not _ahead_threads()
    assert list(encoded_ahead(iter([]), encode)) == []


def test_encoded_ahead_raises_at_the_failing_call_and_leaves_no_thread():
    from pipeline.shards.batches import encoded_ahead

    def encode(call):
        if call == 2:
            raise ValueError("bad call 2")
        return call

    got = []
    with pytest.raises(ValueError, match="bad call 2"):
        for _call, result in encoded_ahead(iter(range(5)), encode):
            got.append(result)
    assert got == [0, 1]
    assert not _ahead_threads()
    gen = encoded_ahead(iter(range(5)), encode)  # a caller that stops early
    assert next(gen) == (0, 0)
    gen.close()
    assert not _ahead_threads()


def _batch(ids, seed=0):
    from pipeline.shards.batches import TokenBatch

    rng = np.random.default_rng(seed)
    docs = [rng.integers(1, 500, size=int(rng.integers(1, 40))) for _ in ids]
    batch = TokenBatch.build(list(ids), np.array([len(d) for d in docs]), np.concatenate(docs).astype(np.uint16))
    return batch, dict(zip(ids, docs, strict=True))


def test_token_batch_split_by_shard_keeps_every_document_whole():
    from pipeline.shards.batches import doc_hash

    ids = [f"web-{i:05d}" for i in range(300)]
    batch, docs = _batch(ids)
    assert len(batch) == 300 and batch.token_count == sum(len(d) for d in docs.values())
    assert batch.hashes.dtype == np.uint64 and int(batch.hashes[7]) == doc_hash(ids[7])
    parts = batch.split_by_shard(4)
    assert sorted(parts) == [0, 1, 2, 3]
    seen = []
    for shard, part in parts.items():
        assert all(doc_hash(i) % 4 == shard for i in part.ids)
        assert part.ids == [i for i in ids if doc_hash(i) % 4 == shard]  # batch order kept
        offsets = np.concatenate([[0], np.cumsum(part.lengths)])
        for k, doc_id in enumerate(part.ids):
            assert part.tokens[offsets[k]:offsets[k + 1]].tolist() == docs[doc_id].tolist()
        seen += part.ids
    assert sorted(seen) == ids
    assert batch.split_by_shard(1) == {0: batch}


def test_in_id_order_copies_runs_across_batches_and_chunk_ends():
    """Documents already in id order inside their batch are copied as runs: runs that span
    batches (interleaved ids), chunk ends and a gap left by take() still give each document whole."""
    from pipeline.shards.batches import in_id_order

    ids = [f"doc-{i:04d}" for i in range(120)]
    layouts = {
        "halves": (ids[:60], ids[60:]),  # two long runs
        "interleaved": (ids[0::2], ids[1::2]),  # a run per document
        "blocks": (ids[:20] + ids[40:60] + ids[80:100], ids[20:40] + ids[60:80] + ids[100:]),
    }
    for name, (left, right) in layouts.items():
        a, docs_a = _batch(left, seed=6)
        b, docs_b = _batch(right, seed=7)
        docs = {**docs_a, **docs_b}
        # drop every fifth document of a (a gap inside what would be one run)
        keep = np.array([k for k in range(len(a)) if k % 5 != 2])
        a = a.take(keep)
        want_ids = sorted(a.ids + b.ids)
        for chunk in (1, 37, 10_000):
            pieces = list(in_id_order([a, b], chunk_tokens=chunk))
            tokens = np.concatenate([t for t, _ in pieces])
            assert tokens.dtype == np.uint16, name
            assert np.concatenate([n for _, n in pieces]).tolist() == [len(docs[i]) for i in want_ids], name
            assert tokens.tolist() == np.concatenate([docs[i] for i in want_ids]).tolist(), (name, chunk)


def test_in_id_order_sorts_across_batches_in_chunks():
    from pipeline.shards.batches import in_id_order

    ids = [f"doc-{i:04d}" for i in range(200)]
    order = np.random.default_rng(3).permutation(200)
    shuffled = [ids[i] for i in order]
    a, docs_a = _batch(shuffled[:120], seed=1)
    b, docs_b = _batch(shuffled[120:], seed=2)
    docs = {**docs_a, **docs_b}
    expected = np.concatenate([docs[i] for i in ids])
    for chunk in (1, 50, 10_000):
        pieces = list(in_id_order([a, b], chunk_tokens=chunk))
        lengths = np.concatenate([lens for _, lens in pieces])
        assert lengths.tolist() == [len(docs[i]) for i in ids]
        assert np.concatenate([t for t, _ in pieces]).tolist() == expected.tolist()
        if chunk == 50:
            assert len(pieces) > 10 and all(t.size <= 50 or lens.size == 1 for t, lens in pieces)
    assert list(in_id_order([])) == []
    # equal ids keep the order of their batches (what a stable sort gives)
    c, docs_c = _batch(["x", "a"], seed=4)
    d, docs_d = _batch(["x"], seed=5)
    tokens, lengths = next(in_id_order([c, d]))
    want = np.concatenate([docs_c["a"], docs_c["x"], docs_d["x"]])
    assert tokens.tolist() == want.tolist()

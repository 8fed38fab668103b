"""Staged token pieces: shards read back from piece files are the bytes the in-memory batches
give; a missing, short or damaged piece is an error naming it, never a short shard."""

import numpy as np
import pytest

from pipeline.shards.batches import TokenBatch, doc_hash, in_id_order
from pipeline.shards.pieces import HEADER, PieceError, pieces_in_id_order, read_piece_index, write_piece


def _batch(ids, seed, dtype=np.uint16):
    rng = np.random.default_rng(seed)
    docs = [rng.integers(1, 30000, size=int(rng.integers(1, 60))) for _ in ids]
    return TokenBatch.build(list(ids), np.array([len(d) for d in docs]), np.concatenate(docs).astype(dtype))


def _flat(parts):
    parts = list(parts)
    return (np.concatenate([t for t, _ in parts]).tobytes(), np.concatenate([n for _, n in parts]).tolist())


def _staged(tmp_path, count=4, docs=150):
    ids = [f"doc-{i:05d}" for i in range(count * docs)]
    order = np.random.default_rng(0).permutation(len(ids))
    batches = [_batch([ids[k] for k in order[b * docs:(b + 1) * docs]], seed=b) for b in range(count)]
    return batches, [write_piece(str(tmp_path / f"p{b}.piece"), batch) for b, batch in enumerate(batches)]


@pytest.mark.parametrize("chunk", [1, 97, 1 << 18])
def test_pieces_give_the_bytes_of_the_batches_for_every_shard(tmp_path, chunk):
    batches, refs = _staged(tmp_path)
    assert [r.documents for r in refs] == [len(b) for b in batches]
    assert [r.token_count for r in refs] == [b.token_count for b in batches]
    paths = [r.path for r in refs]
    assert _flat(pieces_in_id_order(paths, chunk_tokens=chunk)) == _flat(in_id_order(batches, chunk_tokens=chunk))
    for shard in range(3):  # what the job's shards hold: each batch split by hash, then id order
        parts = [b.split_by_shard(3).get(shard) for b in batches]
        want = _flat(in_id_order([p for p in parts if p is not None], chunk_tokens=chunk))
        assert _flat(pieces_in_id_order(paths, shard, 3, chunk_tokens=chunk)) == want


def test_piece_index_round_trips_ids_and_hashes(tmp_path):
    batch = _batch(["é-1", "", "x\ny", "z" * 300], seed=3, dtype=np.int32)
    ref = write_piece(str(tmp_path / "a.piece"), batch)
    index = read_piece_index(ref.path)
    assert index.ids == batch.ids and index.dtype == np.dtype("<i4")
    assert index.hashes.tolist() == [doc_hash(i) for i in batch.ids] == ref.hashes.tolist()
    assert index.lengths.tolist() == batch.lengths.tolist()


def _damage(path, offset, data=None):
    raw = bytearray(path.read_bytes())
    if data is None:
        del raw[offset:]
    else:
        raw[offset] ^= data
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("how, match", [
    ("missing", "missing or unreadable"),
    ("truncated", "truncated"),
    ("token", "do not match their crc32"),
    ("meta", "metadata does not match"),
    ("header", "bad header"),
])
def test_a_damaged_piece_is_an_error_naming_it(tmp_path, how, match):
    _, refs = _staged(tmp_path, count=2, docs=40)
    victim = tmp_path / "p1.piece"
    size = victim.stat().st_size
    if how == "missing":
        victim.unlink()
    elif how == "truncated":
        _damage(victim, size - 3)
    elif how == "token":
        _damage(victim, size - 5, 0x10)
    elif how == "meta":
        _damage(victim, HEADER.size + 10, 0x01)
    else:
        _damage(victim, 2, 0x01)
    with pytest.raises(PieceError, match=match) as err:
        for _ in pieces_in_id_order([r.path for r in refs], chunk_tokens=64):
            pass
    assert "p1.piece" in str(err.value)


def test_the_shard_step_fails_on_a_missing_piece_and_leaves_no_shard(tmp_path):
    from corpora.tokenize import WriteShard

    _, refs = _staged(tmp_path, count=3, docs=30)
    (tmp_path / "p2.piece").unlink()
    step = WriteShard(str(tmp_path / "out"), "uint16")
    with pytest.raises(PieceError, match="p2.piece"):
        list(step((("web", "train", 0, 1), [r.path for r in refs])))
    assert not list((tmp_path / "out").rglob("*.bin")) and not list((tmp_path / "out").rglob("*.idx"))


@pytest.mark.parametrize("store", ["local", "memory"])
@pytest.mark.parametrize("layout", ["files in id order", "ids scattered"])
def test_pieces_are_read_by_parts_or_once_each_with_the_same_bytes(tmp_path, store, layout):
    """Local pieces, or ids in piece order, stream a part at a time (opens: about one per part);
    on a remote store with ids scattered over every piece, each piece is opened once."""
    import uuid

    from pipeline import fileio

    ids = [f"doc-{i:05d}" for i in range(2000)]
    if layout == "ids scattered":
        ids = [ids[k] for k in np.random.default_rng(1).permutation(len(ids))]
    batches = [_batch(ids[b * 100:(b + 1) * 100], seed=b) for b in range(20)]
    root = str(tmp_path) if store == "local" else f"memory://pieces-{uuid.uuid4().hex}"
    paths = [write_piece(fileio.join(root, f"p{b:02d}.piece"), batch).path for b, batch in enumerate(batches)]
    opened = []

    def counting_open(path):
        opened.append(path)
        return fileio.open_read(path)

    for shard in range(2):
        opened.clear()
        parts = list(pieces_in_id_order(paths, shard, 2, counting_open, chunk_tokens=300))
        assert _flat(parts) == _flat(in_id_order([b.split_by_shard(2)[shard] for b in batches], chunk_tokens=300))
        assert len(parts) > 50
        reads = len(opened) - 20  # after each piece's index
        if store == "memory" and layout == "ids scattered":
            assert reads == 20
        elif layout == "files in id order":
            assert reads <= 2 * len(parts)
        else:
            assert reads > 4 * len(parts)  # local: one open per run, still cheap

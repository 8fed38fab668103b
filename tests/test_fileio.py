"""The core's I/O layer (pipeline.fileio) on local paths and on an object store (fsspec's
in-memory one, standing in for gs:// and s3://), and the core modules that read and write
through it: the tokenizer loader, the tokenizer's text stream and the shard writer."""

from __future__ import annotations

import os
import uuid

import fsspec
import numpy as np
import pytest

from pipeline import fileio
from pipeline.shards.reader import ShardReader
from pipeline.shards.writer import ShardWriter
from tests.test_tokenizer_cli import make_texts, write_corpus
from tokenizer.corpus import TextStream, resolve_inputs
from tokenizer.load import TokenizerDirError, TokenizerInfo, load_tokenizer


@pytest.fixture
def bucket():
    """A fresh ``memory://`` root, removed after the test."""
    root = f"memory://bucket-{uuid.uuid4().hex}"
    yield root
    mem = fsspec.filesystem("memory")
    if mem.exists(root.split("://", 1)[1]):
        mem.rm(root.split("://", 1)[1], recursive=True)


def upload(local_dir: str, remote: str) -> None:
    for root, _, files in os.walk(local_dir):
        for name in files:
            rel = os.path.relpath(os.path.join(root, name), local_dir).replace(os.sep, "/")
            with open(os.path.join(root, name), "rb") as f:
                fileio.write_atomic(fileio.join(remote, rel), f.read())


@pytest.mark.parametrize("where", ["local", "remote"])
def test_files_behave_the_same_local_and_remote(where, tmp_path, bucket):
    base = str(tmp_path / "d") if where == "local" else bucket
    a = fileio.join(base, "x", "a.txt")
    fileio.write_atomic(a, b"hello")
    fileio.write_atomic(fileio.join(base, "x", "y", "b.bin"), b"12345678")
    assert fileio.read_bytes(a) == b"hello" and fileio.size(a) == 5
    assert fileio.exists(a) and fileio.is_file(a) and not fileio.is_dir(a)
    assert fileio.is_dir(fileio.join(base, "x")) and not fileio.exists(fileio.join(base, "nothing"))
    assert [(p.rsplit("/", 1)[-1], n) for p, n in fileio.match(fileio.join(base, "x", "**"))] == [
        ("a.txt", 5), ("b.bin", 8)]  # files only, sorted, with sizes; ** spans folders
    assert fileio.match(fileio.join(base, "x", "*.txt")) == [(a, 5)]  # paths spelt as given
    with pytest.raises(FileNotFoundError):
        fileio.read_bytes(fileio.join(base, "missing.txt"))

    with pytest.raises(RuntimeError):  # an interrupted write leaves neither the file nor a temporary
        with fileio.atomic_writer(fileio.join(base, "x", "c.txt")) as f:
            f.write(b"half")
            raise RuntimeError("interrupted")
    assert [p.rsplit("/", 1)[-1] for p, _ in fileio.match(fileio.join(base, "x", "*"))] == ["a.txt"]

    fileio.rename(a, fileio.join(base, "x", "moved.txt"))
    assert not fileio.exists(a) and fileio.read_bytes(fileio.join(base, "x", "moved.txt")) == b"hello"
    local = tmp_path / "finished.warc"
    local.write_bytes(b"warc")
    fileio.put_file(str(local), fileio.join(base, "warc", "f.warc"))
    assert not local.exists() and fileio.read_bytes(fileio.join(base, "warc", "f.warc")) == b"warc"
    fileio.delete(fileio.join(base, "nothing"))  # nothing there is not an error
    fileio.delete(fileio.join(base, "x"), recursive=True)
    assert not fileio.exists(fileio.join(base, "x", "y", "b.bin"))


def test_local_delete_never_removes_a_folder_unless_asked(tmp_path):
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "f").write_bytes(b"x")
    with pytest.raises(OSError):
        fileio.delete(str(tmp_path / "keep"))
    assert (tmp_path / "keep" / "f").exists()


def test_unknown_scheme_is_a_clear_error():
    with pytest.raises(OSError, match="cannot open nosuchscheme:// URLs"):
        fileio.read_bytes("nosuchscheme://bucket/file")
    with pytest.raises(OSError, match="cannot open nosuchscheme:// URLs"):
        fileio.filesystem("nosuchscheme://bucket/file")


def test_filesystem_gives_fsspec_and_the_path_for_what_fileio_lacks(bucket, tmp_path):
    fileio.write_atomic(bucket + "/d/a.bin", b"abc")
    fs, path = fileio.filesystem(bucket + "/d/a.bin")
    fs.get_file(path, str(tmp_path / "a.bin"))  # e.g. a download, as the trainer's shard cache does
    assert (tmp_path / "a.bin").read_bytes() == b"abc"
    assert fs.exists(path) and not path.startswith("memory://")


# With apache_beam unimportable, the tokenizer reads a corpus and loads a tokenizer, and the trainer's
# shard cache downloads a shard directory, all from a memory:// store (the store lives in the process).
_NO_BEAM = r"""
import json, sys
sys.modules["apache_beam"] = None
from pipeline import fileio
from tokenizer.corpus import TextStream
from tokenizer.load import TokenizerInfo
from trainer.shard_cache import ShardCache

tok_dir, cache = sys.argv[1], sys.argv[2]
for name in ("tokenizer.json", "special_tokens_map.json"):
    fileio.write_atomic(f"memory://nb/tok/{name}", fileio.read_bytes(fileio.join(tok_dir, name)))
fileio.write_atomic("memory://nb/c/a.jsonl", b'{"text": "alpha beta"}\n{"text": "gamma"}\n')
manifest = {"shards": [{"path": "web/train-0", "bin_bytes": 2, "idx_bytes": 1}]}
fileio.write_atomic("memory://nb/s/manifest.json", json.dumps(manifest).encode())
fileio.write_atomic("memory://nb/s/web/train-0.bin", b"xy")
fileio.write_atomic("memory://nb/s/web/train-0.idx", b"z")
local = ShardCache(cache).fetch_shard_dir("memory://nb/s")
print(json.dumps({"texts": list(TextStream(["memory://nb/c/a.jsonl"], log=None)),
                  "eod": TokenizerInfo("memory://nb/tok").eod_id,
                  "bin": open(local + "/web/train-0.bin", "rb").read().decode()}))
"""


def test_tokenizer_and_shard_cache_open_files_without_beam(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    tok = make_tokenizer_dir(tmp_path / "tok")
    proc = subprocess.run([sys.executable, "-c", _NO_BEAM, tok, str(tmp_path / "cache")], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {
        "texts": ["alpha beta", "gamma"], "eod": 0, "bin": "xy"}


def make_tokenizer_dir(path) -> str:
    """A tiny word-level tokenizers directory (tokenizer.json + special_tokens_map.json)."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = sorted({w for t in make_texts(50) for w in t.split()})
    vocab = {"<|endoftext|>": 0, "[UNK]": 1, **{w: i + 2 for i, w in enumerate(words)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    path.mkdir(parents=True)
    tok.save(str(path / "tokenizer.json"))
    (path / "special_tokens_map.json").write_text('{"eos_token": "<|endoftext|>", "unk_token": "[UNK]"}')
    return str(path)


def test_tokenizer_loads_from_an_object_store(tmp_path, bucket):
    local = make_tokenizer_dir(tmp_path / "tok")
    upload(local, bucket + "/tok")
    here, there = TokenizerInfo(local), TokenizerInfo(bucket + "/tok")
    assert {**there.as_dict(), "directory": None} == {**here.as_dict(), "directory": None}
    assert there.eod_id == 0 and there.unk_id == 1
    text = make_texts(3)[2]
    assert load_tokenizer(bucket + "/tok/tokenizer.json").encode(text).ids == load_tokenizer(local).encode(text).ids
    with pytest.raises(TokenizerDirError, match="not a tokenizer directory"):
        TokenizerInfo(bucket + "/nothing")


def test_tokenizer_encodes_a_file_from_an_object_store(tmp_path, bucket, capsys):
    from tokenizer.cli import main

    tok = make_tokenizer_dir(tmp_path / "tok")
    text = make_texts(3)[2]
    (tmp_path / "doc.txt").write_text(text, encoding="utf-8")
    fileio.write_atomic(bucket + "/doc.txt", text.encode("utf-8"))
    outs = []
    for path in (str(tmp_path / "doc.txt"), bucket + "/doc.txt"):
        assert main(["encode", tok, "--file", path, "--ids-only"]) == 0
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1] == " ".join(map(str, load_tokenizer(tok).encode(text).ids)) + "\n"


def test_text_stream_reads_an_object_store_like_a_local_corpus(tmp_path, bucket):
    corpus = write_corpus(tmp_path / "c", n=80, files=2)
    upload(str(corpus), bucket + "/c")
    files = resolve_inputs([bucket + "/c"])
    assert [f.rsplit("/", 1)[-1] for f in files] == ["part-00000-of-00002.parquet", "part-00001-of-00002.parquet"]
    assert resolve_inputs([bucket + "/c/data/*.parquet"]) == files
    here, there = TextStream([str(corpus)], log=None), TextStream([bucket + "/c"], log=None)
    there.check()
    assert list(there) == list(here) and there.total_bytes() == here.total_bytes()


def test_shard_writer_writes_an_object_store_by_default(tmp_path, bucket):
    docs = [np.array([5, 6, 0], dtype=np.uint16), np.array([7, 0], dtype=np.uint16)]
    summaries = []
    for prefix in (str(tmp_path / "web" / "train-00000-of-00001"), bucket + "/web/train-00000-of-00001"):
        with ShardWriter(prefix, np.uint16) as w:
            for d in docs:
                w.add_document(d)
        summaries.append(w.summary())
    assert summaries[0] == summaries[1]
    assert [p.rsplit("/", 1)[-1] for p, _ in fileio.match(bucket + "/web/*")] == [
        "train-00000-of-00001.bin", "train-00000-of-00001.idx"]  # no temporaries left
    for ext in (".bin", ".idx"):
        remote = fileio.read_bytes(bucket + "/web/train-00000-of-00001" + ext)
        assert remote == (tmp_path / "web" / ("train-00000-of-00001" + ext)).read_bytes()
    with ShardReader(str(tmp_path / "web" / "train-00000-of-00001")) as r:
        assert [list(x) for x in r] == [[5, 6, 0], [7, 0]]

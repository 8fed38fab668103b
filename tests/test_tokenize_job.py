"""The tokenize job end to end: Megatron shards, determinism, split, manifest, bad input."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpora.tokenize import (
    STAGED_TOKENIZER,
    STAGING,
    TokenizeConfig,
    TokenizePlan,
    chunk_text,
    plan_tokenize,
    read_staged_tokenizer,
    stage_tokenizer,
)
from corpora.tokenize import run_tokenize as _run_tokenize
from pipeline.jobs import UsageError
from pipeline.schema import CORPUS_SCHEMA
from pipeline.shards.manifest import split_for
from pipeline.shards.megatron import ShardReader, verify_shards
from pipeline.stats import stage
from tests.warc_factory import DE, EN, FR

ROOT = Path(__file__).resolve().parents[1]
ONE_WORKER = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]
TWO_WORKERS = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]


def write_corpus(directory: Path, source: str, texts: list[str], files: int = 2) -> Path:
    data = directory / "data"
    data.mkdir(parents=True)
    per = -(-len(texts) // files)
    for f in range(files):
        chunk = texts[f * per:(f + 1) * per]
        ids = [f"{source}-{f}-{i:04d}" for i in range(len(chunk))]
        table = pa.table({"id": ids, "text": chunk, "source": [source] * len(chunk), "url": [None] * len(chunk),
                          "lang": ["en"] * len(chunk), "lang_score": [1.0] * len(chunk), "meta": ["{}"] * len(chunk)},
                         schema=CORPUS_SCHEMA)
        pq.write_table(table, data / f"part-{f:05d}-of-{files:05d}.parquet")
    return directory


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("tok")
    sentences = EN + DE + FR
    texts = [" ".join(sentences[(i + j) % len(sentences)] for j in range(1 + i % 5)) for i in range(120)]
    texts[7] = ""  # empty documents are skipped and counted
    texts[8] = "   \n "
    web = write_corpus(root / "web", "web", texts)
    kg = write_corpus(root / "kg", "kg", [f"Entity {i} was born in {1900 + i}. It lives in Paris." for i in range(40)], 1)
    tok = root / "tok"
    subprocess.run([sys.executable, "-m", "tokenizer", "train", "--input", str(web), "--output", str(tok),
                    "--model", "bpe", "--vocab-size", "600"], cwd=ROOT, check=True, capture_output=True)
    return root, web, kg, tok, texts


def run_tokenize(cfg_and_overwrite, beam_args, quiet=True):
    cfg, overwrite = cfg_and_overwrite
    return _run_tokenize(cfg, beam_args, overwrite=overwrite, quiet=quiet)


def args(inputs, tok, out, **kw):
    """The job's config (and whether to overwrite), as the command line would give them."""
    overwrite = kw.pop("overwrite", False)
    base = dict(shard_tokens=3000, val_fraction=0.1, seed=0)
    base.update(kw)
    return TokenizeConfig([str(i) for i in inputs], str(tok), str(out), **base), overwrite


def test_shards_round_trip_and_manifest(setup, tmp_path):
    root, web, kg, tok, texts = setup
    out = tmp_path / "shards"
    report = run_tokenize(args([web, f"facts={kg}"], tok, out), TWO_WORKERS, quiet=True)
    assert report["accounting_ok"]
    assert stage(report, "tokenize")["dropped"] == {"empty_text": 2}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["dtype"] == "uint16" and manifest["format"] == "megatron-mmidx-v1"
    assert manifest["tokenizer"]["path"].endswith("tokenizer.json")
    assert {s["source"] for s in manifest["shards"]} == {"web", "facts"}
    assert {s["split"] for s in manifest["shards"]} == {"train", "val"}
    assert len([s for s in manifest["shards"] if s["source"] == "web" and s["split"] == "train"]) > 1

    from tokenizer.load import load_tokenizer

    tokenizer = load_tokenizer(str(tok))
    eod = manifest["eod_id"]
    decoded = {}
    for s in manifest["shards"]:
        with ShardReader(str(out / s["path"])) as reader:
            assert len(reader) == s["documents"] and reader.total_tokens == s["tokens"]
            for i in range(len(reader)):
                ids = np.asarray(reader[i])
                assert ids[-1] == eod and eod not in ids[:-1]
                decoded.setdefault(s["source"], []).append((s["split"], tokenizer.decode(ids[:-1].tolist())))
    web_texts = sorted(t for _, t in decoded["web"])
    assert web_texts == sorted(t for t in texts if t.strip())  # byte-level BPE: lossless
    assert len(decoded["facts"]) == 40
    # split by a hash of the id, as split_for says
    val_ids = {f"web-{f}-{i:04d}" for f in range(2) for i in range(60) if split_for(f"web-{f}-{i:04d}", 0.1) == "val"}
    val_docs = sum(s["documents"] for s in manifest["shards"] if s["source"] == "web" and s["split"] == "val")
    assert val_docs == len(val_ids - {"web-0-0007", "web-0-0008"})
    ok, _ = verify_shards(str(out))
    assert ok
    assert not (out / STAGING).exists()  # the staged token pieces are gone once the shards are written


def test_same_shards_on_one_and_two_workers(setup, tmp_path):
    root, web, kg, tok, _ = setup
    run_tokenize(args([web], tok, tmp_path / "a"), ONE_WORKER, quiet=True)
    run_tokenize(args([web], tok, tmp_path / "b"), TWO_WORKERS, quiet=True)
    a = json.loads((tmp_path / "a" / "manifest.json").read_text())["shards"]
    b = json.loads((tmp_path / "b" / "manifest.json").read_text())["shards"]
    assert a == b


def test_refuses_finished_output_and_bad_inputs(setup, tmp_path):
    root, web, kg, tok, _ = setup
    out = tmp_path / "o"
    run_tokenize(args([web], tok, out), ONE_WORKER, quiet=True)
    with pytest.raises(UsageError, match="already holds finished shards"):
        run_tokenize(args([web], tok, out), ONE_WORKER, quiet=True)
    run_tokenize(args([web], tok, out, overwrite=True), ONE_WORKER, quiet=True)
    with pytest.raises(UsageError, match="no tokenizer.json|not a tokenizer"):
        run_tokenize(args([web], web, tmp_path / "x"), ONE_WORKER, quiet=True)
    bad = tmp_path / "bad" / "data"
    bad.mkdir(parents=True)
    pq.write_table(pa.table({"id": ["a"], "body": ["x"]}), bad / "part-0.parquet")
    with pytest.raises(UsageError, match="no column 'text'"):
        run_tokenize(args([bad.parent], tok, tmp_path / "y"), ONE_WORKER, quiet=True)
    with pytest.raises(UsageError, match="no corpus Parquet files"):
        run_tokenize(args([tmp_path / "nothing"], tok, tmp_path / "z"), ONE_WORKER, quiet=True)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_large_vocabulary_switches_to_int32(setup, tmp_path):
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    root, web, kg, tok, _ = setup
    words = sorted({w for s in EN + DE + FR for w in s.replace(".", " ").replace(",", " ").split()})
    vocab = {"<|endoftext|>": 0, "[UNK]": 1}
    for w in words:
        vocab[w] = len(vocab)
    for i in range(70_000 - len(vocab)):
        vocab[f"filler{i}"] = len(vocab)
    big = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    big.pre_tokenizer = Whitespace()
    big_dir = tmp_path / "bigtok"
    big_dir.mkdir()
    big.save(str(big_dir / "tokenizer.json"))
    out = tmp_path / "int32"
    run_tokenize(args([web], big_dir, out), ONE_WORKER, quiet=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["dtype"] == "int32" and manifest["vocab_size"] == 70_000
    with ShardReader(str(out / manifest["shards"][0]["path"])) as reader:
        assert reader.dtype == np.int32
    assert verify_shards(str(out))[0]


def test_verify_shards_names_a_tampered_shard(setup, tmp_path):
    root, web, kg, tok, _ = setup
    out = tmp_path / "t"
    run_tokenize(args([web], tok, out), ONE_WORKER, quiet=True)
    first = json.loads((out / "manifest.json").read_text())["shards"][0]["path"]
    data = bytearray((out / f"{first}.bin").read_bytes())
    data[0] ^= 1
    (out / f"{first}.bin").write_bytes(bytes(data))
    result = subprocess.run([sys.executable, "beam_runner.py", "verify-shards", str(out)], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 1 and first in result.stderr and "sha256" in result.stderr


def test_long_documents_are_cut_where_tokenization_does_not_change(setup):
    root, web, kg, tok, _ = setup
    from tokenizer.load import load_tokenizer

    text = " ".join(EN * 50)
    pieces = chunk_text(text, max_chars=500)
    assert "".join(pieces) == text and all(len(p) <= 500 for p in pieces)
    tokenizer = load_tokenizer(str(tok))
    whole = tokenizer.encode(text, add_special_tokens=False).ids
    parts = [i for p in pieces for i in tokenizer.encode(p, add_special_tokens=False).ids]
    assert whole == parts


def test_parquet_without_source_column_is_named_after_its_directory(setup, tmp_path):
    root, web, kg, tok, _ = setup
    data = tmp_path / "plain" / "data"
    data.mkdir(parents=True)
    pq.write_table(pa.table({"id": [f"p{i}" for i in range(20)], "text": [f"plain text {i}." for i in range(20)]}),
                   data / "part-0.parquet")
    out = tmp_path / "o"
    run_tokenize(args([tmp_path / "plain"], tok, out), ONE_WORKER, quiet=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert {s["source"] for s in manifest["shards"]} == {"plain"}
    assert manifest["totals"]["documents"] == 20


def test_shards_hold_exactly_the_reference_layout(setup, tmp_path):
    """Row groups of several sizes, two named inputs, a row without an id: every shard's .bin is
    what the definition gives (tokens + end-of-document per document, shard = blake2b(id) mod
    shards, documents in id order), with 2 workers."""
    import hashlib
    import math

    from tokenizer.load import TokenizerInfo, load_tokenizer

    root, web, kg, tok, texts = setup
    data = tmp_path / "groups" / "data"
    data.mkdir(parents=True)
    ids = [f"g-{i:04d}" for i in range(90)]
    rows = [(i, texts[k % len(texts)]) for k, i in enumerate(ids)] + [(None, "a row without an id")]
    table = pa.table({"id": [r[0] for r in rows], "text": [r[1] for r in rows], "source": ["grp"] * len(rows)})
    pq.write_table(table.slice(0, 50), data / "part-0.parquet", row_group_size=7)  # 8 row groups
    pq.write_table(table.slice(50), data / "part-1.parquet", row_group_size=30)
    out = tmp_path / "o"
    report = run_tokenize(args([f"one={tmp_path / 'groups'}", f"two={tmp_path / 'groups'}"], tok, out,
                               shard_tokens=1500), TWO_WORKERS, quiet=True)
    assert report["accounting_ok"]
    assert stage(report, "read")["in"] == 2 * len(rows)
    assert stage(report, "tokenize")["dropped"] == {"missing_id": 2, "empty_text": 4}  # texts[7], texts[8]

    tokenizer, eod = load_tokenizer(str(tok)), TokenizerInfo(str(tok)).eod_id
    expected: dict[tuple[str, str], list[tuple[str, list[int]]]] = {}
    for source in ("one", "two"):
        for doc_id, text in rows:
            if doc_id is None or not text.strip():
                continue
            key = (source, split_for(doc_id, 0.1))
            expected.setdefault(key, []).append((doc_id, tokenizer.encode(text, add_special_tokens=False).ids + [eod]))
    files = {}
    for (source, split), docs in expected.items():
        of = max(1, math.ceil(sum(len(t) for _, t in docs) / 1500))
        for doc_id, tokens in sorted(docs):
            h = int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "little")
            files.setdefault(f"{source}/{split}-{h % of:05d}-of-{of:05d}", []).append(tokens)
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(s["path"] for s in manifest["shards"]) == sorted(files)
    assert len(files) > 4
    for path, docs in files.items():
        assert (out / f"{path}.bin").read_bytes() == np.concatenate(docs).astype("<u2").tobytes(), path
        with ShardReader(str(out / path)) as reader:
            assert reader.lengths.tolist() == [len(d) for d in docs]
    assert verify_shards(str(out))[0]


def test_encode_threads_share_the_cores_among_local_workers(monkeypatch):
    from corpora.tokenize import encode_threads

    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(8)), raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert encode_threads(["--direct_num_workers=2", "--direct_running_mode=multi_processing"]) == 4
    assert encode_threads(["--direct_num_workers=3", "--direct_running_mode=multi_processing"]) == 2
    assert encode_threads(["--direct_num_workers=16", "--direct_running_mode=multi_processing"]) == 1
    assert encode_threads(["--direct_num_workers=0", "--direct_running_mode=multi_processing"]) == 1
    assert encode_threads(["--direct_num_workers=1", "--direct_running_mode=in_memory"]) is None  # this process
    assert encode_threads(["--runner=DataflowRunner", "--direct_num_workers=2",
                           "--direct_running_mode=multi_processing"]) is None  # workers with their own cores


def test_a_damaged_row_group_is_counted_and_the_rest_tokenized(setup, tmp_path, caplog):
    """A row group whose pages cannot be read (damaged bytes, intact footer) does not stop the job: its
    rows are counted as read and dropped (``unreadable_row_group``), every other row is tokenized, and
    a warning names the file and row group."""
    root, web, kg, tok, texts = setup
    data = tmp_path / "damaged" / "data"
    data.mkdir(parents=True)
    ids = [f"r-{i:04d}" for i in range(100)]
    table = pa.table({"id": ids, "text": [texts[i % len(texts)].strip() or "x" for i in range(100)], "source": ["r"] * 100})
    path = data / "part-0.parquet"
    pq.write_table(table, path, row_group_size=40)  # row groups of 40, 40, 20
    column = pq.ParquetFile(path).metadata.row_group(1).column(1)  # the text column of row group 1
    start = column.dictionary_page_offset or column.data_page_offset
    raw = bytearray(path.read_bytes())
    raw[start:start + column.total_compressed_size] = b"\xff" * column.total_compressed_size
    path.write_bytes(bytes(raw))

    out = tmp_path / "o"
    report = run_tokenize(args([tmp_path / "damaged"], tok, out), ONE_WORKER, quiet=True)
    assert report["accounting_ok"]
    read = stage(report, "read")
    assert read["in"] == 100 and read["out"] == 60 and read["dropped"] == {"unreadable_row_group": 40}
    manifest = json.loads((out / "manifest.json").read_text())
    assert sum(s["documents"] for s in manifest["shards"]) == 60
    assert "part-0.parquet row group 1: 40 row(s) unread after 0" in caplog.text


def test_rows_are_read_on_the_system_allocator(tmp_path):
    """The read step puts Arrow on the C heap (whose freed pages the tokenize step gives back to the
    OS after each slice), and the rows it reads come from there."""
    from corpora.tokenize import ReadRowGroup

    path = tmp_path / "part-0.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "text": ["one", "two"], "source": ["s", "s"]}), path)
    before = pa.default_memory_pool()
    try:
        for other in ("mimalloc", "jemalloc"):  # start from another pool (an earlier job may have set it)
            try:
                pa.set_memory_pool(getattr(pa, f"{other}_memory_pool")())
                break
            except (NotImplementedError, pa.ArrowNotImplementedError):
                continue
        step = ReadRowGroup()
        step.setup()
        assert pa.default_memory_pool().backend_name == "system"
        held = pa.system_memory_pool().bytes_allocated()
        slices = list(step((None, str(path), 0)))
        assert [s.item.table.column("id").to_pylist() for s in slices] == [["a", "b"]]
        assert pa.system_memory_pool().bytes_allocated() > held
    finally:
        pa.set_memory_pool(before)


def test_row_groups_are_read_in_slices_of_about_a_megabyte(tmp_path):
    """Wide rows come in small slices, narrow rows in slices of at most ROWS_PER_SLICE, and every
    row of the row group is in exactly one slice, in order."""
    from corpora.tokenize import ROWS_PER_SLICE, SLICE_BYTES, ReadRowGroup, slice_rows

    path = tmp_path / "part-0.parquet"
    wide = [f"{i:05d} " + "word " * 20_000 for i in range(50)]  # about 100 kB each
    ids = [f"w-{i:03d}" for i in range(50)]
    pq.write_table(pa.table({"id": ids, "text": wide, "source": ["s"] * 50}), path, compression="zstd")
    group = pq.ParquetFile(path).metadata.row_group(0)
    rows = slice_rows(group, ["id", "text", "source"])
    assert SLICE_BYTES == 1 << 20 and 9 <= rows <= 11  # 1 MiB of about 100 kB rows
    assert slice_rows(group, ["id"]) == ROWS_PER_SLICE and slice_rows(group, ["id"], most=8) == 8  # narrow: the cap
    step = ReadRowGroup()
    slices = list(step((None, str(path), 0)))
    assert [len(s.item) for s in slices] == [rows] * (50 // rows) + ([50 % rows] if 50 % rows else [])
    assert [i for s in slices for i in s.item.table.column("id").to_pylist()] == ids


def test_workers_read_the_staged_tokenizer_only_as_the_driver_checked_it(tmp_path):
    """The driver stages the tokenizer beside the pieces with its sha256; a worker reading other
    bytes there (the file changed during the run) stops instead of tokenizing with them."""
    text = '{"model": {"type": "BPE"}, "é": 1}'
    plan = TokenizePlan([], text, hashlib.sha256(text.encode()).hexdigest(), "0" * 64, "uint16", 0, 10)
    path = stage_tokenizer(str(tmp_path), plan)
    assert path == str(tmp_path / STAGING / STAGED_TOKENIZER)
    assert read_staged_tokenizer(path, plan.staged_sha) == text
    (tmp_path / STAGING / STAGED_TOKENIZER).write_text(text.replace("1", "2"), "utf-8")
    with pytest.raises(OSError, match="sha256 differs"):
        read_staged_tokenizer(path, plan.staged_sha)


def test_the_staged_tokenizer_is_the_librarys_reading_of_the_file(setup, tmp_path):
    """A tokenizer.json may declare an added token at an id the library moves it from when it
    loads the file (here one the vocabulary already uses). The driver stages the library's own
    serialization, so a worker's encoder, built from that text alone, has the control ids of the
    tokenizer as loaded, not the file's; the manifest keeps the sha256 of the file as given."""
    from tokenizers import Tokenizer

    from pipeline.shards.batches import DocumentEncoder
    from tokenizer.load import load_tokenizer
    from tokenizer.text_only import text_only

    _, web, _, tok, _ = setup
    odd = tmp_path / "tok"
    shutil.copytree(tok, odd)
    spec = json.loads((odd / "tokenizer.json").read_text())
    taken = max(t["id"] for t in spec["added_tokens"]) + 1  # a vocabulary piece's id
    spec["added_tokens"].append({"id": taken, "content": "<|other|>", "single_word": False, "lstrip": False,
                                 "rstrip": False, "normalized": False, "special": True})
    (odd / "tokenizer.json").write_text(json.dumps(spec))
    loaded = load_tokenizer(str(odd))
    moved = loaded.token_to_id("<|other|>")
    assert moved != taken  # the library gave the token an id of its own
    cfg, _ = args([web], odd, tmp_path / "out")
    plan = plan_tokenize(cfg)
    assert plan.tokenizer_text == loaded.to_str()
    assert plan.staged_sha == hashlib.sha256(plan.tokenizer_text.encode()).hexdigest()
    assert plan.tokenizer_sha == hashlib.sha256((odd / "tokenizer.json").read_bytes()).hexdigest()
    encoder = DocumentEncoder(plan.tokenizer_text, "uint16", plan.eod_id)
    expected = text_only(loaded, plan.eod_id)
    assert encoder.text.control_ids == expected.control_ids and moved in encoder.text.control_ids
    assert taken not in encoder.text.control_ids
    text = "Paris <|other|> Berlin"
    ids, lengths = encoder.encode([text])
    assert ids.tolist() == expected.tokenizer.encode(text, add_special_tokens=False).ids + [plan.eod_id]
    assert lengths.tolist() == [len(ids)]
    assert Tokenizer.from_str(plan.tokenizer_text).to_str() == plan.tokenizer_text  # the serialization is stable


FORKED_AFTER_PLAN = """
import os, sys
from corpora.tokenize import TokenizeConfig, plan_tokenize
from tokenizers import Tokenizer

plan = plan_tokenize(TokenizeConfig([sys.argv[1]], sys.argv[2], sys.argv[3]))  # the driver's checks
read, write = os.pipe()
pid = os.fork()  # as the local runner's workers are forked, after the checks
if pid == 0:
    os.environ["RAYON_NUM_THREADS"] = "2"
    tok = Tokenizer.from_str(plan.tokenizer_text)
    tok.encode_batch_fast(["some words to encode, in a batch"] * 64)
    os.write(write, str(len(os.listdir("/proc/self/task"))).encode())
    os._exit(0)
os.waitpid(pid, 0)
print(os.read(read, 16).decode())
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc/self/task (Linux)")
def test_workers_forked_after_the_checks_keep_the_tokenizers_threads(setup, tmp_path):
    """The driver's text-only check must not start the tokenizer's thread pool: the library
    switches its parallelism off for good in any process forked after that, so the job's local
    workers (forked after the checks) would each encode on one thread whatever they were given.
    A forked process that encodes a batch has the pool's threads."""
    _, web, _, tok, _ = setup
    out = subprocess.run([sys.executable, "-c", FORKED_AFTER_PLAN, str(web), str(tok), str(tmp_path / "out")],
                         cwd=ROOT, check=True, capture_output=True, text=True)
    assert int(out.stdout.strip()) >= 3, out  # the main thread and the pool's two

"""The tokenizer CLI: training each model, special tokens, loaders, encode/inspect, bad inputs.

The corpora are tiny and written by the tests (Parquet in the corpus schema, JSONL); the
vocabularies are small so the whole file runs in seconds. Helpers here (``write_corpus``,
``write_jsonl``, ``train_dir``) are shared with test_tokenizer_corpus.py.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.schema import CORPUS_SCHEMA
from tokenizer.load import TokenizerDirError, TokenizerInfo, load_hf, load_tokenizer
from tokenizer.special_tokens import FIM_TOKENS, SOCIALCHEM_ATTRIBUTES, SOCIALCHEM_TOKENS, socialchem_token
from tokenizer.train import TrainConfig, UsageError, train

ROOT = Path(__file__).resolve().parents[1]

# -- corpora ----------------------------------------------------------------------------

WORDS = {
    "en": "the quick brown fox jumps over lazy dog river town market bread coffee morning evening".split(),
    "de": "der schnelle braune Fuchs springt über den faulen Hund Straße Brücke Bäckerei".split(),
    "fr": "le renard brun rapide saute par-dessus chien paresseux café où élève".split(),
    "zh": ["你好", "世界", "我们", "今天", "天气", "很好", "学习", "中文"],
    "ru": "быстрая бурая лиса прыгает через ленивую собаку".split(),
}


def make_texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    langs = sorted(WORDS)
    texts = []
    for i in range(n):
        lang = langs[i % len(langs)]
        sep = "" if lang == "zh" else " "
        words = [rng.choice(WORDS[lang]) for _ in range(rng.randint(8, 40))]
        tail = sep.join(rng.choice(WORDS[lang]) for _ in range(6))
        texts.append(f"{sep.join(words)}. Number {i} 🙂\n{tail}")
    return texts


def write_corpus(out: Path, n: int = 300, files: int = 2, empty: int = 5, seed: int = 0,
                 row_group_size: int = 64) -> Path:
    """A corpus directory ``out/data/part-*.parquet``, ``empty`` of its texts whitespace-only."""
    texts = make_texts(n, seed)
    for j in range(empty):
        texts[(j * 37) % n] = " \n " if j % 2 else ""
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    per = -(-n // files)
    for f in range(files):
        rows = [{"id": f"doc-{i:05d}", "text": texts[i], "source": "web", "url": f"https://x.test/{i}",
                 "lang": "en", "lang_score": 1.0, "meta": "{}"} for i in range(f * per, min(n, (f + 1) * per))]
        pq.write_table(pa.Table.from_pylist(rows, schema=CORPUS_SCHEMA),
                       data / f"part-{f:05d}-of-{files:05d}.parquet", compression="zstd", row_group_size=row_group_size)
    return out


def write_jsonl(path: Path, n: int = 200, field: str = "text", seed: int = 1, bad_lines: bool = False) -> Path:
    lines = [json.dumps({"id": f"j{i}", field: t}, ensure_ascii=False) for i, t in enumerate(make_texts(n, seed))]
    if bad_lines:
        lines += ["{not json", json.dumps({"other": "no text"}), json.dumps({field: ""})]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def train_dir(inputs, output, model="bpe", vocab_size=400, **kw):
    config = TrainConfig(inputs=[str(i) for i in inputs], output=str(output), model=model, vocab_size=vocab_size,
                         show_progress=False, **kw)
    return train(config, log=None)


def run_cli(*args, check=True, stdin=None):
    proc = subprocess.run([sys.executable, "-m", "tokenizer", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, input=stdin, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus") / "web")


@pytest.fixture(scope="module")
def tokdirs(corpus, tmp_path_factory):
    """One trained directory per model (bpe with FIM, SOCIAL-CHEM and an extra token)."""
    base = tmp_path_factory.mktemp("tok")
    out = {}
    out["bpe"] = base / "bpe"
    train_dir([corpus], out["bpe"], "bpe", 500, fim=True, socialchem=True, special_tokens=["<|sep|>"])
    out["wordpiece"] = base / "wordpiece"
    train_dir([corpus], out["wordpiece"], "wordpiece", 400)
    out["unigram"] = base / "unigram"
    train_dir([corpus], out["unigram"], "unigram", 300)
    return out


# -- byte-level BPE: lossless ------------------------------------------------------------

TRICKY = [
    "",
    "hello world",
    " leading space",
    "trailing space ",
    "   many   spaces\t\ttabs\n\n\nnewlines\r\nCRLF",
    "emoji 🙂👍🏽 👩‍👩‍👧‍👦 🇩🇪🏳️‍🌈",
    "中文字符测试，日本語のテキスト、한국어 텍스트",
    "العربية עברית ελληνικά",
    "combining: e\u0301 a\u0308 \u0915\u094d\u0937",
    "control \x00\x01\x07\x1b[31mred\x1b[0m \x7f\x85",
    "zero width \u200b\u200c\u200d bom \ufeff nbsp\u00a0 ideographic\u3000space",
    "Ġ and Ċ and ĉ (byte-level symbols themselves)",
    "a" * 5000,
    "private use \ue000 \U0010fffd plane 1 \U0001d54f",
    "<|endoftext|> inside text and <|fim_prefix|>",
]


def test_bpe_round_trip_is_lossless(tokdirs):
    tok = load_tokenizer(tokdirs["bpe"])
    rng = random.Random(7)
    randoms = []
    for _ in range(50):  # random code points from all planes, surrogates excluded
        cps = [rng.choice([rng.randint(0, 0x7F), rng.randint(0x80, 0xD7FF), rng.randint(0xE000, 0x10FFFF)])
               for _ in range(rng.randint(1, 40))]
        randoms.append("".join(map(chr, cps)))
    for s in TRICKY + randoms:
        ids = tok.encode(s).ids
        assert tok.decode(ids, skip_special_tokens=False) == s, repr(s)
        assert all(0 <= i < tok.get_vocab_size() for i in ids)
    for s in TRICKY[:-1]:  # without special tokens in the text, the default decode is exact too
        assert tok.decode(tok.encode(s).ids) == s, repr(s)


def test_bpe_pipeline_is_gpt2_style(tokdirs):
    spec = json.loads((tokdirs["bpe"] / "tokenizer.json").read_text())
    assert spec["model"]["type"] == "BPE" and spec["model"].get("unk_token") is None
    assert spec["pre_tokenizer"]["type"] == "ByteLevel" and spec["pre_tokenizer"]["add_prefix_space"] is False
    assert spec["decoder"]["type"] == "ByteLevel"
    assert spec["normalizer"] is None
    vocab = spec["model"]["vocab"]
    from tokenizers.pre_tokenizers import ByteLevel

    assert set(ByteLevel.alphabet()) <= set(vocab)  # all 256 byte symbols


# -- special tokens ----------------------------------------------------------------------


def test_special_tokens_have_the_first_ids_in_order(tokdirs):
    info = TokenizerInfo(tokdirs["bpe"])
    expected = ["<|endoftext|>", "<|pad|>", *FIM_TOKENS, *SOCIALCHEM_TOKENS, "<|sep|>"]
    assert list(info.special_tokens) == expected
    assert list(info.special_tokens.values()) == list(range(len(expected)))
    assert (info.eod_id, info.pad_id, info.unk_id) == (0, 1, None)
    assert info.special_tokens["<|fim_prefix|>"] == 2 and info.special_tokens["<|fim_suffix|>"] == 4

    wp = TokenizerInfo(tokdirs["wordpiece"])
    assert list(wp.special_tokens.items())[:5] == [("[UNK]", 0), ("[CLS]", 1), ("[SEP]", 2), ("[PAD]", 3),
                                                   ("[MASK]", 4)]
    assert (wp.eod_token, wp.eod_id, wp.pad_id, wp.unk_id) == ("[SEP]", 2, 3, 0)

    uni = TokenizerInfo(tokdirs["unigram"])
    assert list(uni.special_tokens.items()) == [("<|endoftext|>", 0), ("<|pad|>", 1), ("<unk>", 2)]
    assert (uni.eod_id, uni.unk_id, uni.model) == (0, 2, "unigram")


def test_special_tokens_encode_as_single_ids(tokdirs):
    tok = load_tokenizer(tokdirs["bpe"])
    line = ("my friend lied [attrs] <rot-categorization:advice> <rot-moral-foundations:care-harm> "
            "<rot-agree:most> [rot] It's bad to lie.<|endoftext|>")
    enc = tok.encode(line)
    for special in ("[attrs]", "<rot-categorization:advice>", "<rot-moral-foundations:care-harm>",
                    "<rot-agree:most>", "[rot]", "<|endoftext|>"):
        assert special in enc.tokens
    assert enc.ids[-1] == 0
    fim = tok.encode("<|fim_prefix|>def f(<|fim_suffix|>):<|fim_middle|>x")
    assert [i for i in fim.ids if i < 5] == [2, 4, 3]


def test_socialchem_tokens_cover_the_schema():
    assert len(SOCIALCHEM_TOKENS) == len(set(SOCIALCHEM_TOKENS)) == 3 + sum(map(len, SOCIALCHEM_ATTRIBUTES.values()))
    assert set(SOCIALCHEM_ATTRIBUTES) == {
        "rot-agree", "rot-categorization", "rot-moral-foundations", "rot-char-targeting", "action-agency",
        "action-moral-judgment", "action-agree", "action-legal", "action-pressure", "action-char-involved",
        "action-hypothetical"}
    assert socialchem_token("rot-agree", "0") == "<rot-agree:nobody>"
    assert socialchem_token("rot-agree", 4) == "<rot-agree:all>"
    assert socialchem_token("action-moral-judgment", "-2") == "<action-moral-judgment:very-bad>"
    assert socialchem_token("action-pressure", "2") == "<action-pressure:strong-for>"
    assert socialchem_token("action-legal", "tolerated") == "<action-legal:tolerated>"
    assert socialchem_token("rot-char-targeting", "char-none") == "<rot-char-targeting:char-none>"
    # every value of the sample TSV maps to a known token
    sample = (ROOT.parent / "shared" / "reference" / "social-chem-101.sample.tsv")
    if sample.exists():
        header, *rows = [line.split("\t") for line in sample.read_text().splitlines()]
        for row in rows:
            record = dict(zip(header, row, strict=True))
            for attr in SOCIALCHEM_ATTRIBUTES:
                for value in filter(None, record[attr].split("|")):
                    assert socialchem_token(attr, value) in SOCIALCHEM_TOKENS
    for bad in (("rot-agree", "5"), ("action-legal", "maybe"), ("area", "dearabby")):
        with pytest.raises(ValueError):
            socialchem_token(*bad)


def test_duplicate_and_custom_special_tokens(corpus, tmp_path):
    res = train_dir([corpus], tmp_path / "t", "bpe", 300, eod_token="</s>", pad_token="</s>",
                    special_tokens=["<a>", "<a>", "<b>"], max_docs=50)
    info = TokenizerInfo(tmp_path / "t")
    assert list(info.special_tokens) == ["</s>", "<a>", "<b>"]
    assert (res.eod_id, info.eod_id, info.pad_id) == (0, 0, 0)
    smap = json.loads((tmp_path / "t" / "special_tokens_map.json").read_text())
    assert smap == {"eos_token": "</s>", "pad_token": "</s>", "additional_special_tokens": ["<a>", "<b>"]}


# -- WordPiece / Unigram -----------------------------------------------------------------


def test_wordpiece_adds_cls_and_sep(tokdirs):
    tok = load_tokenizer(tokdirs["wordpiece"])
    enc = tok.encode("The quick brown fox.")
    assert enc.tokens[0] == "[CLS]" and enc.tokens[-1] == "[SEP]"
    pair = tok.encode("the fox", "the dog")
    assert pair.tokens[0] == "[CLS]" and pair.tokens.count("[SEP]") == 2
    assert pair.type_ids[0] == 0 and pair.type_ids[-1] == 1
    assert tok.encode("the fox", add_special_tokens=False).tokens[0] != "[CLS]"
    assert tok.decode(tok.encode("the quick fox").ids) == "the quick fox"
    spec = json.loads((tokdirs["wordpiece"] / "tokenizer.json").read_text())
    assert spec["normalizer"]["type"] == "BertNormalizer" and spec["normalizer"]["lowercase"] is False
    assert spec["pre_tokenizer"]["type"] == "BertPreTokenizer" and spec["decoder"]["type"] == "WordPiece"


def test_wordpiece_lowercase_option(corpus, tmp_path):
    train_dir([corpus], tmp_path / "lc", "wordpiece", 300, lowercase=True, max_docs=100)
    tok = load_tokenizer(tmp_path / "lc")
    assert tok.encode("THE Fox", add_special_tokens=False).tokens == tok.encode("the fox", add_special_tokens=False).tokens
    cfg = json.loads((tmp_path / "lc" / "tokenizer_config.json").read_text())
    assert cfg["do_lower_case"] is True and cfg["corpusforge"]["lowercase"] is True


def test_unigram_metaspace_and_unknowns(tokdirs):
    tok = load_tokenizer(tokdirs["unigram"])
    spec = json.loads((tokdirs["unigram"] / "tokenizer.json").read_text())
    assert spec["pre_tokenizer"]["type"] == "Metaspace" and spec["decoder"]["type"] == "Metaspace"
    assert tok.decode(tok.encode("the quick brown fox").ids) == "the quick brown fox"
    enc = tok.encode("the ☃ fox")  # a character never seen in training
    assert 2 in enc.ids  # <unk>


# -- loaders -----------------------------------------------------------------------------


def test_tokenizer_info(tokdirs):
    d = tokdirs["bpe"]
    info = TokenizerInfo(str(d))
    tok = load_tokenizer(str(d))
    assert info.vocab_size == tok.get_vocab_size() == 500
    assert info.model == "bpe" and info.byte_level
    assert info.sha256 == hashlib.sha256((d / "tokenizer.json").read_bytes()).hexdigest()
    assert info.corpusforge["docs"] == 295 and info.corpusforge["empty_docs"] == 5
    assert info.model_max_length == 2048
    assert TokenizerInfo(d / "tokenizer.json").vocab_size == 500  # the file path works as well
    assert json.loads(json.dumps(info.as_dict()))["eod_id"] == 0


def test_not_a_tokenizer_dir(tmp_path):
    with pytest.raises(TokenizerDirError) as err:
        TokenizerInfo(tmp_path)
    assert str(err.value) == f"{tmp_path} is not a tokenizer directory (no tokenizer.json)"
    assert isinstance(err.value, ValueError)
    with pytest.raises(TokenizerDirError, match="not a tokenizer directory"):
        load_tokenizer(tmp_path / "missing")
    (tmp_path / "tokenizer.json").write_text("{broken")
    with pytest.raises(TokenizerDirError, match="tokenizer.json"):
        TokenizerInfo(tmp_path)


def test_transformers_loaders(tokdirs):
    transformers = pytest.importorskip("transformers")
    text = "the quick brown fox 🙂 <|fim_middle|>"
    bpe = load_tokenizer(tokdirs["bpe"])
    for hf in (load_hf(tokdirs["bpe"]), transformers.PreTrainedTokenizerFast.from_pretrained(str(tokdirs["bpe"]))):
        assert (hf.eos_token, hf.eos_token_id, hf.pad_token_id) == ("<|endoftext|>", 0, 1)
        assert hf.model_max_length == 2048
        assert hf(text)["input_ids"] == bpe.encode(text).ids
        assert hf.decode(hf(text)["input_ids"]) == text
        assert "<|fim_prefix|>" in hf.all_special_tokens and "<rot-agree:most>" in hf.all_special_tokens
        batch = hf(["a", "a longer text here"], padding=True)
        assert batch["input_ids"][0][-1] == 1  # padded with <|pad|>
    wp = load_tokenizer(tokdirs["wordpiece"])
    for hf in (load_hf(tokdirs["wordpiece"]),
               transformers.PreTrainedTokenizerFast.from_pretrained(str(tokdirs["wordpiece"]))):
        assert (hf.cls_token_id, hf.sep_token_id, hf.pad_token_id, hf.unk_token_id, hf.mask_token_id) == (1, 2, 3, 0, 4)
        ids = hf("the fox")["input_ids"]
        assert ids[0] == 1 and ids[-1] == 2 and ids == wp.encode("the fox").ids
    hf = load_hf(tokdirs["unigram"])
    assert (hf.eos_token_id, hf.pad_token_id, hf.unk_token_id) == (0, 1, 2)


# -- sampling, inputs --------------------------------------------------------------------


def test_sampling_is_deterministic(corpus, tmp_path):
    a = train_dir([corpus], tmp_path / "a", sample_fraction=0.5, seed=3)
    b = train_dir([corpus], tmp_path / "b", sample_fraction=0.5, seed=3)
    assert (tmp_path / "a" / "tokenizer.json").read_bytes() == (tmp_path / "b" / "tokenizer.json").read_bytes()
    assert a.docs == b.docs and 100 < a.docs < 200
    c = train_dir([corpus], tmp_path / "c", sample_fraction=0.25, seed=3)
    assert c.docs != a.docs and 40 < c.docs < 110
    assert c.sampled_out + c.docs + c.empty == 300
    d = train_dir([corpus], tmp_path / "d", max_docs=20)
    assert d.docs == 20
    assert json.loads((tmp_path / "d" / "tokenizer_config.json").read_text())["corpusforge"]["docs"] == 20


def test_jsonl_and_parquet_inputs(corpus, tmp_path):
    jsonl = write_jsonl(tmp_path / "dump" / "a.jsonl.gz", n=100, field="content", bad_lines=True)
    res = train_dir([jsonl], tmp_path / "j", text_field="content")
    assert res.docs == 100 and res.empty == 1
    assert res.dropped == {"invalid_json": 1, "missing_text_field": 1}
    write_jsonl(tmp_path / "dump" / "b.jsonl", n=100)
    pq_file = corpus / "data" / "part-00000-of-00002.parquet"  # 150 rows, 5 of them empty
    res = train_dir([str(tmp_path / "dump" / "*.jsonl"), pq_file], tmp_path / "k")
    assert (res.docs, res.empty, res.files) == (245, 5, 2)


# -- CLI -----------------------------------------------------------------------------------


def test_cli_train_encode_inspect(corpus, tmp_path):
    jsonl = write_jsonl(tmp_path / "extra.jsonl", n=50)
    out = tmp_path / "tok"
    proc = run_cli("train", "--input", corpus, "--input", jsonl, "--output", out, "--model", "bpe",
                   "--vocab-size", 400, "--fim")
    assert "train: bpe tokenizer, vocabulary 400" in proc.stdout
    assert "read 3 file(s): 345 documents" in proc.stdout and "5 empty" in proc.stdout
    assert f"wrote {out}/" in proc.stdout
    assert proc.stderr.count(" read ") == 3  # one line per file
    assert sorted(os.listdir(out)) == ["special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"]
    cfg = json.loads((out / "tokenizer_config.json").read_text())
    assert cfg["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert cfg["corpusforge"]["trained_on"] == [str(corpus), str(jsonl)]
    assert cfg["corpusforge"]["docs"] == 345 and cfg["corpusforge"]["bytes"] > 0 and cfg["corpusforge"]["eod_id"] == 0

    enc = run_cli("encode", out, "--text", "the fox<|endoftext|>")
    ids = json.loads(enc.stdout.splitlines()[0].split(":", 1)[1])
    tokens = json.loads(enc.stdout.splitlines()[1].split(":", 1)[1])
    assert ids[-1] == 0 and tokens[-1] == "<|endoftext|>" and len(ids) == len(tokens)
    assert "encode:" in enc.stderr and "tokens" in enc.stderr
    only = run_cli("encode", out, "--text", "the fox<|endoftext|>", "--ids-only")
    assert only.stdout.split() == [str(i) for i in ids]
    (tmp_path / "doc.txt").write_text("the fox<|endoftext|>", encoding="utf-8")
    assert run_cli("encode", out, "--file", tmp_path / "doc.txt", "--ids-only").stdout == only.stdout
    assert run_cli("encode", out, "--file", "-", "--ids-only", stdin="the fox<|endoftext|>").stdout == only.stdout

    ins = run_cli("inspect", out, "--sample", corpus, "--max-docs", 100)
    assert "model            bpe (byte-level)" in ins.stdout
    assert "vocabulary size  400" in ins.stdout and "0=<|endoftext|>" in ins.stdout and "2=<|fim_prefix|>" in ins.stdout
    assert "round trip (exact)       100.00%" in ins.stdout
    assert "inspected" in ins.stdout.splitlines()[-1]
    report = json.loads(run_cli("inspect", out, "--sample", corpus, "--json").stdout)
    s = report["sample"]
    assert s["docs"] == 295 and s["round_trip_exact"] == 1.0 and s["unknown_rate"] == 0.0
    assert s["fertility"] > 0.5 and s["bytes_per_token"] > 1


def test_inspect_wordpiece_normalized_round_trip(tokdirs, corpus):
    from tokenizer.report import inspect_dir

    report = inspect_dir(str(tokdirs["wordpiece"]), sample=[str(corpus)], max_docs=100)
    s = report["sample"]
    assert s["docs"] == 100
    assert s["round_trip_exact"] < 0.5  # BERT decoding does not keep newlines / punctuation spacing
    assert s["round_trip_normalized"] > 0.9 and s["unknown_rate"] < 0.05
    assert report["tokenizer"]["unk_id"] == 0


def test_help_has_examples():
    for cmd in ("train", "encode", "inspect"):
        proc = run_cli(cmd, "--help")
        assert "examples:" in proc.stdout and "python -m tokenizer " + cmd in proc.stdout


# -- bad inputs: fail before work, with a clear message, nothing written ----------------------


def _fails(args, *messages, code=2):
    proc = run_cli(*args, check=False)
    assert proc.returncode == code, proc.stderr
    for m in messages:
        assert m in proc.stderr, proc.stderr
    return proc


def test_missing_text_column_names_the_file(tmp_path):
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"id": ["1"], "body": ["some text"]}), bad)
    out = tmp_path / "out"
    _fails(["train", "--input", bad, "--output", out, "--model", "bpe", "--vocab-size", 300],
           f"{bad}: no column 'text'", "body", "--text-field")
    assert not out.exists()
    jsonl = write_jsonl(tmp_path / "x.jsonl", n=3, field="content")
    _fails(["train", "--input", jsonl, "--output", out, "--model", "bpe", "--vocab-size", 300],
           f"{jsonl}: no field 'text'", "--text-field")
    with pytest.raises(UsageError, match="no column 'text'"):
        train_dir([bad], out)
    assert not out.exists()


def test_bad_arguments(corpus, tmp_path):
    out = tmp_path / "out"
    base = ["train", "--input", corpus, "--output", out]
    _fails(base + ["--model", "bpe", "--vocab-size", 100], "too small", "256")
    _fails(base + ["--model", "wordpiece", "--vocab-size", 5], "too small", "5 special tokens")
    _fails(base + ["--model", "gpt", "--vocab-size", 1000], "invalid choice: 'gpt'")
    _fails(["train", "--input", tmp_path / "nope", "--output", out, "--model", "bpe", "--vocab-size", 300],
           "no such file or directory")
    _fails(["train", "--input", str(tmp_path / "*.parquet"), "--output", out, "--model", "bpe",
            "--vocab-size", 300], "matches no file")
    _fails(base + ["--model", "bpe", "--vocab-size", 300, "--lowercase"], "wordpiece only")
    _fails(base + ["--model", "bpe", "--vocab-size", 300, "--unk-token", "<unk>"], "no unknown token")
    _fails(base + ["--model", "bpe", "--vocab-size", 300, "--sample-fraction", "0"], "must be in (0, 1]")
    assert not out.exists()
    # unigram: the alphabet is only known after reading; the error still names the fix
    with pytest.raises(UsageError, match="--vocab-size 10 is too small"):
        train_dir([corpus], out, "unigram", 10)
    assert not out.exists()
    assert [p for p in os.listdir(tmp_path) if ".tmp-" in p] == []


def test_existing_output_needs_overwrite(corpus, tmp_path):
    out = tmp_path / "tok"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    args = ["train", "--input", corpus, "--output", out, "--model", "bpe", "--vocab-size", 300, "--max-docs", 20]
    _fails(args, "already exists and is not empty", "--overwrite")
    _fails(args + ["--overwrite"], "not a tokenizer directory", "refusing")
    assert (out / "keep.txt").read_text() == "x"
    (out / "keep.txt").unlink()
    run_cli(*args)  # an empty directory is fine
    first = (out / "tokenizer.json").read_bytes()
    _fails(args, "already exists")
    run_cli(*[a if a != 300 else 320 for a in args], "--overwrite")
    assert TokenizerInfo(out).vocab_size == 320 and (out / "tokenizer.json").read_bytes() != first
    assert sorted(p for p in os.listdir(tmp_path)) == ["tok"]  # no temporary or old directories left


def test_encode_and_inspect_refuse_a_non_tokenizer_dir(tmp_path):
    _fails(["encode", tmp_path, "--text", "x"], f"{tmp_path} is not a tokenizer directory (no tokenizer.json)")
    _fails(["inspect", tmp_path], "is not a tokenizer directory")

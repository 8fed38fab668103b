"""Special-token spellings in corpus text stay text; markers placed by our jobs become ids.

One tokenize run over three corpora: web-like rows that quote ``<|endoftext|>``, FIM and
SOCIAL-CHEM spellings (and rows with unusable marker spans), SOCIAL-CHEM rendered rows, and the
doc2query generator's pair corpus. verify-shards on a shard with an end-of-document id inside
a document.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpora.doc2query.train_generator import write_pair_corpus
from corpora.socialchem.render import RenderRow
from corpora.tokenize import TokenizeConfig, run_tokenize
from pipeline.jobs import UsageError
from pipeline.markup import (
    BAD_SPANS,
    SPECIAL_SPANS,
    UNKNOWN_MARKER,
    Marker,
    MarkupError,
    join_with_markers,
    resolve_markers,
    segments,
    spans_from_meta,
)
from pipeline.records import Document
from pipeline.schema import CORPUS_SCHEMA
from pipeline.shards import verify_cli
from pipeline.shards.batches import DocumentEncoder
from pipeline.shards.manifest import build_shard_manifest
from pipeline.shards.megatron import ShardReader, ShardWriter, verify_shards
from pipeline.stats import stage
from tests.socialchem_rows import real_rows
from tests.warc_factory import EN
from tokenizer.load import TokenizerInfo, load_tokenizer
from tokenizer.text_only import TextOnlyError, text_only
from tokenizer.train import TrainConfig, train
from trainer.generate import SEP_TOKEN, prefix_lm_text

ONE_WORKER = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]
QUOTING = ("A page about tokenizers: GPT-2 ends documents with <|endoftext|> and code models use "
           "<|fim_prefix|>, <|fim_middle|> and <|fim_suffix|>; SOCIAL-CHEM writes <rot-agree:all> and [rot], "
           "the generator <|sep|>, BERT [SEP]. The end.")
PLAIN = [" ".join(EN[(i + j) % len(EN)] for j in range(3)) for i in range(12)]


def _write(directory, docs: list[Document]):
    (directory / "data").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([d.to_row() for d in docs], schema=CORPUS_SCHEMA),
                   directory / "data" / "part-00000-of-00001.parquet")
    return directory


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("special")
    web = [Document(id=f"web-{i:02d}", text=t, source="web") for i, t in enumerate(PLAIN)]
    web.append(Document(id="web-quoting", text=QUOTING, source="web"))
    # rows whose marker spans cannot be used: dropped and counted
    web += [
        Document(id="bad-not-special", text="hello world", source="web", meta={SPECIAL_SPANS: [[0, 5]]}),
        Document(id="bad-range", text="hi [rot]", source="web", meta={SPECIAL_SPANS: [[3, 80]]}),
        Document(id="bad-eod", text="a <|endoftext|> b", source="web", meta={SPECIAL_SPANS: [[2, 15]]}),
        Document(id="bad-shape", text="a [rot] b", source="web", meta={SPECIAL_SPANS: "2-7"}),
    ]
    web_dir = _write(root / "web", web)
    row = dict(real_rows()[2], situation="quoting [rot] and <rot-agree:all> in a situation")
    social = [RenderRow()(((1, row), mode)) for mode in ("rot", "action")]
    social_dir = _write(root / "social", social)
    pairs = root / "pairs.jsonl"
    pairs.write_text(json.dumps({"pid": 1, "qid": 2, "passage": "The mill <|endoftext|> stands by the river.",
                                 "query": "where is the mill"}) + "\n")
    write_pair_corpus([str(pairs)], str(root / "d2q"))
    tok = root / "tok"
    train(TrainConfig(inputs=[str(web_dir)], output=str(tok), model="bpe", vocab_size=700, fim=True,
                      socialchem=True, special_tokens=[SEP_TOKEN], show_progress=False), log=None)
    out = root / "shards"
    report = run_tokenize(TokenizeConfig([web_dir, social_dir, root / "d2q"], tok, out, shard_tokens=10**9,
                                         val_fraction=0.0), ONE_WORKER, quiet=True)
    manifest = json.loads((out / "manifest.json").read_text())
    docs = {}
    ids = {}
    for shard in manifest["shards"]:
        with ShardReader(str(out / shard["path"])) as reader:
            docs[shard["source"]] = [np.array(d).tolist() for d in reader]
    for source, corpus in (("web", web_dir), ("socialchem", social_dir), ("doc2query_pairs", root / "d2q")):
        ids[source] = sorted(pq.read_table(corpus / "data").column("id").to_pylist())
    return dict(report=report, manifest=manifest, out=out, docs=docs, ids=ids, tok=tok, social=social,
                info=TokenizerInfo(str(tok)), tokenizer=load_tokenizer(str(tok)))


def _doc(run, source, doc_id):
    kept = [i for i in run["ids"][source] if not i.startswith("bad-")]
    return run["docs"][source][kept.index(doc_id)]


def _controls(run, ids):
    special = set(run["info"].special_tokens.values())
    return [run["tokenizer"].id_to_token(i) for i in ids if i in special]


def test_spellings_in_web_text_are_text(run):
    ids = _doc(run, "web", "web-quoting")
    assert _controls(run, ids) == ["<|endoftext|>"] and ids[-1] == run["info"].eod_id
    assert run["tokenizer"].decode(ids[:-1], skip_special_tokens=False) == QUOTING
    ok, report = verify_shards(str(run["out"]))
    assert ok, report["problems"]


def test_plain_text_ids_are_the_tokenizers(run):
    """Rows without spellings: the ids of a plain encode (so their shard bytes are unchanged)."""
    for i, text in enumerate(PLAIN):
        assert _doc(run, "web", f"web-{i:02d}") == (
            run["tokenizer"].encode(text, add_special_tokens=False).ids + [run["info"].eod_id])


def test_unusable_marker_spans_are_dropped_and_counted(run):
    assert run["report"]["accounting_ok"]
    assert stage(run["report"], "tokenize")["dropped"] == {UNKNOWN_MARKER: 1, BAD_SPANS: 3}


def test_socialchem_markers_become_ids_and_quoted_ones_stay_text(run):
    rot = next(d for d in run["social"] if d.meta["mode"] == "rot")
    ids = _doc(run, "socialchem", rot.id)
    assert _controls(run, ids) == ["[attrs]", "<rot-categorization:social-norms>", "<rot-moral-foundations:care-harm>",
                                   "<rot-moral-foundations:loyalty-betrayal>", "<rot-agree:most>", "[rot]",
                                   "<|endoftext|>"]
    assert run["tokenizer"].decode(ids[:-1], skip_special_tokens=False) == rot.text
    assert rot.text.startswith("quoting [rot] and <rot-agree:all> in a situation [attrs] <rot-categorization:")
    action = next(d for d in run["social"] if d.meta["mode"] == "action")
    assert _controls(run, _doc(run, "socialchem", action.id))[-2:] == ["[action]", "<|endoftext|>"]


def test_doc2query_separator_becomes_its_id(run):
    (doc_id,) = run["ids"]["doc2query_pairs"]
    ids = _doc(run, "doc2query_pairs", doc_id)
    assert _controls(run, ids) == [SEP_TOKEN, "<|endoftext|>"]
    text = prefix_lm_text("The mill <|endoftext|> stands by the river.", "where is the mill")
    assert run["tokenizer"].decode(ids[:-1], skip_special_tokens=False) == text


def test_verify_shards_fails_on_end_of_document_inside_a_document(tmp_path, capsys):
    eod = 0
    with ShardWriter(str(tmp_path / "web" / "train-00000-of-00001"), np.uint16) as writer:
        writer.add_documents(np.array([5, 6, eod, 7, eod, 8, eod, 9, eod, 4, eod]), np.array([3, 6, 2]))
    tok = tmp_path / "tokenizer.json"
    tok.write_text("{}")
    entry = {"path": "web/train-00000-of-00001", "source": "web", "split": "train", **writer.summary()}
    manifest = build_shard_manifest(str(tok), "0" * 64, "uint16", eod, 100, [entry], {})
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    ok, report = verify_shards(str(tmp_path))
    assert not ok
    assert report["problems"] == [
        "web/train-00000-of-00001: 2 end-of-document id(s) 0 inside 1 document(s), not at their end (first: "
        "document 1, token 1 of 6; tokenized with special-token spellings in the text matched?)"]
    parser = argparse.ArgumentParser()
    verify_cli.add_arguments(parser)
    assert verify_cli.main(parser.parse_args([str(tmp_path), "--quiet"])) == 1
    assert "inside 1 document(s)" in capsys.readouterr().err


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    corpus = root / "c.jsonl"
    corpus.write_text("".join(json.dumps({"id": str(i), "text": t + " " + QUOTING}) + "\n"
                              for i, t in enumerate(PLAIN * 10)))
    out = {}
    for model in ("bpe", "wordpiece", "unigram"):
        train(TrainConfig(inputs=[str(corpus)], output=str(root / model), model=model, vocab_size=500, fim=True,
                          socialchem=True, special_tokens=[SEP_TOKEN], show_progress=False), log=None)
        out[model] = root / model
    return out


@pytest.mark.parametrize("model", ["bpe", "wordpiece", "unigram"])
def test_encoder_keeps_text_as_text_for_every_model(models, model):
    """Unigram vocabularies hold the special tokens as their best-scored pieces: those are
    renamed in the encoder's copy; markers still come in by id; plain text ids are unchanged."""
    info = TokenizerInfo(str(models[model]))
    tok = load_tokenizer(str(models[model]))
    encoder = DocumentEncoder(tok, np.uint16, info.eod_id)
    special = set(info.special_tokens.values()) - {info.unk_id}
    text, spans = join_with_markers(["a situation quoting [rot] ", Marker("[attrs]"), " ", Marker("<rot-agree:all>"),
                                     " ", Marker("[rot]"), " it is fine " + QUOTING])
    marks = resolve_markers(text, spans, encoder.text.marker_ids, (info.eod_id,))
    tokens, lengths = encoder.encode([QUOTING, PLAIN[0], text], [None, None, marks])
    quoting, plain, marked = np.split(tokens, np.cumsum(lengths)[:-1])
    assert [i for i in quoting.tolist() if i in special] == [info.eod_id]
    assert plain.tolist() == tok.encode(PLAIN[0], add_special_tokens=False).ids + [info.eod_id]
    names = [tok.id_to_token(i) for i in marked.tolist() if i in special]
    assert names == ["[attrs]", "<rot-agree:all>", "[rot]", info.eod_token]


def test_a_tokenizer_that_makes_control_ids_from_text_is_refused(tmp_path):
    """A BPE whose merges spell a special token cannot encode that spelling as text: refused
    before any work."""
    from tokenizers import Tokenizer, models

    vocab = {"<": 0, "|": 1, "x": 2, ">": 3, "a": 4, "<|": 5, "<|x": 6, "<|x|": 7, "<|x|>": 8}
    tok = Tokenizer(models.BPE(vocab, [("<", "|"), ("<|", "x"), ("<|x", "|"), ("<|x|", ">")]))
    tok.add_special_tokens(["<|x|>"])
    with pytest.raises(TextOnlyError, match="control id"):
        text_only(tok, 8)
    (tmp_path / "tok").mkdir()
    tok.save(str(tmp_path / "tok" / "tokenizer.json"))
    (tmp_path / "tok" / "special_tokens_map.json").write_text(json.dumps({"eos_token": "<|x|>"}))
    corpus = _write(tmp_path / "c", [Document(id="1", text="a <|x|> a", source="web")])
    with pytest.raises(UsageError, match="cannot encode corpus text as text"):
        run_tokenize(TokenizeConfig([corpus], tmp_path / "tok", tmp_path / "o", shard_tokens=100, val_fraction=0.0),
                     ONE_WORKER, quiet=True)
    assert not (tmp_path / "o").exists()


def test_markup_contract():
    text, spans = join_with_markers([Marker("[attrs]"), " a ", Marker("[rot]"), Marker("[rot]"), " b"])
    assert (text, spans) == ("[attrs] a [rot][rot] b", [[0, 7], [10, 15], [15, 20]])
    assert segments(text, spans) == [("[attrs]", True), (" a ", False), ("[rot]", True), ("[rot]", True), (" b", False)]
    meta = json.dumps({"mode": "rot", SPECIAL_SPANS: spans})
    assert spans_from_meta(meta) == [(0, 7), (10, 15), (15, 20)]
    assert spans_from_meta('{"mode": "rot"}') is None and spans_from_meta(None) is None
    assert resolve_markers(text, spans_from_meta(meta), {"[attrs]": 3, "[rot]": 4}) == [
        (0, 7, 3), (10, 15, 4), (15, 20, 4)]
    for bad_meta in ('{"special_spans": [[1.0, 2]]}', '{"special_spans": [[1, 2, 3]]}', '{"special_spans": 5',
                     '{"special_spans": [[true, 2]]}'):
        with pytest.raises(MarkupError) as exc:
            spans_from_meta(bad_meta)
        assert exc.value.reason == BAD_SPANS
    for bad_spans, reason in ([[(10, 15), (0, 7)], BAD_SPANS], [[(3, 3)], BAD_SPANS], [[(1, 7)], UNKNOWN_MARKER],
                              [[(0, 7)], BAD_SPANS]):
        with pytest.raises(MarkupError) as exc:
            resolve_markers(text, bad_spans, {"[attrs]": 3, "[rot]": 4}, forbidden=(3,) if reason == BAD_SPANS else ())
        assert exc.value.reason == reason
    with pytest.raises(ValueError):
        join_with_markers([Marker("")])


def test_tokenizer_training_skips_marker_spans_and_learns_quoted_spellings_as_text(tmp_path):
    """The trainer reads the text around a row's markers (their spellings would be wasted
    merges: the shards hold their ids); a page that quotes a spelling is text like any other."""
    from tokenizer.corpus import TextStream

    docs = []
    for k in range(30):
        for n, row in enumerate(real_rows()):
            for mode in ("rot", "action"):
                doc = RenderRow()(((n, dict(row, **{"rot-id": f"r{k}-{n}"})), mode))
                docs.append(doc)
    docs.append(Document(id="bad", text="x [rot] y", source="socialchem", meta={SPECIAL_SPANS: [[2, 99]]}))
    corpus = _write(tmp_path / "social", docs)
    stream = TextStream([str(corpus)], log=None)
    texts = list(stream)
    assert not any("[rot]" in t or "<rot-agree" in t for t in texts)
    first = [seg for seg, marker in segments(docs[0].text, docs[0].meta[SPECIAL_SPANS]) if not marker and seg.strip()]
    assert texts[:2] == first == [docs[0].text.split("[attrs]")[0], " " + docs[0].text.split("[rot] ")[1]]
    assert stream.stats.docs == len(docs) - 1
    assert stream.stats.dropped == {BAD_SPANS: 1}
    quoting = _write(tmp_path / "web", [Document(id=f"w{i}", text=f"{PLAIN[i % 12]} <|endoftext|> [rot]", source="web")
                                        for i in range(200)])
    for name, corpus_dir, learned in (("social", corpus, False), ("web", quoting, True)):
        train(TrainConfig(inputs=[str(corpus_dir)], output=str(tmp_path / f"tok-{name}"), model="bpe", vocab_size=600,
                          socialchem=True, show_progress=False), log=None)
        spec = json.loads((tmp_path / f"tok-{name}" / "tokenizer.json").read_text())
        special = {t["content"] for t in spec["added_tokens"]}
        merged = [t for t in spec["model"]["vocab"] if t not in special and len(t) > 1 and ("[" in t or "|>" in t)]
        assert bool(merged) == learned, merged

"""The trainer's data side on real shards: tokenizer trained here, shards written by the tokenize job.

Covers packing (windows of seq_len + 1 from the memory-mapped .bin files), the global order
(no window twice in an epoch, disjoint rank slices, independent of the number of ranks), the
mixing proportions, state_dict round trips (through torch.save / torch.load(weights_only=True)),
validation batches, the objectives wired in the loader, remote shards through a 127.0.0.1 HTTP
server and the bounded cache, and the bad inputs (checksum, tokenizer, unknown source).
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import random
import shutil
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from corpora.tokenize import TokenizeConfig, run_tokenize
from pipeline.schema import CORPUS_SCHEMA
from pipeline.shards.megatron import ShardReader
from tokenizer.special_tokens import FIM_TOKENS
from tokenizer.train import TrainConfig, train
from trainer.data import DataConfig, DataError, TrainLoader, open_corpora, val_batches
from trainer.objectives import IGNORE

ONE_WORKER = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]
WORDS = ("river stone light market window garden paper engine signal harbor winter yellow quiet "
         "number table story forest silver morning bridge").split()
FACTS = ("Paris Berlin Rome Madrid Lisbon Vienna Prague Oslo").split()


def _texts(kind: str, n: int, seed: int) -> list[str | tuple[str, str]]:
    """Documents of a kind; doc2query pairs as (text, meta) with the separator a marker by construction."""
    from pipeline.markup import SPECIAL_SPANS, Marker, join_with_markers

    rng = random.Random(seed)
    out: list[str | tuple[str, str]] = []
    for i in range(n):
        if kind == "web":
            out.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60))) + f". Page {i}.")
        elif kind == "kg":
            out.append(f"{rng.choice(FACTS)} is the capital of country {i}. It was founded in {1000 + i}.")
        else:  # doc2query pairs: passage <|sep|> query (the separator in meta special_spans; its spelling is text)
            passage = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))
            text, spans = join_with_markers([f"{passage} ", Marker("<|sep|>"), f" what is {rng.choice(WORDS)} {i}?"])
            out.append((text, json.dumps({SPECIAL_SPANS: spans})))
    return out


def _write_corpus(directory: Path, source: str, texts: list[str | tuple[str, str]]) -> Path:
    data = directory / "data"
    data.mkdir(parents=True)
    ids = [f"{source}-{i:05d}" for i in range(len(texts))]
    rows = [t if isinstance(t, tuple) else (t, "{}") for t in texts]
    table = pa.table({"id": ids, "text": [t for t, _ in rows], "source": [source] * len(texts),
                      "url": [None] * len(texts), "lang": ["en"] * len(texts), "lang_score": [1.0] * len(texts),
                      "meta": [m for _, m in rows]}, schema=CORPUS_SCHEMA)
    pq.write_table(table, data / "part-00000-of-00001.parquet")
    return directory


def _tokenize(inputs: list[str], tok: Path, out: Path, shard_tokens: int = 4000) -> Path:
    run_tokenize(TokenizeConfig(inputs, tok, out, shard_tokens=shard_tokens, val_fraction=0.1), ONE_WORKER, quiet=True)
    return out


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """One shard directory with sources web, kg, d2q; a second one with source extra."""
    root = tmp_path_factory.mktemp("trainer-data")
    web = _write_corpus(root / "web", "web", _texts("web", 300, 1))
    kg = _write_corpus(root / "kg", "kg", _texts("kg", 200, 2))
    d2q = _write_corpus(root / "d2q", "d2q", _texts("d2q", 200, 3))
    extra = _write_corpus(root / "extra", "extra", _texts("web", 80, 4))
    tok = root / "tok"
    train(TrainConfig(inputs=[str(web), str(kg), str(d2q)], output=str(tok), model="bpe", vocab_size=400, fim=True,
                      special_tokens=["<|mask|>", "<|sep|>"], show_progress=False), log=None)
    main = _tokenize([str(web), str(kg), str(d2q)], tok, root / "shards")
    second = _tokenize([str(extra)], tok, root / "shards2")
    return {"root": root, "tok": tok, "main": main, "second": second}


def _cfg(shards, **kw) -> DataConfig:
    base = dict(paths=[str(shards["main"])], seq_len=32, micro_batch_size=4, seed=3,
                cache_dir=str(shards["root"] / "cache"))
    base.update(kw)
    return DataConfig(**base)


def _decode_stream(corpora, name, split="train"):
    """Every document of a source, as lists of token ids (straight from the shards)."""
    docs = []
    for prefix in corpora.sources[name].shards[split]:
        with ShardReader(prefix) as r:
            docs.extend(np.asarray(r[i]).tolist() for i in range(len(r)))
    return docs


# ----------------------------------------------------------------------------------------------
# opening
# ----------------------------------------------------------------------------------------------


def test_open_corpora_reads_manifest_sources_and_tokenizer(shards):
    corpora = open_corpora(_cfg(shards))
    assert set(corpora.sources) == {"web", "kg", "d2q"}
    manifest = json.loads((shards["main"] / "manifest.json").read_text())
    for name, info in corpora.sources.items():
        for split in ("train", "val"):
            entries = [s for s in manifest["shards"] if s["source"] == name and s["split"] == split]
            assert getattr(info, f"{split}_tokens") == sum(s["tokens"] for s in entries)
            assert getattr(info, f"{split}_documents") == sum(s["documents"] for s in entries)
        assert info.val_documents > 0 and info.train_documents > info.val_documents
    assert corpora.vocab_size == manifest["vocab_size"] and corpora.eod_id == manifest["eod_id"]
    assert corpora.tokenizer_sha256 == manifest["tokenizer"]["sha256"]
    assert Path(corpora.tokenizer_dir) == shards["tok"]
    for t in FIM_TOKENS + ("<|mask|>", "<|sep|>", "<|endoftext|>"):
        assert t in corpora.special_ids
    assert corpora.mask_token == "<|mask|>"
    # mix=None: weights in proportion to training tokens
    weights = corpora.mix_weights()
    total = sum(s.train_tokens for s in corpora.sources.values())
    for name, w in weights.items():
        assert w == pytest.approx(corpora.sources[name].train_tokens / total)
    assert "web" in corpora.summary()


# ----------------------------------------------------------------------------------------------
# packing and order
# ----------------------------------------------------------------------------------------------


def test_clm_batches_are_packed_windows_of_the_shards(shards):
    cfg = _cfg(shards, mix={"kg": 1.0})
    corpora = open_corpora(cfg)
    loader = TrainLoader(corpora, cfg)
    batch = next(loader)
    assert batch["input_ids"].shape == (4, 32) and batch["input_ids"].dtype == torch.long
    assert batch["labels"].shape == (4, 32) and batch["labels"].dtype == torch.long
    # labels are the inputs shifted by one inside the window
    assert torch.equal(batch["input_ids"][:, 1:], batch["labels"][:, :-1])
    # every window is a contiguous piece of the epoch's document stream
    stream = corpora.packed("kg", "train", 32, cfg.seed)
    docs = _decode_stream(corpora, "kg")
    ep = stream._epoch(0)
    tokens = np.concatenate([docs[d] for d in ep.doc_order])
    for b, (_name, j, _epoch, _) in enumerate(TrainLoader(corpora, cfg).next_samples()):
        k = int(ep.window_order[j])
        window = tokens[k * 32:k * 32 + 33]
        assert batch["input_ids"][b].tolist() == window[:-1].tolist()
        assert batch["labels"][b].tolist() == window[1:].tolist()
    # the windows are read from the memory maps, not from copies
    assert all(isinstance(t.base, np.memmap) or isinstance(getattr(t.base, "base", None), np.memmap)
               for t in stream._tokens)
    # documents span windows, separated by end-of-document tokens
    assert int((batch["input_ids"] == corpora.eod_id).sum()) > 0


def test_no_window_twice_in_an_epoch_and_epochs_are_counted(shards):
    cfg = _cfg(shards, mix={"kg": 1.0}, micro_batch_size=5)
    corpora = open_corpora(cfg)
    stream = corpora.packed("kg", "train", 32, cfg.seed)
    n = stream.windows
    loader = TrainLoader(corpora, cfg)
    seen = []
    while loader.consumed_samples < n:
        seen.extend((j, e) for _, j, e, _ in loader.next_samples())
        next(loader)
    first_epoch = [stream.window_id(j) for j, e in seen if e == 0]
    assert len(first_epoch) == n and len(set(first_epoch)) == n  # every window once
    assert loader.epochs == {"kg": loader.consumed_samples // n}
    # the next epoch has a different order (and different packing)
    assert [stream.window_id(j)[1] for j in range(n, n + 10)] != [stream.window_id(j)[1] for j in range(10)]


def test_ranks_read_disjoint_slices_of_the_same_global_order(shards):
    cfg1 = _cfg(shards, micro_batch_size=6)
    corpora = open_corpora(cfg1)
    single = TrainLoader(corpora, cfg1)
    cfg2 = _cfg(shards, micro_batch_size=3)
    ranks = [TrainLoader(corpora, cfg2, rank=r, world_size=2) for r in range(2)]
    for _ in range(5):
        plan = single.next_samples()
        parts = [r.next_samples() for r in ranks]
        assert parts[0] + parts[1] == plan
        keys0 = {(n, j) for n, j, _, _ in parts[0]}
        keys1 = {(n, j) for n, j, _, _ in parts[1]}
        assert not keys0 & keys1
        full = next(single)
        halves = [next(r) for r in ranks]
        assert torch.equal(torch.cat([h["input_ids"] for h in halves]), full["input_ids"])
        assert torch.equal(torch.cat([h["labels"] for h in halves]), full["labels"])
    assert ranks[0].state_dict()["consumed_samples"] == single.consumed_samples == 30
    assert ranks[0].source_counts == ranks[1].source_counts == single.source_counts


def test_order_depends_on_seed(shards):
    a = TrainLoader(open_corpora(_cfg(shards, seed=1)), _cfg(shards, seed=1))
    b = TrainLoader(open_corpora(_cfg(shards, seed=2)), _cfg(shards, seed=2))
    assert not torch.equal(next(a)["input_ids"], next(b)["input_ids"])


# ----------------------------------------------------------------------------------------------
# state_dict
# ----------------------------------------------------------------------------------------------


def _roundtrip(state):
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


@pytest.mark.parametrize("objective", ["clm", "fim", "mlm", "prefix-lm"])
def test_state_dict_round_trip_gives_identical_next_batches(shards, objective):
    mix = {"d2q": 1.0} if objective == "prefix-lm" else {"web": 0.5, "kg": 0.3, "d2q": 0.2}
    cfg = _cfg(shards, objective=objective, micro_batch_size=4, mix=mix)
    corpora = open_corpora(cfg)
    loader = TrainLoader(corpora, cfg)
    for _ in range(7):
        next(loader)
    state = _roundtrip(loader.state_dict())
    expected = [next(loader) for _ in range(4)]
    resumed = TrainLoader(open_corpora(cfg), cfg)
    resumed.load_state_dict(state)
    for want in expected:
        got = next(resumed)
        assert torch.equal(got["input_ids"], want["input_ids"]) and torch.equal(got["labels"], want["labels"])
    assert resumed.state_dict() == loader.state_dict()


def test_resume_with_other_world_size_same_global_batch(shards):
    cfg4 = _cfg(shards, micro_batch_size=4)
    corpora = open_corpora(cfg4)
    one = TrainLoader(corpora, cfg4)
    for _ in range(3):
        next(one)
    state = _roundtrip(one.state_dict())
    want = next(one)["input_ids"]
    cfg2 = _cfg(shards, micro_batch_size=2)
    halves = []
    for r in range(2):
        loader = TrainLoader(corpora, cfg2, rank=r, world_size=2)
        loader.load_state_dict(state)
        halves.append(next(loader)["input_ids"])
    assert torch.equal(torch.cat(halves), want)
    # a different global batch (here: one process of 2) continues the same sample order too
    loader = TrainLoader(corpora, cfg2, rank=0, world_size=1)
    loader.load_state_dict(state)
    assert torch.equal(torch.cat([next(loader)["input_ids"] for _ in range(2)]), want)
    # and so is a different seq_len / mix
    other = _cfg(shards, micro_batch_size=4, seq_len=16)
    with pytest.raises(ValueError, match="seq_len"):
        TrainLoader(open_corpora(other), other).load_state_dict(state)
    other = _cfg(shards, micro_batch_size=4, mix={"web": 0.5, "kg": 0.5})
    with pytest.raises(ValueError, match="sources"):
        TrainLoader(open_corpora(other), other).load_state_dict(state)
    other = _cfg(shards, micro_batch_size=4, mix={"web": 0.4, "kg": 0.3, "d2q": 0.3})
    with pytest.raises(ValueError, match="same --mix"):
        TrainLoader(open_corpora(other), other).load_state_dict(state)


# ----------------------------------------------------------------------------------------------
# mixing
# ----------------------------------------------------------------------------------------------


def test_mixing_hits_the_weights_within_one_percent_over_10k_samples(shards):
    mix = {"web": 0.6, "kg": 0.25, "d2q": 0.15}
    cfg = _cfg(shards, mix=mix, micro_batch_size=50, seq_len=16)
    loader = TrainLoader(open_corpora(cfg), cfg)
    for _ in range(200):
        next(loader)
    counts = loader.source_counts
    assert sum(counts.values()) == 10_000
    for name, w in mix.items():
        assert abs(counts[name] / 10_000 - w) < 0.01
        assert abs(counts[name] - w * 10_000) <= 3  # the schedule is far tighter than random draws
    # every prefix is close too (low discrepancy), checked on the schedule itself
    names = loader.names
    src, _ = loader.schedule.next_block([0] * len(names), 2000)
    for s, name in enumerate(names):
        running = np.cumsum(src == s)
        assert np.max(np.abs(running - mix[name] * np.arange(1, 2001))) <= 2
    # the small sources ran through several epochs, counted
    assert loader.epochs["kg"] >= 1


def test_on_exhaust_stop_ends_all_ranks_at_the_same_step(shards):
    cfg = _cfg(shards, mix={"kg": 0.5, "web": 0.5}, on_exhaust="stop", micro_batch_size=8)
    corpora = open_corpora(cfg)
    steps = []
    for r in range(2):
        loader = TrainLoader(corpora, cfg, rank=r, world_size=2)
        n = sum(1 for _ in loader)
        steps.append(n)
        assert all(c <= loader.windows[name] for name, c in loader.source_counts.items())
        with pytest.raises(StopIteration):
            next(loader)
    assert steps[0] == steps[1] > 0
    assert TrainLoader(corpora, cfg).windows["kg"] - steps[0] * 16 * 0.5 < 16  # stopped at the first shortfall


def test_several_directories_mix_by_source(shards):
    cfg = _cfg(shards, paths=[str(shards["main"]), str(shards["second"])], mix={"web": 0.5, "extra": 0.5})
    corpora = open_corpora(cfg)
    assert set(corpora.sources) == {"web", "kg", "d2q", "extra"}
    loader = TrainLoader(corpora, cfg)
    for _ in range(10):
        next(loader)
    assert loader.source_counts == {"extra": 20, "web": 20}
    # NAME=DIR mixes by directory: every shard of the directory counts as that source
    cfg = _cfg(shards, paths=[f"text={shards['main']}", str(shards["second"])], mix={"text": 0.75, "extra": 0.25})
    corpora = open_corpora(cfg)
    assert set(corpora.sources) == {"text", "extra"}
    manifest = json.loads((shards["main"] / "manifest.json").read_text())
    assert corpora.sources["text"].train_tokens == sum(s["tokens"] for s in manifest["shards"]
                                                       if s["split"] == "train")
    loader = TrainLoader(corpora, cfg)
    for _ in range(10):
        next(loader)
    assert loader.source_counts == {"extra": 10, "text": 30}


# ----------------------------------------------------------------------------------------------
# objectives through the loader
# ----------------------------------------------------------------------------------------------


def test_fim_batches_use_the_sentinels_and_keep_the_length(shards):
    cfg = _cfg(shards, objective="fim", fim_rate=1.0, mix={"web": 1.0}, seq_len=64)
    corpora = open_corpora(cfg)
    batch = next(TrainLoader(corpora, cfg))
    pre, mid, suf = (corpora.special_ids[t] for t in FIM_TOKENS)
    ids = batch["input_ids"]
    assert ids.shape == (4, 64)
    assert int((ids == pre).sum()) > 0 and int((ids == mid).sum()) > 0 and int((ids == suf).sum()) > 0
    assert torch.equal(batch["input_ids"][:, 1:], batch["labels"][:, :-1])
    # the same sample gets a different FIM transformation in its next epoch (seeded by epoch)
    loader = TrainLoader(corpora, cfg)
    ex = loader.examples
    window = np.arange(100, 165) % 300 + 20
    a = ex(window, 5, 0)[0]
    assert np.array_equal(a, ex(window, 5, 0)[0]) and not np.array_equal(a, ex(window, 5, 1)[0])


def test_mlm_batches_mask_fifteen_percent_and_never_special_tokens(shards):
    cfg = _cfg(shards, objective="mlm", micro_batch_size=16, seq_len=64, mix={"web": 1.0})
    corpora = open_corpora(cfg)
    loader = TrainLoader(corpora, cfg)
    mask_id = corpora.special_ids["<|mask|>"]
    chosen = total = 0
    for _ in range(10):
        batch = next(loader)
        labels, inputs = batch["labels"], batch["input_ids"]
        picked = labels != IGNORE
        chosen += int(picked.sum())
        total += labels.numel()
        assert not bool((labels[picked] == corpora.eod_id).any())  # special tokens never chosen
        assert bool((inputs[picked] == mask_id).any())
    assert 0.12 < chosen / total < 0.18


def test_prefix_lm_labels_only_after_the_separator(shards):
    cfg = _cfg(shards, objective="prefix-lm", mix={"d2q": 1.0}, seq_len=64)
    corpora = open_corpora(cfg)
    sep = corpora.special_ids["<|sep|>"]
    batch = next(TrainLoader(corpora, cfg))
    for inputs, labels in zip(batch["input_ids"].tolist(), batch["labels"].tolist(), strict=True):
        after_sep = False
        for t, (x, y) in enumerate(zip(inputs, labels, strict=True)):
            if x == sep:
                after_sep = True
            elif x == corpora.eod_id:
                after_sep = False
            if y != IGNORE:
                assert after_sep, t
            if after_sep and x != sep and y == IGNORE:
                pytest.fail(f"position {t}: query token without a label")
        assert any(y != IGNORE for y in labels)
    # a source without separators would train nothing: refused, named
    with pytest.raises(DataError, match="source 'kg' has no separator token"):
        open_corpora(_cfg(shards, objective="prefix-lm", mix={"d2q": 0.5, "kg": 0.5}))


def test_objective_needs_its_special_tokens(shards, tmp_path):
    tok = tmp_path / "plain-tok"
    train(TrainConfig(inputs=[str(shards["root"] / "kg")], output=str(tok), model="bpe", vocab_size=300,
                      show_progress=False), log=None)
    out = _tokenize([str(shards["root"] / "kg")], tok, tmp_path / "plain")
    for objective, match in (("fim", "train the tokenizer with --fim"), ("mlm", "<|mask|>"),
                             ("prefix-lm", "<|sep|>")):
        with pytest.raises(DataError, match=match):
            open_corpora(DataConfig(paths=[str(out)], objective=objective, seq_len=16, cache_dir=str(tmp_path)))
    # the loader checks its own config against the corpora too
    plain = DataConfig(paths=[str(out)], seq_len=16, cache_dir=str(tmp_path))
    corpora = open_corpora(plain)
    with pytest.raises(DataError, match="<|mask|>"):
        TrainLoader(corpora, DataConfig(paths=[str(out)], seq_len=16, objective="mlm"))
    with pytest.raises(DataError, match="the sources are: kg"):
        val_batches(corpora, DataConfig(paths=[str(out)], seq_len=16, mix={"web": 1.0}))
    # and a directory from another tokenizer cannot be mixed with ours
    with pytest.raises(DataError, match="different tokenizers"):
        open_corpora(_cfg(shards, paths=[str(shards["main"]), str(out)]))


# ----------------------------------------------------------------------------------------------
# validation batches
# ----------------------------------------------------------------------------------------------


def test_val_batches_are_deterministic_disjoint_and_equal_in_number(shards):
    cfg = _cfg(shards, micro_batch_size=2, seq_len=16)
    corpora = open_corpora(cfg)
    full = val_batches(corpora, cfg, 0, 1)
    assert len(full) > 2
    a = [b["input_ids"] for b in val_batches(corpora, cfg, 0, 1, max_batches=3)]
    b = [b["input_ids"] for b in val_batches(corpora, cfg, 0, 1, max_batches=3)]
    assert len(a) == 3 and all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    cfg1 = _cfg(shards, micro_batch_size=1, seq_len=16)
    r0, r1 = (list(val_batches(corpora, cfg1, r, 2, max_batches=3)) for r in range(2))
    assert len(r0) == len(r1) == 3
    for x, y, whole in zip(r0, r1, a, strict=True):
        assert torch.equal(torch.cat([x["input_ids"], y["input_ids"]]), whole)
    # every validation window once
    vb = val_batches(corpora, cfg, 0, 1)
    src, idx = vb._order()
    assert len(set(zip(src.tolist(), idx.tolist(), strict=True))) == src.size == sum(s.windows for s in vb.streams)
    # validation windows come from the val shards only
    val_tokens = set()
    for name in corpora.sources:
        for doc in _decode_stream(corpora, name, "val"):
            val_tokens.update(doc)
    assert set(torch.cat(a).flatten().tolist()) <= val_tokens


# ----------------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------------


def test_shard_failing_its_checksum_is_named_before_training(shards, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(shards["main"], broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    victim = manifest["shards"][1]["path"]
    data = bytearray((broken / f"{victim}.bin").read_bytes())
    data[10] ^= 0x01
    (broken / f"{victim}.bin").write_bytes(bytes(data))
    with pytest.raises(DataError, match=f"{victim}: .bin sha256 mismatch"):
        open_corpora(_cfg(shards, paths=[str(broken)]))


def test_verification_is_remembered_until_a_file_changes(shards, tmp_path, monkeypatch):
    import trainer.open_shards

    calls = []
    real = trainer.open_shards.verify_shards
    monkeypatch.setattr(trainer.open_shards, "verify_shards", lambda d, **kw: calls.append(d) or real(d, **kw))
    copy = tmp_path / "copy"
    shutil.copytree(shards["main"], copy)
    cfg = _cfg(shards, paths=[str(copy)], cache_dir=str(tmp_path / "cache"))
    open_corpora(cfg)
    open_corpora(cfg)
    assert len(calls) == 1  # the second open trusts the stamp
    victim = json.loads((copy / "manifest.json").read_text())["shards"][0]["path"]
    data = bytearray((copy / f"{victim}.bin").read_bytes())
    data[3] ^= 0x01
    (copy / f"{victim}.bin").write_bytes(bytes(data))  # same size, new mtime
    with pytest.raises(DataError, match=f"{victim}: .bin sha256 mismatch"):
        open_corpora(cfg)
    assert len(calls) == 2


def test_unknown_mix_source_lists_the_real_ones(shards):
    with pytest.raises(DataError, match=r"'wiki'.*the sources are: d2q, kg, web"):
        open_corpora(_cfg(shards, mix={"web": 0.5, "wiki": 0.5}))


def test_tokenizer_changed_after_tokenizing_is_refused(shards, tmp_path):
    copy = tmp_path / "shards"
    shutil.copytree(shards["main"], copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["tokenizer"]["sha256"] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="is not the one the shards were written with"):
        open_corpora(_cfg(shards, paths=[str(copy)]))
    corpora = open_corpora(_cfg(shards))
    with pytest.raises(DataError, match="re-tokenize"):
        corpora.check_tokenizer("f" * 64)
    with pytest.raises(DataError, match="vocab_size >="):
        corpora.check_tokenizer(vocab_size=corpora.vocab_size - 1)


def test_a_run_directory_url_is_refused_before_any_work():
    """Shards may be remote (fileio); the run directory is written with torch.save, appends and renames."""
    from trainer.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="out_dir='s3://b/run': the run directory must be a local"):
        load_config("tiny", ["out_dir=s3://b/run"])


def test_bad_config_values_fail_with_the_field_name(shards):
    for kw, match in ((dict(seq_len=0), "seq_len"), (dict(objective="xlm"), "objective"),
                      (dict(on_exhaust="wrap"), "on_exhaust"), (dict(mix={"web": -1.0}), "mix weight"),
                      (dict(paths=[]), "data paths"), (dict(paths=[str(shards["main"])] * 2), "given twice"), (dict(seq_len=100_000), "fewer than one window")):
        with pytest.raises(DataError, match=match):
            open_corpora(_cfg(shards, **kw))


# ----------------------------------------------------------------------------------------------
# remote shards: a 127.0.0.1 HTTP server, the bounded cache
# ----------------------------------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def http_root(shards):
    handler = functools.partial(_Handler, directory=str(shards["root"]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_remote_shards_are_cached_on_first_use_and_read_like_local_ones(shards, http_root, tmp_path):
    cache = tmp_path / "cache"
    remote = _cfg(shards, paths=[f"{http_root}/shards"], cache_dir=str(cache))
    _Handler.requests.clear()
    corpora = open_corpora(remote)
    fetched = [p for p in _Handler.requests if p.endswith((".bin", ".idx"))]
    manifest = json.loads((shards["main"] / "manifest.json").read_text())
    assert len(fetched) == 2 * len(manifest["shards"])
    assert str(cache) in corpora.directories[0]
    local = TrainLoader(open_corpora(_cfg(shards)), _cfg(shards))
    assert torch.equal(next(TrainLoader(corpora, remote))["input_ids"], next(local)["input_ids"])
    # second use: only the manifest is fetched again
    _Handler.requests.clear()
    open_corpora(remote)
    assert [p for p in _Handler.requests if p.endswith((".bin", ".idx"))] == []
    # no temporaries left behind
    assert not [p for p in cache.rglob("*") if ".tmp-" in p.name]


def test_object_store_shards_go_through_fileio_and_read_like_local_ones(shards, tmp_path):
    """A ``memory://`` store (fsspec's own, standing in for gs:// and s3://) through pipeline.fileio."""
    import uuid

    from pipeline import fileio

    bucket = f"memory://shards-{uuid.uuid4().hex}"
    for path in sorted(shards["main"].rglob("*")):
        if path.is_file():
            fileio.write_atomic(fileio.join(bucket, path.relative_to(shards["main"]).as_posix()), path.read_bytes())
    try:
        remote = _cfg(shards, paths=[bucket], cache_dir=str(tmp_path / "cache"))
        corpora = open_corpora(remote)
        assert str(tmp_path / "cache") in corpora.directories[0]
        local = TrainLoader(open_corpora(_cfg(shards)), _cfg(shards))
        assert torch.equal(next(TrainLoader(corpora, remote))["input_ids"], next(local)["input_ids"])
        fileio.delete(fileio.join(bucket, "manifest.json"))
        with pytest.raises(DataError, match="manifest.json: not found"):
            open_corpora(_cfg(shards, paths=[bucket], cache_dir=str(tmp_path / "c2")))
    finally:
        fileio.delete(bucket, recursive=True)


def test_cache_is_bounded_least_recently_used_first(shards, http_root, tmp_path):
    from trainer.shard_cache import ShardCache

    def size(d):
        return sum(p.stat().st_size for p in Path(d).rglob("*") if p.suffix in (".bin", ".idx"))

    main_bytes, second_bytes = size(shards["main"]), size(shards["second"])
    cache = ShardCache(str(tmp_path / "cache"), max_bytes=main_bytes + second_bytes // 2)
    a = cache.fetch_shard_dir(f"{http_root}/shards2")
    b = cache.fetch_shard_dir(f"{http_root}/shards")  # does not fit beside the first: it is evicted
    assert Path(b).is_dir() and not Path(a).exists()
    with pytest.raises(DataError, match="raise cache_max_bytes"):
        open_corpora(_cfg(shards, paths=[f"{http_root}/shards"], cache_dir=str(tmp_path / "c2"),
                          cache_max_bytes=main_bytes // 2))


def test_remote_shard_with_a_bad_checksum_is_named(shards, http_root, tmp_path):
    broken = shards["root"] / "broken-remote"
    if not broken.exists():
        shutil.copytree(shards["main"], broken)
        manifest = json.loads((broken / "manifest.json").read_text())
        victim = manifest["shards"][0]["path"]
        data = bytearray((broken / f"{victim}.idx").read_bytes())
        data[-1] ^= 0x01
        (broken / f"{victim}.idx").write_bytes(bytes(data))
    victim = json.loads((broken / "manifest.json").read_text())["shards"][0]["path"]
    with pytest.raises(DataError, match=f"shard {victim}.idx: sha256 of the downloaded file"):
        open_corpora(_cfg(shards, paths=[f"{http_root}/broken-remote"], cache_dir=str(tmp_path / "c")))
    with pytest.raises(DataError, match="not found"):
        open_corpora(_cfg(shards, paths=[f"{http_root}/nothing-here"], cache_dir=str(tmp_path / "c")))
    with pytest.raises(DataError, match="cannot open nosuchproto:// URLs"):
        open_corpora(_cfg(shards, paths=["nosuchproto://bucket/shards"], cache_dir=str(tmp_path / "c")))


def test_the_remote_shard_example_in_the_docs_runs(tmp_path, monkeypatch):
    """docs/trainer-data.md's memory:// shard-cache example, as written (its ``tempfile.mkdtemp()``
    cache made under this test's folder, not left in the system's)."""
    import re
    import tempfile

    from pipeline import fileio

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    doc = (Path(__file__).resolve().parents[1] / "docs" / "trainer-data.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", doc, re.S) if "ShardCache" in b]
    try:
        exec(compile(block, "docs/trainer-data.md", "exec"), {})
    finally:
        fileio.delete("memory://demo/shards", recursive=True)

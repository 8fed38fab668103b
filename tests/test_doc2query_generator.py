"""The bundled query generator: KV-cached sampling against the model's own forward, NativeGenerator on a
tiny prefix-LM trained for a few steps here, and the training chain's checks."""

from __future__ import annotations

import json
import os
import shutil

import pyarrow.parquet as pq
import pytest
import torch

from corpora.doc2query.train_generator import (
    GeneratorTraining,
    TrainGeneratorError,
    train_generator,
    write_pair_corpus,
)
from pipeline.generation import GenerationConfig, GeneratorError, check_generator_spec, make_generator
from trainer.generate import NativeGenerator, prefix_lm_text, sample
from trainer.model import GPT, GPTConfig

TOPICS = {
    "coffee": ("Coffee grounds feed roses and keep slugs away from lettuce.", "why keep coffee grounds"),
    "bread": ("Sourdough needs a starter, flour, water and a long slow rise.", "how to bake sourdough bread"),
    "river": ("The river floods the valley every spring after the snow melts.", "when does the river flood"),
    "train": ("The railway reached the valley in 1923 and changed the town.", "history of the valley railway"),
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _model(pos: str, seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=96, n_layer=2, n_head=2, d_model=32, seq_len=48, pos=pos)).eval()


@pytest.mark.parametrize("pos", ["learned", "rope", "alibi"])
def test_cached_decoding_matches_the_full_forward(pos):
    model = _model(pos)
    prompts = [[5, 6, 7, 8, 9], [10, 11], [12] * 17]
    for kwargs in ({"do_sample": True, "top_k": 20, "num_return_sequences": 3, "seed": 4}, {"do_sample": False}):
        cached = sample(model, prompts, max_new_tokens=25, eod_id=0, **kwargs)
        full = sample(model, prompts, max_new_tokens=25, eod_id=0, use_cache=False, **kwargs)
        assert cached == full
    # every row stops at the model's context (48) at the latest
    assert all(len(ids) <= 48 - 17 for ids in cached[2])


def test_sampling_is_seeded_per_prompt_and_respects_bans():
    model = _model("learned")
    prompts = [[1, 2, 3], [4, 5, 6, 7]]
    kw = dict(max_new_tokens=12, eod_id=0, top_k=8, num_return_sequences=4, banned_ids=[1, 2], allowed_vocab=60)
    a = sample(model, prompts, seed=7, **kw)
    assert a == sample(model, prompts, seed=7, **kw)
    assert a != sample(model, prompts, seed=8, **kw)
    assert sample(model, prompts[1:], seed=7, **kw) == a[1:]  # the same prompt, the same samples, in any batch
    tokens = {t for copies in a for ids in copies for t in ids}
    assert not tokens & {1, 2} and max(tokens) < 60
    assert len({tuple(ids) for ids in a[0]}) > 1  # the copies differ
    with pytest.raises(ValueError, match="no room"):
        sample(model, [[3] * 48], max_new_tokens=4, eod_id=0)


def test_generation_stops_at_end_of_document():
    model = _model("learned")
    with torch.no_grad():  # make the end-of-document id (5) the most likely next token everywhere
        direction = torch.randn(32)
        model.wte.weight[5] = direction * 3
        model.ln_f.weight.zero_()
        model.ln_f.bias.copy_(direction)
    out = sample(model, [[1, 2], [3]], max_new_tokens=10, eod_id=5, do_sample=False, num_return_sequences=1)
    assert out == [[[]], [[]]]


# --- a tiny prefix-LM generator, trained here ---------------------------------------------------

def _write_pairs(directory) -> str:
    os.makedirs(os.path.join(directory, "pairs"), exist_ok=True)
    path = os.path.join(directory, "pairs", "train-00000-of-00001.jsonl")
    with open(path, "w") as fh:
        for i in range(40):
            topic = list(TOPICS)[i % 4]
            passage, query = TOPICS[topic]
            fh.write(json.dumps({"pid": str(i), "qid": str(i), "passage": f"{passage} Note {i}.",
                                 "query": query}) + "\n")
        fh.write("not json\n")
        fh.write(json.dumps({"pid": "x", "qid": "x", "passage": "", "query": "q"}) + "\n")
    return str(directory)


@pytest.fixture(scope="module")
def native_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("native")
    pairs = _write_pairs(base / "pairs")
    run = str(base / "run")
    from beam_runner import main  # trained through the doc2query-train job, as a user would

    assert main(["doc2query-train", "--input", pairs, "--output", run, "--vocab-size", "320",
                 "max_steps=8", "seq_len=64", "micro_batch_size=4", "warmup_steps=2", "eval_interval=8",
                 "eval_batches=1", "checkpoint_interval=8",
                 "--direct_num_workers=1", "--direct_running_mode=in_memory"]) == 0
    assert os.path.isdir(os.path.join(run, "tokenizer"))
    return run


def test_train_is_a_job_with_help_and_usage_errors(tmp_path, capsys):
    from beam_runner import main

    with pytest.raises(SystemExit) as done:
        main(["doc2query-train", "--help"])
    assert done.value.code == 0 and "objective=prefix-lm" in capsys.readouterr().out
    pairs = _write_pairs(tmp_path / "pairs")
    for extra, message in ((["objective=clm"], "set by this command"), (["--no-such-flag"], "unknown option")):
        with pytest.raises(SystemExit) as done:
            main(["doc2query-train", "--input", pairs, "--output", str(tmp_path / "o"), *extra])
        assert done.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_native_generator_loads_through_the_registry(native_run):
    check_generator_spec(f"native:{native_run}")
    cfg = GenerationConfig(do_sample=True, top_k=10, num_return_sequences=3, max_new_tokens=8, batch_size=2,
                           max_input_tokens=40, seed=1)
    gen = make_generator(f"native:{native_run}", cfg)
    assert isinstance(gen, NativeGenerator) and gen.prefix_lm
    assert gen.run["objective"] == "prefix-lm"
    long_passage = " ".join(TOPICS["river"][0] for _ in range(20))
    prompts = [TOPICS["coffee"][0], TOPICS["bread"][0], long_passage]
    out = gen.generate(prompts)
    assert [len(o) for o in out] == [3, 3, 3]
    assert all(isinstance(q, str) and "<|sep|>" not in q for o in out for q in o)
    assert gen.stats["prompts"] == 3 and gen.stats["truncated_inputs"] == 1
    assert gen.stats["empty_outputs"] == sum(1 for o in out for q in o if not q)
    assert make_generator(f"native:{native_run}", cfg).generate(prompts) == out  # seeded
    # the prompt ends with the separator exactly as the training text tokenized it
    ids = gen.encode_prompts([TOPICS["coffee"][0]])[0]
    trained = gen.tokenizer.encode(prefix_lm_text(TOPICS["coffee"][0], "q"), add_special_tokens=False).ids
    assert trained[:len(ids)] == ids and ids[-1] == gen.sep_id
    # a passage that quotes control tokens is encoded as text: only the final separator is a control id
    quoting = gen.encode_prompts(["Type <|endoftext|> or <|sep|> to stop."])[0]
    assert gen.eod_id not in quoting and quoting.count(gen.sep_id) == 1 and quoting[-1] == gen.sep_id


def test_native_checkpoint_errors_name_the_fix(native_run, tmp_path):
    with pytest.raises(GeneratorError, match="no such directory"):
        check_generator_spec(f"native:{tmp_path / 'missing'}")
    with pytest.raises(GeneratorError, match="not a trainer checkpoint"):
        check_generator_spec(f"native:{tmp_path}")
    with pytest.raises(GeneratorError, match="beam search"):
        NativeGenerator(native_run, GenerationConfig(num_beams=2))
    moved = tmp_path / "moved"
    shutil.copytree(native_run, moved, ignore=shutil.ignore_patterns("work"))
    # the recorded tokenizer is gone (a run copied elsewhere): the tokenizer/ copy inside the run is used
    step = sorted((moved / "checkpoints").glob("step-*"))[-1]
    state = torch.load(step / "state.pt", weights_only=True)
    state["run"]["tokenizer_dir"] = str(tmp_path / "gone")
    torch.save(state, step / "state.pt")
    check_generator_spec(f"native:{moved}")
    shutil.rmtree(moved / "tokenizer")
    with pytest.raises(GeneratorError, match="not there any more"):
        check_generator_spec(f"native:{moved}")


def test_training_checks_before_work(tmp_path):
    pairs = _write_pairs(tmp_path / "pairs")
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "file").write_text("x")
    steps: list[tuple] = []  # the tokenize step the chain is given: never reached on bad settings

    def tokenize(*args):
        steps.append(args)

    with pytest.raises(TrainGeneratorError, match="--overwrite"):
        train_generator(GeneratorTraining(pairs=pairs, output=str(existing)), tokenize)
    with pytest.raises(TrainGeneratorError, match="set by this command"):
        train_generator(GeneratorTraining(pairs=pairs, output=str(tmp_path / "o"), overrides=["objective=clm"]),
                        tokenize)
    with pytest.raises(TrainGeneratorError, match="trainer settings"):
        train_generator(GeneratorTraining(pairs=pairs, output=str(tmp_path / "o"), overrides=["lr=fast"]), tokenize)
    with pytest.raises(TrainGeneratorError, match="no pair files"):
        train_generator(GeneratorTraining(pairs=str(tmp_path / "nothing"), output=str(tmp_path / "o")), tokenize)
    assert not (tmp_path / "o").exists() and steps == []
    from corpora.doc2query.train_job import main

    assert main(["--input", pairs, "--output", str(existing)]) == 2  # the CLI: a message and exit status 2
    counts = write_pair_corpus([os.path.join(pairs, "pairs", "train-00000-of-00001.jsonl")], str(tmp_path / "c"))
    assert counts == {"pairs": 40, "bad_json": 1, "missing_field": 1, "contains_separator": 0}


def test_demo_stage_runs_the_whole_chain(tmp_path, monkeypatch):
    """Mined pairs -> bundled generator -> expansion job with native: -> evaluation, as the demo runs it."""
    from corpora.doc2query import demo
    from pipeline.records import Document
    from tests.test_doc2query_pairs import write_corpus

    docs = []
    for i in range(30):
        topic = list(TOPICS)[i % 4]
        passage, query = TOPICS[topic]
        body = " ".join(f"{passage[:-1]} on day {i} number {k}." for k in range(5))
        docs.append(Document(id=f"doc{i}", text=f"{query.capitalize()} {i}\n\n{body}", source="web"))
    corpus = write_corpus(tmp_path / "corpus", docs)
    monkeypatch.setattr(demo, "TRAIN_OVERRIDES", ["max_steps=4", "seq_len=64", "micro_batch_size=4",
                                                  "warmup_steps=1", "eval_batches=0", "checkpoint_interval=4"])
    monkeypatch.setattr(demo, "NUM_QUERIES", 2)
    result = demo.run_doc2query_demo(corpus, str(tmp_path / "out"), [], overwrite=False)
    assert result["pairs"]["accounting_ok"] and result["expand"]["accounting_ok"]
    generate = next(s for s in result["expand"]["stages"] if s["stage"] == "generate")
    assert generate["in"] == generate["out"] == 30
    rows = pq.read_table(str(tmp_path / "out" / "expanded" / "data")).to_pylist()
    meta = [json.loads(r["meta"]) for r in rows]
    assert all(m["doc2query"]["generator"].startswith("native:") for m in meta)
    assert sum(len(m["predicted_queries"]) for m in meta) == 30 * 2 - generate.get("counts", {}).get(
        "empty_outputs", 0)
    assert result["eval"]["counts"]["queries_evaluated"] == len(
        (tmp_path / "out" / "pairs" / "heldout" / "queries.tsv").read_text().splitlines())
    assert set(result["eval"]["original"]) == {"MRR@10", "Recall@100", "Recall@1000"}


class _FixedLogits(torch.nn.Module):
    """A stand-in model whose next-token logits are always the same vector."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = torch.nn.Parameter(logits)
        self.config = GPTConfig(vocab_size=logits.numel(), n_layer=1, n_head=1, d_model=4, seq_len=16)

    def forward(self, input_ids, labels=None):
        return self.logits.expand(*input_ids.shape, -1), None


def test_top_k_sampling_draws_from_the_renormalised_softmax():
    logits = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0, 3.0])
    model = _FixedLogits(logits)
    n = 6000
    out = sample(model, [[1]], max_new_tokens=1, eod_id=4, top_k=3, temperature=0.5, num_return_sequences=n,
                 seed=3)
    counts = torch.bincount(torch.tensor([ids[0] for ids in out[0]]), minlength=6).double() / n
    top3 = torch.softmax(torch.tensor([2.0, 1.0, 3.0]) / 0.5, dim=0)  # ids 0, 1, 5
    expected = torch.zeros(6, dtype=torch.double)
    expected[[0, 1, 5]] = top3.double()
    assert torch.allclose(counts, expected, atol=0.02)


def test_expansion_is_the_same_on_one_or_two_worker_processes(native_run, tmp_path):
    """The native generator loads in each Beam worker process; per-prompt seeding makes the
    expanded corpus independent of how passages were batched and spread over workers."""
    import argparse
    import glob

    from corpora.doc2query.job import add_expand_arguments, expand_config, run_expand
    from pipeline.records import Document
    from tests.test_doc2query_pairs import write_corpus

    docs = [Document(id=f"d{i}", text=" ".join(f"{TOPICS[t][0][:-1]} {i}." for t in TOPICS), source="web")
            for i in range(12)]
    corpus = write_corpus(tmp_path / "in", docs)
    parser = argparse.ArgumentParser()
    add_expand_arguments(parser)
    texts = []
    for name, beam_args in (("one", ["--direct_num_workers=1", "--direct_running_mode=in_memory"]),
                            ("two", ["--direct_num_workers=2", "--direct_running_mode=multi_processing"])):
        args = parser.parse_args(["--input", corpus, "--generator", f"native:{native_run}", "--num-queries", "3",
                                  "--max-new-tokens", "6", "--window", "2", "--stride", "2", "--batch-size", "4",
                                  "--output", str(tmp_path / name)])
        report = run_expand(expand_config(args), beam_args, quiet=True)
        assert report["accounting_ok"]
        rows = [r for f in glob.glob(str(tmp_path / name / "data" / "*.parquet")) for r in pq.read_table(f).to_pylist()]
        texts.append({r["id"]: r["text"] for r in rows})
    assert len(texts[0]) == 12 and texts[0] == texts[1]

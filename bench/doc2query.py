"""Benchmark: doc2query with the bundled generator: retrieval quality on a generated task, and generation speed.

Run from the repository root::

    python bench/doc2query.py                      # about 2 minutes on 2 busy cores
    python bench/doc2query.py --entities 200 --steps 600 --queries 20

**Quality** (one run, same collection, same held-out queries):

The bench writes a retrieval task whose answer is known. A synthetic vocabulary has
``--topics`` topics; each topic has *passage words* and separate *query words* that never
occur in any passage (the vocabulary gap document expansion is meant to close). Each of
``--entities`` made-up entities appears in three passages on three different topics; a query
is the entity plus two query words of the passage's topic. 20% of the entities are held out:
their passages are in the collection but never in training, and their queries are the
evaluation set. The bundled generator (a tiny prefix-LM GPT, ``train_generator``) is trained
on the (passage, query) pairs of the other entities, then every passage is expanded with
``--queries`` sampled queries (top-k 10) and BM25 (bm25s) runs over original and expanded
passages. A *control* generator is trained on the same pairs with the queries shuffled
across passages: same words, no passage->query association.

**Speed**: passages per second of generation (``--queries`` queries each, at most 24 new
tokens) on CPU with one intra-op thread (and on a GPU when torch sees one), on the same
passages: the bundled generator with its key/value cache; the same model recomputing the prefix every step (``use_cache=False``);
and, as the reference, ``pipeline.generation.HFSeq2SeqGenerator`` (Hugging Face
``generate``) on a randomly initialised T5 of about the same size with the same tokenizer.
Tokens generated per second are shown too, since the models stop after different lengths.
A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from common import library_versions, load_average, usable_cores  # noqa: E402

LIBRARIES = ("torch", "transformers", "tokenizers", "bm25s", "apache-beam")
FILLER = ("the", "a", "of", "in", "near", "with", "and", "for", "was", "is", "by", "from", "this", "that")
TEMPLATES = (
    "The {e} {p0} {f} {p1} {f} {p2}.",
    "{E} was {p3} {f} the {p4} and {p5}.",
    "Many {p6} {f} {e} {f} {p7} {p8}.",
    "This {p9} is {f} {p0} {f} {p4}.",
)


def _words(rng: random.Random, n: int, used: set[str]) -> list[str]:
    syllables = ("ka", "lo", "mi", "ra", "tu", "ve", "no", "si", "da", "pe", "zo", "bi", "gu", "fa", "re", "xo")
    out = []
    while len(out) < n:
        w = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3)))
        if w not in used:
            used.add(w)
            out.append(w)
    return out


def make_task(seed: int, topics: int, entities: int, heldout: float = 0.2) -> dict:
    """Passages, training pairs and held-out queries/qrels of the generated retrieval task."""
    rng = random.Random(seed)
    used: set[str] = set(FILLER)
    topic_passage = [_words(rng, 10, used) for _ in range(topics)]
    topic_query = [_words(rng, 4, used) for _ in range(topics)]
    names = _words(rng, entities, used)
    passages, pairs, queries, qrels = {}, [], {}, {}
    held = set(rng.sample(range(entities), max(1, int(entities * heldout))))
    for e, name in enumerate(names):
        for j, t in enumerate(rng.sample(range(topics), 3)):
            pid = f"p{e}_{j}"
            words = topic_passage[t]
            sentences = []
            for template in rng.sample(TEMPLATES, 3):
                fill = {f"p{i}": rng.choice(words) for i in range(10)}
                text = template.format(e=name, E=name.capitalize(), f=rng.choice(FILLER), **fill)
                sentences.append(text.replace("{f}", rng.choice(FILLER)))
            passages[pid] = " ".join(sentences)

            def query(name: str = name, words: list[str] = topic_query[t]) -> str:
                return " ".join([name] + rng.sample(words, 2))

            if e in held:
                queries[f"q{e}_{j}"] = query()
                qrels[f"q{e}_{j}"] = {pid}
            else:
                pairs += [{"pid": pid, "qid": f"{pid}-{k}", "passage": passages[pid], "query": query()}
                          for k in range(3)]
    return {"passages": passages, "pairs": pairs, "queries": queries, "qrels": qrels}


def _write_pairs(pairs: list[dict], directory: str) -> str:
    os.makedirs(os.path.join(directory, "pairs"), exist_ok=True)
    with open(os.path.join(directory, "pairs", "train-00000-of-00001.jsonl"), "w") as fh:
        for p in pairs:
            fh.write(json.dumps(p) + "\n")
    return directory


def _train(pairs: list[dict], work: str, name: str, steps: int) -> tuple[str, float]:
    from corpora.doc2query.train_generator import GeneratorTraining, train_generator

    run = os.path.join(work, name)
    result = train_generator(GeneratorTraining(
        pairs=_write_pairs(pairs, os.path.join(work, f"{name}-pairs")), output=run, vocab_size=1024,
        overrides=[f"max_steps={steps}", "seq_len=128", "micro_batch_size=8", f"warmup_steps={max(1, steps // 10)}",
                   f"eval_interval={steps}", "eval_batches=2", f"checkpoint_interval={steps}",
                   f"log_interval={steps}"]), log=lambda _: None)
    return run, result["seconds"]


def _expand(spec: str, passages: dict[str, str], n: int, seed: int,
            device: str = "cpu") -> tuple[dict[str, str], float, object]:
    from corpora.doc2query.expand import expanded_text
    from pipeline.generation import GenerationConfig, make_generator

    gen = make_generator(spec, GenerationConfig(do_sample=True, top_k=10, num_return_sequences=n, max_new_tokens=24,
                                                batch_size=16, seed=seed, device=device))
    ids = list(passages)
    start = time.perf_counter()
    outputs = gen.generate([passages[i] for i in ids])
    seconds = time.perf_counter() - start
    return ({i: expanded_text(passages[i], [q for q in qs if q]) for i, qs in zip(ids, outputs, strict=True)},
            seconds, (gen, outputs))


def _tiny_t5(tokenizer_dir: str, path: str, d_model: int) -> str:
    """A randomly initialised T5 of about the bundled generator's size, with its tokenizer."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    from tokenizer.load import load_hf

    tok = load_hf(tokenizer_dir, pad_token="<|pad|>", eos_token="<|endoftext|>")
    tok.save_pretrained(path)
    torch.manual_seed(0)
    config = T5Config(vocab_size=len(tok), d_model=d_model, d_ff=4 * d_model, d_kv=d_model // 2, num_layers=2,
                      num_decoder_layers=2, num_heads=2, pad_token_id=tok.pad_token_id,
                      eos_token_id=tok.eos_token_id, decoder_start_token_id=tok.pad_token_id)
    T5ForConditionalGeneration(config).save_pretrained(path)
    return path


def _tokens(gen, outputs) -> int:
    tok = gen.tokenizer
    texts = [q for qs in outputs for q in qs if q]
    if hasattr(tok, "encode_batch"):
        return sum(len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False))
    return sum(len(ids) for ids in tok(texts, add_special_tokens=False)["input_ids"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topics", type=int, default=12)
    parser.add_argument("--entities", type=int, default=100)
    parser.add_argument("--steps", type=int, default=400, help="generator training steps")
    parser.add_argument("--queries", type=int, default=10, help="queries per passage")
    parser.add_argument("--speed-passages", type=int, default=96, help="passages timed for speed")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import torch

    from corpora.doc2query.evaluate import compare

    torch.set_num_threads(1)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    print(f"# bench/doc2query.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"# {platform.platform()}, Python {platform.python_version()}, cores {usable_cores()}, "
          f"load {load_average()}, torch threads 1")
    print("# " + ", ".join(f"{k} {v}" for k, v in library_versions(LIBRARIES).items()))
    task = make_task(args.seed, args.topics, args.entities)
    print(f"# task: {len(task['passages'])} passages, {len(task['pairs'])} training pairs, "
          f"{len(task['queries'])} held-out queries, {args.topics} topics; seed {args.seed}")
    with tempfile.TemporaryDirectory(prefix="bench-d2q-") as work:
        run, train_s = _train(task["pairs"], work, "generator", args.steps)
        rng = random.Random(args.seed + 1)
        shuffled_queries = [p["query"] for p in task["pairs"]]
        rng.shuffle(shuffled_queries)
        control_pairs = [{**p, "query": q} for p, q in zip(task["pairs"], shuffled_queries, strict=True)]
        control, control_s = _train(control_pairs, work, "control", args.steps)
        print(f"# generator trained in {train_s:.1f}s, control in {control_s:.1f}s ({args.steps} steps each)")

        expanded, expand_s, _ = _expand(f"native:{run}", task["passages"], args.queries, args.seed)
        expanded_control, _, _ = _expand(f"native:{control}", task["passages"], args.queries, args.seed)
        real = compare(task["passages"], expanded, task["queries"], task["qrels"])
        ctrl = compare(task["passages"], expanded_control, task["queries"], task["qrels"])
        print("\n## retrieval on held-out queries (BM25 k1=0.9 b=0.4, bm25s)\n")
        print("| collection | MRR@10 | Recall@100 |")
        print("|---|---|---|")
        for name, m in (("original passages", real["original"]), ("expanded, bundled generator", real["expanded"]),
                        ("expanded, control (shuffled pairs)", ctrl["expanded"])):
            print(f"| {name} | {m['MRR@10']:.4f} | {m['Recall@100']:.4f} |")
        base = real["original"]["MRR@10"]
        if base > 0:
            print(f"\nexpanded/original MRR@10: {real['expanded']['MRR@10'] / base:.2f}x; "
                  f"control/original: {ctrl['expanded']['MRR@10'] / base:.2f}x "
                  f"({real['counts']['queries_evaluated']} queries)")

        print(f"\n## generation speed, CPU, 1 thread, {args.queries} queries per passage, <= 24 new tokens\n")
        ids = list(task["passages"])[:args.speed_passages]
        sample = {i: task["passages"][i] for i in ids}
        rows = []
        _, seconds, (gen, outputs) = _expand(f"native:{run}", sample, args.queries, args.seed)
        rows.append(("bundled GPT, KV cache", len(ids) / seconds, _tokens(gen, outputs) / seconds, gen.model.num_params()))
        import trainer.generate as tg

        original_sample = tg.sample
        tg.sample = lambda *a, **k: original_sample(*a, **{**k, "use_cache": False})
        try:
            _, seconds, (gen, outputs) = _expand(f"native:{run}", sample, args.queries, args.seed)
        finally:
            tg.sample = original_sample
        rows.append(("bundled GPT, no cache", len(ids) / seconds, _tokens(gen, outputs) / seconds, gen.model.num_params()))
        t5 = _tiny_t5(os.path.join(run, "tokenizer"), os.path.join(work, "t5"), gen.model.config.d_model)
        _, seconds, (hf, outputs) = _expand(f"hf:{t5}", sample, args.queries, args.seed)
        rows.append(("HF T5 (random), generate()", len(ids) / seconds, _tokens(hf, outputs) / seconds,
                     sum(p.numel() for p in hf.model.parameters())))
        if torch.cuda.is_available():
            _expand(f"native:{run}", sample, args.queries, args.seed, "cuda")  # warm-up: CUDA context, kernels
            _, seconds, (gen, outputs) = _expand(f"native:{run}", sample, args.queries, args.seed, "cuda")
            rows.insert(0, (f"bundled GPT, KV cache, {torch.cuda.get_device_name()}", len(ids) / seconds,
                            _tokens(gen, outputs) / seconds, gen.model.num_params()))
        print("| generator | parameters | passages/s | tokens/s | passages/s vs HF |")
        print("|---|---|---|---|---|")
        for name, pps, tps, params in rows:
            print(f"| {name} | {params / 1e6:.2f}M | {pps:.1f} | {tps:.0f} | {pps / rows[-1][1]:.2f}x |")
        print(f"\n(quality-run expansion of {len(task['passages'])} passages took {expand_s:.1f}s; "
              f"load at the end {load_average()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: doc2query with the bundled generator: retrieval quality on a generated task, and generation speed.

Run from the repository root::

    python bench/doc2query.py                      # about 2 minutes on 2 busy cores
    python bench/doc2query.py --entities 200 --steps 600 --queries 20
    python bench/doc2query.py --msmarco ~/msmarco --dev-queries 500 --distractors 20000
    python bench/doc2query.py --write-release /tmp/d2q-release && python bench/doc2query.py --msmarco /tmp/d2q-release

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

**Independent BM25 check**: every MRR@10 and Recall@100 is also computed with rank_bm25
(``BM25Okapi`` with Lucene's idf, the tokenization written out: tests/realdata/bm25_reference.py),
and a table gives how the two rank the same passages (same top-1, same top-10 list, overlap,
largest score difference).

**MS MARCO's release files** (``--msmarco DIR``): collection.tsv[.gz], the dev/small queries and
qrels (MS MARCO's or Anserini's names), optionally queries.train.tsv + qrels.train.tsv (the bundled
generator is then trained on ``--train-pairs`` of them; else ``--generator SPEC``, else on the
generated task) and docTTTTTquery's ``predicted_queries_topk_sample*.txt``. One pass over the
collection keeps the judged passages of ``--dev-queries`` dev queries plus ``--distractors``
random others (seeded); MRR@10 before/after expansion is computed on that subset, which needs the
full collection (a sample without the judged passages gets the counts and no MRR).
``--write-release DIR`` writes the generated task in these formats, to try the mode end to end.
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

LIBRARIES = ("torch", "transformers", "tokenizers", "bm25s", "rank_bm25", "apache-beam")
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
    passages, pairs, queries, qrels, topic_of = {}, [], {}, {}, {}
    held = set(rng.sample(range(entities), max(1, int(entities * heldout))))
    for e, name in enumerate(names):
        for j, t in enumerate(rng.sample(range(topics), 3)):
            pid = f"p{e}_{j}"
            topic_of[pid] = t
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
    return {"passages": passages, "pairs": pairs, "queries": queries, "qrels": qrels, "topic_of": topic_of,
            "topic_query": topic_query}


def _write_pairs(pairs: list[dict], directory: str) -> str:
    os.makedirs(os.path.join(directory, "pairs"), exist_ok=True)
    with open(os.path.join(directory, "pairs", "train-00000-of-00001.jsonl"), "w") as fh:
        for p in pairs:
            fh.write(json.dumps(p) + "\n")
    return directory


def _train(pairs: list[dict], work: str, name: str, steps: int) -> tuple[str, float]:
    from corpora.doc2query.train_generator import GeneratorTraining
    from corpora.doc2query.train_job import run_train_generator

    run = os.path.join(work, name)
    result = run_train_generator(GeneratorTraining(
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


# ---- MS MARCO's release files (--msmarco DIR) and the independent BM25 check ----------------------

RELEASE_NAMES = {  # what each release file may be called in DIR, first match wins (Anserini's names second)
    "collection": ("collection.tsv", "collection.tsv.gz", "collection*.tsv", "collection*.tsv.gz"),
    "queries": ("queries.dev.small.tsv", "queries.dev.small.tsv.gz", "topics.msmarco-passage.dev-subset.txt"),
    "qrels": ("qrels.dev.small.tsv", "qrels.dev.small.tsv.gz", "qrels.msmarco-passage.dev-subset.txt"),
    "train_queries": ("queries.train.tsv", "queries.train.tsv.gz"),
    "train_qrels": ("qrels.train.tsv", "qrels.train.tsv.gz"),
}
PREDICTIONS = "predicted_queries_topk_sample[0-9][0-9][0-9].txt*"  # docTTTTTquery's released files


def release_files(directory: str) -> dict[str, str | None]:
    """The release files found in ``directory`` (None where absent); collection, queries, qrels are required."""
    import glob

    found: dict[str, str | None] = {}
    for key, names in RELEASE_NAMES.items():
        hits = [f for name in names for f in sorted(glob.glob(os.path.join(directory, name)))]
        found[key] = hits[0] if hits else None
    missing = [key for key in ("collection", "queries", "qrels") if not found[key]]
    if missing:
        raise SystemExit(f"--msmarco {directory}: no {', '.join(missing)} file (looked for "
                         + "; ".join(" or ".join(RELEASE_NAMES[k]) for k in missing) + ")")
    return found


def read_subset(path: str, wanted: set[str], distractors: int, seed: int, fix: bool,
                extra: set[str]) -> tuple[dict[str, str], dict[str, int], int, dict[str, str]]:
    """One pass over a collection: the passages of ``wanted`` plus ``distractors`` others drawn at
    random (reservoir, seeded); returns {pid: text}, {pid: line number}, the number of lines, and
    the texts of ``extra`` (training passages, in the subset only if drawn). Mojibake is repaired
    (``fix``) on the kept lines only; a repeated id keeps the copy the jobs keep (ids.keeps_new)."""
    from corpora.doc2query.collection import line_format, parse_collection_line, read_lines
    from corpora.doc2query.ids import keeps_new
    from corpora.doc2query.pairs import BadLine, decode_line

    fmt = line_format(path)
    rng = random.Random(seed)
    chosen: list[tuple[str, int, str]] = []  # (pid, line number, line) of wanted and extra passages
    reservoir: list[tuple[str, int, str]] = []
    seen_others = 0
    n = -1
    for n, raw in enumerate(read_lines(path)):
        line = decode_line(raw)
        parsed = line if isinstance(line, BadLine) else parse_collection_line(line, fmt)
        if isinstance(parsed, BadLine):
            continue
        pid = parsed[0]
        if pid in wanted or pid in extra:
            chosen.append((pid, n, line))
        if pid in wanted:
            continue
        seen_others += 1
        if len(reservoir) < distractors:
            reservoir.append((pid, n, line))
        else:
            slot = rng.randrange(seen_others)
            if slot < distractors:
                reservoir[slot] = (pid, n, line)
    texts: dict[str, str] = {}
    lines: dict[str, int] = {}
    extra_texts: dict[str, str] = {}
    drawn = {line_no for _, line_no, _ in reservoir}
    for pid, line_no, line in chosen + reservoir:
        text = parse_collection_line(line, fmt, fix)[1]
        if pid in extra and (pid not in extra_texts or keeps_new(extra_texts[pid], text)):
            extra_texts[pid] = text
        if (pid in wanted or line_no in drawn) and (pid not in texts or keeps_new(texts[pid], text)):
            texts[pid], lines[pid] = text, line_no
    return texts, lines, n + 1, extra_texts


def read_predictions(files: list[str], lines: dict[str, int], total: int) -> dict[str, list[str]]:
    """docTTTTTquery's line-aligned predictions of the passages at ``lines``; every file must have
    ``total`` lines (one per collection line)."""
    from corpora.doc2query.collection import read_lines
    from corpora.doc2query.pairs import BadLine, decode_line

    at = {n: pid for pid, n in lines.items()}
    out: dict[str, list[str]] = {pid: [] for pid in lines}
    for f in files:
        count = 0
        for count, raw in enumerate(read_lines(f), start=1):
            pid = at.get(count - 1)
            line = decode_line(raw) if pid is not None else ""
            if pid is not None and not isinstance(line, BadLine) and line.strip():
                out[pid].append(" ".join(line.split()))
        if count != total:
            raise SystemExit(f"{f}: {count} lines, the collection {total}: docTTTTTquery's files hold one line "
                             "per collection line, in its order")
    return out


def reference_bm25():
    """rank_bm25 with Lucene's idf (tests/realdata/bm25_reference.py), or None when rank_bm25 is missing."""
    try:
        import rank_bm25  # noqa: F401
    except ImportError:
        return None
    from tests.realdata.bm25_reference import ReferenceBM25

    return ReferenceBM25


def reference_metrics(texts: dict[str, str], task) -> dict[str, float] | None:
    """MRR@10 and Recall@100 of the task's queries ranked by the independent BM25 (None without rank_bm25)."""
    from corpora.doc2query.evaluate import DEFAULT_B, DEFAULT_K1, metrics

    ref_cls = reference_bm25()
    if ref_cls is None:
        return None
    ref = ref_cls(texts, DEFAULT_K1, DEFAULT_B)
    ranked = {q: [pid for pid, _ in ref.ranking(text, 100)] for q, text in task.queries.items()}
    return metrics(ranked, task.relevant, (10, 100))


def agreement(texts: dict[str, str], queries: list[str]) -> dict[str, float] | None:
    """How our BM25 (bm25s) and the independent one rank the same passages for the same queries:
    queries with a hit, identical top-1 share, identical top-10 share, mean top-10 overlap, and the
    largest score difference relative to the query's best score."""
    import numpy as np

    from corpora.doc2query.evaluate import DEFAULT_B, DEFAULT_K1, BM25Index

    ref_cls = reference_bm25()
    if ref_cls is None:
        return None
    ours, ref = BM25Index(texts, DEFAULT_K1, DEFAULT_B), ref_cls(texts, DEFAULT_K1, DEFAULT_B)
    hit = top1 = same10 = 0
    overlap = worst = 0.0
    for query, terms, mine in zip(queries, ours.tokenize(queries), ours.search(queries, 10), strict=True):
        scores = ref.scores(query)
        theirs = ref.ranking(query, 10)
        got = ours.retriever.get_scores(terms) if terms else np.zeros(len(ours.ids))
        best = max(scores.values())
        if best > 0:
            worst = max(worst, float(np.abs(got - np.array([scores[p] for p in ours.ids])).max()) / best)
        if not mine and not theirs:
            continue
        hit += 1
        a, b = [p for p, _ in mine], [p for p, _ in theirs]
        top1 += bool(a and b and a[0] == b[0])
        same10 += a == b
        overlap += len(set(a) & set(b)) / max(len(a), len(b))
    n = max(hit, 1)
    return {"queries": len(queries), "with_hits": hit, "top1": top1 / n, "top10_identical": same10 / n,
            "top10_overlap": overlap / n, "max_score_diff": worst}


def print_agreement(rows: list[tuple[str, int, dict | None]]) -> None:
    print("| passages | n | queries (with a hit) | same top-1 | same top-10 list | top-10 overlap | "
          "max score difference |")
    print("|---|---|---|---|---|---|---|")
    for name, n, a in rows:
        if a is None:
            print(f"| {name} | {n} | rank_bm25 not installed (pip install -e '.[dev]') | | | | |")
        else:
            print(f"| {name} | {n} | {a['queries']} ({a['with_hits']}) | {a['top1']:.4f} | "
                  f"{a['top10_identical']:.4f} | {a['top10_overlap']:.4f} | {a['max_score_diff']:.1e} |")


def _mrr_cell(m: dict | None, key: str) -> str:
    return "n/a" if m is None else f"{m[key]:.4f}"


def write_release(task: dict, directory: str, samples: int = 5, seed: int = 0) -> None:
    """The generated task in MS MARCO's release formats (integer pids and qids): collection.tsv,
    queries/qrels dev.small and train, and docTTTTTquery-style predicted_queries_topk_sample00N.txt
    holding what a generator that learned each topic's query words perfectly would write."""
    os.makedirs(directory, exist_ok=True)
    pid_of = {p: str(n) for n, p in enumerate(task["passages"])}
    rng = random.Random(seed)

    def write(name: str, lines) -> None:
        with open(os.path.join(directory, name), "w", encoding="utf-8") as fh:
            fh.writelines(f"{line}\n" for line in lines)

    write("collection.tsv", (f"{pid_of[p]}\t{t}" for p, t in task["passages"].items()))
    dev = {q: str(n) for n, q in enumerate(task["queries"])}
    write("queries.dev.small.tsv", (f"{dev[q]}\t{t}" for q, t in task["queries"].items()))
    write("qrels.dev.small.tsv", (f"{dev[q]}\t0\t{pid_of[p]}\t1" for q, ps in task["qrels"].items() for p in ps))
    train = {p["qid"]: str(len(dev) + n) for n, p in enumerate(task["pairs"])}
    write("queries.train.tsv", (f"{train[p['qid']]}\t{p['query']}" for p in task["pairs"]))
    write("qrels.train.tsv", (f"{train[p['qid']]}\t0\t{pid_of[p['pid']]}\t1" for p in task["pairs"]))
    for k in range(samples):
        write(f"predicted_queries_topk_sample{k:03d}.txt",
              (" ".join(rng.sample(task["topic_query"][task["topic_of"][p]], 2)) for p in task["passages"]))


def run_msmarco(args) -> int:
    """MRR@10 before/after expansion on a subset of MS MARCO's release files, both BM25s side by side,
    and how the two BM25s agree on every dev query over the subset."""
    from corpora.doc2query.evaluate import build_task, evaluate_collection, read_qrels, read_queries
    from corpora.doc2query.expand import expanded_text

    files = release_files(args.msmarco)
    import glob

    preds = sorted(glob.glob(os.path.join(args.msmarco, PREDICTIONS)))
    print("# files: " + ", ".join(f"{k}={os.path.basename(v)}" for k, v in files.items() if v)
          + (f", predictions={len(preds)} files" if preds else ", no predicted_queries_topk_sample*.txt"))
    queries, _ = read_queries(files["queries"], args.fix_mojibake)
    qrels, _ = read_qrels(files["qrels"])
    rng = random.Random(args.seed)
    judged = sorted((q for q in qrels if q in queries), key=lambda q: (len(q), q))
    chosen = rng.sample(judged, min(args.dev_queries, len(judged)))
    wanted = {p for q in chosen for p in qrels[q]}
    train_pairs: list[tuple[str, str, str]] = []
    if files["train_queries"] and files["train_qrels"] and not args.generator:
        tq, _ = read_queries(files["train_queries"], args.fix_mojibake)
        tr, _ = read_qrels(files["train_qrels"])
        judgements = sorted((q, p) for q, ps in tr.items() if q in tq for p in ps)
        train_pairs = [(q, p, tq[q]) for q, p in rng.sample(judgements, min(args.train_pairs, len(judgements)))]
    start = time.perf_counter()
    texts, lines, total, train_texts = read_subset(files["collection"], wanted, args.distractors, args.seed,
                                                   args.fix_mojibake, {p for _, p, _ in train_pairs})
    task = build_task(texts, {q: queries[q] for q in chosen}, {q: qrels[q] for q in chosen})
    found = len(wanted & texts.keys())
    print(f"# collection: {total:,} lines read in {time.perf_counter() - start:.1f}s; subset {len(texts)} passages "
          f"= {found} of the {len(wanted)} judged passages of {len(chosen)} dev queries (seed {args.seed}) + "
          f"{len(texts) - found} random distractors; {task.counts['queries_evaluated']} queries evaluable")

    expansions: list[tuple[str, dict[str, str]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-d2q-msmarco-") as work:
        if args.generator:
            spec, label = args.generator, f"bundled/given generator {args.generator}"
        elif train_pairs:
            pairs = [{"pid": p, "qid": q, "passage": train_texts[p], "query": text}
                     for q, p, text in train_pairs if p in train_texts]
            run, seconds = _train(pairs, work, "generator", args.steps)
            spec, label = f"native:{run}", f"bundled generator ({len(pairs)} train pairs, {args.steps} steps)"
            print(f"# bundled generator trained on {len(pairs)} pairs of qrels.train in {seconds:.1f}s")
        else:
            synthetic = make_task(args.seed, args.topics, args.entities)
            run, seconds = _train(synthetic["pairs"], work, "generator", args.steps)
            spec, label = f"native:{run}", "bundled generator trained on the synthetic task (noise for MS MARCO)"
            print(f"# no --generator and no queries.train/qrels.train in DIR: the bundled generator is trained on "
                  f"the synthetic task ({seconds:.1f}s); its queries check BM25 on longer passages, not expansion")
        expanded, seconds, _ = _expand(spec, texts, args.queries, args.seed)
        print(f"# expanded {len(texts)} passages x {args.queries} queries in {seconds:.1f}s")
        expansions.append((label, expanded))
    if preds:
        predicted = read_predictions(preds, lines, total)
        expansions.append((f"docTTTTTquery predictions ({len(preds)} files)",
                           {p: expanded_text(t, predicted[p]) for p, t in texts.items()}))

    if task.queries:
        print(f"\n## MRR@10 on {len(task.queries)} dev queries over {len(texts)} passages "
              "(BM25 k1=0.9 b=0.4; bm25s = our evaluator, rank_bm25 = the independent check)\n")
        print("| passages | MRR@10 bm25s | MRR@10 rank_bm25 | Recall@100 bm25s | Recall@100 rank_bm25 |")
        print("|---|---|---|---|---|")
        for name, coll in [("original", texts), *expansions]:
            ours, ref = evaluate_collection(coll, task, depth=100), reference_metrics(coll, task)
            print(f"| {name} | {ours['MRR@10']:.4f} | {_mrr_cell(ref, 'MRR@10')} | {ours['Recall@100']:.4f} | "
                  f"{_mrr_cell(ref, 'Recall@100')} |")
    else:
        print(f"\nMRR@10 cannot be computed here: none of the {len(wanted)} passages judged for the {len(chosen)} "
              f"chosen dev queries is among the collection's {total:,} lines (counts: "
              + ", ".join(f"{k}={v}" for k, v in sorted(task.counts.items()) if v)
              + "). It needs the full collection.tsv (8,841,823 passages) beside the dev qrels.")
    agree_q = [queries[q] for q in sorted(queries, key=lambda q: (len(q), q))][:args.agree_queries]
    print(f"\n## our BM25 (bm25s) vs rank_bm25 (Lucene idf, same tokens, k1=0.9 b=0.4) on the first "
          f"{len(agree_q)} dev queries by qid\n")
    print_agreement([(name, len(coll), agreement(coll, agree_q)) for name, coll in [("original", texts), *expansions]])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topics", type=int, default=12)
    parser.add_argument("--entities", type=int, default=100)
    parser.add_argument("--steps", type=int, default=400, help="generator training steps")
    parser.add_argument("--queries", type=int, default=10, help="queries per passage")
    parser.add_argument("--speed-passages", type=int, default=96, help="passages timed for speed")
    parser.add_argument("--seed", type=int, default=0)
    release = parser.add_argument_group("MS MARCO's release files (--msmarco DIR)")
    release.add_argument("--msmarco", metavar="DIR", help="run on MS MARCO's files in DIR instead of the generated "
                         "task: collection.tsv[.gz], queries.dev.small.tsv, qrels.dev.small.tsv (or Anserini's "
                         "topics/qrels names), optional queries.train.tsv + qrels.train.tsv (to train the bundled "
                         "generator) and predicted_queries_topk_sample*.txt (docTTTTTquery's predictions)")
    release.add_argument("--dev-queries", type=int, default=200, help="dev queries drawn (seeded) for MRR@10")
    release.add_argument("--distractors", type=int, default=2000,
                         help="random other passages added to the judged ones (seeded)")
    release.add_argument("--train-pairs", type=int, default=20000, help="qrels.train pairs to train the generator on")
    release.add_argument("--generator", help="use this generator (native:RUN_DIR, hf:PATH) instead of training one")
    release.add_argument("--agree-queries", type=int, default=2000,
                         help="dev queries (first by qid) for the bm25s vs rank_bm25 agreement table")
    release.add_argument("--fix-mojibake", action="store_true", help="repair the release's mojibake (ftfy)")
    release.add_argument("--write-release", metavar="DIR",
                         help="write the generated task in the release's formats to DIR and stop")
    args = parser.parse_args(argv)

    import torch

    from corpora.doc2query.evaluate import build_task, compare

    torch.set_num_threads(1)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    print(f"# bench/doc2query.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"# {platform.platform()}, Python {platform.python_version()}, cores {usable_cores()}, "
          f"load {load_average()}, torch threads 1")
    print("# " + ", ".join(f"{k} {v}" for k, v in library_versions(LIBRARIES).items()))
    if args.write_release:
        write_release(make_task(args.seed, args.topics, args.entities), args.write_release, seed=args.seed)
        print(f"# wrote the generated task in MS MARCO's formats to {args.write_release}")
        return 0
    if args.msmarco:
        return run_msmarco(args)
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
        print("\n## retrieval on held-out queries (BM25 k1=0.9 b=0.4; bm25s = our evaluator, "
              "rank_bm25 = the independent check)\n")
        print("| collection | MRR@10 bm25s | MRR@10 rank_bm25 | Recall@100 bm25s | Recall@100 rank_bm25 |")
        print("|---|---|---|---|---|")
        collections = (("original passages", task["passages"], real["original"]),
                       ("expanded, bundled generator", expanded, real["expanded"]),
                       ("expanded, control (shuffled pairs)", expanded_control, ctrl["expanded"]))
        eval_task = build_task(task["passages"], task["queries"], task["qrels"])
        for name, coll, m in collections:
            ref = reference_metrics(coll, eval_task)
            print(f"| {name} | {m['MRR@10']:.4f} | {_mrr_cell(ref, 'MRR@10')} | {m['Recall@100']:.4f} | "
                  f"{_mrr_cell(ref, 'Recall@100')} |")
        print("\n## our BM25 (bm25s) vs rank_bm25 on the held-out queries\n")
        print_agreement([(name, len(coll), agreement(coll, list(task["queries"].values())))
                         for name, coll, _ in collections])
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

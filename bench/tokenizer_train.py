"""Benchmark: tokenizer training throughput (MB of text per second), byte-level BPE at 32k.

Run from the repository root::

    python bench/tokenizer_train.py                       # 24 MB of generated multilingual text
    python bench/tokenizer_train.py --mb 100 --threads 8  # more text, a fixed thread count
    python bench/tokenizer_train.py --input out/web       # your own corpus (dir, glob or file)

One input, in one run, two ways:

(a) **bare** (the reference): the texts are loaded into a Python list first, then only
    ``tokenizers.Tokenizer.train_from_iterator(texts, BpeTrainer(...))`` is timed, with the
    same pipeline and trainer settings as ``python -m tokenizer train --model bpe``;
(b) **ours**: ``tokenizer.train.train(TrainConfig(...))``, what the CLI runs: validate the
    inputs, stream the texts out of Parquet (record batches, accounting, sampling hooks),
    train, write the tokenizer directory atomically. Timed end to end.

The table gives MB/s of text (UTF-8 bytes of the documents) for both and ours/bare, the cost of
streaming from disk and of the bookkeeping. Both use every core unless ``--threads`` is given
(tokenizers' rayon pool; ``RAYON_NUM_THREADS``). The two alternate, ``--repeat`` times (default
2), and the best of each is kept. The default run takes under a minute on 2 cores.

This is a benchmark, not a test: it asserts nothing and its numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shlex
import shutil
import sys
import tempfile
import time
from importlib import metadata

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

LIBRARIES = ("tokenizers", "pyarrow")

# Pseudo-languages: syllables of each script, turned into a Zipf-distributed vocabulary.
_LATIN_C = "b c d f g h j k l m n p r s t v w z ch sh th st br tr pl gr".split()
_SYLLABLES = {
    "en": (_LATIN_C, "a e i o u ea ou ai".split()),
    "de": (_LATIN_C + "sch ß pf tz".split(), "a e i o u ä ö ü ei au ie".split()),
    "fr": (_LATIN_C + "qu ç gn".split(), "a e i o u é è ê à ou oi eu".split()),
    "es": (_LATIN_C + "ñ ll rr".split(), "a e i o u á é í ó ú ue ia".split()),
    "ru": ("б в г д ж з к л м н п р с т ф х ц ч ш щ".split(), "а е и о у ы э ю я".split()),
    "el": ("β γ δ ζ θ κ λ μ ν ξ π ρ σ τ φ χ ψ".split(), "α ε η ι ο υ ω ά έ ή ί ό".split()),
    "ar": ("ب ت ث ج ح خ د ذ ر ز س ش ص ض ط ظ ع غ ف ق ك ل م ن ه و ي".split(), "ا و ي َ ُ ِ".split()),
    "hi": ("क ख ग घ च छ ज झ ट ड त थ द ध न प फ ब भ म य र ल व स ह".split(), "ा ि ी ु ू े ै ो ौ ं".split()),
}
_NO_SPACE = {"zh": (0x4E00, 0x4E00 + 3500), "ja": (0x3041, 0x3096)}  # CJK ideographs / hiragana
_PUNCT = {"zh": "。", "ja": "。"}


def _vocabulary(rng: random.Random, lang: str, size: int) -> list[str]:
    words: set[str] = set()
    if lang in _NO_SPACE:
        lo, hi = _NO_SPACE[lang]
        while len(words) < size:
            words.add("".join(chr(rng.randrange(lo, hi)) for _ in range(rng.choice((1, 2, 2, 3)))))
    else:
        cons, vows = _SYLLABLES[lang]
        while len(words) < size:
            words.add("".join(rng.choice(cons) + rng.choice(vows) for _ in range(rng.choice((1, 2, 2, 3, 3, 4)))))
    return sorted(words)


def synthesize(megabytes: float, seed: int = 0, vocab_per_lang: int = 20000) -> list[str]:
    """Multilingual documents of pseudo-words (Zipf frequencies), about ``megabytes`` MB of UTF-8."""
    rng = random.Random(seed)
    langs = sorted(_SYLLABLES) + sorted(_NO_SPACE)
    vocab = {lang: _vocabulary(rng, lang, vocab_per_lang) for lang in langs}
    cum = []
    total = 0.0
    for r in range(1, vocab_per_lang + 1):
        total += 1.0 / r**1.1
        cum.append(total)
    target = int(megabytes * 1e6)
    docs, size, i = [], 0, 0
    while size < target:
        lang = langs[i % len(langs)]
        i += 1
        sep = "" if lang in _NO_SPACE else " "
        words = rng.choices(vocab[lang], cum_weights=cum, k=rng.randint(80, 1200))
        paragraphs, pos = [], 0
        while pos < len(words):
            n = rng.randint(6, 25)
            sentence = words[pos:pos + n]
            pos += n
            if rng.random() < 0.2:
                sentence.insert(rng.randrange(len(sentence) + 1), str(rng.randint(1, 2025)))
            text = sep.join(sentence)
            text = text[:1].upper() + text[1:] + _PUNCT.get(lang, rng.choice(".....?!"))
            paragraphs.append(text)
        doc = ""
        for p in paragraphs:
            doc += p + ("\n\n" if rng.random() < 0.25 else sep or "")
        doc = doc.strip()
        docs.append(doc)
        size += len(doc.encode("utf-8"))
    return docs


def write_parquet_corpus(texts: list[str], out: str, files: int = 4) -> str:
    """A corpus directory in the corpus schema (for the "ours" path)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.schema import CORPUS_SCHEMA

    data = os.path.join(out, "data")
    os.makedirs(data, exist_ok=True)
    per = -(-len(texts) // files)
    for f in range(files):
        chunk = texts[f * per:(f + 1) * per]
        n0 = f * per
        table = pa.table({
            "id": [f"synth-{n0 + j:07d}" for j in range(len(chunk))],
            "text": chunk,
            "source": ["synthetic"] * len(chunk),
            "url": pa.nulls(len(chunk), pa.string()),
            "lang": ["und"] * len(chunk),
            "lang_score": pa.array([0.0] * len(chunk), pa.float32()),
            "meta": ["{}"] * len(chunk),
        }, schema=CORPUS_SCHEMA)
        pq.write_table(table, os.path.join(data, f"part-{f:05d}-of-{files:05d}.parquet"), compression="zstd")
    return out


def load_texts(inputs: list[str], text_field: str) -> list[str]:
    from tokenizer.corpus import TextStream

    stream = TextStream(inputs, text_field=text_field, log=None)
    stream.check()
    return list(stream)


def bare_train(texts: list[str], vocab_size: int, min_frequency: int):
    """The reference: HF tokenizers on an in-memory list, same pipeline as our bpe."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    from tokenizer.special_tokens import SpecialTokens

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                  special_tokens=SpecialTokens("bpe").ordered,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    t0 = time.perf_counter()
    tok.train_from_iterator(texts, trainer, length=len(texts))
    return time.perf_counter() - t0, tok.get_vocab_size()


def ours_train(inputs: list[str], output: str, vocab_size: int, min_frequency: int, text_field: str):
    from tokenizer.train import TrainConfig, train

    config = TrainConfig(inputs=inputs, output=output, model="bpe", vocab_size=vocab_size,
                         min_frequency=min_frequency, text_field=text_field, overwrite=True, show_progress=False)
    t0 = time.perf_counter()
    result = train(config, log=None)
    return time.perf_counter() - t0, result


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", action="append", metavar="CORPUS",
                        help="corpus directory, glob or file (repeatable; default: generated text)")
    parser.add_argument("--text-field", default="text")
    parser.add_argument("--mb", type=float, default=24.0, help="MB of generated text (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated text")
    parser.add_argument("--vocab-size", type=int, default=32000)
    parser.add_argument("--min-frequency", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each, best kept (default: %(default)s)")
    parser.add_argument("--threads", type=int, help="tokenizers threads (RAYON_NUM_THREADS; default: all cores)")
    args = parser.parse_args(argv)
    if args.threads:
        os.environ["RAYON_NUM_THREADS"] = str(args.threads)  # before tokenizers starts its pool

    print("# tokenizer training throughput: byte-level BPE\n")
    print(f"command:  python {shlex.join(sys.argv)}")
    print(f"machine:  {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"os.cpu_count()={os.cpu_count()}, usable cores={usable_cores()}")
    print(f"python:   {platform.python_version()} ({platform.python_implementation()})")
    print("versions: " + ", ".join(f"{k} {metadata.version(k)}" for k in LIBRARIES))
    print(f"threads:  {os.environ.get('RAYON_NUM_THREADS', 'all cores (RAYON_NUM_THREADS unset)')}")
    print(f"load:     {load_average()} (1, 5, 15 min)")

    root = tempfile.mkdtemp(prefix="bench-tok-")
    try:
        if args.input:
            inputs = args.input
            t0 = time.perf_counter()
            texts = load_texts(inputs, args.text_field)
            what = f"{', '.join(inputs)}"
            print(f"input:    {what}: loaded in {time.perf_counter() - t0:.1f} s for the bare run")
        else:
            t0 = time.perf_counter()
            texts = synthesize(args.mb, seed=args.seed)
            inputs = [write_parquet_corpus(texts, os.path.join(root, "corpus"))]
            print(f"input:    synthesize(mb={args.mb}, seed={args.seed}): 10 pseudo-languages (8 scripts with "
                  f"spaces, zh/ja without), Zipf words; written as 4 Parquet files ({time.perf_counter() - t0:.1f} s)")
        nbytes = sum(len(t.encode("utf-8")) for t in texts)
        mb = nbytes / 1e6
        print(f"text:     {len(texts):,} documents, {mb:,.1f} MB (UTF-8), vocab size {args.vocab_size:,}\n", flush=True)

        bares, runs = [], []
        for _ in range(args.repeat):  # interleaved, so that other load on the machine hits both alike
            bares.append(bare_train(texts, args.vocab_size, args.min_frequency)[0])
            runs.append(ours_train(inputs, os.path.join(root, "tok"), args.vocab_size, args.min_frequency,
                                   args.text_field))
        bare = min(bares)
        ours, result = min(runs, key=lambda r: r[0])
        rows = [
            ("bare: train_from_iterator(list in memory)", bare, "reference"),
            ("ours: tokenizer.train.train (Parquet stream + write)", ours, f"{bare / ours:.2f}x of bare"),
        ]
        w = max(len(r[0]) for r in rows)
        print(f"{'run':<{w}}  {'MB':>7}  {'seconds':>8}  {'MB/s':>7}  ours/bare")
        print(f"{'-' * w}  {'-' * 7}  {'-' * 8}  {'-' * 7}  ---------")
        for name, secs, note in rows:
            print(f"{name:<{w}}  {mb:>7.1f}  {secs:>8.2f}  {mb / secs:>7.2f}  {note}")
        print(f"\nvocabulary: {result.vocab_size:,}; documents: {result.docs:,}; load after: {load_average()}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

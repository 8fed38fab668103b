import math
import random

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH

from pipeline.dedup.exact import exact_duplicate_groups, exact_key
from pipeline.dedup.local import documents_to_remove, near_duplicate_clusters, star_edges
from pipeline.dedup.minhash import MAX_HASH, MinHasher, MinHashParams, _legacy_scheme_kwargs, permutations
from pipeline.dedup.shingles import (
    ShingleConfig,
    batch_shingle_hashes,
    jaccard,
    shingle_hash,
    shingle_hash_set,
    shingle_units,
    shingles,
    simplify_text,
    tokenize,
)

LEGACY = _legacy_scheme_kwargs()
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "an", "or", "el", "is", "um", "ph", "qu"]


def vocabulary(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))))
    return sorted(words)


VOCAB = vocabulary(5000)


def random_doc(rng: random.Random, n_words: int) -> str:
    words = [rng.choice(VOCAB) for _ in range(n_words)]
    out = []
    for i, w in enumerate(words):
        if i % 11 == 0:
            w = w.capitalize()
        out.append(w + ("." if i % 11 == 10 else "," if i % 7 == 3 else ""))
    return " ".join(out)


def mutate(rng: random.Random, text: str, rate: float) -> str:
    words = text.split()
    for i in range(len(words)):
        if rng.random() < rate:
            words[i] = rng.choice(VOCAB)
    return " ".join(words)


SAMPLES = [
    "Hello, World! The café costs 3.50 euros, and 12,000 people came on 2024-05-01.",
    "",
    "   ... !!! ---   ",
    "one",
    "a b c d",
    "我们今天去公园散步，天气非常好。明天也许会下雨，所以我们可能会留在家里看书。",
    "これは日本語のテキストです。東京に行きました。とても楽しかったです。",
    "ภาษาไทยเขียนติดกันโดยไม่มีช่องว่างระหว่างคำ",
    "我们𠀀𠀁今天😀去公园散步，天气𪚥非常好。",
    "Naïve résumé – “quoted” text… with em—dash and ÉCOLE, façade, Ångström",
    "Ein Straßenbahnfahrer fährt über die Brücke; Müller sagt: „Grüß Gott“.",
    "Москва — столица России, население 12 655 050 человек.",
    "हिन्दी भाषा में लिखा गया पाठ है और यह पाठ हिन्दी है",
    "mixed English text with a name 王小明 inside and more English words after it",
    "x" * 300,
    "snake_case_identifier and CamelCase and e-mail@example.com https://example.com/a?b=c",
    "tab\tseparated\nlines\r\nand\x00control\x07chars \ud800 lone surrogate",
]


@pytest.fixture(scope="module")
def hasher() -> MinHasher:
    return MinHasher()


# ---------------------------------------------------------------- normalization / shingles


def test_simplify_text():
    assert simplify_text("Hello,   WORLD!! It's 3.14 or 1,000 — ok_then") == "hello world it s 0 or 0 ok then"
    assert simplify_text("Café RÉSUMÉ naïve") == "cafe resume naive"
    assert simplify_text("Café", strip_accents=False) == "café"
    assert simplify_text("in 2024 we", normalize_numbers=False) == "in 2024 we"
    assert simplify_text("") == "" and simplify_text(" ,.; ") == ""
    # decomposed and precomposed accents normalize the same
    assert simplify_text("e\u0301te\u0301") == simplify_text("\u00e9t\u00e9") == "ete"
    # Devanagari vowel signs stay inside their word
    assert (
        simplify_text("हिन्दी भाषा").split() == ["हिन्दी", "भाषा"]
        or len(simplify_text("हिन्दी भाषा").split()) == 2
    )
    assert tokenize("A b") == [b"a", b"b"]


def test_word_and_char_modes():
    assert shingle_units(SAMPLES[0])[0] == "word"
    for cjk in SAMPLES[5:9]:
        mode, units = shingle_units(cjk)
        assert mode == "char" and all(len(u.decode()) == 1 for u in units)
    # a few CJK characters inside English stay word mode
    assert shingle_units(SAMPLES[13])[0] == "word" and "王" in SAMPLES[13]
    # long space-free ASCII is cut into characters too
    assert shingle_units("y" * 300)[0] == "char"
    # character shingles of Chinese near-duplicates overlap strongly
    a = SAMPLES[5] * 3
    b = a.replace("公园", "花园", 1)
    j = jaccard(shingle_hash_set(a), shingle_hash_set(b))
    assert 0.6 < j < 1.0


def test_short_and_empty_documents(hasher):
    assert shingles("") == [] and shingles(" !! ") == []
    assert shingles("Hello") == [(b"hello",)]
    assert shingles("a b c") == [(b"a", b"b", b"c")]
    assert len(shingles("a b c d e")) == 1 and len(shingles("a b c d e f")) == 2
    sigs = hasher.signatures(["", "  ...  ", "hello", "world", "hello"])
    assert sigs.dtype == np.uint32 and sigs.shape == (5, 112)
    assert (sigs[0] == MAX_HASH).all() and (sigs[1] == MAX_HASH).all()
    assert hasher.is_empty(sigs[0]) and not hasher.is_empty(sigs[2])
    assert hasher.band_keys(sigs[0]) == [] and hasher.band_keys_batch(sigs[:2]) == [[], []]
    # one word: one shingle; equal one-word documents match, different ones never do
    assert np.array_equal(sigs[2], sigs[4])
    assert not set(hasher.band_keys(sigs[2])) & set(hasher.band_keys(sigs[3]))
    assert hasher.estimate_jaccard(sigs[0], sigs[1]) == 0.0


def test_max_shingles_bounds_huge_documents():
    rng = random.Random(5)
    base = random_doc(rng, 20000)
    huge = (base + " ") * (10_000_000 // len(base) + 1)
    assert len(huge) > 10_000_000
    params = MinHashParams()
    hasher = MinHasher(params)
    hashes, counts = batch_shingle_hashes([huge], params.shingle_config)
    assert counts.tolist() == [params.max_shingles]
    # the kept shingles are the first ones: same as a prefix that holds enough words
    prefix = " ".join(huge.split()[: params.max_shingles + params.ngram - 1])
    p_hashes, p_counts = batch_shingle_hashes([prefix], params.shingle_config)
    assert np.array_equal(hashes, p_hashes)
    assert np.array_equal(hasher.signature(huge), hasher.signature(prefix))
    small = ShingleConfig(max_shingles=10)
    assert len(shingles(huge, small)) == 10
    assert len(shingles("字" * 100_000, small)) == 10


def test_batch_hashes_equal_reference_per_text():
    rng = random.Random(11)
    texts = list(SAMPLES)
    for _ in range(40):
        texts.append(random_doc(rng, rng.randint(0, 60)))
        texts.append(rng.choice(SAMPLES) + " " + random_doc(rng, rng.randint(0, 8)))
    for cfg in (ShingleConfig(), ShingleConfig(ngram=3, char_ngram=2), ShingleConfig(max_shingles=7)):
        hashes, counts = batch_shingle_hashes(texts, cfg)
        assert counts.tolist() == [len(shingles(t, cfg)) for t in texts]
        expected = [shingle_hash(s) for t in texts for s in shingles(t, cfg)]
        assert hashes.tolist() == expected
        assert hashes.max() < 2**32
    # pure word-mode batches take the fast path (no re-layout): same numbers
    ascii_texts = [random_doc(rng, rng.randint(0, 30)) for _ in range(60)] + ["a b", "", "x y z w v u"]
    hashes, counts = batch_shingle_hashes(ascii_texts)
    assert hashes.tolist() == [shingle_hash(s) for t in ascii_texts for s in shingles(t)]
    short_only = ["a b c", "d e f", "g h i"]  # one window length (3) for every document
    hashes, counts = batch_shingle_hashes(short_only)
    assert counts.tolist() == [1, 1, 1]
    assert hashes.tolist() == [shingle_hash(s) for t in short_only for s in shingles(t)]
    # a text's signature does not depend on the rest of its batch
    hasher = MinHasher()
    together = hasher.signatures(texts)
    alone = np.array([hasher.signature(t) for t in texts])
    assert np.array_equal(together, alone)


# ---------------------------------------------------------------- datasketch compatibility


def test_permutations_match_datasketch():
    for seed in (1, 42):
        m = MinHash(num_perm=112, seed=seed, **LEGACY)
        a, b = permutations(112, seed)
        assert np.array_equal(m.permutations[0], a) and np.array_equal(m.permutations[1], b)


def test_identical_hashvalues_to_datasketch():
    hasher = MinHasher(MinHashParams(scheme="legacy"))
    rng = random.Random(1)
    texts = SAMPLES + [random_doc(rng, n) for n in (5, 40, 300, 1500)]
    sigs = hasher.signatures(texts)
    for text, sig in zip(texts, sigs, strict=True):
        m = MinHash(num_perm=112, seed=1, hashfunc=shingle_hash, **LEGACY)
        m.update_batch(shingles(text))
        assert np.array_equal(m.hashvalues, sig), text[:40]
        lean = hasher.to_lean_minhash(sig)
        assert isinstance(lean, LeanMinHash) and np.array_equal(lean.hashvalues, sig)
        assert lean.jaccard(LeanMinHash(m)) == 1.0
    other = MinHasher(MinHashParams(seed=7, scheme="legacy")).signatures(texts[:1])[0]
    m7 = MinHash(num_perm=112, seed=7, hashfunc=shingle_hash, **LEGACY)
    m7.update_batch(shingles(texts[0]))
    assert np.array_equal(m7.hashvalues, other) and not np.array_equal(other, sigs[0])


@pytest.mark.skipif(not LEGACY, reason="datasketch < 2.0 has only the legacy scheme")
def test_affine32_scheme_matches_datasketch():
    params = MinHashParams(scheme="affine32")
    hasher = MinHasher(params)
    m0 = MinHash(num_perm=112, seed=1, scheme="affine32")
    assert np.array_equal(m0.permutations[0], hasher.a) and np.array_equal(m0.permutations[1], hasher.b)
    rng = random.Random(8)
    texts = SAMPLES + [random_doc(rng, 300)]
    sigs = hasher.signatures(texts)
    for text, sig in zip(texts, sigs, strict=True):
        m = MinHash(num_perm=112, seed=1, hashfunc=shingle_hash, scheme="affine32")
        m.update_batch(shingles(text))
        assert np.array_equal(m.hashvalues, sig), text[:40]
    assert hasher.to_lean_minhash(sigs[0]).scheme == "affine32"
    assert hasher.band_keys(sigs[1]) == []  # empty document
    base = random_doc(rng, 400)
    ids = ["a", "b", "c"]
    assert near_duplicate_clusters(ids, [base, mutate(rng, base, 0.01), random_doc(rng, 400)], params) == [
        ["a", "b"]
    ]


def test_wrap_guard_falls_back_to_exact_arithmetic():
    """Force the values where x mod 2**64 lies at or just above the Mersenne prime (the
    cases the division-free reduction cannot settle) and compare with datasketch's formula."""
    hasher = MinHasher(MinHashParams(num_perm=16, bands=4, rows=4, scheme="legacy"))
    p = (1 << 61) - 1
    h = 12345
    targets = [
        p,
        p + 1,
        p + 7,
        3 * (1 << 61) + (1 << 61) - 2,
        (1 << 64) - 1,
        (1 << 64) - 2,
        p - 1,
        5,
        0,
        MAX_HASH,
        MAX_HASH + 1,
    ]
    targets += [random.Random(n).randrange(1 << 64) for n in range(16 - len(targets))]
    a = np.ones(16, dtype=np.uint64)
    b = np.array([(t - h) % (1 << 64) for t in targets], dtype=np.uint64)
    hasher.a, hasher.b, hasher._tile_cache = a, b, None
    hashes = np.array([h, 999, 2**32 - 1, 7], dtype=np.uint64)
    for counts in ([1, 3], [4], [2, 0, 2]):
        sigs = hasher.signatures_from_hashes(hashes, counts)
        offsets = np.concatenate([[0], np.cumsum(counts)])
        for i in range(len(counts)):
            doc = hashes[offsets[i] : offsets[i + 1]]
            if len(doc) == 0:
                assert (sigs[i] == MAX_HASH).all()
                continue
            exact = (((doc[:, None] * a + b) % np.uint64(p)) & np.uint64(MAX_HASH)).min(axis=0)
            assert np.array_equal(sigs[i], exact)


def test_signatures_from_hashes_validates(hasher):
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        hasher.signatures(["ok", None])
    with pytest.raises(ValueError, match="counts"):
        hasher.signatures_from_hashes(np.arange(3, dtype=np.uint64), [1, 1])
    with pytest.raises(ValueError, match="32-bit"):
        hasher.signatures_from_hashes(np.array([2**40], dtype=np.uint64), [1])


def test_minhash_lsh_finds_near_duplicates(hasher):
    rng = random.Random(2)
    originals = [random_doc(rng, 400) for _ in range(30)]
    near = [mutate(rng, originals[i], 0.01) for i in range(10)]
    lsh = MinHashLSH(threshold=0.7, num_perm=112)
    sigs = hasher.signatures(originals)
    for i, sig in enumerate(sigs):
        lsh.insert(f"doc{i}", hasher.to_lean_minhash(sig))
    for i, sig in enumerate(hasher.signatures(near)):
        assert f"doc{i}" in lsh.query(hasher.to_lean_minhash(sig))
    unrelated = hasher.signature(random_doc(rng, 400))
    assert lsh.query(hasher.to_lean_minhash(unrelated)) == []


def test_estimates_match_exact_jaccard(hasher):
    """MinHash estimates stay within 4 standard deviations sqrt(J(1-J)/112) of the exact
    Jaccard similarity, over pairs planted at similarities from about 0.3 to 0.95."""
    rng = random.Random(3)
    pairs = []
    for rate in (0.004, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.16):
        for _ in range(5):
            a = random_doc(rng, rng.randint(300, 600))
            pairs.append((a, mutate(rng, a, rate)))
    sigs = hasher.signatures([t for pair in pairs for t in pair])
    js = []
    for k, (a, b) in enumerate(pairs):
        j = jaccard(shingle_hash_set(a), shingle_hash_set(b))
        est = hasher.estimate_jaccard(sigs[2 * k], sigs[2 * k + 1])
        sigma = math.sqrt(j * (1 - j) / 112)
        assert abs(est - j) <= 4 * sigma + 1e-9, (j, est)
        js.append(j)
    assert min(js) < 0.35 and max(js) > 0.9


# ---------------------------------------------------------------- parameters and banding


def test_default_params_match_fineweb():
    p = MinHashParams()
    assert (p.num_perm, p.bands, p.rows, p.ngram, p.seed) == (112, 14, 8, 5, 1)
    assert p.max_shingles == 100_000 and p.verify_threshold is None
    assert p.collision_probability(0.75) == pytest.approx(0.77, abs=0.01)
    assert p.collision_probability(0.8) == pytest.approx(0.92, abs=0.01)


def test_params_from_threshold_use_datasketch_optimum():
    for threshold, num_perm in ((0.7, 128), (0.8, 112), (0.5, 64)):
        p = MinHashParams.from_threshold(threshold, num_perm)
        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        assert (p.bands, p.rows) == (lsh.b, lsh.r) and p.num_perm == num_perm
    p = MinHashParams.from_threshold(0.8, 112, ngram=3, verify_threshold=0.8)
    assert p.ngram == 3 and p.verify_threshold == 0.8


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"bands": 20, "rows": 8}, "bands \\* rows"),
        ({"num_perm": 0}, "num_perm"),
        ({"rows": 0}, "rows"),
        ({"ngram": 0}, "ngram"),
        ({"char_ngram": 2.5}, "char_ngram"),
        ({"seed": -1}, "seed"),
        ({"max_shingles": 0}, "max_shingles"),
        ({"verify_threshold": 1.5}, "verify_threshold"),
        ({"strip_accents": 1}, "strip_accents"),
        ({"scheme": "affine64"}, "scheme"),
    ],
)
def test_params_validation(kwargs, name):
    with pytest.raises(ValueError, match=name):
        MinHashParams(**kwargs)


def test_from_threshold_validation():
    with pytest.raises(ValueError, match="threshold"):
        MinHashParams.from_threshold(1.0)
    with pytest.raises(ValueError, match="num_perm"):
        MinHashParams.from_threshold(0.8, num_perm=1)
    with pytest.raises(ValueError, match="bands"):
        MinHashParams.from_threshold(0.8, bands=3)


def test_band_keys(hasher):
    rng = random.Random(4)
    sigs = hasher.signatures([random_doc(rng, 200) for _ in range(3)])
    keys = hasher.band_keys(sigs[0])
    assert len(keys) == 14 and len(set(keys)) == 14 and all(0 <= k < 2**64 for k in keys)
    assert hasher.band_keys_batch(sigs)[1] == hasher.band_keys(sigs[1])
    # equal band slices collide, in the same band only
    mixed = sigs[1].copy()
    mixed[8:16] = sigs[0][8:16]
    k0, k1 = hasher.band_keys(sigs[0]), hasher.band_keys(mixed)
    assert [i for i in range(14) if k0[i] == k1[i]] == [1]
    same_slice = sigs[2].copy()
    same_slice[0:8] = sigs[2][8:16]
    assert hasher.band_keys(same_slice)[0] != hasher.band_keys(sigs[2])[1]
    with pytest.raises(ValueError):
        hasher.band_keys(sigs[0][:10])


# ---------------------------------------------------------------- exact dedup, jaccard


def test_exact_key():
    k = exact_key("Hello, World!")
    assert len(k) == 32 and int(k, 16) >= 0
    assert k == exact_key("hello   world") == exact_key("HELLO WORLD...")
    assert k != exact_key("hello world again")
    assert exact_key("Hello, World!", normalize=False) != exact_key("hello world", normalize=False)
    # stable across versions and machines: BLAKE2b-128 of the normalized text
    assert exact_key("hello world") == "e9a804b2e527fd3601d2ffc0bb023cd6"
    groups = exact_duplicate_groups(["b", "a", "c"], ["Same text.", "same TEXT", "other"])
    assert groups == [["a", "b"]]


def test_jaccard():
    a = np.array([1, 2, 3, 4], dtype=np.uint32)
    b = np.array([3, 4, 5], dtype=np.uint32)
    assert jaccard(a, b) == pytest.approx(2 / 5)
    assert jaccard(a, a) == 1.0 and jaccard(a, b[:0]) == 0.0 and jaccard(a[:0], b[:0]) == 0.0


# ---------------------------------------------------------------- local clustering


def test_near_duplicate_clusters_planted():
    rng = random.Random(9)
    ids, texts, planted = [], [], []
    for c in range(6):
        base = random_doc(rng, 350)
        members = []
        for m in range(rng.randint(2, 4)):
            doc_id = f"c{c}-m{m}"
            ids.append(doc_id)
            texts.append(base if m == 0 else mutate(rng, base, 0.01))
            members.append(doc_id)
        planted.append(sorted(members))
    for u in range(40):
        ids.append(f"u{u:02d}")
        texts.append(random_doc(rng, rng.randint(100, 500)))
    ids += ["empty-1", "empty-2", "word-1", "word-2"]
    texts += ["", "", "unique", "different"]
    order = list(range(len(ids)))
    rng.shuffle(order)
    ids, texts = [ids[i] for i in order], [texts[i] for i in order]

    for params in (MinHashParams(), MinHashParams(verify_threshold=0.7)):
        clusters = near_duplicate_clusters(ids, texts, params)
        assert clusters == sorted(planted)
        removed = documents_to_remove(clusters)
        assert len(removed) == sum(len(p) - 1 for p in planted)
        assert not any(r.startswith(("u", "empty", "word")) for r in removed)
        assert all(p[0] not in removed for p in planted)


def test_near_duplicate_clusters_validation_and_star_edges():
    assert star_edges(["d", "b", "c", "b"]) == [("b", "c"), ("b", "d")]
    with pytest.raises(ValueError, match="unique"):
        near_duplicate_clusters(["a", "a"], ["x", "y"])
    with pytest.raises(ValueError, match="length"):
        near_duplicate_clusters(["a"], ["x", "y"])
    assert near_duplicate_clusters([], []) == []

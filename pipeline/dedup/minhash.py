"""MinHash signatures and LSH band keys, batched and vectorized (pure core, no Beam).

Default scheme: ``"affine32"``, datasketch 2.x's default (see below). Compatibility with
the ``"legacy"`` scheme (``MinHashParams(scheme="legacy")``): signatures are bit-identical
to datasketch's MinHash with the ``"legacy"`` permutation scheme (the only scheme before datasketch 2.0, and the one datatrove and
FineWeb use): permutation ``k`` maps a 32-bit shingle hash ``h`` to
``((a_k * h + b_k) mod 2**64 mod (2**61 - 1)) & (2**32 - 1)`` -- the ``mod 2**64`` being
numpy's uint64 wrap-around in datasketch -- with ``(a_k, b_k)`` drawn, in that order per
permutation, from ``np.random.RandomState(seed).randint(..., 2**61 - 1, dtype=np.uint64)``.
So for any text::

    m = datasketch.MinHash(num_perm=112, seed=1, hashfunc=shingle_hash, scheme="legacy")
    m.update_batch(shingles(text))
    assert (m.hashvalues == MinHasher().signatures([text])[0]).all()

and :meth:`MinHasher.to_lean_minhash` gives a ``datasketch.LeanMinHash`` that works in
``datasketch.MinHashLSH``. (datasketch >= 2.0 defaults to a different scheme, ``affine32``;
pass ``scheme="legacy"`` there when mixing its sketches with ours.)

Scheme ``"affine32"`` (the default): datasketch 2.x's default -- the shingle hash is pre-mixed with the 32-bit MurmurHash3 finalizer, then
``a_k * h + b_k (mod 2**32)`` with odd ``a_k``, a bijection, so there is no collision bias
on large sets -- bit-identical to ``datasketch.MinHash(scheme="affine32")`` and about 3x
cheaper to compute (uint32 SIMD arithmetic, no reduction modulo a prime). Signatures of the
two schemes never compare: one corpus, one scheme.

Seed: 1, datasketch's and datatrove's default, so a default-seeded legacy datasketch
MinHash over the same shingle hashes is directly comparable. Changing the seed changes
every signature: all workers and all runs that must be compared need the same seed.

Empty documents (no shingle) have the all-``2**32 - 1`` signature (datasketch's empty
state), no band keys, and so never match anything: they are kept.

Speed: the shingle hashes of a whole batch of documents go through one
``(num_perm x chunk)`` uint64 computation, chunk by chunk (~1 MB blocks that stay in cache),
then ``np.minimum.reduceat`` per document. The reduction modulo the Mersenne prime is
done without division: with ``x' = a*h + b + 1 (mod 2**64)``, ``v = x' + (x' >> 61)
(mod 2**32)`` equals the exact value plus one whenever ``v > 8``; a document where some
minimum is <= 8 (probability ~1e-4 per document) is recomputed with the exact formula.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

import numpy as np

from pipeline.dedup.shingles import (
    DEFAULT_MAX_SHINGLES,
    ShingleConfig,
    _fmix64,
    batch_shingle_hashes,
    shingle_hash,
)

__all__ = [
    "MAX_HASH",
    "MERSENNE_PRIME",
    "SCHEMES",
    "MinHashParams",
    "MinHasher",
    "permutations",
    "shingle_hash",
]

MERSENNE_PRIME = (1 << 61) - 1
MAX_HASH = (1 << 32) - 1
_P = np.uint64(MERSENNE_PRIME)
_M32 = np.uint64(MAX_HASH)
_S61 = np.uint64(61)
# Signature elements computed per block (num_perm x chunk uint64 values, ~1 MB).
_BLOCK_ELEMENTS = 1 << 17
# Values of v = exact + 1 at or below this trigger the exact recomputation (see docstring).
_WRAP_GUARD = 8
_BAND_SEED = 0x6A09E667F3BCC909
SCHEMES = ("legacy", "affine32")
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))


@dataclass(frozen=True)
class MinHashParams:
    """MinHash LSH settings. Defaults: FineWeb's 112 permutations as 14 bands x 8 rows on word
    5-grams (pairs at Jaccard 0.75 share a band with probability ~0.77, at 0.8 ~0.92).

    - ``num_perm``: permutations (signature length); ``bands * rows`` of them are used by LSH.
    - ``bands``, ``rows``: LSH banding; ``bands * rows <= num_perm``.
    - ``ngram``: words per shingle; ``char_ngram``: characters per shingle for text written
      without spaces (see :mod:`pipeline.dedup.shingles`).
    - ``seed``: permutation seed, 1 = datasketch's and datatrove's default.
    - ``max_shingles``: shingles per document at most (the first ones), 100,000 by default.
    - ``verify_threshold``: when set, a candidate pair is kept only if the exact Jaccard
      similarity of the two shingle sets is at least this; ``None`` keeps every LSH candidate.
    - ``strip_accents``, ``normalize_numbers``: text normalization before shingling.
    - ``scheme``: ``"affine32"`` (default: datasketch >= 2.0's default, and the faster) or
      ``"legacy"`` (datasketch < 2.0's, the arithmetic datatrove and FineWeb use); see the
      module docstring.
    """

    num_perm: int = 112
    bands: int = 14
    rows: int = 8
    ngram: int = 5
    char_ngram: int = 5
    seed: int = 1
    max_shingles: int = DEFAULT_MAX_SHINGLES
    verify_threshold: float | None = None
    strip_accents: bool = True
    normalize_numbers: bool = True
    scheme: str = "affine32"

    def __post_init__(self) -> None:
        for name in ("num_perm", "bands", "rows", "ngram", "char_ngram", "max_shingles"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"MinHashParams.{name} must be an integer >= 1, got {value!r}")
        if self.num_perm > 1 << 16:
            raise ValueError(f"MinHashParams.num_perm must be <= 65536, got {self.num_perm}")
        if self.bands * self.rows > self.num_perm:
            raise ValueError(
                f"MinHashParams.bands * rows must be <= num_perm: {self.bands} * {self.rows} = "
                f"{self.bands * self.rows} > {self.num_perm}; lower bands or rows, or raise num_perm"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 1 << 32:
            raise ValueError(f"MinHashParams.seed must be an integer in [0, 2**32), got {self.seed!r}")
        t = self.verify_threshold
        if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float)) or not 0.0 < t <= 1.0):
            raise ValueError(f"MinHashParams.verify_threshold must be None or in (0, 1], got {t!r}")
        for name in ("strip_accents", "normalize_numbers"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"MinHashParams.{name} must be True or False, got {getattr(self, name)!r}")
        if self.scheme not in SCHEMES:
            raise ValueError(f"MinHashParams.scheme must be one of {', '.join(SCHEMES)}, got {self.scheme!r}")

    @classmethod
    def from_threshold(
        cls,
        threshold: float,
        num_perm: int = 112,
        false_positive_weight: float = 0.5,
        false_negative_weight: float = 0.5,
        **kwargs,
    ) -> MinHashParams:
        """Bands and rows that minimize the weighted false positive/negative probability
        around ``threshold``, by datasketch's own routine (``datasketch.lsh._optimal_param``,
        what ``MinHashLSH(threshold=..., num_perm=...)`` uses). Other fields from ``kwargs``."""
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, (int, float))
            or not 0.0 < threshold < 1.0
        ):
            raise ValueError(f"threshold must be in (0, 1), got {threshold!r}")
        if isinstance(num_perm, bool) or not isinstance(num_perm, int) or num_perm < 2:
            raise ValueError(f"num_perm must be an integer >= 2, got {num_perm!r}")
        for name, w in (
            ("false_positive_weight", false_positive_weight),
            ("false_negative_weight", false_negative_weight),
        ):
            if not isinstance(w, (int, float)) or w < 0:
                raise ValueError(f"{name} must be a number >= 0, got {w!r}")
        if false_positive_weight + false_negative_weight <= 0:
            raise ValueError("false_positive_weight + false_negative_weight must be > 0")
        unknown = set(kwargs) - {f.name for f in fields(cls)} | ({"bands", "rows"} & set(kwargs))
        if unknown:
            raise ValueError(f"from_threshold: unexpected or conflicting arguments {sorted(unknown)}")
        from datasketch.lsh import _optimal_param

        bands, rows = _optimal_param(threshold, num_perm, false_positive_weight, false_negative_weight)
        return cls(num_perm=num_perm, bands=int(bands), rows=int(rows), **kwargs)

    @property
    def shingle_config(self) -> ShingleConfig:
        return ShingleConfig(
            ngram=self.ngram,
            char_ngram=self.char_ngram,
            max_shingles=self.max_shingles,
            strip_accents=self.strip_accents,
            normalize_numbers=self.normalize_numbers,
        )

    @property
    def threshold(self) -> float:
        """The similarity where the LSH S-curve is steepest, about ``(1/bands) ** (1/rows)``."""
        return (1.0 / self.bands) ** (1.0 / self.rows)

    def collision_probability(self, similarity: float) -> float:
        """Probability that two documents at this Jaccard similarity share at least one band."""
        return 1.0 - (1.0 - similarity**self.rows) ** self.bands

    def with_(self, **changes) -> MinHashParams:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


def permutations(num_perm: int, seed: int, scheme: str = "legacy") -> tuple[np.ndarray, np.ndarray]:
    """``(a, b)``, exactly datasketch's ``MinHash(num_perm, seed, scheme=...).permutations``:
    uint64 for ``"legacy"``, uint32 (``a`` odd) for ``"affine32"``."""
    gen = np.random.RandomState(seed)
    if scheme == "affine32":
        a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
        return a, b
    if scheme != "legacy":
        raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    pairs = np.array(
        [(gen.randint(1, _P, dtype=np.uint64), gen.randint(0, _P, dtype=np.uint64)) for _ in range(num_perm)],
        dtype=np.uint64,
    ).T
    return np.ascontiguousarray(pairs[0]), np.ascontiguousarray(pairs[1])


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (datasketch's affine pre-mix), uint32 in, uint32 out."""
    s1, m1, s2, m2, s3 = _FMIX32
    h = h ^ (h >> s1)
    h *= m1
    h ^= h >> s2
    h *= m2
    h ^= h >> s3
    return h


def _scheme_kwargs(scheme: str) -> dict:
    """``{"scheme": scheme}`` for datasketch >= 2.0; ``{}`` for older datasketch (legacy only)."""
    from datasketch import LeanMinHash

    if "scheme" in inspect.signature(LeanMinHash.__init__).parameters:
        return {"scheme": scheme}
    if scheme != "legacy":
        raise ValueError(f"scheme {scheme!r} needs datasketch >= 2.0")
    return {}


def _legacy_scheme_kwargs() -> dict:
    """``{"scheme": "legacy"}`` on datasketch >= 2.0 (which has schemes), else ``{}``."""
    return _scheme_kwargs("legacy")


class MinHasher:
    """Computes MinHash signatures and LSH band keys for :class:`MinHashParams`.

    Stateless after construction (the permutations), cheap to pickle, safe to share
    between threads.
    """

    def __init__(self, params: MinHashParams | None = None) -> None:
        self.params = params or MinHashParams()
        self.a, self.b = permutations(self.params.num_perm, self.params.seed, self.params.scheme)
        self._tile_cache: tuple[np.ndarray, np.ndarray] | None = None

    # ------------------------------------------------------------------ signatures

    def signatures(self, texts: Sequence[str]) -> np.ndarray:
        """Signatures of ``texts``: a ``(len(texts), num_perm)`` uint32 array.

        Row ``i`` equals the ``hashvalues`` of a legacy datasketch MinHash with
        ``hashfunc=shingle_hash`` updated with ``shingles(texts[i])``; an empty document's
        row is all ``MAX_HASH``.
        """
        hashes, counts = batch_shingle_hashes(list(texts), self.params.shingle_config)
        return self.signatures_from_hashes(hashes, counts)

    def signature(self, text: str) -> np.ndarray:
        """The signature of one text (``num_perm`` uint32)."""
        return self.signatures([text])[0]

    def signatures_from_hashes(self, hashes: np.ndarray, counts: np.ndarray | Sequence[int]) -> np.ndarray:
        """Signatures from shingle hashes: document ``i`` owns the next ``counts[i]`` values
        of the flat array ``hashes`` (values < 2**32, duplicates allowed)."""
        h = np.ascontiguousarray(hashes, dtype=np.uint64)
        counts = np.asarray(counts, dtype=np.int64)
        if counts.ndim != 1 or (counts < 0).any() or int(counts.sum()) != len(h):
            raise ValueError(
                f"counts must be >= 0 and sum to len(hashes) = {len(h)}, got sum {int(counts.sum())}"
            )
        if len(h) and int(h.max()) > MAX_HASH:
            raise ValueError("shingle hashes must be 32-bit values (< 2**32)")
        n_docs, n_perm = len(counts), self.params.num_perm
        sig = np.full((n_docs, n_perm), MAX_HASH, dtype=np.uint32)
        docs = np.flatnonzero(counts)
        if len(docs) == 0:
            return sig
        offsets = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        doc_starts = offsets[docs]
        total = len(h)
        if self.params.scheme == "affine32":
            sig[docs] = self._affine32(h, doc_starts)
            return sig

        a_tile, b_tile = self._tiles()
        chunk = a_tile.shape[1]
        x = np.empty((n_perm, min(chunk, total)), dtype=np.uint64)
        v = np.empty((n_perm, min(chunk, total)), dtype=np.uint32)
        top = np.empty_like(v)
        acc = np.full((len(docs), n_perm), MAX_HASH, dtype=np.uint32)  # min of v per document
        chunk_starts = np.arange(0, total, chunk)
        first = np.searchsorted(doc_starts, chunk_starts, side="right") - 1  # doc holding s
        stop = np.searchsorted(doc_starts, chunk_starts + chunk, side="left")  # first doc after
        for s, j0, j1 in zip(chunk_starts.tolist(), first.tolist(), stop.tolist(), strict=True):
            e = min(s + chunk, total)
            k = e - s
            xs, vs, ts = x[:, :k], v[:, :k], top[:, :k]
            np.multiply(a_tile[:, :k], h[s:e], out=xs)  # a*h (mod 2**64)
            np.add(xs, b_tile[:, :k], out=xs)  # x' = a*h + b + 1
            np.copyto(vs, xs, casting="unsafe")  # low 32 bits of x'
            np.right_shift(xs, _S61, out=ts, casting="unsafe")  # x' >> 61
            np.add(vs, ts, out=vs)  # v = exact + 1 unless v <= _WRAP_GUARD
            seg = np.maximum(doc_starts[j0:j1], s) - s
            mins = np.minimum.reduceat(vs, seg, axis=1).T
            np.minimum(acc[j0:j1], mins, out=acc[j0:j1])
        suspicious = (acc <= _WRAP_GUARD).any(axis=1)
        acc -= np.uint32(1)
        sig[docs] = acc
        for j in np.flatnonzero(suspicious):
            d = docs[j]
            sig[d] = self._exact(h[offsets[d] : offsets[d + 1]])
        return sig

    def _affine32(self, h: np.ndarray, doc_starts: np.ndarray) -> np.ndarray:
        """Per-document minima of ``a * fmix32(h) + b (mod 2**32)`` (datasketch affine32)."""
        hv = _fmix32(h.astype(np.uint32))
        a_tile, b_tile = self._tiles()
        chunk = a_tile.shape[1]
        total = len(hv)
        x = np.empty((self.params.num_perm, min(chunk, total)), dtype=np.uint32)
        acc = np.full((len(doc_starts), self.params.num_perm), MAX_HASH, dtype=np.uint32)
        chunk_starts = np.arange(0, total, chunk)
        first = np.searchsorted(doc_starts, chunk_starts, side="right") - 1
        stop = np.searchsorted(doc_starts, chunk_starts + chunk, side="left")
        for s, j0, j1 in zip(chunk_starts.tolist(), first.tolist(), stop.tolist(), strict=True):
            e = min(s + chunk, total)
            xs = x[:, : e - s]
            np.multiply(a_tile[:, : e - s], hv[s:e], out=xs)
            np.add(xs, b_tile[:, : e - s], out=xs)
            seg = np.maximum(doc_starts[j0:j1], s) - s
            np.minimum(acc[j0:j1], np.minimum.reduceat(xs, seg, axis=1).T, out=acc[j0:j1])
        return acc

    def _tiles(self) -> tuple[np.ndarray, np.ndarray]:
        """``a`` and ``b`` (legacy: ``b + 1``) repeated along a chunk of columns (read-only)."""
        if self._tile_cache is None:
            chunk = max(64, _BLOCK_ELEMENTS // self.params.num_perm)
            b = self.b + np.uint64(1) if self.params.scheme == "legacy" else self.b
            a_tile = np.repeat(self.a[:, None], chunk, axis=1)
            b_tile = np.repeat(b[:, None], chunk, axis=1)
            a_tile.flags.writeable = b_tile.flags.writeable = False
            self._tile_cache = (a_tile, b_tile)
        return self._tile_cache

    def __getstate__(self) -> dict:
        return {"params": self.params}  # the permutations and tiles are rebuilt on load

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["params"])

    def _exact(self, h: np.ndarray) -> np.ndarray:
        """datasketch's own formula, for the rare documents the fast path cannot settle."""
        out = np.full(self.params.num_perm, MAX_HASH, dtype=np.uint64)
        for s in range(0, len(h), 4096):
            phv = (h[s : s + 4096, None] * self.a + self.b) % _P
            np.minimum(out, np.bitwise_and(phv, _M32).min(axis=0), out=out)
        return out.astype(np.uint32)

    # ------------------------------------------------------------------ LSH

    @staticmethod
    def is_empty(sig: np.ndarray) -> bool:
        """True for the signature of a document without shingles."""
        return bool((np.asarray(sig) == MAX_HASH).all())

    def band_keys(self, sig: np.ndarray) -> list[int]:
        """One 64-bit key per band (``bands`` ints), or ``[]`` for an empty document.

        Two signatures share band ``i``'s key exactly when that band's ``rows`` values are
        equal (up to 64-bit hash collisions). The band index is hashed in, so equal slices in
        different bands get different keys and the key alone can be the GroupByKey key.
        Definition: ``acc = fmix64(0x6A09E667F3BCC909 ^ i)``, then for each row value ``r``
        of the band ``acc = fmix64(acc ^ r)`` (fmix64: the MurmurHash3 finalizer).
        """
        row = np.asarray(sig)
        if row.shape != (self.params.num_perm,):
            raise ValueError(f"expected a signature of shape ({self.params.num_perm},), got {row.shape}")
        return self.band_keys_batch(row[None, :])[0]

    def band_keys_batch(self, sigs: np.ndarray) -> list[list[int]]:
        """:meth:`band_keys` for every row of a ``(n, num_perm)`` signature array."""
        keys, empty = self.band_key_array(sigs)
        rows = keys.tolist()
        return [[] if empty[i] else rows[i] for i in range(len(rows))]

    def band_key_array(self, sigs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(keys, empty)``: a ``(n, bands)`` uint64 array of band keys and a boolean mask of
        the empty documents (whose keys must not be used), all vectorized."""
        sigs = np.asarray(sigs)
        if sigs.ndim != 2 or sigs.shape[1] != self.params.num_perm:
            raise ValueError(f"expected signatures of shape (n, {self.params.num_perm}), got {sigs.shape}")
        bands, rows = self.params.bands, self.params.rows
        used = sigs[:, : bands * rows].astype(np.uint64).reshape(len(sigs), bands, rows)
        acc = np.empty((len(sigs), bands), dtype=np.uint64)
        acc[:] = _fmix64(np.uint64(_BAND_SEED) ^ np.arange(bands, dtype=np.uint64))
        for j in range(rows):
            acc ^= used[:, :, j]
            _fmix64(acc)
        empty = (sigs == MAX_HASH).all(axis=1)
        return acc, empty

    # ------------------------------------------------------------------ interop

    def to_lean_minhash(self, sig: np.ndarray):
        """A ``datasketch.LeanMinHash`` (of our scheme) holding ``sig``."""
        from datasketch import LeanMinHash

        values = np.asarray(sig).astype(np.uint64 if self.params.scheme == "legacy" else np.uint32)
        if values.shape != (self.params.num_perm,):
            raise ValueError(f"expected a signature of shape ({self.params.num_perm},), got {values.shape}")
        return LeanMinHash(seed=self.params.seed, hashvalues=values, **_scheme_kwargs(self.params.scheme))

    def datasketch_minhash(self):
        """An empty ``datasketch.MinHash`` (our scheme, ``hashfunc=shingle_hash``) that
        produces our signatures when updated with :func:`~pipeline.dedup.shingles.shingles`."""
        from datasketch import MinHash

        return MinHash(
            num_perm=self.params.num_perm,
            seed=self.params.seed,
            hashfunc=shingle_hash,
            **_scheme_kwargs(self.params.scheme),
        )

    @staticmethod
    def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
        """Fraction of equal signature values: the MinHash estimate of the Jaccard similarity
        (0.0 when either document is empty)."""
        if MinHasher.is_empty(sig_a) or MinHasher.is_empty(sig_b):
            return 0.0
        return float(np.count_nonzero(np.asarray(sig_a) == np.asarray(sig_b))) / len(sig_a)

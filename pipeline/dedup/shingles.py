"""Text normalization, shingles and shingle hashes for near-duplicate detection (pure core).

Normalization (:func:`simplify_text`), modelled on datatrove's ``simplify_text``:

1. lowercase (``str.lower``);
2. numbers: every run of digits, with an optional decimal part (``3.14``, ``12,000``),
   becomes ``0`` (``normalize_numbers``; datatrove's default too);
3. punctuation, symbols and control characters become spaces: a *word* is a maximal run of
   letters, digits and combining marks (``_`` is punctuation);
4. accents: NFD, then the combining *diacritical* marks (U+0300-036F, U+1AB0-1AFF,
   U+1DC0-1DFF, U+20D0-20FF, U+FE20-FE2F) are removed, so ``café`` == ``cafe``
   (``strip_accents``, on by default). Unlike datatrove we keep the other combining marks
   (Devanagari, Thai, ... vowel signs) because they are letters of those scripts; with
   ``strip_accents=False`` the text is NFC-normalized instead;
5. whitespace collapsed: the words are joined with single spaces.

The fast path works on UTF-8 bytes: ``bytes.translate`` maps ASCII punctuation to spaces
and digits to ``0``; an ASCII document then goes straight to the vectorized word finder,
and in other documents only the words that still hold non-ASCII bytes go through the
Unicode-aware regular expression (memoized), so a document costs a handful of C calls.

Shingles. A document is cut into *units* and a shingle is ``n`` consecutive units:

- word mode (default): units are the words above, ``n = ngram`` (5);
- character mode, for text written without spaces: units are the characters of the
  normalized text with the spaces removed, ``n = char_ngram`` (5). A document is in
  character mode when at least 30% of its non-space characters belong to scripts written
  without word spaces (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar, Tibetan), or when
  it has at least 100 non-space characters and fewer than one space-separated word per 20
  of them (no script we know, but clearly not space-separated).

A document with fewer units than ``n`` (but at least one) has exactly one shingle, made of
all its units; an empty document (nothing left after normalization) has no shingle.

Bounded work: at most ``max_shingles`` shingles per document (default 100,000 -- about
600 KB of English prose, far beyond typical web pages), taken from the start of the
document. Only a prefix of the raw text is normalized (``16`` characters per needed unit,
grown x4 while too short), so a 10 MB document costs about the same as a 1.6 MB one.

Hashes. A unit ``u`` (bytes ``b_1..b_L``) hashes to ``fmix64(Horner(u))`` with
``Horner(u) = (((S_u * K_u + b_1) * K_u + b_2) ... * K_u + b_L) mod 2**64`` (``fmix64`` is
the MurmurHash3 finalizer; ``S_u``, ``K_u`` fixed odd constants): :func:`unit_hash`. A
shingle ``(w_1..w_k)`` hashes to the top 32 bits of
``fmix64(((S * K + unit_hash(w_1)) * K + ...) * K + unit_hash(w_k))``: :func:`shingle_hash`,
usable as ``datasketch.MinHash(hashfunc=shingle_hash)``. :func:`batch_shingle_hashes`
computes exactly these numbers for a whole batch of documents with numpy, with no Python
work per word: words are found as runs of non-space bytes of the joined normalized texts,
``Horner`` of every word at once comes from one prefix sum (``sum b_j K^-j``, ``K`` being
invertible modulo 2**64), and the ``n``-word windows are ``n`` vectorized multiply-adds.
(A seeded non-cryptographic hash, not SHA-1: ~5 ns per byte of text, all in numpy.)
"""

from __future__ import annotations

import functools
import re
import string
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DEFAULT_MAX_SHINGLES",
    "ShingleConfig",
    "batch_shingle_hashes",
    "jaccard",
    "shingle_hash",
    "shingle_hash_set",
    "shingle_hashes",
    "shingle_units",
    "shingles",
    "simplify_text",
    "tokenize",
    "unit_hash",
]

DEFAULT_MAX_SHINGLES = 100_000

# Character mode: share of non-space characters from scripts written without spaces, and
# the "clearly not space-separated" rule (>= _LONG_MIN_CHARS characters, mean word length
# >= _LONG_MEAN_WORD).
CHAR_MODE_SCRIPT_RATIO = 0.3
_LONG_MIN_CHARS = 100
_LONG_MEAN_WORD = 20
# Raw characters normalized per unit still needed, before the prefix is grown.
_CHARS_PER_UNIT = 16

_M64 = (1 << 64) - 1
_SEED = 0x243F6A8885A308D3  # shingle-hash start value (pi), odd
_MUL = 0x9E3779B97F4A7C15  # shingle-hash multiplier (golden ratio), odd
_FMIX1 = 0xFF51AFD7ED558CCD
_FMIX2 = 0xC4CEB9FE1A85EC53


@dataclass(frozen=True)
class ShingleConfig:
    """How a document becomes shingles; see the module docstring."""

    ngram: int = 5
    char_ngram: int = 5
    max_shingles: int = DEFAULT_MAX_SHINGLES
    strip_accents: bool = True
    normalize_numbers: bool = True

    def __post_init__(self) -> None:
        for name in ("ngram", "char_ngram", "max_shingles"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("strip_accents", "normalize_numbers"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")


DEFAULT_CONFIG = ShingleConfig()

# --------------------------------------------------------------------------- normalization


def _ascii_table(numbers: bool, keep_decimal_marks: bool) -> bytes:
    """256-byte table: ASCII punctuation/controls -> space, digits -> '0' (with numbers)."""
    table = bytearray(range(256))
    for c in list(range(32)) + [127] + list(string.punctuation.encode()):
        table[c] = 32
    if numbers:
        for c in b"0123456789":
            table[c] = ord("0")
    if keep_decimal_marks:
        table[ord(".")] = ord(".")
        table[ord(",")] = ord(",")
    return bytes(table)


_T_NUMBERS = _ascii_table(numbers=True, keep_decimal_marks=True)
_T_PLAIN = _ascii_table(numbers=False, keep_decimal_marks=False)
_T_DECIMAL_MARKS = bytes(32 if c in (ord("."), ord(",")) else c for c in range(256))
_ASCII_NUMBER = re.compile(rb"0+(?:[.,]0+)?")
_UNICODE_NUMBER = re.compile(r"\d+(?:[.,\u060c\u066b]\d+)?")
_ACCENTS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
# UTF-8 continuation bytes, deleted to count characters.
_CONTINUATION = bytes(range(0x80, 0xC0))


@functools.cache
def _word_regex() -> re.Pattern[str]:
    """Runs of letters, digits and combining marks (``\\w`` without ``_``, plus marks)."""
    marks: list[int] = [c for c in range(0x20000) if unicodedata.category(chr(c)).startswith("M")]
    marks.extend(range(0xE0100, 0xE01F0))  # variation selectors supplement (Mn)
    ranges = []
    start = prev = marks[0]
    for c in marks[1:]:
        if c != prev + 1:
            ranges.append((start, prev))
            start = c
        prev = c
    ranges.append((start, prev))
    cls = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges
    )
    return re.compile(f"(?:[^\\W_]|[{cls}])+")


@functools.lru_cache(maxsize=1 << 16)
def _split_non_ascii(token: bytes, strip_accents: bool, numbers: bool) -> tuple[bytes, ...]:
    """Normalize one space-free token that holds non-ASCII bytes into zero or more words."""
    text = token.decode("utf-8", "replace")
    if strip_accents:
        text = _ACCENTS.sub("", unicodedata.normalize("NFD", text))
    else:
        text = unicodedata.normalize("NFC", text)
    if numbers:
        text = _UNICODE_NUMBER.sub("0", text)
    return tuple(w.encode("utf-8") for w in _word_regex().findall(text))


def _normalized_bytes(text: str, numbers: bool) -> bytes:
    """Lowercased UTF-8 with ASCII punctuation as spaces and numbers as ``0``."""
    data = text.lower().encode("utf-8", "replace")  # "replace": lone surrogates -> '?'
    if not numbers:
        return data.translate(_T_PLAIN)
    data = data.translate(_T_NUMBERS)
    if b"0" in data:
        data = _ASCII_NUMBER.sub(b"0", data)
    return data.translate(_T_DECIMAL_MARKS)


def tokenize(text: str, strip_accents: bool = True, normalize_numbers: bool = True) -> list[bytes]:
    """The normalized words of ``text`` as UTF-8 bytes (see the module docstring)."""
    data = _normalized_bytes(text, normalize_numbers)
    words = data.split()
    if data.isascii():
        return words
    out: list[bytes] = []
    for w in words:
        if w.isascii():
            out.append(w)
        else:
            out.extend(_split_non_ascii(w, strip_accents, normalize_numbers))
    return out


def simplify_text(text: str, strip_accents: bool = True, normalize_numbers: bool = True) -> str:
    """``text`` lowercased, numbers as ``0``, punctuation removed, accents stripped,
    whitespace collapsed to single spaces (datatrove-style ``simplify_text``)."""
    return b" ".join(tokenize(text, strip_accents, normalize_numbers)).decode("utf-8")


# ------------------------------------------------------------------------ character mode

# Lead-byte prefixes (in UTF-8) of characters from scripts written without spaces.
_NOSPACE_PREFIXES = (
    [bytes([b]) for b in range(0xE4, 0xEA)]  # U+4000-9FFF: CJK unified ideographs
    + [b"\xe0\xb8", b"\xe0\xb9", b"\xe0\xba", b"\xe0\xbb"]  # Thai, Lao
    + [b"\xe0\xbc", b"\xe0\xbd", b"\xe0\xbe", b"\xe0\xbf"]  # Tibetan
    + [b"\xe1\x80", b"\xe1\x81", b"\xe1\x82"]  # Myanmar
    + [b"\xe1\x9e", b"\xe1\x9f"]  # Khmer
    + [bytes([0xEF, b]) for b in range(0xA4, 0xAC)]  # U+F900-FAFF: CJK compatibility
)
# U+3000-3FFF (lead byte E3): kana and CJK extension A count, but not CJK punctuation
# (E3 80) nor Hangul compatibility jamo (E3 85, E3 86: Korean is written with spaces).
_E3_EXCLUDED = (b"\xe3\x80", b"\xe3\x85", b"\xe3\x86")
# Supplementary ideographic planes U+20000-3FFFF: F0 A0 .. F0 BF.
_SIP_PREFIXES = [bytes([0xF0, b]) for b in range(0xA0, 0xC0)]


def _nospace_chars(data: bytes) -> int:
    n = sum(data.count(p) for p in _NOSPACE_PREFIXES)
    if b"\xe3" in data:
        n += data.count(b"\xe3") - sum(data.count(p) for p in _E3_EXCLUDED)
    if b"\xf0" in data:
        n += sum(data.count(p) for p in _SIP_PREFIXES)
    return n


def _is_char_mode(tokens: list[bytes], joined: bytes) -> bool:
    chars = len(joined.translate(None, _CONTINUATION)) if not joined.isascii() else len(joined)
    if chars == 0:
        return False
    if not joined.isascii() and _nospace_chars(joined) >= CHAR_MODE_SCRIPT_RATIO * chars:
        return True
    return chars >= _LONG_MIN_CHARS and chars >= _LONG_MEAN_WORD * len(tokens)


def _units_of(text: str, cfg: ShingleConfig) -> tuple[str, list[bytes] | str]:
    """("word", words) or ("char", the normalized text without spaces)."""
    tokens = tokenize(text, cfg.strip_accents, cfg.normalize_numbers)
    joined = b"".join(tokens)
    if _is_char_mode(tokens, joined):
        return "char", joined.decode("utf-8")
    return "word", tokens


def _capped_units(text: str, cfg: ShingleConfig) -> tuple[str, list[bytes] | str]:
    """Units of ``text``, at most ``max_shingles + n - 1``, normalizing only a prefix."""
    needed = cfg.max_shingles + max(cfg.ngram, cfg.char_ngram) - 1
    limit = needed * _CHARS_PER_UNIT + 64
    while True:
        truncated = len(text) > limit
        mode, units = _units_of(text[:limit] if truncated else text, cfg)
        if truncated:
            units = units[:-1]  # the last word may have been cut by the prefix
        n = cfg.char_ngram if mode == "char" else cfg.ngram
        cap = cfg.max_shingles + n - 1
        if not truncated or len(units) >= cap:
            return mode, units[:cap]
        limit *= 4


def shingle_units(text: str, cfg: ShingleConfig = DEFAULT_CONFIG) -> tuple[str, list[bytes]]:
    """``(mode, units)``: mode ``"word"`` or ``"char"``, units as UTF-8 bytes (capped)."""
    mode, units = _capped_units(text, cfg)
    if mode == "char":
        return mode, [c.encode("utf-8") for c in units]
    return mode, list(units)


def shingles(text: str, cfg: ShingleConfig = DEFAULT_CONFIG) -> list[tuple[bytes, ...]]:
    """The shingles of ``text`` in order (tuples of units), at most ``max_shingles``.

    This is the slow, readable reference; :func:`batch_shingle_hashes` computes
    ``[shingle_hash(s) for s in shingles(text)]`` for many texts at once.
    """
    mode, units = shingle_units(text, cfg)
    n = cfg.char_ngram if mode == "char" else cfg.ngram
    if not units:
        return []
    if len(units) < n:
        return [tuple(units)]
    return [tuple(units[i : i + n]) for i in range(len(units) - n + 1)]


# -------------------------------------------------------------------------------- hashes

# Unit (word / character) hash: Horner's rule over the UTF-8 bytes modulo 2**64, starting
# from _UNIT_SEED, then fmix64. Vectorized with prefix sums: for bytes b_s..b_{e-1},
#   sum_j b_j K^(e-1-j) = (C[e] - C[s]) * K^(e-1),   C[i] = sum_{j<i} b_j K^-j  (mod 2**64),
# K odd, so K^-1 exists modulo 2**64; the seed adds _UNIT_SEED * K^(e-s).
_UNIT_SEED = 0xCBF29CE484222325
_UNIT_MUL = 0xD6E8FEB86659FD93
_UNIT_MUL_INV = pow(_UNIT_MUL, -1, 1 << 64)
# Bytes of normalized text handled per vectorized piece (tables of this many powers).
_PIECE_BYTES = 1 << 17


def _fmix64_int(h: int) -> int:
    h ^= h >> 33
    h = (h * _FMIX1) & _M64
    h ^= h >> 33
    h = (h * _FMIX2) & _M64
    return h ^ (h >> 33)


@functools.lru_cache(maxsize=1 << 16)
def unit_hash(unit: bytes) -> int:
    """64-bit hash of one unit (a word, or one character in character mode) as UTF-8 bytes."""
    acc = _UNIT_SEED
    for byte in unit:
        acc = (acc * _UNIT_MUL + byte) & _M64
    return _fmix64_int(acc)


def shingle_hash(shingle: tuple[bytes, ...] | list[bytes]) -> int:
    """32-bit hash of one shingle (a sequence of units as bytes); see the module docstring.

    Usable as ``datasketch.MinHash(hashfunc=shingle_hash)``.
    """
    acc = _SEED
    for unit in shingle:
        acc = (acc * _MUL + unit_hash(bytes(unit))) & _M64
    return _fmix64_int(acc) >> 32


_U33 = np.uint64(33)
_U32 = np.uint64(32)


def _fmix64(h: np.ndarray) -> np.ndarray:
    """fmix64 of a uint64 array, in place (one scratch array, no other temporaries)."""
    tmp = np.empty_like(h)
    for mul in (_FMIX1, _FMIX2):
        np.right_shift(h, _U33, out=tmp)
        h ^= tmp
        h *= np.uint64(mul)
    np.right_shift(h, _U33, out=tmp)
    h ^= tmp
    return h


@functools.cache
def _power_tables(size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(K^i, K^-i)`` for ``i < size`` as uint64 (wrapping), K = _UNIT_MUL."""
    pw = np.empty(size, dtype=np.uint64)
    inv = np.empty(size, dtype=np.uint64)
    pw[0] = inv[0] = 1
    pw[1:] = _UNIT_MUL
    inv[1:] = _UNIT_MUL_INV
    np.multiply.accumulate(pw, out=pw)
    np.multiply.accumulate(inv, out=inv)
    return pw, inv


def _tables(size: int) -> tuple[np.ndarray, np.ndarray]:
    if size <= _PIECE_BYTES + 1:
        return _power_tables(_PIECE_BYTES + 1)
    return _power_tables.__wrapped__(size)  # a rare giant word: not cached


def _words_in(buf: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Word ``(starts, ends, hashes)`` of a buffer of words separated by ASCII spaces."""
    starts_all, ends_all, hashes_all = [], [], []
    pos, size = 0, len(buf)
    scratch = np.empty(min(size, _PIECE_BYTES) + 1, dtype=np.uint64)
    while pos < size:
        end = min(pos + _PIECE_BYTES, size)
        if end < size:  # cut at a space so that no word straddles two pieces
            cut = buf.rfind(b" ", pos, end)
            if cut > pos:
                end = cut
            else:
                cut = buf.find(b" ", end)
                end = size if cut < 0 else cut
        arr = np.frombuffer(buf, dtype=np.uint8, count=end - pos, offset=pos)
        word = np.zeros(len(arr) + 2, dtype=bool)  # padded with non-word on both sides
        np.not_equal(arr, 32, out=word[1:-1])
        changes = np.flatnonzero(word[1:] != word[:-1])  # alternately word starts and ends
        starts, ends = changes[0::2], changes[1::2]
        pw, inv = _tables(len(arr) + 1)
        prefix = (
            scratch[: len(arr) + 1] if len(arr) < len(scratch) else np.empty(len(arr) + 1, dtype=np.uint64)
        )
        prefix[0] = 0
        np.copyto(prefix[1:], arr)
        np.multiply(prefix[1:], inv[: len(arr)], out=prefix[1:])
        np.cumsum(prefix, out=prefix)
        h = prefix[ends] - prefix[starts]
        h *= pw[ends - 1]
        h += np.uint64(_UNIT_SEED) * pw[ends - starts]
        starts_all.append(starts + pos)
        ends_all.append(ends + pos)
        hashes_all.append(_fmix64(h))
        pos = end
    if not starts_all:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0, dtype=np.uint64)
    return np.concatenate(starts_all), np.concatenate(ends_all), np.concatenate(hashes_all)


@functools.cache
def _bmp_unit_hashes() -> np.ndarray:
    """:func:`unit_hash` of every Basic Multilingual Plane character, by code point."""
    cp = np.arange(0x10000, dtype=np.uint64)
    n_bytes = np.where(cp < 0x80, 1, np.where(cp < 0x800, 2, 3))
    lead = np.where(
        n_bytes == 1, cp, np.where(n_bytes == 2, 0xC0 | (cp >> np.uint64(6)), 0xE0 | (cp >> np.uint64(12)))
    )
    mid = np.where(
        n_bytes == 2, 0x80 | (cp & np.uint64(0x3F)), 0x80 | ((cp >> np.uint64(6)) & np.uint64(0x3F))
    )
    last = 0x80 | (cp & np.uint64(0x3F))
    mul, acc = np.uint64(_UNIT_MUL), np.full(len(cp), _UNIT_SEED, dtype=np.uint64)
    acc = acc * mul + lead.astype(np.uint64)
    acc = np.where(n_bytes >= 2, acc * mul + mid.astype(np.uint64), acc)
    acc = np.where(n_bytes == 3, acc * mul + last, acc)
    return _fmix64(acc)


def _char_unit_hashes(text: str) -> np.ndarray:
    """:func:`unit_hash` of each character of ``text`` (a table lookup per character)."""
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    out = _bmp_unit_hashes()[np.minimum(cps, 0xFFFF)]
    for k in np.flatnonzero(cps > 0xFFFF).tolist():  # astral characters (emoji, CJK ext. B+)
        out[k] = unit_hash(chr(int(cps[k])).encode("utf-8"))
    return out


def _window_hashes(unit_hashes: np.ndarray, n: int) -> np.ndarray:
    """Combined (not yet finalized) hash of every window of ``n`` units: ``len - n + 1`` values."""
    m = len(unit_hashes) - n + 1
    acc = np.full(m, _SEED, dtype=np.uint64)
    mul = np.uint64(_MUL)
    for j in range(n):
        acc *= mul
        acc += unit_hashes[j : j + m]
    return acc


def _prepare(text: str, cfg: ShingleConfig) -> tuple[str, bytes | str, bool]:
    """Per-document stage: ``("word", words separated by spaces, check_long_words)`` or
    ``("char", the normalized characters, already capped, False)``."""
    needed = cfg.max_shingles + max(cfg.ngram, cfg.char_ngram) - 1
    if len(text) > needed * _CHARS_PER_UNIT + 64:  # huge: the prefix-growing reference path
        mode, units = _capped_units(text, cfg)
        return (mode, units, False) if mode == "char" else (mode, b" ".join(units), False)
    data = _normalized_bytes(text, cfg.normalize_numbers)
    if data.isascii():
        return "word", data, True  # long-words rule decided on the word counts, in batch
    tokens = []
    for w in data.split():
        if w.isascii():
            tokens.append(w)
        else:
            tokens.extend(_split_non_ascii(w, cfg.strip_accents, cfg.normalize_numbers))
    joined = b"".join(tokens)
    if _is_char_mode(tokens, joined):
        return "char", joined.decode("utf-8")[: cfg.max_shingles + cfg.char_ngram - 1], False
    return "word", b" ".join(tokens), False


def batch_shingle_hashes(
    texts: Sequence[str], cfg: ShingleConfig = DEFAULT_CONFIG
) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of many texts: ``(hashes, counts)``.

    ``hashes`` is a flat uint64 array (values < 2**32) of every document's shingle hashes in
    order, ``counts[i]`` the number of shingles of ``texts[i]`` (0 for an empty document), so
    document ``i`` owns ``hashes[offsets[i]:offsets[i+1]]`` with ``offsets = [0, *cumsum]``.
    Equal to ``[shingle_hash(s) for s in shingles(text, cfg)]`` for each text.
    """
    n_docs = len(texts)
    modes = np.zeros(n_docs, dtype=bool)  # True: character mode
    char_text: dict[int, str] = {}
    word_docs: list[int] = []
    word_bufs: list[bytes] = []
    check: list[bool] = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] is {type(text).__name__}, expected str")
        mode, payload, long_check = _prepare(text, cfg)
        if mode == "char":
            modes[i] = True
            char_text[i] = payload
        else:
            word_docs.append(i)
            word_bufs.append(payload)
            check.append(long_check)

    # Word-mode documents: one buffer, words found and hashed with numpy.
    buf = b" ".join(word_bufs)
    starts, ends, word_hashes = _words_in(buf)
    buf_starts = np.zeros(len(word_bufs) + 1, dtype=np.int64)
    np.cumsum([len(b) + 1 for b in word_bufs], out=buf_starts[1:])
    first_word = np.searchsorted(starts, buf_starts)  # index of each document's first word
    n_words = np.diff(first_word)
    long_words = np.zeros(len(word_bufs), dtype=bool)
    for j in np.flatnonzero(np.asarray(check, dtype=bool) & (n_words * _LONG_MEAN_WORD <= buf_starts[1:])):
        # ASCII text that may not be space-separated: non-space characters >= 100 and >= 20 per word
        chars = len(word_bufs[j]) - word_bufs[j].count(b" ")
        if chars >= _LONG_MIN_CHARS and chars >= _LONG_MEAN_WORD * n_words[j]:
            long_words[j] = True
            i = word_docs[j]
            modes[i] = True
            char_text[i] = (
                word_bufs[j].replace(b" ", b"").decode("ascii")[: cfg.max_shingles + cfg.char_ngram - 1]
            )

    # Units per document, then one flat array of unit hashes in document order.
    word_cap = cfg.max_shingles + cfg.ngram - 1
    units = np.zeros(n_docs, dtype=np.int64)
    wd = np.asarray(word_docs, dtype=np.int64)
    units[wd] = np.where(long_words, 0, np.minimum(n_words, word_cap))
    for i, s in char_text.items():
        units[i] = len(s)
    unit_pos = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(units, out=unit_pos[1:])
    if not char_text and int(n_words.max(initial=0)) <= word_cap:
        flat = word_hashes  # every word of every document, already in document order
    else:
        flat = np.empty(int(unit_pos[-1]), dtype=np.uint64)
        owner = np.repeat(np.arange(len(word_bufs)), n_words)
        rank = np.arange(len(owner), dtype=np.int64) - first_word[owner]  # word index within its doc
        keep = (rank < word_cap) & ~long_words[owner]
        flat[unit_pos[wd[owner[keep]]] + rank[keep]] = word_hashes[keep]
        for i, s in char_text.items():
            if s:
                flat[unit_pos[i] : unit_pos[i + 1]] = _char_unit_hashes(s)

    # Shingles: full windows of n units, or one short window for documents with m < n units.
    window = np.where(modes, cfg.char_ngram, cfg.ngram)
    counts = np.where(units >= window, units - window + 1, np.minimum(units, 1))
    offsets = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    length = np.minimum(units, window)  # window length per document
    present = np.unique(length[units > 0]).tolist()
    if (
        len(present) == 1
        and (length == present[0]).sum() == (units > 0).sum()
        and int(units.sum()) >= present[0]
    ):
        # One window length for all (the usual case): every window of the flat array, minus
        # the n - 1 windows that straddle each boundary between documents.
        n = present[0]
        windows = _window_hashes(flat, n)
        bad = (unit_pos[1:-1][:, None] - np.arange(1, n)[None, :]).ravel()
        keep = np.ones(len(windows), dtype=bool)
        keep[bad[(bad >= 0) & (bad < len(windows))]] = False
        out = windows[keep]
    else:
        out = np.empty(int(offsets[-1]), dtype=np.uint64)
        for n in present:
            idx = np.flatnonzero((length == n) & (units > 0))
            run = counts[idx]
            within = np.arange(int(run.sum()), dtype=np.int64) - np.repeat(np.cumsum(run) - run, run)
            src = np.repeat(unit_pos[idx], run) + within
            dst = np.repeat(offsets[idx], run) + within
            out[dst] = _window_hashes(flat, n)[src]
    _fmix64(out)
    out >>= _U32
    return out, counts


def shingle_hashes(text: str, cfg: ShingleConfig = DEFAULT_CONFIG) -> np.ndarray:
    """The shingle hashes of one text in order, uint64 values < 2**32 (not deduplicated)."""
    return batch_shingle_hashes([text], cfg)[0]


def shingle_hash_set(text: str, cfg: ShingleConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Sorted unique shingle hashes of ``text`` as uint32, the input of :func:`jaccard`."""
    return np.unique(shingle_hashes(text, cfg).astype(np.uint32))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique arrays (e.g. :func:`shingle_hash_set`).

    Two empty sets have similarity 0.0 (an empty document is never a duplicate by content).
    """
    if len(a) == 0 or len(b) == 0:
        return 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


if sys.byteorder != "little":  # pragma: no cover - the UTF-32-LE / uint32 views assume it
    raise ImportError("pipeline.dedup.shingles assumes a little-endian machine")

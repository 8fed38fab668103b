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

The fast path works on UTF-8 bytes: ``bytes.translate`` maps ASCII punctuation to spaces,
``bytes.split`` cuts words, and only words that still hold non-ASCII bytes go through the
Unicode-aware regular expression (memoized), so an ASCII document costs a handful of C calls.

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

Hashes. A unit hashes to ``xxh3_64(unit as UTF-8)``; a shingle ``(w_1..w_k)`` hashes to
the top 32 bits of ``fmix64(((S * K + w_1) * K + w_2) ... * K + w_k)`` (arithmetic modulo
2**64; ``S``, ``K`` fixed odd constants, ``fmix64`` the MurmurHash3 finalizer).
:func:`shingle_hash` is that definition on one shingle (for ``datasketch.MinHash(
hashfunc=shingle_hash)``); :func:`batch_shingle_hashes` computes the same numbers for many
documents at once with numpy (each distinct word costs one ``xxh3`` call, each shingle a
few vectorized integer operations).
"""

from __future__ import annotations

import functools
import re
import string
import sys
import unicodedata
from dataclasses import dataclass

import numpy as np
import xxhash

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
    cls = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
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

unit_hash = xxhash.xxh3_64_intdigest


def _fmix64_int(h: int) -> int:
    h ^= h >> 33
    h = (h * _FMIX1) & _M64
    h ^= h >> 33
    h = (h * _FMIX2) & _M64
    return h ^ (h >> 33)


def shingle_hash(shingle: tuple[bytes, ...] | list[bytes]) -> int:
    """32-bit hash of one shingle (a sequence of units as bytes); see the module docstring.

    Usable as ``datasketch.MinHash(hashfunc=shingle_hash)``.
    """
    acc = _SEED
    for unit in shingle:
        acc = (acc * _MUL + unit_hash(unit)) & _M64
    return _fmix64_int(acc) >> 32


_U33 = np.uint64(33)
_U32 = np.uint64(32)


def _fmix64_top32(h: np.ndarray) -> np.ndarray:
    """Top 32 bits of fmix64 of a uint64 array (modifies ``h``)."""
    h ^= h >> _U33
    h *= np.uint64(_FMIX1)
    h ^= h >> _U33
    h *= np.uint64(_FMIX2)
    h ^= h >> _U33
    h >>= _U32
    return h


def _window_hashes(unit_hashes: np.ndarray, n: int) -> np.ndarray:
    """Combined (not yet finalized) hash of every window of ``n`` units: ``len - n + 1`` values."""
    m = len(unit_hashes) - n + 1
    acc = np.full(m, _SEED, dtype=np.uint64)
    mul = np.uint64(_MUL)
    for j in range(n):
        acc *= mul
        acc += unit_hashes[j : j + m]
    return acc


def _char_unit_hashes(text: str) -> np.ndarray:
    """xxh3_64 of each character's UTF-8 bytes, one xxh3 call per distinct character."""
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    uniq, inverse = np.unique(cps, return_inverse=True)
    table = np.fromiter(
        (unit_hash(chr(c).encode("utf-8")) for c in uniq.tolist()), np.uint64, len(uniq)
    )
    return table[inverse]


def batch_shingle_hashes(texts: list[str], cfg: ShingleConfig = DEFAULT_CONFIG) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of many texts: ``(hashes, counts)``.

    ``hashes`` is a flat uint64 array (values < 2**32) of every document's shingle hashes in
    order, ``counts[i]`` the number of shingles of ``texts[i]`` (0 for an empty document), so
    document ``i`` owns ``hashes[offsets[i]:offsets[i+1]]`` with ``offsets = [0, *cumsum]``.
    Equal to ``[shingle_hash(s) for s in shingles(text, cfg)]`` per text.
    """
    words: list[bytes] = []  # all word-mode units of the batch, one big xxh3 map
    parts: list[tuple[str, int, object]] = []  # per doc: (mode, unit count, char hashes)
    for text in texts:
        mode, units = _capped_units(text, cfg)
        if mode == "word":
            words.extend(units)
            parts.append(("word", len(units), None))
        else:
            parts.append(("char", len(units), _char_unit_hashes(units) if units else None))

    word_hashes = np.fromiter(map(unit_hash, words), np.uint64, len(words))
    # All unit hashes in document order; document i's units start at unit_pos[i].
    flat = np.empty(sum(p[1] for p in parts), dtype=np.uint64)
    counts = np.zeros(len(texts), dtype=np.int64)
    unit_pos = np.zeros(len(texts), dtype=np.int64)
    pos = wpos = 0
    for i, (mode, m, char_hashes) in enumerate(parts):
        if mode == "word":
            flat[pos : pos + m] = word_hashes[wpos : wpos + m]
            wpos += m
            n = cfg.ngram
        else:
            if m:
                flat[pos : pos + m] = char_hashes
            n = cfg.char_ngram
        counts[i] = m - n + 1 if m >= n else (1 if m else 0)
        unit_pos[i] = pos
        pos += m
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    out = np.empty(int(offsets[-1]), dtype=np.uint64)

    # Group documents by window length: full windows of n units (n = ngram or char_ngram),
    # and the single short window (all m < n units) of a short document.
    groups: dict[int, list[int]] = {}
    for i, (mode, m, _) in enumerate(parts):
        n = cfg.char_ngram if mode == "char" else cfg.ngram
        if m:
            groups.setdefault(min(m, n), []).append(i)
    for n, docs in groups.items():
        idx = np.array(docs, dtype=np.int64)
        run_len = counts[idx]
        total = int(run_len.sum())
        within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(run_len) - run_len, run_len)
        starts = np.repeat(unit_pos[idx], run_len) + within
        dst = np.repeat(offsets[idx], run_len) + within
        # Windows at every position (contiguous slices, no gathers), then keep the ones
        # that lie inside a document.
        out[dst] = _window_hashes(flat, n)[starts]
    return _fmix64_top32(out), counts


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

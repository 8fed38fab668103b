"""Training objectives as pure functions on token arrays: CLM, FIM, MLM and prefix-LM labels.

Every function takes a packed window of ``seq_len + 1`` token ids (numpy, documents separated
by the end-of-document id) and returns ``(input_ids, labels)`` of ``seq_len`` each, int64, with
``IGNORE = -100`` where no loss is taken. Randomness comes only from the ``numpy`` Generator
passed in, so the loader can seed it per sample and a resume repeats it exactly.

- :func:`clm_example`: causal LM, labels = inputs shifted by one.
- :func:`fim_permute` (+ :func:`clm_example`): document-level fill-in-the-middle (Bavarian et
  al. 2022, "Efficient Training of Language Models to Fill in the Middle"): each document piece
  of the window is, with probability ``fim_rate``, cut at two uniformly drawn points into
  prefix/middle/suffix and rewritten as PSM ``<PRE> prefix <SUF> suffix <MID> middle`` or, with
  probability ``spm_rate``, SPM ``<PRE> <SUF> suffix <MID> prefix middle`` (the paper's SPM
  variant, as in BigCode's Megatron-LM). The three sentinels take the place of the piece's last
  three tokens (the end of the suffix), so the window keeps its length and the FIM rate is
  exact; a piece of three tokens or fewer is left as it is. The end-of-document token stays at
  the end, so the model learns to stop after the middle.
- :func:`mlm_example`: RoBERTa dynamic masking: each non-special token is chosen with
  probability ``p`` (15%); of the chosen, 80% become the mask token, 10% a random non-special
  token and 10% stay; labels are the original ids at chosen positions only. Special tokens
  (end-of-document, pad, sentinels...) are never chosen. A fresh generator per visit gives a
  new mask every time a sample is seen.
- :func:`prefix_lm_example`: causal LM whose loss covers only the tokens after a separator
  token, up to and including the end-of-document token (doc2query: ``passage <|sep|> query
  <|endoftext|>``). A document piece whose separator lies before the window gets no loss (its
  context is not visible).
"""

from __future__ import annotations

import numpy as np

IGNORE = -100


def clm_example(window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Causal LM: ``inputs = window[:-1]``, ``labels = window[1:]``."""
    w = np.asarray(window, dtype=np.int64)
    return w[:-1].copy(), w[1:].copy()


def fim_permute(window: np.ndarray, rng: np.random.Generator, *, fim_rate: float, spm_rate: float,
                eod_id: int, prefix_id: int, middle_id: int, suffix_id: int) -> np.ndarray:
    """The window with each document piece FIM-transformed with probability ``fim_rate``.

    Pieces are the runs between end-of-document tokens (the EOD tokens keep their places); the
    result has the same length as ``window``. Random numbers are drawn per piece, four at a
    time (apply, SPM, two cuts), whatever the outcome.
    """
    w = np.asarray(window, dtype=np.int64)
    out = w.copy()
    ends = np.flatnonzero(w == eod_id)
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [w.size]))
    u = rng.random((starts.size, 4))
    for start, stop, (apply, spm, c1, c2) in zip(starts.tolist(), stops.tolist(), u.tolist(), strict=True):
        n = stop - start - 3  # the sentinels take the place of the piece's last three tokens
        if n < 1 or apply >= fim_rate:
            continue
        lo, hi = sorted((int(c1 * (n + 1)), int(c2 * (n + 1))))
        a, b, c, e = start, start + lo, start + hi, start + n
        if spm < spm_rate:  # <PRE> <SUF> suffix <MID> prefix middle
            out[start:stop] = np.concatenate(([prefix_id, suffix_id], w[c:e], [middle_id], w[a:c]))
        else:  # <PRE> prefix <SUF> suffix <MID> middle
            out[start:stop] = np.concatenate(([prefix_id], w[a:b], [suffix_id], w[c:e], [middle_id], w[b:c]))
    return out


def fim_example(window: np.ndarray, rng: np.random.Generator, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fim_permute` then causal-LM labels (loss on every token, sentinels included)."""
    return clm_example(fim_permute(window, rng, **kwargs))


def mlm_example(window: np.ndarray, rng: np.random.Generator, *, probability: float, mask_id: int,
                is_special: np.ndarray, random_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RoBERTa dynamic masking of ``window[:-1]``; labels hold the originals at chosen positions.

    ``is_special`` is a boolean lookup over the vocabulary (:func:`special_lookup`);
    ``random_ids`` are the ids a randomised token is drawn from (:func:`non_special_ids`).
    """
    tokens = np.asarray(window, dtype=np.int64)[:-1]
    # one 16-bit draw per token decides both whether it is chosen and what happens to it:
    # u < p * 2^16 chooses; within that, the first 80% mask, the next 10% randomise, the rest stay
    u = rng.integers(0, 1 << 16, size=tokens.size, dtype=np.uint16)
    t_choose = round(probability * (1 << 16))
    t_mask, t_random = round(0.8 * t_choose), round(0.9 * t_choose)
    chosen = (u < t_choose) & ~is_special[tokens]
    labels = np.where(chosen, tokens, IGNORE)
    inputs = tokens.copy()
    inputs[chosen & (u < t_mask)] = mask_id
    randomise = chosen & (u >= t_mask) & (u < t_random)
    k = int(randomise.sum())
    if k:
        inputs[randomise] = random_ids[rng.integers(0, random_ids.size, size=k)]
    return inputs, labels


def special_lookup(vocab_size: int, special_ids: np.ndarray) -> np.ndarray:
    """A boolean array over the vocabulary, True at the special ids (a fast membership test)."""
    table = np.zeros(vocab_size, dtype=bool)
    table[np.asarray(special_ids, dtype=np.int64)] = True
    return table


def non_special_ids(vocab_size: int, special_ids: np.ndarray) -> np.ndarray:
    """Every id below ``vocab_size`` that is not special (what MLM draws random tokens from)."""
    return np.setdiff1d(np.arange(vocab_size, dtype=np.int64), np.asarray(special_ids, dtype=np.int64))


def prefix_lm_mask(tokens: np.ndarray, sep_id: int, eod_id: int) -> np.ndarray:
    """True at positions after a separator of the same document, up to and including its EOD."""
    t = np.asarray(tokens)
    is_sep, is_eod = t == sep_id, t == eod_id
    # index of the latest separator / EOD at or before each position (-1 for none)
    pos = np.arange(t.size)
    last_sep = np.maximum.accumulate(np.where(is_sep, pos, -1))
    last_eod_before = np.maximum.accumulate(np.where(is_eod, pos, -1))
    # an EOD belongs to its own document: compare with the EOD strictly before it
    prev_eod = np.concatenate(([-1], last_eod_before[:-1]))
    doc_start_eod = np.where(is_eod, prev_eod, last_eod_before)
    return (last_sep > doc_start_eod) & ~is_sep


def prefix_lm_example(window: np.ndarray, *, sep_id: int, eod_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Causal-LM inputs; labels only where the predicted token follows its document's separator."""
    inputs, labels = clm_example(window)
    keep = prefix_lm_mask(np.asarray(window), sep_id, eod_id)[1:]
    return inputs, np.where(keep, labels, IGNORE)

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


def _fim_piece(piece: np.ndarray, rng: np.random.Generator, spm_rate: float,
               pre: int, mid: int, suf: int) -> np.ndarray:
    """One document piece (no end-of-document token) rewritten in PSM or SPM, same length.

    The three sentinels take the place of the piece's last three tokens (the end of the
    suffix); the two cut points are uniform over what is left.
    """
    content = piece[:piece.size - 3]
    lo, hi = np.sort(rng.integers(0, content.size + 1, size=2))
    prefix, middle, suffix = content[:lo], content[lo:hi], content[hi:]
    if rng.random() < spm_rate:
        out = np.concatenate(([pre, suf], suffix, [mid], prefix, middle))
    else:
        out = np.concatenate(([pre], prefix, [suf], suffix, [mid], middle))
    return out.astype(piece.dtype, copy=False)


def fim_permute(window: np.ndarray, rng: np.random.Generator, *, fim_rate: float, spm_rate: float,
                eod_id: int, prefix_id: int, middle_id: int, suffix_id: int) -> np.ndarray:
    """The window with each document piece FIM-transformed with probability ``fim_rate``.

    Pieces are the runs between end-of-document tokens (the EOD tokens keep their places); the
    result has the same length as ``window``.
    """
    w = np.asarray(window, dtype=np.int64)
    out = w.copy()
    ends = np.flatnonzero(w == eod_id)
    start = 0
    for stop in list(ends) + [w.size]:
        stop = int(stop)
        if stop - start > 3:  # room for the three sentinels and at least one token
            if rng.random() < fim_rate:
                out[start:stop] = _fim_piece(w[start:stop], rng, spm_rate, prefix_id, middle_id, suffix_id)
        start = stop + 1
    return out


def fim_example(window: np.ndarray, rng: np.random.Generator, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fim_permute` then causal-LM labels (loss on every token, sentinels included)."""
    return clm_example(fim_permute(window, rng, **kwargs))


def mlm_example(window: np.ndarray, rng: np.random.Generator, *, probability: float, mask_id: int,
                special_ids: np.ndarray, random_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RoBERTa dynamic masking of ``window[:-1]``; labels hold the originals at chosen positions.

    ``random_ids`` are the ids a randomised token is drawn from (the non-special ids, see
    :func:`non_special_ids`).
    """
    tokens = np.asarray(window, dtype=np.int64)[:-1]
    special = np.isin(tokens, special_ids)
    chosen = (rng.random(tokens.size) < probability) & ~special
    labels = np.where(chosen, tokens, IGNORE)
    action = rng.random(tokens.size)
    inputs = tokens.copy()
    inputs[chosen & (action < 0.8)] = mask_id
    randomise = chosen & (action >= 0.8) & (action < 0.9)
    k = int(randomise.sum())
    if k:
        inputs[randomise] = random_ids[rng.integers(0, random_ids.size, size=k)]
    return inputs, labels


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

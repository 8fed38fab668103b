"""Objectives as pure functions on token arrays: CLM shift, FIM (PSM/SPM), RoBERTa MLM, prefix-LM labels."""

from __future__ import annotations

import numpy as np
import pytest

from trainer.objectives import (
    IGNORE,
    clm_example,
    fim_example,
    fim_permute,
    mlm_example,
    non_special_ids,
    prefix_lm_example,
    prefix_lm_mask,
    special_lookup,
)

EOD, PAD, PRE, MID, SUF, MASK, SEP = 0, 1, 2, 3, 4, 5, 6
SPECIAL = np.array([EOD, PAD, PRE, MID, SUF, MASK, SEP])
VOCAB = 500
FIM = dict(eod_id=EOD, prefix_id=PRE, middle_id=MID, suffix_id=SUF)


def _doc(n: int, start: int = 10) -> np.ndarray:
    return np.arange(start, start + n, dtype=np.int64)


def _split_psm(out: np.ndarray) -> tuple[list, list, list]:
    out = out.tolist()
    assert out[0] == PRE and out.count(SUF) == 1 and out.count(MID) == 1
    s, m = out.index(SUF), out.index(MID)
    return out[1:s], out[s + 1:m], out[m + 1:]


def test_clm_labels_are_inputs_shifted_by_one():
    window = np.array([7, 8, 9, EOD, 11])
    inputs, labels = clm_example(window)
    assert inputs.tolist() == [7, 8, 9, EOD] and labels.tolist() == [8, 9, EOD, 11]
    assert inputs.dtype == labels.dtype == np.int64


def test_fim_psm_rearranges_one_document_and_keeps_its_tokens():
    doc = _doc(40)
    window = np.concatenate([doc, [EOD]])
    for seed in range(50):
        out = fim_permute(window, np.random.default_rng(seed), fim_rate=1.0, spm_rate=0.0, **FIM)
        assert out.size == window.size and out[-1] == EOD  # same length, EOD stays last
        prefix, suffix, middle = _split_psm(out[:-1])
        # prefix + middle + suffix is the document, with the suffix shortened by the 3 sentinels
        assert prefix + middle + suffix == doc[:-3].tolist()


def test_fim_spm_puts_the_suffix_first():
    doc = _doc(40)
    window = np.concatenate([doc, [EOD]])
    for seed in range(50):
        out = fim_permute(window, np.random.default_rng(seed), fim_rate=1.0, spm_rate=1.0, **FIM).tolist()
        assert out[:2] == [PRE, SUF] and out.count(MID) == 1 and out[-1] == EOD
        m = out.index(MID)
        suffix, prefix_middle = out[2:m], out[m + 1:-1]
        # SPM: <PRE><SUF> suffix <MID> prefix middle; prefix + middle + suffix = the document
        assert prefix_middle + suffix == doc[:-3].tolist()


def test_fim_rate_and_spm_rate_are_realised_per_document():
    rng = np.random.default_rng(0)
    pieces = [_doc(30, 10), [EOD], _doc(25, 100), [EOD], _doc(20, 200), [EOD], _doc(35, 300)]
    window = np.concatenate(pieces)
    eods = np.flatnonzero(window == EOD)
    transformed = spm = total = 0
    for _ in range(1000):
        out = fim_permute(window, rng, fim_rate=0.3, spm_rate=0.25, **FIM)
        assert out.size == window.size and np.array_equal(np.flatnonzero(out == EOD), eods)
        for piece in np.split(out, eods):
            piece = piece[piece != EOD]
            total += 1
            if piece[0] == PRE:
                transformed += 1
                spm += int(piece[1] == SUF)
    assert abs(transformed / total - 0.3) < 0.03
    # "<PRE><SUF>" opens every SPM piece, and a PSM piece whose prefix is empty (first cut at 0:
    # probability 1 - (c / (c + 1))^2 for c = length - 3 tokens to cut)
    empty_prefix = np.mean([1 - (c / (c + 1)) ** 2 for c in (27, 22, 17, 32)])
    assert abs(spm / transformed - (0.25 + 0.75 * empty_prefix)) < 0.04


def test_fim_leaves_pieces_too_short_for_the_sentinels_alone():
    window = np.array([10, 11, EOD, 12, EOD], dtype=np.int64)
    for seed in range(20):
        out = fim_permute(window, np.random.default_rng(seed), fim_rate=1.0, spm_rate=0.5, **FIM)
        assert out.size == 5
        if PRE not in out.tolist():
            assert np.array_equal(out, window)


def test_fim_is_seeded_and_gives_clm_labels():
    window = np.concatenate([_doc(60), [EOD], _doc(30, 200)])
    a = fim_example(window, np.random.default_rng(1), fim_rate=1.0, spm_rate=0.5, **FIM)
    b = fim_example(window, np.random.default_rng(1), fim_rate=1.0, spm_rate=0.5, **FIM)
    c = fim_example(window, np.random.default_rng(2), fim_rate=1.0, spm_rate=0.5, **FIM)
    assert np.array_equal(a[0], b[0]) and not np.array_equal(a[0], c[0])
    assert np.array_equal(a[0][1:], a[1][:-1]) and a[0].size == window.size - 1
    none = fim_permute(window, np.random.default_rng(1), fim_rate=0.0, spm_rate=0.5, **FIM)
    assert np.array_equal(none, window)


def test_mlm_masks_fifteen_percent_with_80_10_10_and_never_special_tokens():
    rng = np.random.default_rng(0)
    base = np.random.default_rng(1).integers(20, VOCAB, size=4097)
    base[::17] = EOD
    base[5::29] = SEP
    randoms = non_special_ids(VOCAB, SPECIAL)
    chosen = masked = randomised = kept = eligible = 0
    for _ in range(40):
        inputs, labels = mlm_example(base, rng, probability=0.15, mask_id=MASK,
                                     is_special=special_lookup(VOCAB, SPECIAL), random_ids=randoms)
        tokens = base[:-1]
        assert inputs.size == labels.size == tokens.size
        pick = labels != IGNORE
        assert not np.isin(tokens[pick], SPECIAL).any()  # special tokens are never chosen
        assert np.array_equal(labels[pick], tokens[pick])  # labels are the originals
        assert np.array_equal(inputs[~pick], tokens[~pick])  # the rest is untouched
        eligible += int((~np.isin(tokens, SPECIAL)).sum())
        chosen += int(pick.sum())
        masked += int((inputs[pick] == MASK).sum())
        changed = pick & (inputs != MASK) & (inputs != tokens)
        randomised += int(changed.sum())
        kept += int((pick & (inputs == tokens)).sum())
        assert not np.isin(inputs[changed], SPECIAL).any()  # random replacements are ordinary tokens
    assert abs(chosen / eligible - 0.15) < 0.01
    assert abs(masked / chosen - 0.8) < 0.02
    # a random replacement equal to the original counts as kept (1/len(randoms) of them)
    assert abs(randomised / chosen - 0.1) < 0.015
    assert abs(kept / chosen - 0.1) < 0.015


def test_mlm_mask_is_dynamic():
    window = np.arange(20, 420)
    kw = dict(probability=0.15, mask_id=MASK, is_special=special_lookup(VOCAB, SPECIAL),
              random_ids=non_special_ids(VOCAB, SPECIAL))
    a = mlm_example(window, np.random.default_rng([0, 7, 0]), **kw)[1]
    b = mlm_example(window, np.random.default_rng([0, 7, 0]), **kw)[1]
    c = mlm_example(window, np.random.default_rng([0, 7, 1]), **kw)[1]  # the same sample, next epoch
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_prefix_lm_loss_only_after_the_separator_up_to_eod():
    #         fragment of a doc whose separator is not visible | doc: passage SEP query EOD | doc...
    window = np.array([31, 32, EOD, 40, 41, SEP, 50, 51, EOD, 60, SEP, 70, EOD, 80], dtype=np.int64)
    mask = prefix_lm_mask(window, SEP, EOD)
    assert mask.tolist() == [False, False, False, False, False, False, True, True, True, False, False, True, True,
                             False]
    inputs, labels = prefix_lm_example(window, sep_id=SEP, eod_id=EOD)
    assert inputs.tolist() == window[:-1].tolist()
    want = [IGNORE, IGNORE, IGNORE, IGNORE, IGNORE, 50, 51, EOD, IGNORE, IGNORE, 70, EOD, IGNORE]
    assert labels.tolist() == want


@pytest.mark.parametrize("window", [np.array([SEP, 1 + 20, 22, EOD, 23]), np.array([20, 21, 22, 23])])
def test_prefix_lm_edge_cases(window):
    _, labels = prefix_lm_example(window, sep_id=SEP, eod_id=EOD)
    if window[0] == SEP:  # a separator at the start of the window counts
        assert labels.tolist() == [21, 22, EOD, IGNORE]
    else:  # no separator: no loss
        assert (labels == IGNORE).all()

"""C4 span de-duplication, pure core: spans and keys, the keep rule, drops and counts."""

import random

import pytest

from pipeline.dedup.spans import (
    SpanDedupParams,
    apply_kept,
    merge_keepers,
    page_spans,
    span_dedup_pages,
    span_key,
)
from pipeline.recipe import parse_steps, with_previous_build

S = [f"Sentence number {w} tells a story." for w in
     ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")]


def page(*idx: int, per_line: int = 2) -> str:
    """Sentences S[i] for i in idx, ``per_line`` to a line."""
    sents = [S[i] for i in idx]
    return "\n".join(" ".join(sents[k:k + per_line]) for k in range(0, len(sents), per_line))


def test_page_spans_cut_lines_into_sentences_and_hash_every_three():
    text = "First one here. Second one here.\nThird one here! Fourth?"
    sp = page_spans(text)
    assert [sp.lines[li][s:e] for li, s, e in sp.sentences] == [
        "First one here.", "Second one here.", "Third one here!", "Fourth?"]
    assert len(sp.keys) == 2  # spans start at sentences 0 and 1, across the line break
    assert sp.keys[0] == span_key(["First one here.", "Second one here.", "Third one here!"])
    # keys ignore case and whitespace, not words or punctuation
    assert span_key(["A  b.", "C d.", "E f."]) == span_key(["a b.", "c   D.", "e F."])
    assert span_key(["A b.", "C d.", "E f."]) != span_key(["A b.", "C d.", "E f!"])
    assert page_spans("Only one. And two.").keys == []  # fewer than 3 sentences: no span


def test_repeated_span_stays_on_the_smallest_id_and_leaves_the_others():
    shared = (0, 1, 2)
    pages = {"b": page(*shared, 3, 4, 5, 6), "a": page(7, 8, *shared, 9), "c": page(10, 11, 3)}
    out = span_dedup_pages(pages.items())
    assert out["a"].keep and out["a"].text is None  # the keeper is unchanged, byte for byte
    assert out["c"].keep and out["c"].text is None  # shares no whole span: unchanged
    b = out["b"]
    # lines "S0 S1", "S2 S3", "S4 S5", "S6": the first goes, the second keeps S3
    assert b.keep and b.text == f"{S[3]}\n{S[4]} {S[5]}\n{S[6]}"
    assert b.counts == {"pages_edited": 1, "spans_removed": 1, "sentences_removed": 3}


def test_line_keeps_its_other_sentences_and_empty_lines_go():
    shared = page(0, 1, 2, per_line=3)
    b = "Intro line stays as it was.\n" + S[5] + " " + shared + " " + S[6] + "\nLast one here. And more."
    out = span_dedup_pages([("a", shared), ("b", b)])
    assert out["b"].text == "Intro line stays as it was.\n" + S[5] + " " + S[6] + "\nLast one here. And more."
    c = "Intro line stays as it was. Another. A third.\n" + shared
    out = span_dedup_pages([("a", shared), ("c", c)])
    assert out["c"].text == "Intro line stays as it was. Another. A third."  # line removed, not left blank
    assert out["c"].signals["sentences_left"] == 3


def test_a_span_repeated_on_one_page_stays_only_at_its_first_place():
    text = page(0, 1, 2, 3, 0, 1, 2, 4, 5)
    out = span_dedup_pages([("a", text)])
    assert out["a"].text == page(0, 1, 2, 3) + f"\n{S[4]}\n{S[5]}"  # lines S0 S1|S2 S3|S0 S1|S2 S4|S5
    assert out["a"].counts["sentences_removed"] == 3


def test_page_emptied_or_left_too_short_is_dropped_with_its_reason():
    out = span_dedup_pages([("a", page(0, 1, 2, 3)), ("b", page(1, 2, 3)), ("c", page(0, 1, 2, 9, 10))])
    assert (out["b"].keep, out["b"].reason) == (False, "all_spans_duplicate")
    assert (out["c"].keep, out["c"].reason) == (False, "too_few_sentences")
    assert out["c"].signals == {"spans_removed": 1, "sentences_removed": 3, "sentences_left": 2}
    lenient = span_dedup_pages([("a", page(0, 1, 2, 3)), ("c", page(0, 1, 2, 9, 10))], SpanDedupParams(min_sentences=0))
    assert lenient["c"].keep and lenient["c"].text == f"{S[9]}\n{S[10]}"  # lines S0 S1|S2 S9|S10


def test_overlapping_spans_remove_the_union_of_their_sentences():
    # b shares spans (1,2,3) and (4,5,6) with a; its spans that overlap them lose those sentences
    out = span_dedup_pages([("a", page(1, 2, 3, 4, 5, 6)), ("b", page(1, 2, 3, 7, 4, 5, 6, 8, 9, 10))])
    assert out["b"].text == f"{S[7]}\n{S[8]}\n{S[9]} {S[10]}"  # lines S1 S2|S3 S7|S4 S5|S6 S8|S9 S10
    assert out["b"].counts == {"pages_edited": 1, "spans_removed": 2, "sentences_removed": 6}


def test_keep_rule_is_a_pure_function_of_the_kept_indices():
    sp = page_spans(page(0, 1, 2, 3, 4, 5))
    assert apply_kept(sp, dict.fromkeys([0, 1, 2, 3], False), SpanDedupParams()).text is None
    v = apply_kept(sp, dict.fromkeys([0, 1, 2], False), SpanDedupParams())  # span 3 (sentences 3-5) kept elsewhere
    assert v.text == page(0, 1, 2) and v.counts["sentences_removed"] == 3
    v = apply_kept(sp, {0: False, 1: True, 2: False}, SpanDedupParams())  # span 1 kept here, repeated
    assert v.text == page(0, 1, 2, 3) and v.counts["sentences_removed"] == 2  # sentences 1-3 stay whole


def test_keepers_merge_in_any_grouping():
    one = [(("b", 0), False), (("a", 5), False), (("a", 2), False)]
    assert merge_keepers(one) == (("a", 2), True)
    assert merge_keepers([merge_keepers(one[:1]), merge_keepers(one[1:])]) == (("a", 2), True)
    assert merge_keepers([merge_keepers(one[:1])]) == (("b", 0), False)  # a single occurrence
    assert merge_keepers([merge_keepers([merge_keepers(one[:1])]), one[2]]) == (("a", 2), True)


def test_the_kept_copy_of_a_repeated_span_stays_whole():
    text = "Nice day. " * 6 + "\nThe end is near here. It comes soon. Then we rest."
    out = span_dedup_pages([("a", text)])
    assert out["a"].text == "Nice day. Nice day. Nice day.\nThe end is near here. It comes soon. Then we rest."
    rng = random.Random(5)
    pages = [(f"p{i:02d}", page(*rng.choices(range(6), k=rng.randint(3, 9)))) for i in range(60)]
    out = span_dedup_pages(pages)
    spans = {i: page_spans(t) for i, t in pages}
    first: dict[bytes, tuple[str, int]] = {}
    count: dict[bytes, int] = {}
    for i, sp in spans.items():
        for j, key in enumerate(sp.keys):
            first[key] = min(first.get(key, (i, j)), (i, j))
            count[key] = count.get(key, 0) + 1
    for key, (i, _) in first.items():
        if count[key] > 1:  # every repeated span is still whole on its keeper page
            assert out[i].keep and key in page_spans(out[i].text or dict(pages)[i]).keys


def test_result_does_not_depend_on_page_order():
    rng = random.Random(3)
    pages = [(f"p{i:02d}", page(*rng.choices(range(6), k=rng.randint(3, 8)))) for i in range(40)]
    first = span_dedup_pages(pages)
    for _ in range(3):
        rng.shuffle(pages)
        again = span_dedup_pages(pages)
        assert {k: (v.keep, v.reason, v.text) for k, v in again.items()} == \
               {k: (v.keep, v.reason, v.text) for k, v in first.items()}
    assert any(v.text for v in first.values()) and any(not v.keep for v in first.values())


def test_params_validated_and_resolved_in_recipes():
    with pytest.raises(ValueError, match="span_sentences"):
        SpanDedupParams(span_sentences=0)
    with pytest.raises(ValueError, match="min_sentences"):
        SpanDedupParams(min_sentences=2.5)
    (step,) = parse_steps(["c4_span_dedup"])
    assert step.is_dedup and not step.takes_previous_build
    assert "against" not in with_previous_build(step, "/earlier/build").params  # --dedup-against skips it
    assert step.describe() == {"c4_span_dedup": {"span_sentences": 3, "min_sentences": 3}}
    with pytest.raises(ValueError, match="unknown field.*'against'.*valid fields: span_sentences, min_sentences"):
        parse_steps([{"c4_span_dedup": {"against": "/tmp/x"}}])
    with pytest.raises(ValueError, match="langs applies to filters only"):
        parse_steps([{"c4_span_dedup": {"langs": ["en"]}}])


def test_dedup_against_needs_a_step_that_compares_with_earlier_builds(tmp_path):
    """--dedup-against with only c4_span_dedup would compare nothing: refused before any work."""
    import argparse

    from corpora.web import add_arguments, config_from_args
    from pipeline.jobs import UsageError

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--input", "x.jsonl", "--output", str(tmp_path / "o"), "--filters", "c4_span_dedup",
                              "--dedup-against", str(tmp_path)])
    with pytest.raises(UsageError, match="needs a dedup step"):
        config_from_args(args)

"""The keep rule of exact dedup, as a pure function of the ids that share one text hash."""

from pipeline.dedup.exact import ExactVerdict, exact_verdicts


def test_smallest_id_survives_and_the_others_name_it():
    got = list(exact_verdicts(["web-c", "web-a", "web-b"]))
    assert got == [ExactVerdict("web-a", None, "", False),
                   ExactVerdict("web-b", "exact_duplicate", "same text as web-a", False),
                   ExactVerdict("web-c", "exact_duplicate", "same text as web-a", False)]


def test_a_text_an_earlier_build_has_drops_every_new_copy_and_counts_the_key_once():
    got = list(exact_verdicts(["web-b", "web-a"], ["\x00prev:web-z", "\x00prev:web-y"]))
    assert [v.reason for v in got] == ["exact_duplicate_of_previous_build"] * 2
    assert [v.counts_previous for v in got] == [True, False]
    assert "web-y" in got[0].detail


def test_only_earlier_ids_yield_nothing():
    assert list(exact_verdicts([], ["\x00prev:web-z"])) == []
    assert list(exact_verdicts(["web-a"])) == [ExactVerdict("web-a", None, "", False)]

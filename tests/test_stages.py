"""The stage contract: outcomes counted by Tally (pure), the Beam wrappers' shapes, and the decision
rules moved out of DoFns (dedup removals and verdicts, doc2query joins, tokenize rows, socialchem)."""

from __future__ import annotations

from pipeline.outcomes import At, Count, Forward, Kept, Tally, Weighted
from pipeline.records import Document, Drop
from pipeline.stats import build_report, stage


def _report(tally: Tally, order: list[str]) -> dict:
    return build_report(tally.counter.drained(), order)


def test_tally_one_to_one_counts_in_once_and_routes_each_kind():
    tally = Tally()
    out = list(tally.one("s", "a")) + list(tally.one("s", Drop("other", "bad", id="x")))
    out += list(tally.one("s", Kept(["p1", "p2"], {"parts": 2, "none": 0})))
    assert out[0] == "a" and isinstance(out[1], Drop) and out[1].stage == "s" and out[2:] == ["p1", "p2"]
    e = stage(_report(tally, ["s"]), "s")
    assert (e["in"], e["out"], e["dropped"], e["counts"]) == (3, 2, {"bad": 1}, {"none": 0, "parts": 2})


def test_tally_each_counts_records_and_drops_as_inputs_unless_the_size_is_known():
    tally = Tally()
    out = list(tally.each("read", ["r1", Drop("", "bad"), Count("bytes", 7), Count("zero", 0), Forward("f")]))
    assert out[0] == "r1" and out[1].reason == "bad" and out[2] == "f"
    e = stage(_report(tally, ["read"]), "read")
    assert (e["in"], e["out"], e["dropped"], e["counts"]) == (2, 1, {"bad": 1}, {"bytes": 7})
    tally = Tally()
    list(tally.each("g", ["kept"], inputs=3))  # a group of 3 that kept one and lost two: unbalanced
    assert not _report(tally, ["g"])["accounting_ok"]


def test_tally_weighted_and_at_count_under_their_weight_and_stage():
    tally = Tally()
    out = list(tally.each("read", [Weighted("slice", 5), Weighted(Drop("", "unreadable_row_group"), 3),
                                   At("files", "path"), At("files", Drop("", "bad_header"))]))
    assert out[0] == "slice" and out[1].stage == "read" and out[2].stage == "files" and len(out) == 3
    report = _report(tally, ["files", "read"])
    assert (stage(report, "read")["in"], stage(report, "read")["out"]) == (8, 5)
    assert stage(report, "read")["dropped"] == {"unreadable_row_group": 3}
    files = stage(report, "files")
    assert (files["in"], files["out"], files["dropped"]) == (2, 1, {"bad_header": 1}) and report["accounting_ok"]


def test_stage_wrappers_in_a_pipeline_count_every_shape():
    import apache_beam as beam
    from apache_beam.testing.util import assert_that, equal_to

    from pipeline.beam_steps import STATS, ApplyStep, BatchStep, FlatStep, GroupStep
    from pipeline.jobs import make_pipeline

    def keep_even(n):
        return n if n % 2 == 0 else Drop("", "odd", id=str(n))

    def first_of_group(key, values):
        yield min(values)
        for v in sorted(values)[1:]:
            yield Drop("", "not_first", id=str(v))

    with make_pipeline([]) as p:
        nums = p | beam.Create([1, 2, 3, 4, 6])
        even = nums | "Even" >> ApplyStep("even", keep_even)
        flat = even["out"] | "Flat" >> FlatStep("flat", lambda n: [n, Count("seen")])
        grouped = (flat["out"] | beam.Map(lambda n: (n % 4, n)) | beam.GroupByKey()
                   | "First" >> GroupStep("first", first_of_group))
        batched = grouped["out"] | "Batch" >> BatchStep("batch", lambda b: [x * 10 for x in b], batch_size=2)
        stats = ([even[STATS], flat[STATS], grouped[STATS], batched[STATS]] | beam.Flatten()
                 | beam.CombinePerKey(sum))
        assert_that(batched["out"], equal_to([20, 40]), label="Out")
        assert_that(stats, equal_to([
            (("even", "in"), 5), (("even", "out"), 3), (("even", "drop:odd"), 2),
            (("flat", "in"), 3), (("flat", "out"), 3), (("flat", "count:seen"), 3),
            (("first", "in"), 3), (("first", "out"), 2), (("first", "drop:not_first"), 1),
            (("batch", "in"), 2), (("batch", "out"), 2)]), label="Stats")


def test_near_duplicate_removals_keep_the_root_and_name_earlier_builds():
    from pipeline.dedup.removals import PREVIOUS, cluster_removals, removal_outcomes, removal_reason

    out = list(cluster_removals("a", ["a", "b", "c"]))
    assert out[:2] == [Count("clusters"), Count("cluster_size_3-5")]
    assert sorted(f.value for f in out[2:]) == [("b", "a"), ("c", "a")]
    assert list(cluster_removals(PREVIOUS + "x", [PREVIOUS + "y"])) == []  # the earlier build alone
    assert removal_reason(None) is None and removal_reason("a")[0] == "near_duplicate"
    assert removal_reason(PREVIOUS + "old") == ("near_duplicate_of_previous_build", "cluster of old")
    doc = Document(id="b", text="t", source="web")
    (drop,) = removal_outcomes([doc], ["c", "a"])
    assert drop.reason == "near_duplicate" and drop.detail == "cluster kept a"


def test_exact_verdicts_pair_kept_verdicts_with_the_copies_first():
    from pipeline.dedup.exact import apply_exact_verdicts, exact_verdicts

    docs = [Document(id="a", text="t", source="web"), Document(id="a", text="t", source="web")]
    (kept,) = exact_verdicts(["a"])
    assert list(apply_exact_verdicts(docs[:1], [kept])) == docs[:1]
    (prev,) = exact_verdicts(["a"], ["\x00prev:z"])
    out = list(apply_exact_verdicts(docs[:1], [prev]))
    assert out[0] == Count("hashes_in_previous_build") and out[1].reason == "exact_duplicate_of_previous_build"


def test_msmarco_join_rules():
    from corpora.doc2query.pairs import Pair
    from corpora.doc2query.stages import join_on_passage, join_on_query, parse_relevant_qrels

    first = list(join_on_query("q1", {"query": ["b query", "a query"], "judged": ["p1", "p1", "p2"]}, "query_ids"))
    ids = [o.item for o in first if isinstance(o, At)]
    assert all(o.stage == "query_ids" for o in first if isinstance(o, At))
    assert Count("duplicate_id_conflict") in ids and ids[-1] == "a query"
    assert [d.reason for d in first if isinstance(d, Drop)] == ["duplicate_judgement"]
    assert [f.value for f in first if isinstance(f, Forward)] == [("p1", ("q1", "a query")), ("p2", ("q1", "a query"))]
    unknown = list(join_on_query("q9", {"query": [], "judged": ["p1"]}, "query_ids"))
    assert [d.reason for d in unknown] == ["unknown_query"]
    second = list(join_on_passage("p1", {"passage": ["text"], "queries": [("q1", "a query")]}, "collection_ids"))
    assert second[-1] == Pair(pid="p1", qid="q1", passage="text", query="a query", source="msmarco", split_key="q1")
    assert [d.reason for d in join_on_passage("p2", {"passage": [], "queries": [("q1", "x")]}, "c")] == [
        "unknown_passage"]
    assert parse_relevant_qrels("q1 0 p1 0").reason == "not_relevant" and parse_relevant_qrels("q1 p1") == ("q1", "p1", 1)


def test_boilerplate_headings_and_one_row_per_id():
    from corpora.doc2query.pairs import Pair
    from corpora.doc2query.stages import boilerplate_heading, one_row

    pairs = [Pair(pid=f"p{i}", qid="h", passage="x", query="Related", source="web", split_key=f"d{i}")
             for i in range(3)]
    assert list(boilerplate_heading("related", pairs, max_docs=3)) == pairs
    assert {d.reason for d in boilerplate_heading("related", pairs, max_docs=2)} == {"boilerplate_heading"}
    rows = [{"id": "a", "text": "z"}, {"id": "a", "text": "b", "url": "u"}]
    out = list(one_row("a", rows))
    assert out[-1] == {"id": "a", "text": "b", "url": "u"} and out[1].reason == "duplicate_id"


def test_tokenize_row_rules():
    from corpora.tokenize_rows import row_problem

    assert row_problem(None, "text", None, {}, 0).reason == "missing_id"
    assert row_problem("a", "  ", None, {}, 0).reason == "empty_text"
    assert row_problem("a", "text", None, {}, 0) is None
    assert row_problem("a", "text", '{"special_spans": "nonsense"}', {}, 0).reason == "bad_special_spans"


def test_socialchem_keeps_one_copy_of_a_situation():
    from types import SimpleNamespace

    from corpora.socialchem.stages import one_situation

    b = SimpleNamespace(source_id="d2", url="u", raw="x", situation_short_id="S2", key="k")
    a = SimpleNamespace(source_id="d1", url=None, raw="x", situation_short_id="S1", key="k")
    out = list(one_situation("k", [b, a]))
    assert out[-1] is a and out[0].reason == "duplicate" and out[0].id == "d2" and out[0].detail == "same as S1"

"""KG pure core: value rendering, statements, routing (chains, hubs, cycles), subgraph grouping,
templates, the template verbalizer and the faithfulness filter."""

import pytest

from corpora.kg.faithfulness import HALLUCINATED, MISSING, FaithfulnessChecker
from corpora.kg.graph import Cooccurrence, dedupe_facts, route_entity
from corpora.kg.model import COORD, ENTITY, QUANTITY, STRING, TEXT, TIME, Fact, StatementPart, Value
from corpora.kg.statements import assemble_statement
from corpora.kg.subgraphs import Subgraph, SubgraphParams, partition
from corpora.kg.templates import TemplateError, load_templates, parse_templates
from corpora.kg.values import (
    BadLiteral,
    indefinite_article,
    join_list,
    literal_value,
    render_value,
    surface_forms,
)
from corpora.kg.verbalize import TemplateVerbalizer

XSD = "http://www.w3.org/2001/XMLSchema#"
LABELS = {"Q350": "Cambridge", "Q11573": "metre", "Q712226": "square kilometre", "Q4916": "euro"}
label = LABELS.get


def t(v, p):
    return Value(TIME, v, precision=p)


@pytest.mark.parametrize("value,text", [
    (t("+1952-03-11T00:00:00Z", 11), "11 March 1952"),
    (t("+1952-03-11T00:00:00Z", 10), "March 1952"),
    (t("+1952-00-00T00:00:00Z", 9), "1952"),
    (t("+1955-00-00T00:00:00Z", 8), "the 1950s"),
    (t("+1901-00-00T00:00:00Z", 7), "the 20th century"),
    (t("-0044-03-15T00:00:00Z", 11), "15 March 44 BC"),
    (Value(QUANTITY, "+1.96", unit="Q11573"), "1.96 metres"),
    (Value(QUANTITY, "1", unit="Q11573"), "1 metre"),
    (Value(QUANTITY, "+1234567"), "1,234,567"),
    (Value(QUANTITY, "105.4", unit="Q712226"), "105.4 square kilometres"),
    (Value(TEXT, "Den Haag", lang="nl"), "\u201cDen Haag\u201d (in Dutch)"),
    (Value(TEXT, "The Hague", lang="en"), "The Hague"),
    (Value(COORD, "52.2,-0.12"), "52.2°N, 0.12°W"),
    (Value(ENTITY, "Q350"), "Cambridge"),
])
def test_render_value(value, text):
    assert render_value(value, label) == text


def test_literals_lists_articles_and_forms():
    assert literal_value("1952", XSD + "gYear", None) == Value(TIME, "1952", precision=9)
    assert literal_value("1952-01-01T00:00:00Z", XSD + "dateTime", None).precision == 9  # Wikidata's year form
    with pytest.raises(BadLiteral):
        literal_value("abc", XSD + "integer", None)
    seen = []
    assert literal_value("x", "http://e/t", None, seen.append).datatype == "http://e/t" and seen == ["http://e/t"]
    assert join_list(["A"]) == "A" and join_list(["A", "B"]) == "A and B" and join_list(["A", "B", "C"]) == "A, B and C"
    assert [indefinite_article(w) for w in ("writer", "actor", "university", "hour", "FBI agent")] == \
        ["a", "an", "a", "an", "an"]
    forms = surface_forms(t("+1952-03-11T00:00:00Z", 11), label)
    assert {"11 March 1952", "March 11, 1952", "1952-03-11"} <= set(forms)


def test_statement_assembly():
    subj = StatementPart("s1", "subject", "P26", Value(ENTITY, "Q42"))
    val = StatementPart("s1", "value", "P26", Value(ENTITY, "Q1"))
    q = StatementPart("s1", "qualifier", "P580", t("1991", 9))
    fact = assemble_statement("s1", [q, val, subj])
    assert fact == Fact("Q42", "P26", Value(ENTITY, "Q1"), (("P580", t("1991", 9)),), statement="s1")
    assert assemble_statement("s1", [q, val]) == "incomplete_statement"
    rank = StatementPart("s1", "rank", "rank", Value(ENTITY, "DeprecatedRank"))
    assert assemble_statement("s1", [subj, val, rank]) == "deprecated_rank"


def F(s, p, o, kind=ENTITY, **kw):
    return Fact(s, p, Value(kind, o), **kw)


def test_routing_chains_hubs_duplicates_and_cycles():
    novel = [F("N", "P577", "1979", TIME), F("N", "P136", "SF")]
    assert route_entity("N", novel, ["A"], 1000, 3).role == "chain"
    assert route_entity("N", novel, ["A", "B"], 1000, 3).role == "own"  # two referrers
    assert route_entity("N", novel + [F("N", "P50", "A")], ["A"], 1000, 3).role == "own"  # points back: a cycle
    assert route_entity("N", novel, ["A"], 1000, 1).role == "own"  # too many facts for a chain
    hub = [F("H", "P1", f"Q{i}") for i in range(5000)]
    r = route_entity("H", iter(hub), [], 100, 3)
    assert len(r.facts) == 100 and r.hub_capped == 4900
    assert r.facts == route_entity("H", reversed(hub), [], 100, 3).facts  # the same facts in any order
    truthy = F("A", "P26", "B")
    stmt = Fact("A", "P26", Value(ENTITY, "B"), (("P580", t("1991", 9)),), statement="s")
    kept, dropped = dedupe_facts([truthy, stmt, truthy])
    assert kept == [stmt] and dropped == 2


def test_partition_groups_cooccurring_relations_within_k():
    cooc = Cooccurrence()
    for _ in range(10):
        cooc.add_subject(["P19", "P569", "P20", "P570", "P106"])
        cooc.add_subject(["P19", "P569"])
        cooc.add_subject(["P20", "P570"])
    own = [F("A", "P19", "X"), F("A", "P569", "1900", TIME), F("A", "P20", "Y"), F("A", "P570", "1950", TIME),
           F("A", "P999", "z", STRING)]
    sgs, _ = partition("A", own, {}, cooc, SubgraphParams(max_facts=2, pack_leftovers=False))
    groups = sorted(sorted(f.relation for f in sg.facts) for sg in sgs)
    assert groups == [["P19", "P569"], ["P20", "P570"], ["P999"]]
    assert all(len(sg.facts) <= 2 for sg in sgs)
    packed, _ = partition("A", own, {}, cooc, SubgraphParams(max_facts=5))
    assert len(packed) == 1 and len(packed[0].facts) == 5
    many = [F("A", "P40", f"C{i}") for i in range(12)]
    sgs, _ = partition("A", many, {}, Cooccurrence(), SubgraphParams(max_facts=5))
    assert sorted(len(sg.facts) for sg in sgs) == [2, 5, 5]


def test_partition_chains_and_orphans():
    own = [F("A", "P800", "N"), F("A", "P31", "Q5"), F("A", "P21", "Q6581072")]
    chains = {"N": [F("N", "P577", "1979", TIME)], "M": [F("M", "P1", "x", STRING)]}
    sgs, counts = partition("A", own, chains, Cooccurrence(), SubgraphParams(max_facts=5))
    assert counts["chains"] == 1 and counts["orphan_chains"] == 1
    facts = [f for sg in sgs for f in sg.facts]
    assert len(facts) == 5 and sgs[0].pronoun == "she"
    host = next(sg for sg in sgs if any(f.relation == "P800" for f in sg.facts))
    assert any(f.subject == "N" for f in host.facts)


def test_template_file_errors_name_the_template(tmp_path):
    with pytest.raises(TemplateError, match=r"relation P19.*\{objekt\}"):
        parse_templates({"relations": {"P19": "{subject} was born in {objekt}"}})
    with pytest.raises(TemplateError, match="no {object} slot"):
        parse_templates({"relations": {"P19": "{subject} was born"}})
    with pytest.raises(TemplateError, match="qualifier P580"):
        parse_templates({"relations": {}, "qualifiers": {"P580": "from {start}"}})
    bundled = load_templates()
    assert len(bundled.relations) >= 60
    ts = parse_templates({"relations": {"birth place": "{subject} was born in {object}"}})
    assert ts.find("dbo:birthPlace", "birth place") is not None
    path = tmp_path / "t.json"
    path.write_text('{"relations": {"P1": {"text": "{subject} likes {object}", "label": "likes"}}}')
    assert load_templates(str(path)).find("P1").label == "likes"


PERSON = {"Q42": "Douglas Adams", "Q350": "Cambridge", "Q36180": "writer", "Q28389": "screenwriter",
          "Q1": "Santa Barbara", "Q14623681": "Jane Belson", "P2002": "X username"}


def person_subgraph(facts, context=(), past=True):
    return Subgraph("Q42#0", "Q42", facts, "he", past, list(context), dict(PERSON), kind="person")


def test_verbalizer_names_the_subject_once_then_pronoun_and_relative_clause():
    v = TemplateVerbalizer(load_templates())
    facts = [F("Q42", "P569", "+1952-03-11T00:00:00Z", TIME, ), F("Q42", "P19", "Q350"),
             F("Q42", "P106", "Q36180"), F("Q42", "P106", "Q28389"),
             Fact("Q42", "P570", t("+2001-05-11T00:00:00Z", 11)), F("Q42", "P20", "Q1"),
             Fact("Q42", "P26", Value(ENTITY, "Q14623681"), (("P580", t("+1991-11-25T00:00:00Z", 11)),))]
    facts[0] = Fact("Q42", "P569", t("+1952-03-11T00:00:00Z", 11))
    out = v.verbalize(person_subgraph(facts))
    assert out.text.startswith("Douglas Adams, who was born on 11 March 1952 in Cambridge, worked as a writer and "
                               "screenwriter")
    assert out.text.count("Douglas Adams") == 1
    assert " He " in out.text and "from 25 November 1991" in out.text and out.generic == []


def test_verbalizer_generic_fallback_from_label():
    v = TemplateVerbalizer(load_templates())
    out = v.verbalize(person_subgraph([F("Q42", "P2002", "douglasadams", STRING)], past=False))
    assert out.text == "The X username of Douglas Adams is douglasadams." and out.generic == ["P2002"]
    out = v.verbalize(person_subgraph([F("Q42", "P2002", "douglasadams", STRING)]))
    assert out.text == "The X username of Douglas Adams was douglasadams."  # he died: past tense
    out = v.verbalize(person_subgraph([F("Q42", "P19", "Q350"), F("Q42", "P2002", "douglasadams", STRING)],
                                      past=False))
    assert out.text == "Douglas Adams was born in Cambridge. His X username is douglasadams."
    sg = person_subgraph([F("Q42", "dbo:locatedIn", "Q350")], past=False)
    assert v.verbalize(sg).text == "Douglas Adams is located in Cambridge."


def test_faithfulness_filter():
    checker = FaithfulnessChecker()
    facts = [Fact("Q42", "P569", t("+1952-03-11T00:00:00Z", 11)), F("Q42", "P19", "Q350"),
             Fact("Q42", "P1082", Value(QUANTITY, "1234567"))]
    sg = person_subgraph(facts, context=["Q1"])
    assert checker.check("Douglas Adams was born on March 11, 1952 in cambridge; population 1,234,567.", sg).ok
    # the number is there, but not with its relation
    assert not checker.check("Douglas Adams was born on March 11, 1952 in cambridge; 1,234,567.", sg).ok
    missing = checker.check("Douglas Adams was born in 1952 in Cambridge, population 1234567.", sg)
    assert missing.reason == MISSING and "P569" in missing.detail
    extra = checker.check("Douglas Adams was born on 11 March 1952 in Cambridge near Santa Barbara. "
                          "Population 1234567", sg)
    assert extra.reason == HALLUCINATED and "Santa Barbara" in extra.detail
    v = TemplateVerbalizer(load_templates())
    assert checker.check(v.verbalize(sg).text, sg).ok


def test_label_choice_prefers_language_then_fallbacks_then_untagged():
    from corpora.kg.labels import best_label
    from corpora.kg.model import Label

    langs = ("en", "mul")
    labels = [Label("Q1", "Den Haag", "nl"), Label("Q1", "The Hague (mul)", "mul"), Label("Q1", "Hague", None),
              Label("Q1", "The Hague", "en-gb")]
    assert best_label(labels, langs) == ("The Hague", "en-gb")
    assert best_label(labels[:3], langs) == ("The Hague (mul)", "mul")
    assert best_label(labels[:1] + labels[2:3], langs) == ("Hague", None)
    assert best_label(labels + [Label("Q1", "Hague alias", "en", alias=True)], ("nl",)) == ("Den Haag", "nl")


def test_referrer_cap_and_cooccurrence_combiners():
    from corpora.kg.graph import CapReferrers, CountCooccurrence

    cap = CapReferrers()
    acc = cap.create_accumulator()
    for s in ["A", "A", "B", "C", "D"]:
        acc = cap.add_input(acc, s)
    assert cap.extract_output(acc) == ["A", "B"]
    assert cap.extract_output(cap.merge_accumulators([("B",), ("A",), ("B", "C")])) == ["A", "B"]
    cc = CountCooccurrence()
    a = cc.add_input(cc.create_accumulator(), ["P19", "P569"])
    b = cc.add_input(cc.create_accumulator(), ["P19", "P569", "P20"])
    merged = cc.extract_output(cc.merge_accumulators([a, b]))
    assert merged.pairs[("P19", "P569")] == 2 and merged.relations["P20"] == 1
    assert merged.weight("P19", "P569") == 1.0 and merged.weight("P19", "P20") == 0.0  # below min_pair_count
    assert Cooccurrence.from_json(merged.to_json()).pairs == merged.pairs

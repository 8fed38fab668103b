"""Wikidata exports as they really are, on small generated inputs: value nodes, unknown and "no value"
statements, sitelinks, statements that differ by qualifiers, external identifiers, bad N-Triples
escapes, unusable files; and the text: faithfulness, the generic fallback, merging, subject kinds."""

import pytest

from corpora.kg.faithfulness import HALLUCINATED, MISATTRIBUTED, NEGATED, FaithfulnessChecker
from corpora.kg.graph import dedupe_facts
from corpora.kg.identifiers import leave_out_reason
from corpora.kg.labels import ids_to_name
from corpora.kg.lexicalize import generic_clause
from corpora.kg.local import run_local
from corpora.kg.model import ENTITY, STRING, TIME, Fact, Value
from corpora.kg.readers import Chunk, ReadOptions, ReadStats, UnreadableInput, read_chunk, sniff_format
from corpora.kg.readers.tsv import parse_tsv_value
from corpora.kg.subgraphs import Subgraph, subject_kind
from corpora.kg.templates import load_templates
from corpora.kg.verbalize import TemplateVerbalizer
from pipeline.records import Drop

TTL = """@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix wikibase: <http://wikiba.se/ontology#> .
@prefix schema: <http://schema.org/> .
@prefix cc: <http://creativecommons.org/ns#> .
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix data: <https://www.wikidata.org/wiki/Special:EntityData/> .
@prefix s: <http://www.wikidata.org/entity/statement/> .
@prefix v: <http://www.wikidata.org/value/> .
@prefix wdt: <http://www.wikidata.org/prop/direct/> .
@prefix p: <http://www.wikidata.org/prop/> .
@prefix ps: <http://www.wikidata.org/prop/statement/> .
@prefix psv: <http://www.wikidata.org/prop/statement/value/> .
@prefix pq: <http://www.wikidata.org/prop/qualifier/> .
@prefix pqv: <http://www.wikidata.org/prop/qualifier/value/> .
@prefix wdno: <http://www.wikidata.org/prop/novalue/> .

data:Q1 a schema:Dataset ; schema:about wd:Q1 ; cc:license <http://creativecommons.org/publicdomain/zero/1.0/> ;
    schema:version "1"^^xsd:integer .
<https://en.wikipedia.org/wiki/Ann_Example> a schema:Article ; schema:about wd:Q1 ; schema:inLanguage "en" ;
    schema:isPartOf <https://en.wikipedia.org/> ; schema:name "Ann Example"@en .
wd:Q1 a wikibase:Item, wdno:P40 ; rdfs:label "Ann Example"@en ;
    wdt:P31 wd:Q5 ; wdt:P21 wd:Q6581072 ; wdt:P569 "1959-01-01T00:00:00Z"^^xsd:dateTime ;
    wdt:P2048 "+1.96"^^xsd:decimal ; wdt:P570 <http://www.wikidata.org/.well-known/genid/abc> ;
    wdt:P214 "113230702" ; wdt:P39 wd:Q11696 .
wd:Q1 p:P569 s:b . s:b ps:P569 "1959-01-01T00:00:00Z"^^xsd:dateTime ; psv:P569 v:t1 .
wd:Q1 p:P2048 s:h . s:h ps:P2048 "+1.96"^^xsd:decimal ; psv:P2048 v:q1 .
wd:Q1 p:P570 s:d . s:d ps:P570 _:unknown1 .
wd:Q1 p:P39 s:t1 . s:t1 ps:P39 wd:Q11696 ; pq:P580 "1993-01-20T00:00:00Z"^^xsd:dateTime ;
    pqv:P580 v:t2 ; pq:P582 "2001-01-20T00:00:00Z"^^xsd:dateTime .
wd:Q1 p:P39 s:t2 . s:t2 ps:P39 wd:Q11696 ; pq:P580 "2009-01-20T00:00:00Z"^^xsd:dateTime ;
    pq:P582 "2017-01-20T00:00:00Z"^^xsd:dateTime .
v:t1 a wikibase:TimeValue ; wikibase:timeValue "1959-01-01T00:00:00Z"^^xsd:dateTime ;
    wikibase:timePrecision "9"^^xsd:integer .
v:t2 a wikibase:TimeValue ; wikibase:timeValue "1993-01-20T00:00:00Z"^^xsd:dateTime ;
    wikibase:timePrecision "11"^^xsd:integer .
v:q1 a wikibase:QuantityValue ; wikibase:quantityAmount "+1.96"^^xsd:decimal ;
    wikibase:quantityUnit wd:Q11573 .
wd:Q11573 rdfs:label "metre"@en .
wd:Q11696 rdfs:label "President of the United States"@en .
"""


@pytest.fixture(scope="module")
def ttl_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("ttl") / "q1.ttl"
    path.write_text(TTL)
    return run_local([str(path)])


def test_rdf_export_dates_units_unknown_values_and_bookkeeping(ttl_run):
    facts = {(f.relation, f.qualifier_key()): f for f in ttl_run.facts}
    rels = {f.relation for f in ttl_run.facts}
    # 1: a year-precision date stays a year (rdflib writes Z as +00:00; the value node says precision 9)
    assert {f.value.precision for f in ttl_run.facts if f.relation == "P569"} == {9}
    text = " ".join(d.text for d in ttl_run.docs)
    assert "1959" in text and "1 January 1959" not in text
    # 2: the unit from the value node
    assert "1.96 metres" in text
    # 3: unknown values are not facts (truthy genid IRI and statement blank node), counted
    assert "P570" not in rels and ttl_run.counts["read/unknown_value"] == 1
    assert ttl_run.counts["statements/unknown_value"] == 1
    # 4: sitelinks, the data page and "no value" classes are not facts, each counted by why
    assert not any(f.subject.startswith("http") or f.relation == "rdf:type" for f in ttl_run.facts)
    assert ttl_run.counts["read/sitelink"] == 5 and ttl_run.counts["read/no_value"] == 1
    assert ttl_run.counts["read/page_metadata"] >= 3
    # 5: two terms of office with the same value are two facts; the truthy triple repeats them
    terms = [f for f in ttl_run.facts if f.relation == "P39"]
    assert len(terms) == 2 and "from 20 January 1993 until 20 January 2001" in text \
        and "from 20 January 2009 until 20 January 2017" in text
    # identifiers left out by default, counted
    assert "P214" not in rels and ttl_run.counts["facts/identifier"] == 1
    assert facts  # every remaining document passes the filter
    assert all(d.verdict.ok for d in ttl_run.docs)


def test_statement_identity_includes_qualifiers():
    t = lambda v: Value(TIME, v, precision=9)  # noqa: E731
    a = Fact("Q1", "P166", Value(ENTITY, "Q2"), (("P585", t("1983")),), statement="s1")
    b = Fact("Q1", "P166", Value(ENTITY, "Q2"), (("P585", t("1984")),), statement="s2")
    truthy = Fact("Q1", "P166", Value(ENTITY, "Q2"))
    again = Fact("Q1", "P166", Value(ENTITY, "Q2"), (("P585", t("+1983")),), statement="s3")
    kept, dropped = dedupe_facts([a, truthy, b, again])
    assert sorted(k.qualifier_key() for k in kept) == [a.qualifier_key(), b.qualifier_key()] and dropped == 2


def test_external_identifiers_and_media():
    assert leave_out_reason(Fact("Q1", "P214", Value(STRING, "113230702"))) == "identifier"  # plain string
    assert leave_out_reason(Fact("Q1", "P9999", Value(STRING, "x", datatype="external-id"))) == "identifier"
    assert leave_out_reason(Fact("Q1", "P345", Value(ENTITY, "nm0010930"))) == "identifier"  # the shipped list
    assert leave_out_reason(Fact("Q1", "P742", Value(STRING, "David Agnew"))) is None  # a text string
    assert leave_out_reason(Fact("Q1", "P18", Value(
        ENTITY, "http://commons.wikimedia.org/wiki/Special:FilePath/A.jpg"))) == "media_file"
    assert leave_out_reason(Fact("Q1", "dbo:code", Value(STRING, "x"))) is None  # not a Wikidata property


def test_faithfulness_catches_swaps_negations_and_inventions_but_not_labels():
    checker = FaithfulnessChecker()
    labels = {"Q1": "Ann Example", "Q350": "Cambridge", "Q2": "Santa Barbara", "Q3": "BBC", "P99": "BBC Things ID"}
    facts = [Fact("Q1", "P19", Value(ENTITY, "Q350")), Fact("Q1", "P20", Value(ENTITY, "Q2")),
             Fact("Q1", "P99", Value(STRING, "abc-1"))]
    sg = Subgraph("Q1#0", "Q1", facts, "she", True, ["Q3"], labels, kind="person")
    own = TemplateVerbalizer(load_templates()).verbalize(sg).text
    assert checker.check(own, sg).ok, own
    assert checker.check("Ann Example was born in Cambridge and died in Santa Barbara. "
                         "Her BBC Things ID was abc-1.", sg).ok  # a label with another entity's name
    swapped = "Ann Example was born in Santa Barbara and died in Cambridge. Her BBC Things ID was abc-1."
    assert checker.check(swapped, sg).reason == MISATTRIBUTED
    negated = "Ann Example was not born in Cambridge and died in Santa Barbara. Her BBC Things ID was abc-1."
    assert checker.check(negated, sg).reason == NEGATED
    invented = own + " She won the Hugo Award in 1979."
    verdict = checker.check(invented, sg)
    assert verdict.reason == HALLUCINATED and "1979" in verdict.detail and "Hugo" in verdict.detail


@pytest.mark.parametrize("label,n,past,date,expected", [
    ("has quality", 1, False, None, "It has quality X"),
    ("is a list of", 1, False, None, "It is a list of X"),
    ("battles", 2, False, None, "Its battles are X"),
    ("record label", 1, True, None, "Its record label was X"),
    ("spouse", 2, False, None, "Its spouses are X"),
    ("country of citizenship", 2, False, None, "Its countries of citizenship are X"),
    ("member of", 1, False, None, "It is a member of X"),
    ("part of", 1, False, None, "It is part of X"),
    ("different from", 1, False, None, "It is different from X"),
    ("influenced by", 1, False, None, "It is influenced by X"),
    ("established", 1, False, "in", "It was established in X"),
    ("was selected by NASA", 1, False, "in", "It was selected by NASA in X"),
    ("compete in", 1, False, None, "It competes in X"),
    ("number of students", 1, False, None, "Its number of students is X"),
    ("LEADER_NAME", 1, False, None, "Its leader name is X"),
    ("PRECEDED_BY", 1, False, None, "It is preceded by X"),
    ("FIRST_AIRED", 1, False, "on", "It was first aired on X"),
])
def test_generic_fallback_follows_the_label_form(label, n, past, date, expected):
    assert generic_clause(label, "X", n, "It", "Its", past, date) == expected


def test_merging_only_within_one_event_and_templates_by_subject_kind():
    v = TemplateVerbalizer(load_templates())
    labels = {"Q1": "Ann Example", "Q36180": "writer", "Q9531": "BBC", "Q350": "Cambridge", "Q145": "X Land",
              "Q7": "Zulu people"}
    facts = [Fact("Q1", "P106", Value(ENTITY, "Q36180")), Fact("Q1", "P108", Value(ENTITY, "Q9531")),
             Fact("Q1", "P569", Value(TIME, "+1952-03-11T00:00:00Z", precision=11)),
             Fact("Q1", "P19", Value(ENTITY, "Q350"))]
    text = v.verbalize(Subgraph("Q1#0", "Q1", facts, "she", False, [], labels, kind="person")).text
    assert "was born on 11 March 1952 in Cambridge" in text  # one event: merged
    assert "writer for" not in text and "as a writer" in text  # occupation and employer: not merged
    country = Subgraph("Q145#0", "Q145", [Fact("Q145", "P172", Value(ENTITY, "Q7"))], "it", False, [], labels,
                       kind="place")
    assert v.verbalize(country).text == "X Land is home to the ethnic group Zulu people."
    # DBpedia/WebNLG people: a person by their relations, past tense from a death date
    dbp = [Fact("Alan_Bean", "birthPlace", Value(ENTITY, "Wheeler")),
           Fact("Alan_Bean", "deathDate", Value(TIME, "2018-05-26", precision=11))]
    assert subject_kind(dbp) == "person"


def test_bad_ntriples_lines_are_counted_not_fatal(tmp_path):
    path = tmp_path / "bad.nt"
    lines = ['<http://a/s> <http://a/p> "ok" .', '<http://a/s> <http://a/p> "x\\U0011FFFF" .',
             '<http://a/s> <http://a/p> "\\uD800" .', '<http://a/s> <http://a/p> "x\\q" .',
             '<s> <http://a/p> "rel" .', "", "# comment"]
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\n")
    stats = ReadStats()
    out = list(read_chunk(Chunk(str(path), "nt"), ReadOptions(), stats))
    reasons = sorted(d.reason for d in out if isinstance(d, Drop))
    assert reasons == ["bad_escape", "bad_escape", "malformed_line", "relative_iri"]
    assert [f.value.v for f in out if isinstance(f, Fact)] == ["ok"]  # line 1 read despite the BOM
    assert stats.records == 5 and stats.counts["blank_or_comment_lines"] == 2


def test_unusable_files_are_told_before_work():
    with pytest.raises(UnreadableInput, match="UTF-16"):
        sniff_format("x y".encode("utf-16"), "nt", "a.nt")
    assert sniff_format(b'[\n {\n  "tripleset": [["A", "b", "C"]]', "wikidata-json") == "dart"
    assert sniff_format(b'{\n  "P6": "head of government",', "wikidata-json") == "labels-json"
    assert sniff_format(b'[\n{"type":"item","id":"Q1"}', "wikidata-json") == "wikidata-json"
    from corpora.kg.job import empty_run_status

    assert empty_run_status({"stages": [{"stage": "read", "in": 5, "out": 0, "dropped": {"x": 5}},
                                        {"stage": "write", "in": 0, "out": 0}]}) == 1
    assert empty_run_status({"stages": [{"stage": "write", "in": 1, "out": 1}]}) == 0


def test_bare_digit_strings_in_tsv_stay_as_written():
    assert parse_tsv_value("113230702") == Value(STRING, "113230702")
    assert parse_tsv_value("+1234567").kind == "quantity"


def test_property_entities_keep_their_label():
    facts = [Fact("P19", "P31", Value(ENTITY, "Q18608756"))]
    assert "P19" in ids_to_name("P19", facts, known=frozenset({"P19", "P31"}))
    assert "P31" not in ids_to_name("P19", facts, known=frozenset({"P19", "P31"}))

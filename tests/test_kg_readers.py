"""KG readers: N-Triples (byte-range splits), Turtle (batched rdflib), Wikidata JSON, TSV, WebNLG."""

import json

from corpora.kg.model import COORD, ENTITY, QUANTITY, STRING, TEXT, TIME, Fact, Label, StatementPart, Value
from corpora.kg.readers import Chunk, ReadOptions, ReadStats, plan_chunks, read_chunk
from corpora.kg.readers.ntriples import parse_line
from corpora.kg.readers.tsv import parse_tsv_value
from corpora.kg.readers.webnlg import read_webnlg_pairs
from pipeline.records import Drop

WD = "http://www.wikidata.org/entity/"
XSD = "http://www.w3.org/2001/XMLSchema#"


def read(path, fmt, **kw):
    stats = ReadStats()
    out = list(read_chunk(Chunk(str(path), fmt, **kw), ReadOptions(langs=("en", "mul")), stats))
    return out, stats


NT = f"""# comment
<{WD}Q42> <http://www.wikidata.org/prop/direct/P19> <{WD}Q350> .
<{WD}Q42> <http://www.w3.org/2000/01/rdf-schema#label> "Douglas Adams"@en .
<{WD}Q42> <http://www.w3.org/2000/01/rdf-schema#label> "Douglas Adams"@de .
<{WD}Q42> <http://www.wikidata.org/prop/direct/P569> "1952-03-11T00:00:00Z"^^<{XSD}dateTime> .
<{WD}Q42> <http://www.wikidata.org/prop/direct/P1449> "Bop \\"Ad\\" \\u00e9"@en .
<{WD}Q42> <http://www.wikidata.org/prop/P26> <{WD}statement/S1> .
<{WD}statement/S1> <http://www.wikidata.org/prop/statement/P26> <{WD}Q1> .
<{WD}statement/S1> <http://www.wikidata.org/prop/qualifier/P580> "1991-01-01T00:00:00Z"^^<{XSD}dateTime> .
wd:Q42 wdt:P31 wd:Q5 .
<{WD}Q42> <http://www.wikidata.org/prop/direct/P31> <{WD}Q5>
<{WD}Q42> <http://www.wikidata.org/prop/direct/P2044> "high"^^<{XSD}integer> .
<{WD}Q42> <http://example.org/lucky> "7"^^<http://example.org/myType> .
_:b1 <http://example.org/p> "x" .
"""


def test_ntriples_records_drops_and_counts(tmp_path):
    path = tmp_path / "a.nt"
    path.write_text(NT)
    out, stats = read(path, "nt")
    facts = [r for r in out if isinstance(r, Fact)]
    drops = [r for r in out if isinstance(r, Drop)]
    assert Fact("Q42", "P19", Value(ENTITY, "Q350")) in facts
    assert Fact("Q42", "P569", Value(TIME, "1952-03-11T00:00:00Z", precision=11)) in facts
    assert Fact("Q42", "P1449", Value(TEXT, 'Bop "Ad" é', lang="en")) in facts
    lucky = next(f for f in facts if f.relation == "http://example.org/lucky")
    assert lucky.value == Value(STRING, "7", datatype="http://example.org/myType")
    assert stats.counts["unknown_datatype"] == 1
    assert [r for r in out if isinstance(r, Label)] == [Label("Q42", "Douglas Adams", "en")]
    assert stats.counts["label_other_lang"] == 1
    parts = [r for r in out if isinstance(r, StatementPart)]
    assert {p.kind for p in parts} == {"subject", "value", "qualifier"}
    assert sorted(d.reason for d in drops) == ["bad_literal", "malformed_line", "malformed_line"]
    assert stats.records == 13  # every non-comment line, including the bad ones
    assert any(f.subject.startswith("_:") for f in facts)


def test_ntriples_byte_ranges_read_every_line_once(tmp_path):
    lines = [f'<{WD}Q{i}> <http://www.wikidata.org/prop/direct/P1082> "{i}"^^<{XSD}integer> .' for i in range(500)]
    path = tmp_path / "big.nt"
    path.write_text("\n".join(lines) + "\n")
    size = path.stat().st_size
    chunks = plan_chunks(str(path), size, "nt", 1000)
    assert len(chunks) > 10
    seen = []
    for c in chunks:
        stats = ReadStats()
        seen += [r.subject for r in read_chunk(c, ReadOptions(), stats)]
    assert sorted(seen) == sorted(f"Q{i}" for i in range(500))


def test_gzip_ntriples_is_one_chunk_read_as_a_stream(tmp_path):
    import gzip

    path = tmp_path / "a.nt.gz"
    with gzip.open(path, "wt") as f:
        f.write(NT)
    assert len(plan_chunks(str(path), 10**9, "nt", 1000)) == 1
    out, stats = read(path, "nt")
    assert stats.records == 13 and sum(isinstance(r, Fact) for r in out) == 5


def test_parse_line_rejects_prefixed_names():
    assert parse_line("wd:Q1 wdt:P1 wd:Q2 .") is None
    s, p, o = parse_line('<http://a> <http://b> "x"@en-GB .')
    assert o == ("literal", "x", None, "en-GB")


TTL = """@prefix wd: <http://www.wikidata.org/entity/> .
@prefix wdt: <http://www.wikidata.org/prop/direct/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix ex: <http://example.org/> .
wd:Q42 wdt:P19 wd:Q350 ;
    rdfs:label "Douglas Adams"@en, "Douglas Adams"@fr .
wd:Q42 wdt:P1449 \"\"\"a long
string with a final dot.\"\"\" .
nope:Q1 wdt:P31 wd:Q5 .
_:n1 ex:knows wd:Q42 .
_:n1 ex:age 42 .
wd:Q350 wdt:P1082 "145818"^^<http://www.w3.org/2001/XMLSchema#integer> .
"""


def test_turtle_batches_isolate_bad_statements_and_keep_blank_nodes(tmp_path):
    from corpora.kg.readers.turtle import read_turtle

    path = tmp_path / "a.ttl"
    path.write_text(TTL)
    stats = ReadStats()
    with open(path, "rb") as f:
        out = list(read_turtle(f, Chunk(str(path), "ttl"), ReadOptions(), stats, batch_statements=2))
    drops = [r for r in out if isinstance(r, Drop)]
    assert [d.reason for d in drops] == ["unknown_prefix"]
    assert "line 9" in drops[0].detail
    facts = [r for r in out if isinstance(r, Fact)]
    assert Fact("Q42", "P19", Value(ENTITY, "Q350")) in facts
    assert any(f.relation == "P1449" and f.value.v.endswith("final dot.") for f in facts)
    knows = next(f for f in facts if f.relation == "http://example.org/knows")
    age = next(f for f in facts if f.relation == "http://example.org/age")
    assert knows.subject == age.subject  # one blank node across batches
    assert age.value == Value(QUANTITY, "42")
    assert [r for r in out if isinstance(r, Label)] == [Label("Q42", "Douglas Adams", "en")]
    assert stats.records == 6


ENTITY_JSON = {
    "id": "Q42", "type": "item",
    "labels": {"en": {"language": "en", "value": "Douglas Adams"}, "de": {"language": "de", "value": "D. A."}},
    "aliases": {"en": [{"language": "en", "value": "Douglas Noël Adams"}]},
    "claims": {
        "P26": [{"id": "Q42$1", "rank": "normal", "mainsnak": {"snaktype": "value", "property": "P26", "datavalue": {
            "type": "wikibase-entityid", "value": {"entity-type": "item", "numeric-id": 14623681}}},
            "qualifiers": {"P580": [{"snaktype": "value", "property": "P580", "datavalue": {"type": "time", "value": {
                "time": "+1991-11-25T00:00:00Z", "precision": 11}}}]}, "qualifiers-order": ["P580"]}],
        "P2048": [{"rank": "normal", "mainsnak": {"snaktype": "value", "datavalue": {"type": "quantity", "value": {
            "amount": "+1.96", "unit": "http://www.wikidata.org/entity/Q11573"}}}}],
        "P1477": [{"rank": "normal", "mainsnak": {"snaktype": "value", "datavalue": {"type": "monolingualtext",
                                                                                       "value": {"text": "Douglas Noël Adams", "language": "en"}}}}],
        "P625": [{"rank": "normal", "mainsnak": {"snaktype": "value", "datavalue": {"type": "globecoordinate", "value": {
            "latitude": 52.2, "longitude": 0.12}}}}],
        "P569": [{"rank": "deprecated", "mainsnak": {"snaktype": "value", "datavalue": {"type": "time", "value": {
            "time": "+1952-03-12T00:00:00Z", "precision": 11}}}},
                 {"rank": "normal", "mainsnak": {"snaktype": "value", "datavalue": {"type": "time", "value": {
                     "time": "+1952-00-00T00:00:00Z", "precision": 9}}}}],
        "P40": [{"rank": "normal", "mainsnak": {"snaktype": "somevalue"}}],
        "P999": [{"rank": "normal", "mainsnak": {"snaktype": "value", "datavalue": {"type": "musical-note", "value": "C"}}}],
    },
}


def test_wikidata_json_entities(tmp_path):
    path = tmp_path / "dump.json"
    path.write_text("[\n" + json.dumps(ENTITY_JSON) + ",\n{not json},\n" + json.dumps({"id": "P19", "labels": {
        "en": {"language": "en", "value": "place of birth"}}}) + "\n]\n")
    out, stats = read(path, "wikidata-json")
    facts = {f.relation: f for f in out if isinstance(f, Fact)}
    assert facts["P26"].value == Value(ENTITY, "Q14623681")
    assert facts["P26"].qualifiers == (("P580", Value(TIME, "+1991-11-25T00:00:00Z", precision=11)),)
    assert facts["P2048"].value == Value(QUANTITY, "+1.96", unit="Q11573")
    assert facts["P1477"].value == Value(TEXT, "Douglas Noël Adams", lang="en")
    assert facts["P625"].value.kind == COORD
    assert facts["P569"].value.precision == 9
    assert "P40" not in facts and "P999" not in facts
    assert stats.counts["deprecated_claim"] == 1 and stats.counts["unknown_value"] == 1
    assert stats.counts["unknown_datatype"] == 1
    labels = [r for r in out if isinstance(r, Label)]
    assert Label("Q42", "Douglas Adams", "en") in labels and Label("P19", "place of birth", "en") in labels
    assert Label("Q42", "Douglas Noël Adams", "en", alias=True) in labels
    assert [d.reason for d in out if isinstance(d, Drop)] == ["invalid_json"]
    assert stats.records == 3


def test_tsv_values_and_labels(tmp_path):
    assert parse_tsv_value("1952-03-11") == Value(TIME, "1952-03-11", precision=11)
    assert parse_tsv_value("1.86 Q11573") == Value(QUANTITY, "1.86", unit="Q11573")
    assert parse_tsv_value('"Den Haag"@nl') == Value(TEXT, "Den Haag", lang="nl")
    assert parse_tsv_value("Q90") == Value(ENTITY, "Q90")
    assert parse_tsv_value("hello world") == Value(STRING, "hello world")
    path = tmp_path / "t.tsv"
    path.write_text("Q42\tP26\tQ1\tP580=1991-11-25\tP582=2001\nbad row\nQ42\tP2048\t1.96 Q11573\nQ1\tP1\tx\tnoequals\n")
    out, stats = read(path, "tsv")
    facts = [r for r in out if isinstance(r, Fact)]
    assert facts[0].qualifiers == (("P580", Value(TIME, "1991-11-25", precision=11)), ("P582", Value(STRING, "2001")))
    assert sorted(d.reason for d in out if isinstance(d, Drop)) == ["bad_value", "malformed_row"]
    labels = tmp_path / "l.tsv"
    labels.write_text("Q42\tDouglas Adams\nQ1\tJane\tfr\nQ2\n")
    out, _ = read(labels, "labels-tsv")
    assert [r for r in out if isinstance(r, Label)] == [Label("Q42", "Douglas Adams", None)]
    assert [d.reason for d in out if isinstance(d, Drop)] == ["malformed_row"]


WEBNLG = """<?xml version="1.0" ?>
<benchmark><entries>
<entry category="Astronaut" eid="Id1" size="2">
  <modifiedtripleset>
    <mtriple>Alan_Bean | birthPlace | Wheeler,_Texas</mtriple>
    <mtriple>Alan_Bean | birthDate | "1932-03-15"</mtriple>
  </modifiedtripleset>
  <lex comment="good" lid="Id1">Alan Bean was born in Wheeler, Texas on March 15, 1932.</lex>
</entry>
<entry category="Astronaut" eid="Id2" size="1">
  <modifiedtripleset><mtriple>only two | parts</mtriple></modifiedtripleset>
</entry>
</entries></benchmark>"""


def test_webnlg_as_triples_and_pairs(tmp_path):
    path = tmp_path / "w.xml"
    path.write_text(WEBNLG)
    out, stats = read(path, "webnlg")
    facts = [r for r in out if isinstance(r, Fact)]
    assert Fact("Alan_Bean", "birthPlace", Value(ENTITY, "Wheeler,_Texas")) in facts
    assert Fact("Alan_Bean", "birthDate", Value(TIME, "1932-03-15", precision=11)) in facts
    assert Label("Wheeler,_Texas", "Wheeler, Texas", "en") in out
    assert Label("birthPlace", "birth place", "en") in out
    assert [d.reason for d in out if isinstance(d, Drop)] == ["malformed_triple"]
    pairs = read_webnlg_pairs(str(path))
    assert pairs == [{"id": "Astronaut/Id1/2", "triples": [["Alan Bean", "birth place", "Wheeler, Texas"],
                                                           ["Alan Bean", "birth date", "1932-03-15"]],
                      "texts": ["Alan Bean was born in Wheeler, Texas on March 15, 1932."]}]
    from corpora.kg.readers.webnlg import main

    out = tmp_path / "pairs.jsonl"
    assert main([str(path), str(out)]) == 0
    row = json.loads(out.read_text().splitlines()[0])
    # the prompt the kg job builds for a model, by the same function (dates rendered as in the text)
    assert row["serialized_triples"] == "Alan Bean birth place Wheeler, Texas birth date 15 March 1932"
    from corpora.kg.model_verbalizer import ModelPrompt
    from corpora.kg.readers.webnlg import entry_subgraph
    from corpora.kg.templates import load_templates

    sg = entry_subgraph("x", [("Alan_Bean", "birthPlace", "Wheeler,_Texas"), ("Alan_Bean", "birthDate", '"1932-03-15"')])
    assert ModelPrompt(load_templates())(sg) == row["serialized_triples"]

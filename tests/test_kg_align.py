"""kg-align: sentence splitting, name matching (case, whitespace, word boundaries), fact matching,
and the Beam job end to end on a small corpus."""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from corpora.kg.align import match_facts, name_key, names_of, sentence_keys, split_sentences
from corpora.kg.align_job import AlignConfig, run_align
from corpora.kg.beam_inputs import load_cooccurrence
from corpora.kg.model import ENTITY, QUANTITY, TIME, Fact, Value
from pipeline.schema import CORPUS_SCHEMA
from pipeline.stats import stage

ONE_WORKER = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]


def test_split_sentences_keeps_abbreviations_together():
    text = "Douglas Adams was born in Cambridge. He studied at St. John's College in 1971.\nMr. Smith met J. R. Tolkien!"
    assert split_sentences(text + " Ok.")[-1] == "Ok."
    assert split_sentences(text) == ["Douglas Adams was born in Cambridge.", "He studied at St. John's College in 1971.",
                                     "Mr. Smith met J. R. Tolkien!"]


def test_names_and_ngrams_match_case_whitespace_and_word_boundaries():
    assert name_key("  Douglas\tADAMS ") == "douglas adams"
    keys = sentence_keys("A Parisian café near the Paris  Opera")
    assert "paris" in keys and "paris opera" in keys and "parisian" in keys
    assert "the" not in keys and "near the" in keys
    assert list(names_of("Q1", [("The", False), ("Paris", False), ("paris", True), ("Ville Lumière", True)])) == \
        ["paris", "ville lumiere"]  # diacritics folded


def test_match_facts_entities_and_literals():
    facts = [Fact("Q42", "P19", Value(ENTITY, "Q350")), Fact("Q42", "P569", Value(TIME, "+1952-03-11T00:00:00Z",
                                                                                   precision=11)),
             Fact("Q42", "P1082", Value(QUANTITY, "1234567")), Fact("Q42", "P20", Value(ENTITY, "Q1"))]
    label = {"Q350": "Cambridge", "Q1": "Santa Barbara"}.get
    got = match_facts("Adams (born March 11, 1952) grew up near Cambridge; 1234567 copies.", "Q42", facts, {"Q350"},
                      label)
    assert [f.relation for f in got] == ["P19", "P569", "P1082"]
    assert match_facts("Adams was born in 1952.", "Q42", facts, set(), label) == []  # a day date needs the day


def write_web_corpus(directory: Path, texts: list[str]) -> None:
    """One English web parquet file under ``directory/data`` with ids d0, d1, ..."""
    (directory / "data").mkdir(parents=True)
    n = len(texts)
    pq.write_table(pa.table({"id": [f"d{i}" for i in range(n)], "text": texts, "source": ["web"] * n,
                             "url": [None] * n, "lang": ["en"] * n, "lang_score": [1.0] * n, "meta": ["{}"] * n},
                            schema=CORPUS_SCHEMA), directory / "data" / "part-00000.parquet")


def test_align_job(tmp_path):
    texts = ["Douglas Adams was born in Cambridge on 11 March 1952. He was a writer.",
             "In 1903 MARIE   curie received the Nobel Prize in Physics, with Pierre Curie.",
             "The Parisian summer was hot and nobody in the town of Warsawa cared much about it."]
    write_web_corpus(tmp_path / "web", texts)
    out = tmp_path / "align"
    cfg = AlignConfig(triples=["corpora/samples/kg/sample.nt"], corpus=[str(tmp_path / "web")], output=str(out),
                      chunk_mb=64)
    report = run_align(cfg, ONE_WORKER, quiet=True)
    assert report["accounting_ok"]
    assert stage(report, "corpus")["counts"] == {"sentence_too_short": 1}  # "He was a writer."
    assert stage(report, "sentences")["in"] == 3 and stage(report, "sentences")["dropped"] == {"no_entity_mention": 1}
    rows = [json.loads(line) for line in open(out / "pairs.jsonl")]
    by = {(r["subject_label"], r["doc_id"]): r for r in rows}
    adams = by[("Douglas Adams", "d0")]
    assert sorted(t[1] for t in adams["triples"]) == ["date of birth", "place of birth"]
    curie = by[("Marie Curie", "d1")]
    assert sorted(t[2] for t in curie["triples"]) == ["Nobel Prize in Physics", "Pierre Curie"]
    assert not any(r["doc_id"] == "d2" for r in rows)  # "Parisian" is not Paris, "Warsawa" not Warsaw
    cooc = load_cooccurrence(str(out / "pairs.jsonl"))
    assert cooc.pairs[("P166", "P26")] >= 1 and cooc.pairs[("P19", "P569")] == 1
    manifest = json.load(open(out / "manifest.json"))
    assert manifest["outputs"]["data"][0]["rows"] == len(rows)


def test_document_resolution_short_names_pronouns_and_ambiguity():
    from corpora.kg.align import FULL, SHORT, resolve_document, short_names

    assert short_names("Douglas Adams") == ["adams"] and short_names("Paris") == [] and short_names("Jo de la") == []
    sentences = [(0, "d#0", "Douglas Adams was a writer."), (1, "d#1", "Adams was born in Cambridge."),
                 (2, "d#2", "His daughter Polly Adams was born later."), (3, "d#3", "Adams died in 2001."),
                 (4, "d#4", "He was 49."), (5, "d#5", "Jane met him in 1991."), (6, "d#6", "Adams is a name.")]
    mentions = [("d#0", "Q42", "Douglas Adams", "douglas adams", FULL), ("d#0", "Q42", "Douglas Adams", "adams", SHORT),
                ("d#1", "Q42", "Douglas Adams", "adams", SHORT), ("d#1", "Q350", "Cambridge", "cambridge", FULL),
                ("d#2", "Q9", "Polly Adams", "polly adams", FULL), ("d#2", "Q9", "Polly Adams", "adams", SHORT),
                ("d#2", "Q42", "Douglas Adams", "adams", SHORT),
                ("d#3", "Q9", "Polly Adams", "adams", SHORT), ("d#3", "Q42", "Douglas Adams", "adams", SHORT),
                ("d#5", "Q7", "Jane", "jane", FULL), ("d#6", "Q42", "Douglas Adams", "adams", SHORT)]
    got = {sid: set(m) for sid, _, m in resolve_document(sentences, mentions)}
    assert got["d#1"] == {"Q42", "Q350"}  # the short name of the entity named in full before
    assert got["d#2"] == {"Q42", "Q9"}  # "His": the pronoun comes first and stands for the last subject
    assert got["d#3"] == {"Q42"}  # "Adams" after two Adamses: the one named first
    assert got["d#4"] == {"Q42"}  # "He"
    assert got["d#5"] == {"Q7"}  # "him" after another name: not resolved
    assert got["d#6"] == {"Q42"}  # a short name needs no antecedent sentence, only a full mention before


ADA = """\
<http://www.wikidata.org/entity/Q7259> <http://www.w3.org/2000/01/rdf-schema#label> "Ada Lovelace"@en .
<http://www.wikidata.org/entity/Q84> <http://www.w3.org/2000/01/rdf-schema#label> "London"@en .
<http://www.wikidata.org/entity/Q145> <http://www.w3.org/2000/01/rdf-schema#label> "United Kingdom"@en .
<http://www.wikidata.org/entity/Q170790> <http://www.w3.org/2000/01/rdf-schema#label> "mathematician"@en .
<http://www.wikidata.org/entity/Q7259> <http://www.wikidata.org/prop/direct/P19> <http://www.wikidata.org/entity/Q84> .
<http://www.wikidata.org/entity/Q7259> <http://www.wikidata.org/prop/direct/P19> <http://www.wikidata.org/entity/Q84> .
<http://www.wikidata.org/entity/Q7259> <http://www.wikidata.org/prop/direct/P27> <http://www.wikidata.org/entity/Q145> .
<http://www.wikidata.org/entity/Q7259> <http://www.wikidata.org/prop/direct/P106> <http://www.wikidata.org/entity/Q170790> .
<http://www.wikidata.org/entity/Q7259> <http://www.wikidata.org/prop/direct/P569> "1815-12-10T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> .
<http://www.wikidata.org/entity/Q7259> <http://www.wikidata.org/prop/direct/P20> <http://www.wikidata.org/entity/Q84> .
"""


def test_local_and_beam_align_agree_when_the_fact_cap_bites(tmp_path):
    """align_local applies the Beam job's subject facts (identifier filter, --max-facts-per-entity
    cap, repeats dropped) through the same function: both state the same facts per sentence."""
    from collections import Counter

    from corpora.kg.local import align_local, read_records
    from corpora.kg.model import Label
    from corpora.kg.readers import ReadOptions

    (tmp_path / "ada.nt").write_text(ADA)
    texts = ["Ada Lovelace was born on 10 December 1815 in London, United Kingdom, and died in London. "
             "She was a mathematician."]
    write_web_corpus(tmp_path / "web", texts)
    records = list(read_records([str(tmp_path / "ada.nt")], ReadOptions(langs=("en",), keep_aliases=True), Counter()))
    facts = [r for r in records if isinstance(r, Fact)]
    labels = [r for r in records if isinstance(r, Label)]

    def local(max_facts):
        return {(sid, subject, tuple(sorted((f.relation, json.dumps(f.value.to_json())) for f in matched)))
                for sid, subject, matched in align_local([("d0", texts[0])], facts, labels, max_facts=max_facts)}

    def beam(max_facts):
        out = tmp_path / f"align{max_facts}"
        cfg = AlignConfig(triples=[str(tmp_path / "ada.nt")], corpus=[str(tmp_path / "web")], output=str(out),
                          max_facts_per_entity=max_facts)
        assert run_align(cfg, ONE_WORKER, quiet=True)["accounting_ok"]
        return {(r["sentence_id"], r["subject"], tuple(sorted((f["p"], json.dumps(f["o"])) for f in r["facts"])))
                for r in map(json.loads, open(out / "pairs.jsonl"))}

    uncapped, capped = local(1000), local(2)
    assert uncapped == beam(1000) and capped == beam(2)
    stated = {sid: [p for p, _ in fs] for sid, _, fs in uncapped}
    assert stated == {"d0#0": ["P19", "P20", "P27", "P569"], "d0#1": ["P106"]}  # P19 twice in the file, once here
    assert sum(len(fs) for _, _, fs in capped) < 5  # the cap bites: 5 distinct facts, 2 kept

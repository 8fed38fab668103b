"""The kg job end to end on the DirectRunner: the shipped sample with 2 workers, a TSV graph with a
hub and a cycle, the model verbalizer with a tiny seq2seq model, and bad arguments."""

import json
import os

import pyarrow.parquet as pq
import pytest

from corpora.kg.job import KgConfig, demo_config, run_kg, run_kg_demo
from pipeline.jobs import UsageError
from pipeline.stats import stage
from tests.tiny_models import make_tiny_seq2seq

ONE_WORKER = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]
TWO_WORKERS = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]


def corpus(out):
    table = pq.read_table(os.path.join(out, "data")).to_pylist()
    return sorted(table, key=lambda r: r["id"])


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("kg") / "out")
    report = run_kg_demo(demo_config(out), TWO_WORKERS, overwrite=False)
    return out, report


def test_sample_with_two_workers(sample_run):
    out, report = sample_run
    assert report["accounting_ok"]
    names = [s["stage"] for s in report["stages"]]
    assert names == ["read", "statements", "facts", "subgraphs", "labels", "verbalize", "faithfulness", "write"]
    read = stage(report, "read")
    assert read["dropped"] == {"bad_literal": 1, "malformed_line": 2}
    assert read["counts"]["unknown_datatype"] == 1
    assert stage(report, "statements")["dropped"] == {"deprecated_rank": 1}
    assert stage(report, "facts")["dropped"]["duplicate_fact"] >= 1
    assert stage(report, "faithfulness")["dropped"] == {}  # templates: every sentence faithful
    assert stage(report, "labels")["counts"]["entities_without_label"] >= 1  # Q99999999 falls back to its id
    # labels are joined per owner, but counted per subgraph lookup as before (the same numbers as the docs)
    labels = stage(report, "labels")
    assert (labels["in"], labels["out"], labels["counts"]) == (
        300, 300, {"entities_without_label": 1, "no_label_fallback_to_id": 4})
    assert stage(report, "facts")["dropped"]["identifier"] == 2  # external ids left out by default
    rows = corpus(out)
    assert len(rows) == stage(report, "write")["out"] > 10
    assert {r["source"] for r in rows} == {"kg"} and {r["lang"] for r in rows} == {"en"}
    metas = [json.loads(r["meta"]) for r in rows]
    # every fact that reached the subgraphs is verbalized exactly once
    assert sum(len(m["triples"]) for m in metas) == stage(report, "subgraphs")["out"]
    assert len({m["subgraph_id"] for m in metas}) == len(rows)
    by_subject = {}
    for r, m in zip(rows, metas, strict=True):
        by_subject.setdefault(m["subject_label"], []).append(r["text"])
    adams = " ".join(by_subject["Douglas Adams"])
    assert "from 25 November 1991 until 11 May 2001" in adams  # statement qualifiers
    assert "douglasadams" not in adams  # an X username is an external identifier: left out by default
    assert "12 March 1952" not in adams  # the deprecated statement is gone
    assert "Q99999999" in " ".join(by_subject["Albert Einstein"])
    assert "The Hitchhiker's Guide to the Galaxy, which was published on 12 October 1979" in adams  # a chain
    with open(os.path.join(out, "kelm.jsonl"), encoding="utf-8") as f:
        kelm = [json.loads(line) for line in f]
    assert sorted(k["sentence"] for k in kelm) == sorted(r["text"] for r in rows)
    assert not os.path.exists(os.path.join(out, ".kelm-parts"))  # per-bundle parts concatenated and removed
    assert all(k["triples"] and k["serialized_triples"] for k in kelm)
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    assert manifest["outputs"]["kelm"][0]["rows"] == len(kelm) and manifest["job"] == "kg"


def test_same_output_with_one_worker_and_refuses_to_overwrite(sample_run, tmp_path):
    out, _ = sample_run
    again = str(tmp_path / "again")
    run_kg(KgConfig(triples=[os.path.join("corpora", "samples", "kg", "sample.nt")], output=again,
                    labels=[os.path.join("corpora", "samples", "kg", "labels.tsv")]), ONE_WORKER, quiet=True)
    assert [(r["id"], r["text"]) for r in corpus(again)] == [(r["id"], r["text"]) for r in corpus(out)]
    with pytest.raises(UsageError, match="already holds"):
        run_kg(KgConfig(triples=["corpora/samples/kg/sample.nt"], output=again), ONE_WORKER, quiet=True)


def test_tsv_graph_with_hub_cycle_and_missing_labels(tmp_path):
    rows = [f"Q3\tP527\tPART{i}" for i in range(300)]  # a hub
    rows += ["Q1\tP26\tQ2", "Q2\tP26\tQ1", "Q1\tP19\tQ4", "Q1\tP569\t1900-05-01", "Q2\tP2048\t1.8 Q11573",
             "Q1\tbroken"]
    (tmp_path / "g.tsv").write_text("\n".join(rows) + "\n")
    (tmp_path / "labels.tsv").write_text("Q1\tAnna\nQ2\tBert\nQ3\tThe Hub\nQ11573\tmetre\n")
    out = str(tmp_path / "out")
    pairs = tmp_path / "pairs.jsonl"  # co-occurrence from aligned sentences (kg-align's output)
    pairs.write_text(json.dumps({"facts": [{"p": "P19"}, {"p": "P569"}]}) + "\n")
    report = run_kg(KgConfig(triples=[str(tmp_path / "g.tsv")], labels=[str(tmp_path / "labels.tsv")], output=out,
                             max_facts_per_entity=50, rejects=True, cooccurrence=str(pairs),
                             keep_identifiers=True),  # PART0.. are plain strings of a Wikidata property: kept
                    ONE_WORKER, quiet=True)
    assert report["accounting_ok"]
    assert stage(report, "read")["dropped"] == {"malformed_row": 1}
    assert stage(report, "facts")["dropped"] == {"hub_cap": 250}
    texts = " ".join(r["text"] for r in corpus(out))
    assert "Anna, who was born on 1 May 1900 in Q4, is married to Bert." in texts  # cycle Anna <-> Bert is fine
    assert "Bert is married to Anna and is 1.8 metres tall." in texts
    assert texts.count("The Hub includes") == 10
    rejects = pq.read_table(os.path.join(out, "rejects")).to_pylist()
    assert [r["reason"] for r in rejects] == ["malformed_row"]


def test_model_verbalizer_with_tiny_seq2seq(tmp_path):
    model = make_tiny_seq2seq(str(tmp_path / "t5"))
    out = str(tmp_path / "out")
    report = run_kg(KgConfig(triples=["corpora/samples/kg/sample.nt"], output=out, verbalizer=f"hf:{model}",
                             keep_unfaithful=True, max_new_tokens=8, gen_batch_size=8), ONE_WORKER, quiet=True)
    assert report["accounting_ok"]
    verbalize = stage(report, "verbalize")
    assert verbalize["in"] == stage(report, "subgraphs")["counts"]["subgraphs"]
    rows = corpus(out)
    assert len(rows) == verbalize["out"]
    metas = [json.loads(r["meta"]) for r in rows]
    assert {m["verbalizer"] for m in metas} == {f"hf:{model}"}
    flagged = sum(v for k, v in stage(report, "faithfulness").get("counts", {}).items() if k.startswith("flagged_"))
    assert flagged == sum(1 for m in metas if not m["faithful"]) > 0  # a random model is not faithful


def test_bad_arguments_fail_before_work(tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text("relations:\n  P19: '{subject} was born in {place}'\n")
    out = str(tmp_path / "out")
    with pytest.raises(UsageError, match=r"P19.*\{place\}"):
        run_kg(KgConfig(triples=["corpora/samples/kg/sample.nt"], output=out, templates=str(bad)), ONE_WORKER)
    with pytest.raises(UsageError, match="--verbalizer"):
        run_kg(KgConfig(triples=["corpora/samples/kg/sample.nt"], output=out, verbalizer="hf:/no/such/dir"), ONE_WORKER)
    with pytest.raises(UsageError, match="no file matches"):
        run_kg(KgConfig(triples=[str(tmp_path / "none*.nt")], output=out), ONE_WORKER)
    (tmp_path / "x.dat").write_text("?")
    with pytest.raises(UsageError, match="--format"):
        run_kg(KgConfig(triples=[str(tmp_path / "x.dat")], output=out), ONE_WORKER)
    with pytest.raises(UsageError, match="--max-facts"):
        run_kg(KgConfig(triples=["corpora/samples/kg/sample.nt"], output=out, max_facts=0), ONE_WORKER)
    with pytest.raises(UsageError, match="unknown option"):
        run_kg(KgConfig(triples=["corpora/samples/kg/sample.nt"], output=out), ["--max-fact=3"])
    assert not os.path.exists(out)


def test_wikidata_json_input_with_turtle_labels(tmp_path):
    def claim(prop, dv):
        return {prop: [{"rank": "normal", "mainsnak": {"snaktype": "value", "property": prop, "datavalue": dv}}]}

    entity = {"id": "Q42", "labels": {"en": {"language": "en", "value": "Douglas Adams"}}, "claims": {
        **claim("P19", {"type": "wikibase-entityid", "value": {"id": "Q350"}}),
        **claim("P569", {"type": "time", "value": {"time": "+1952-03-11T00:00:00Z", "precision": 11}}),
        **claim("P2048", {"type": "quantity", "value": {"amount": "+1.96", "unit": "http://www.wikidata.org/entity/Q11573"}})}}
    (tmp_path / "dump.json").write_text("[\n" + json.dumps(entity) + "\n]\n")
    (tmp_path / "labels.ttl").write_text(
        "@prefix wd: <http://www.wikidata.org/entity/> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        'wd:Q350 rdfs:label "Cambridge"@en .\nwd:Q11573 rdfs:label "metre"@en, "Meter"@de .\n'
        "wd:Q350 wd:P17 wd:Q145 .\n")
    out = str(tmp_path / "out")
    report = run_kg(KgConfig(triples=[str(tmp_path / "dump.json")], labels=[str(tmp_path / "labels.ttl")],
                             output=out), ONE_WORKER, quiet=True)
    assert report["accounting_ok"]
    assert stage(report, "read")["counts"]["ignored_in_labels_file"] == 1  # a --labels file gives labels only
    (row,) = corpus(out)
    assert row["text"] == "Douglas Adams, who was born on 11 March 1952 in Cambridge, is 1.96 metres tall."


def test_summary_says_how_to_give_labels_when_ids_stand_in_the_text(tmp_path, capsys):
    """A slice whose objects have no label (as a Wikidata entity export without its objects'
    labels) writes their ids in the text: the summary says how many and how to give labels; the
    same slice with its labels gives none."""
    (tmp_path / "g.tsv").write_text("Q1\tP106\tQ36180\nQ1\tP19\tQ84\nQ1\tP27\tQ145\n")
    (tmp_path / "self.tsv").write_text("Q1\tAnna\n")
    (tmp_path / "all.tsv").write_text("Q1\tAnna\nQ36180\twriter\nQ84\tLondon\nQ145\tUnited Kingdom\n")
    for labels, hinted in (("self.tsv", True), ("all.tsv", False)):
        out = str(tmp_path / f"out-{labels}")
        report = run_kg(KgConfig(triples=[str(tmp_path / "g.tsv")], labels=[str(tmp_path / labels)], output=out),
                        ONE_WORKER)
        printed = capsys.readouterr().out
        texts = " ".join(r["text"] for r in corpus(out))
        assert ("Q36180" in texts) is hinted
        notes = [line for line in printed.splitlines() if line.startswith("note:")]
        if hinted:
            labels_stage = stage(report, "labels")
            missing, lookups = labels_stage["counts"]["no_label_fallback_to_id"], labels_stage["in"]
            assert notes == [f"note: {missing} of {lookups} entity mentions ({100 * missing / lookups:.0f}%) "
                             "had no label in en, mul or untagged and are written as their ids (a Wikidata id as "
                             "it is, an IRI as its local name); give their labels with --labels (a labels TSV or "
                             "JSON, or a triples file with rdfs:label), see docs/kg.md"]
        else:
            assert notes == []


def test_no_hint_for_a_few_ids_or_without_a_labels_stage():
    from corpora.kg.labels import unlabelled_hint

    def report(lookups, missing):
        return {"stages": [{"stage": "labels", "in": lookups, "out": lookups,
                            "counts": {"no_label_fallback_to_id": missing}}]}

    assert unlabelled_hint(report(300, 4), ("en",)) is None  # the shipped sample's one unlabelled id
    assert unlabelled_hint(report(300, 30), ("en",)).startswith("note: 30 of 300 entity mentions (10%)")
    assert unlabelled_hint({"stages": [{"stage": "read", "in": 5, "out": 5}]}, ("en",)) is None

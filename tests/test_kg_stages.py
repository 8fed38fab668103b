"""The kg / kg-align stages as pure callables (corpora/kg/stages.py, align_stages.py): what each
returns, counted as the stage wrappers count it (pipeline.outcomes.Tally), and the wrapper
extensions they use (named outputs, side inputs); plus the orderings that keep the output the
same on every worker."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from corpora.kg.align_stages import SENTENCES, AlignSentences, SplitSentences, candidates
from corpora.kg.codec import decode_group, encode_fact, encode_group, encode_label
from corpora.kg.graph import Cooccurrence, cap_facts
from corpora.kg.model import ENTITY, STRING, TIME, Fact, Label, StatementPart, Value
from corpora.kg.readers import Chunk, ReadOptions
from corpora.kg.stages import (
    LABELS,
    PARTS,
    RELSETS,
    REQUESTS,
    VALUE_PARTS,
    CheckFaithful,
    PartitionOwner,
    ReadChunk,
    RouteEntity,
    assemble,
    resolve_labels,
)
from corpora.kg.subgraphs import Subgraph, SubgraphParams
from pipeline.outcomes import Forward, Tally, To
from pipeline.records import Drop
from pipeline.stats import build_report, stage

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpora" / "samples" / "kg" / "sample.nt"


def run(stage_name: str, outcomes, inputs: int | None = None, stage_order=()):
    """(the values a wrapper would emit, grouped by output ("out", a named output, "drops"), the report)."""
    tally = Tally()
    out: dict[str, list] = {}
    for item in tally.each(stage_name, outcomes, inputs):
        key = "drops" if isinstance(item, Drop) else item.output if isinstance(item, To) else "out"
        out.setdefault(key, []).append(item.item if isinstance(item, To) else item)
    return out, build_report(tally.counter.drained(), list(stage_order) or [stage_name])


def test_to_counts_what_it_holds_and_names_its_output():
    out, report = run("s", [To("side", "a"), To("side", Forward("b")), To("side", Drop("", "bad")), "c"])
    assert out == {"side": ["a", "b"], "drops": [Drop("s", "bad")], "out": ["c"]}
    assert stage(report, "s") == {"stage": "s", "in": 3, "out": 2, "dropped": {"bad": 1}, "balanced": True}


def test_read_chunk_counts_records_and_routes_each_kind_to_its_output():
    read = ReadChunk(ReadOptions(langs=("en", "mul"), keep_aliases=False))
    out, report = run("read", read(Chunk(str(SAMPLE), "nt")))
    st = stage(report, "read")
    assert st["dropped"] == {"bad_literal": 1, "malformed_line": 2} and st["balanced"]
    lines = len(SAMPLE.read_bytes().splitlines())
    assert st["in"] == lines - st["counts"]["blank_or_comment_lines"]  # one record per triple line
    assert len(out["out"]) == st["counts"]["facts"] == 116 and all(isinstance(f, Fact) for f in out["out"])
    assert len(out[LABELS]) == st["counts"]["labels"] and all(isinstance(v[1], Label) for v in out[LABELS])
    assert len(out[PARTS]) + len(out.get(VALUE_PARTS, [])) == st["counts"]["statement_parts"] == 47
    # value-node fields go by their node, links to a value node by it, the rest by statement node
    field = StatementPart("v1", "field", "timeValue", Value(TIME, "+1952"))
    link = StatementPart("s1", "value_node", "P569", Value(ENTITY, "v1"))
    qualifier = StatementPart("s1", "qualifier", "P580", Value(TIME, "+1971"))
    assert [(o, f.value) for o, f in map(read._keyed_part, (field, link, qualifier))] == [
        (VALUE_PARTS, ("v1", field)), (VALUE_PARTS, ("v1", link)), (PARTS, ("s1", qualifier))]
    encoded, _ = run("read", ReadChunk(read.options, encoded=True)(Chunk(str(SAMPLE), "nt")))
    assert all(isinstance(k, str) and isinstance(b, bytes) for k, b in encoded["out"])  # (subject, codec bytes)


def test_an_unreadable_chunk_is_one_record_dropped():
    def broken(path):
        raise OSError("disk gone")

    out, report = run("read", ReadChunk(ReadOptions(), open_fn=broken)(Chunk("/x.nt", "nt")))
    assert [(d.reason, d.id, d.detail) for d in out["drops"]] == [("unreadable_file", "/x.nt", "disk gone")]
    assert stage(report, "read")["in"] == 1 and stage(report, "read")["out"] == 0


def test_assemble_keeps_a_statement_or_drops_it_by_reason():
    parts = [StatementPart("s1", "subject", "P19", Value(ENTITY, "Q42")),
             StatementPart("s1", "value", "P19", Value(ENTITY, "Q350"))]
    fact = assemble(("s1", parts))
    assert (fact.subject, fact.relation, fact.value.v, fact.statement) == ("Q42", "P19", "Q350", "s1")
    drop = assemble(("s2", parts[:1]))
    assert (drop.reason, drop.id) == ("incomplete_statement", "s2")


def test_route_entity_drops_by_reason_and_one_group_stands_for_its_facts():
    facts = [Fact("Q1", "P106", Value(ENTITY, f"Q{100 + i}")) for i in range(5)]
    facts += [facts[0], Fact("Q1", "P214", Value(STRING, "113230702", datatype="external-id"))]
    out, report = run("facts", RouteEntity(max_facts=4, max_chain_facts=3)(("Q1", [encode_fact(f) for f in facts])))
    st = stage(report, "facts")
    assert st["in"] == 7 and st["dropped"] == {"identifier": 1, "hub_cap": 2, "duplicate_fact": 1} and st["out"] == 3
    assert st["counts"] == {"hub_entities": 1}
    [(owner, group)] = out["out"]
    role, entity, routed = decode_group(group)
    assert (owner, role, entity, len(routed)) == ("Q1", "own", "Q1", 3)
    assert out[RELSETS] == [["P106"]] and ("Q1", "Q1") in out[REQUESTS]
    # referred to by one entity only, with few facts: chained to it, no relation set of its own
    chain, report = run("facts", RouteEntity(10, 3)(("Q9", [encode_fact(Fact("Q9", "P577", Value(TIME, "+1979"))),
                                                           ("Q1",)])))
    assert decode_group(chain["out"][0][1])[0] == "chain" and chain["out"][0][0] == "Q1"
    assert RELSETS not in chain and stage(report, "facts")["counts"] == {"chained_entities": 1}


def test_labels_join_and_partition_count_lookups_and_place_every_fact():
    joined, report = run("labels", resolve_labels(("Q5", {"label": [], "requests": ["Q1", "Q1"]})))
    assert joined == {} and stage(report, "labels")["counts"] == {"entities_without_label": 1}
    joined, _ = run("labels", resolve_labels(("Q5", {"label": [("Mars", "en")], "requests": ["Q2", "Q1"]})))
    assert [owner for owner, _ in joined["out"]] == ["Q1", "Q2"]
    own = [Fact("Q1", "P106", Value(ENTITY, f"Q{100 + i}")) for i in range(7)]
    values = [encode_group("own", "Q1", own), encode_group("chain", "Q101", [Fact("Q101", "P17", Value(ENTITY, "Q5"))]),
              encode_label("Q1", "Ada"), encode_label("Q5", "Mars")]
    step = PartitionOwner(SubgraphParams(max_facts=3))
    out, report = run("subgraphs", step(("Q1", values), Cooccurrence()), stage_order=["subgraphs", "labels"])
    sgs = out["out"]
    assert stage(report, "subgraphs")["in"] == stage(report, "subgraphs")["out"] == 8 == sum(len(s.facts) for s in sgs)
    assert stage(report, "subgraphs")["counts"]["subgraphs"] == len(sgs) == 3
    lookups = stage(report, "labels")
    assert lookups["in"] == lookups["out"] > 0 and all(s.labels.get("Q1") == "Ada" for s in sgs)
    assert lookups["counts"]["no_label_fallback_to_id"] == lookups["in"] - sum(len(s.labels) for s in sgs)


def test_faithfulness_drops_or_flags_an_unfaithful_sentence():
    sg = Subgraph("Q1#0", "Q1", [Fact("Q1", "P19", Value(ENTITY, "Q350"))], labels={"Q1": "Ada", "Q350": "Cambridge"})
    dropped, report = run("faithfulness", [CheckFaithful("en", keep_unfaithful=False)((sg, "Ada was born.", []))])
    assert dropped["drops"][0].reason == "missing_object" and dropped["drops"][0].text == "Ada was born."
    kept, report = run("faithfulness", [CheckFaithful("en", keep_unfaithful=True)((sg, "Ada was born.", []))])
    assert kept["out"][0][3].reason == "missing_object"
    assert stage(report, "faithfulness")["counts"] == {"flagged_missing_object": 1}
    ok, _ = run("faithfulness", [CheckFaithful("en", False)((sg, "Ada was born in Cambridge.", []))])
    assert ok["out"][0][3].ok


def test_align_stages_count_rows_sentences_and_pairs():
    row = {"id": "d", "text": "Ada Lovelace was born in London in 1815. Short one. Ada Lovelace met nobody at all."}
    out, report = run("corpus", SplitSentences(8)(row))
    assert stage(report, "corpus") == {"stage": "corpus", "in": 1, "out": 1, "dropped": {}, "balanced": True,
                                       "counts": {"sentence_too_short": 1}}
    assert [s[1][1] for s in out[SENTENCES]] == ["d#0", "d#2"] and ("ada lovelace", "d#0") in out["out"]
    mentions = [("d#0", "Q7", "Ada Lovelace", "ada lovelace", "full"), ("d#0", "Q84", "London", "london", "full")]
    groups = {"text": [s[1] for s in out[SENTENCES]], "mentions": mentions}
    cands, report = run("sentences", candidates("d", groups), inputs=2)
    assert stage(report, "sentences")["dropped"] == {"no_entity_mention": 1} and stage(report, "sentences")["out"] == 1
    assert sorted(subject for subject, _ in cands["out"]) == ["Q7", "Q84"]
    sentences = [c[1] for c in cands["out"] if c[0] == "Q7"] + [("d#9", "Ada Lovelace sang.", {"Q7": "Ada Lovelace"})]
    facts = [Fact("Q7", "P19", Value(ENTITY, "Q84"))]
    pairs, report = run("align", AlignSentences(1000, "en")("Q7", {"facts": facts, "sentences": sentences},
                                                             {"P19": "place of birth"}), inputs=2)
    assert stage(report, "align")["dropped"] == {"no_object_in_sentence": 1}
    assert stage(report, "align")["counts"] == {"facts": 1}
    assert json.loads(pairs["out"][0])["triples"] == [["Ada Lovelace", "place of birth", "London"]]
    _, report = run("align", AlignSentences(1000, "en")("Q84", {"facts": [], "sentences": sentences[:1]}, {}), 1)
    assert stage(report, "align")["dropped"] == {"subject_has_no_facts": 1}


def test_hub_cap_is_the_same_whatever_the_input_order():
    # a triple and the statement stating it hash alike: ties go by statement id, not by arrival
    facts = [Fact("Q1", "P106", Value(ENTITY, f"Q{i}")) for i in range(6)]
    facts += [Fact(f.subject, f.relation, f.value, statement=f"s{i}") for i, f in enumerate(facts)]
    kept = [cap_facts(order, 5) for order in (facts, facts[::-1], facts[1::2] + facts[::2])]
    assert kept[0] == kept[1] == kept[2] and kept[0][1] == 7


def test_statement_qualifiers_are_in_the_same_order_under_any_hash_seed():
    """Two qualifier texts that differ only by language: the assembled fact (and so its content hash,
    which the hub cap orders by) is the same in every worker process."""
    code = """
from corpora.kg.model import ENTITY, TEXT, StatementPart, Value
from corpora.kg.statements import assemble_statement
langs = ["pl", "sh", "nb", "sv", "de", "fr"]
parts = [StatementPart("s", "subject", "P18", Value(ENTITY, "Q42")), StatementPart("s", "value", "P18", Value(ENTITY, "F"))]
parts += [StatementPart("s", "qualifier", "P2096", Value(TEXT, "Portret", lang=x)) for x in langs]
print([v.lang for _, v in assemble_statement("s", parts).qualifiers])
"""
    seen = Counter()
    for seed in range(4):
        env = {"PYTHONHASHSEED": str(seed), "PATH": "/usr/bin:/bin"}
        seen[subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=True).stdout] += 1
    assert list(seen) == ["['de', 'fr', 'nb', 'pl', 'sh', 'sv']\n"]


def test_wrappers_pass_side_inputs_and_fill_named_outputs():
    """FlatStep with ``outputs`` and ``side_inputs``, as the kg stages use them, on the DirectRunner."""
    import apache_beam as beam
    from apache_beam.testing.util import assert_that, equal_to

    from pipeline.beam_steps import STATS, FlatStep
    from pipeline.jobs import make_pipeline

    def split(n, limit):
        if n > limit:
            yield Drop("", "too_big", id=str(n))
            return
        yield To("odd" if n % 2 else "even", n)

    with make_pipeline([]) as p:
        limit = beam.pvalue.AsSingleton(p | "Limit" >> beam.Create([4]))
        out = p | beam.Create([1, 2, 3, 4, 5]) | FlatStep("split", split, outputs=("odd", "even"), side_inputs=(limit,))
        assert_that(out["odd"], equal_to([1, 3]), label="odd")
        assert_that(out["even"], equal_to([2, 4]), label="even")
        assert_that(out["out"], equal_to([]), label="main")
        stats = out[STATS] | beam.CombinePerKey(sum)
        assert_that(stats, equal_to([(("split", "in"), 5), (("split", "out"), 4), (("split", "drop:too_big"), 1)]),
                    label="stats")

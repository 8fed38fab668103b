"""What keeps the kg job's memory small: compact shuffle encodings (codec), labels joined per owner
(the same lookups as per subgraph), kelm.jsonl from per-bundle parts, and the local allocator settings."""

import os
import pickle
import subprocess
import sys

from corpora.kg import allocator
from corpora.kg.codec import (
    decode_fact,
    decode_group,
    decode_label,
    decode_part,
    encode_fact,
    encode_group,
    encode_label,
    encode_part,
    referenced_entity,
    split_owner_values,
)
from corpora.kg.graph import Cooccurrence, route_entity
from corpora.kg.labels import attach_labels, ids_to_name
from corpora.kg.model import ENTITY, QUANTITY, STRING, TEXT, TIME, Fact, StatementPart, Value
from corpora.kg.subgraphs import SubgraphParams, partition
from pipeline import beam_io
from pipeline.memory import is_glibc

ADAMS = Fact("Q42", "P69", Value(ENTITY, "Q691283"),
             (("P580", Value(TIME, "+1971-00-00T00:00:00Z", precision=9)), ("P512", Value(ENTITY, "Q1765120"))),
             statement="Q42-b2ad2b")


def test_codec_round_trips_every_field_and_odd_text():
    facts = [
        ADAMS,
        Fact("Q42", "P2048", Value(QUANTITY, "+1.96", unit="Q11573")),
        Fact("Q42", "P1477", Value(TEXT, "Douglas Noël Adams \u2014 \x00\x1f\n\"", lang="en-gb")),
        Fact("dbr:Alan_Bean", "dbo:x", Value(STRING, "", datatype="http://example.org/t")),
    ]
    for f in facts:
        b = encode_fact(f)
        assert isinstance(b, bytes) and decode_fact(b) == f
    part = StatementPart("Q42-b2ad2b", "qualifier", "P580", Value(TIME, "+1971-00-00T00:00:00Z", precision=9))
    assert decode_part(encode_part(part)) == part
    assert decode_group(encode_group("chain", "Q691283", facts)) == ("chain", "Q691283", facts)
    assert decode_label(encode_label("Q42", "Douglas Adams \x00")) == ("Q42", "Douglas Adams \x00")
    # routed groups and labels share the owner shuffle
    values = [encode_group("own", "Q42", facts[:2]), encode_label("Q42", "Douglas Adams"),
              encode_group("chain", "Q9", facts[2:]), encode_label("label", "a label called label")]
    assert split_owner_values(values) == ([("own", "Q42", facts[:2]), ("chain", "Q9", facts[2:])],
                                          {"Q42": "Douglas Adams", "label": "a label called label"})
    assert referenced_entity(encode_fact(ADAMS)) == ("Q691283", "Q42")
    assert referenced_entity(encode_fact(facts[1])) is None  # a quantity points at no entity
    assert referenced_entity(encode_fact(Fact("Q1", "P31", Value(ENTITY, "Q1")))) is None  # nor a self-loop


def _deep_size(obj, seen=None) -> int:
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, tuple):
        return size + sum(_deep_size(x, seen) for x in obj)
    return size + sum(_deep_size(getattr(obj, s), seen) for s in getattr(type(obj), "__slots__", ()))


def test_codec_is_much_smaller_than_pickled_records():
    encoded = encode_fact(ADAMS)
    assert len(encoded) < 0.6 * len(pickle.dumps(ADAMS))  # bytes moved per fact
    # what the local runner holds per fact in a shuffle: one bytes object instead of a tree of objects
    assert sys.getsizeof(encoded) * 4 < _deep_size(ADAMS)


def _owner_graph():
    """Q1 with own facts (two relations split over subgraphs) and a chained work Q9."""
    own = [Fact("Q1", "P106", Value(ENTITY, f"Q{100 + i}")) for i in range(7)]
    own += [Fact("Q1", "P800", Value(ENTITY, "Q9")), Fact("Q1", "P2048", Value(QUANTITY, "1.8", unit="Q11573")),
            Fact("Q1", "P19", Value(ENTITY, "Q4"), (("P580", Value(ENTITY, "Q5")),))]
    chain = route_entity("Q9", [Fact("Q9", "P577", Value(TIME, "+1979-10-12T00:00:00Z", precision=11))],
                         ["Q1"], 1000, 3)
    assert chain.role == "chain" and chain.owner == "Q1"
    return own, {"Q9": chain.facts}


def test_labels_per_owner_cover_exactly_what_the_subgraphs_need():
    own, chains = _owner_graph()
    subgraphs, _ = partition("Q1", own, chains, Cooccurrence(), SubgraphParams(max_facts=3))
    assert len(subgraphs) > 2 and any(sg.context for sg in subgraphs)
    known = frozenset({"P106", "P19"})
    per_subgraph = set().union(*(sg.entity_ids() - known for sg in subgraphs))
    assert ids_to_name("Q1", own + chains["Q9"], known) == per_subgraph
    labels = {eid: f"name of {eid}" for eid in per_subgraph if eid not in ("Q104", "Q11573")}
    total = missing = 0
    for sg in subgraphs:
        lookups, unlabelled = attach_labels(sg, labels, known)
        wanted = sg.entity_ids() - known
        assert lookups == len(wanted) and unlabelled == len(wanted & {"Q104", "Q11573"})
        assert sg.labels == {e: labels[e] for e in wanted if e in labels}  # nothing outside the subgraph
        total, missing = total + lookups, missing + unlabelled
    assert missing >= 1 and total == sum(len(sg.entity_ids() - known) for sg in subgraphs)


def test_concat_atomic_streams_parts_into_one_file_and_removes_them(tmp_path):
    parts = []
    for i in range(3):
        p = tmp_path / f"part-{i}"
        p.write_bytes(f"line {i}a\nline {i}b\n".encode() * 1000)
        parts.append(str(p))
    dest = str(tmp_path / "all.jsonl")
    (tmp_path / "all.jsonl").write_text("stale\n")
    size = beam_io.concat_atomic(parts, dest)
    data = open(dest, "rb").read()
    assert size == len(data) and data.startswith(b"line 0a") and data.endswith(b"line 2b\n")
    assert data.count(b"\n") == 6000 and b"stale" not in data
    assert not any(os.path.exists(p) for p in parts)
    assert [n for n in os.listdir(tmp_path) if n != "all.jsonl"] == []  # no temporary left behind
    beam_io.concat_atomic([], dest)
    assert open(dest, "rb").read() == b""


def test_allocator_settings_reach_worker_processes_and_respect_the_user(monkeypatch):
    for k in allocator.ENV:
        monkeypatch.delenv(k, raising=False)
    probe = [sys.executable, "-c", "import os; print(os.environ.get('MALLOC_MMAP_THRESHOLD_'))"]
    with allocator.local_allocator_settings() as added:
        seen = subprocess.run(probe, capture_output=True, text=True).stdout.strip()
    if not is_glibc():  # not glibc: nothing is changed
        assert added == {} and seen == "None"
        return
    assert added == allocator.ENV and seen == str(allocator.MMAP_THRESHOLD)
    assert "MALLOC_MMAP_THRESHOLD_" not in os.environ  # restored afterwards
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    with allocator.local_allocator_settings() as added:
        assert os.environ["MALLOC_ARENA_MAX"] == "8" and "MALLOC_ARENA_MAX" not in added
    assert os.environ["MALLOC_ARENA_MAX"] == "8"


def test_allocator_settings_are_for_the_local_runner_only(monkeypatch):
    """The glibc tuning reaches the DirectRunner's worker processes only: a Dask run (a local cluster
    started from this process, or a remote one) leaves the environment and the allocator alone."""
    from corpora.kg.job import allocator_settings

    for k in allocator.ENV:
        monkeypatch.delenv(k, raising=False)
    for args in (["--runner", "dask"], ["--runner=dask", "--dask_address", "127.0.0.1:1"]):
        with allocator_settings(args) as added:
            assert added == {} and not any(k in os.environ for k in allocator.ENV)
    with allocator_settings(["--direct_num_workers=1"]) as added:
        assert added == ({} if not is_glibc() else allocator.ENV)
    assert not any(k in os.environ for k in allocator.ENV)

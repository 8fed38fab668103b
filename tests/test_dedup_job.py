"""Dedup end to end on the DirectRunner: exact and near duplicates, workers, incremental builds."""

import json
import random

import pyarrow.parquet as pq
import pytest

from corpora.web import WebConfig, run_web
from pipeline.recipe import steps_from_flag
from pipeline.stats import stage

ONE_WORKER = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]
TWO_WORKERS = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]
WORDS = ("river stone market bread winter garden letter engine window forest candle harbor silver morning "
         "village teacher bridge island mountain lantern orchard meadow thunder violet whisper ancient "
         "copper timber velvet crystal shadow harvest compass journey").split()


def essay(rng: random.Random, n: int = 120) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)) + "."


def edit(rng: random.Random, text: str, changes: int) -> str:
    words = text.split()
    for _ in range(changes):
        words[rng.randrange(len(words))] = rng.choice(WORDS) + "x"
    return " ".join(words)


def write_jsonl(path, docs):
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in docs))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = random.Random(7)
    d = tmp_path_factory.mktemp("dedup")
    originals = [essay(rng) for _ in range(30)]
    docs = [(f"u{i:03d}", t) for i, t in enumerate(originals)]  # 30 unrelated documents
    docs += [(f"x{i:03d}", originals[i].upper().replace(".", "!")) for i in range(5)]  # exact dups, normalized
    docs += [(f"n{i:03d}", edit(rng, originals[10 + i], 1)) for i in range(6)]  # near dups (Jaccard ~0.92)
    docs += [(f"m{i:03d}", edit(rng, originals[20], 1)) for i in range(2)]  # a cluster of 3 around u020
    docs += [("e000", ""), ("w000", "word")]  # empty (dropped earlier) and one-word documents
    rng.shuffle(docs)
    write_jsonl(d / "part-a.jsonl", docs[: len(docs) // 2])
    write_jsonl(d / "part-b.jsonl", docs[len(docs) // 2:])
    return d


def build(inputs, out, beam_args, recipe="exact_dedup,minhash_dedup", **kw):
    cfg = WebConfig(inputs=[str(inputs / "*.jsonl")], output=str(out), id_field="id", rejects=True,
                    recipe=[s.describe() for s in steps_from_flag(recipe)], **kw)
    report = run_web(cfg, beam_args, quiet=True)
    rows = [r for f in sorted((out / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    return report, rows


def test_dedup_removes_exact_and_near_duplicates_same_on_one_and_two_workers(corpus, tmp_path):
    r1, rows1 = build(corpus, tmp_path / "one", ONE_WORKER)
    r2, rows2 = build(corpus, tmp_path / "two", TWO_WORKERS)
    assert sorted(r["id"] for r in rows1) == sorted(r["id"] for r in rows2)
    assert r1["stages"] == r2["stages"]
    assert r1["accounting_ok"]

    exact = stage(r1, "exact_dedup")
    assert exact["dropped"] == {"exact_duplicate": 5}
    near = stage(r1, "minhash_dedup")
    assert near["dropped"] == {"near_duplicate": 8}
    assert near["counts"]["clusters"] == 7 and near["counts"]["cluster_size_3-5"] == 1
    # removed = clustered documents - clusters
    assert near["dropped"]["near_duplicate"] == (6 * 2 + 3) - 7
    texts = [r["text"] for r in rows1]
    assert len(texts) == 30 + 1  # the unrelated originals and the one-word document survive
    assert any(t == "word" for t in texts)
    assert all(json.loads(r["meta"])["line"] >= 1 for r in rows1)  # meta survives the shuffles
    # every survivor of a near cluster is the original (ids sort: the original's id is smallest)
    rejects = [r for f in (tmp_path / "one" / "rejects").glob("*.parquet") for r in pq.read_table(f).to_pylist()]
    near_rejects = [r for r in rejects if r["reason"] == "near_duplicate"]
    assert len(near_rejects) == 8 and all("cluster kept" in r["detail"] for r in near_rejects)
    # the saved indexes for later incremental builds exist and the manifest lists them
    saved = sorted(str(p.relative_to(tmp_path / "one")) for p in (tmp_path / "one" / "dedup").glob("*/*.parquet"))
    assert any(p.startswith("dedup/minhash/") for p in saved) and any(p.startswith("dedup/exact/") for p in saved)
    manifest = json.loads((tmp_path / "one" / "manifest.json").read_text())
    assert sorted(f["path"] for f in manifest["outputs"]["dedup_index"]) == saved
    assert sum(f["rows"] for f in manifest["outputs"]["dedup_index"] if "exact" in f["path"]) == 30 + 5 + 6 + 2 + 1


def test_incremental_build_skips_what_an_earlier_build_has(corpus, tmp_path):
    earlier = tmp_path / "earlier"
    build(corpus, earlier, ONE_WORKER)
    rng = random.Random(99)
    new_dir = tmp_path / "new"
    new_dir.mkdir()
    first = json.loads((corpus / "part-a.jsonl").read_text().splitlines()[0])["text"]
    docs = [("fresh1", essay(rng)), ("fresh2", essay(rng)), ("again", first), ("close", edit(rng, first, 1))]
    write_jsonl(new_dir / "new.jsonl", docs)
    cfg_steps = [s.describe() for s in steps_from_flag("exact_dedup,minhash_dedup")]
    for s in cfg_steps:
        next(iter(s.values()))["against"] = str(earlier)
    cfg = WebConfig(inputs=[str(new_dir / "*.jsonl")], output=str(tmp_path / "out"), id_field="id", recipe=cfg_steps)
    report = run_web(cfg, ONE_WORKER, quiet=True)
    assert stage(report, "exact_dedup")["dropped"] == {"exact_duplicate_of_previous_build": 1}
    assert stage(report, "minhash_dedup")["dropped"] == {"near_duplicate_of_previous_build": 1}
    rows = [r for f in (tmp_path / "out" / "data").glob("*.parquet") for r in pq.read_table(f).to_pylist()]
    assert len(rows) == 2


def test_annotate_keeps_everything_and_records_verdicts(corpus, tmp_path):
    report, rows = build(corpus, tmp_path / "ann", ONE_WORKER, recipe="gopher_quality,fineweb", annotate=True)
    assert stage(report, "gopher_quality")["dropped"] == {} and stage(report, "fineweb")["dropped"] == {}
    meta = json.loads(rows[0]["meta"])
    assert set(meta["filters"]) == {"gopher_quality", "fineweb"}
    assert "keep" in meta["filters"]["gopher_quality"]
    dropped_if_not_annotating = [r for r in rows if not json.loads(r["meta"])["filters"]["gopher_quality"]["keep"]]
    report2, rows2 = build(corpus, tmp_path / "drop", ONE_WORKER, recipe="gopher_quality")
    assert sum(stage(report2, "gopher_quality")["dropped"].values()) == len(dropped_if_not_annotating) > 0


def test_exact_jaccard_verification_in_the_pipeline(corpus, tmp_path):
    from pipeline.recipe import parse_steps

    recipe = [s.describe() for s in parse_steps(["exact_dedup", {"minhash_dedup": {"verify_threshold": 0.8}}])]
    cfg = WebConfig(inputs=[str(corpus / "*.jsonl")], output=str(tmp_path / "v"), id_field="id", recipe=recipe)
    report = run_web(cfg, TWO_WORKERS, quiet=True)
    # the planted near-duplicates are at Jaccard ~0.92: verification keeps every true pair
    assert stage(report, "minhash_dedup")["dropped"] == {"near_duplicate": 8}
    strict = [s.describe() for s in parse_steps(["exact_dedup", {"minhash_dedup": {"verify_threshold": 1.0}}])]
    cfg = WebConfig(inputs=[str(corpus / "*.jsonl")], output=str(tmp_path / "s"), id_field="id", recipe=strict)
    report = run_web(cfg, ONE_WORKER, quiet=True)
    assert stage(report, "minhash_dedup")["dropped"] == {}


def test_incremental_builds_chain(corpus, tmp_path):
    """C built against B, which was built against A, still drops what only A had."""
    rng = random.Random(5)
    a_text, b_text = essay(rng), essay(rng)
    builds = {"a": [("a1", a_text)], "b": [("b1", b_text)], "c": [("c1", a_text), ("c2", essay(rng))]}
    previous = None
    reports = {}
    for name, docs in builds.items():
        d = tmp_path / f"in-{name}"
        d.mkdir()
        write_jsonl(d / "x.jsonl", docs)
        steps = [s.describe() for s in steps_from_flag("exact_dedup")]
        if previous:
            steps[0]["exact_dedup"]["against"] = str(previous)
        out = tmp_path / f"out-{name}"
        reports[name] = run_web(WebConfig(inputs=[str(d / "*.jsonl")], output=str(out), id_field="id",
                                          recipe=steps), ONE_WORKER, quiet=True)
        previous = out
    assert stage(reports["b"], "exact_dedup")["dropped"] == {}
    assert stage(reports["c"], "exact_dedup")["dropped"] == {"exact_duplicate_of_previous_build": 1}


# ------------------------------------------------------------------ c4_span_dedup ----

BOILERPLATE = [
    "Sign up for our weekly letter today. It arrives every Monday morning. You can leave at any time.",
    "Our shop ships to every country. Returns are free for thirty days. Gift cards never expire.",
    "This article was written by our staff. It was checked by two editors. Send corrections to the desk.",
]


def span_pages(rng: random.Random, n: int = 24) -> list[tuple[str, str]]:
    """Pages with a unique title line, unique sentences, and shared three-sentence blocks."""
    pages = []
    for i in range(n):
        lines = [f"Page {i} is titled number {i} here. Its topic is item {i} alone."]
        for j in range(rng.randint(0, 4)):
            lines.append(f"Unique {i} line {j} says something. More about {i} and {j} follows.")
            if rng.random() < 0.5:
                lines.append(rng.choice(BOILERPLATE))
        pages.append((f"s{i:03d}", "\n".join(lines)))
    pages.append(("s900", BOILERPLATE[0]))  # only boilerplate: emptied unless it is the keeper
    pages.append(("s901", BOILERPLATE[1] + "\n" + BOILERPLATE[2]))
    for k in range(2 * len(BOILERPLATE)):  # a title and a block: left too short unless the keeper
        pages.append((f"s91{k}", f"Page 91{k} is titled short. It is short.\n" + BOILERPLATE[k % len(BOILERPLATE)]))
    return pages


def test_c4_span_dedup_through_the_job_same_on_one_and_two_workers_and_as_the_reference(tmp_path):
    from pipeline.dedup.spans import span_dedup_pages

    d = tmp_path / "in"
    d.mkdir()
    pages = span_pages(random.Random(11))
    write_jsonl(d / "part-a.jsonl", pages[::2])
    write_jsonl(d / "part-b.jsonl", pages[1::2])
    results = []
    for name, args in (("one", ONE_WORKER), ("two", TWO_WORKERS)):
        report, rows = build(d, tmp_path / name, args, recipe="c4_span_dedup")
        rejects = [r for f in (tmp_path / name / "rejects").glob("*.parquet") for r in pq.read_table(f).to_pylist()]
        results.append((report, {r["id"]: r["text"] for r in rows}, {r["id"]: r["reason"] for r in rejects}))
    (r1, out1, rej1), (r2, out2, rej2) = results
    assert (out1, rej1) == (out2, rej2) and r1["stages"] == r2["stages"] and r1["accounting_ok"]
    assert set(rej1.values()) == {"all_spans_duplicate", "too_few_sentences"}

    # the job's decisions equal the pure reference's on the same ids and original texts
    by_title = {text.split("\n")[0]: text for _, text in pages}
    original = {i: by_title[t.split("\n")[0]] for i, t in out1.items()}
    rejected = [r for f in (tmp_path / "one" / "rejects").glob("*.parquet") for r in pq.read_table(f).to_pylist()]
    original.update({r["id"]: r["text"] for r in rejected})
    assert len(original) == len(pages)
    ref = span_dedup_pages(original.items())
    assert {i: v.text or original[i] for i, v in ref.items() if v.keep} == out1
    assert {i: v.reason for i, v in ref.items() if not v.keep} == rej1
    st = stage(r1, "c4_span_dedup")
    assert st["in"] == len(pages) and st["dropped"] == {k: list(rej1.values()).count(k) for k in set(rej1.values())}
    assert st["counts"]["pages_edited"] == sum(1 for v in ref.values() if v.keep and v.text) > 0
    assert st["counts"]["spans_removed"] == sum(v.counts.get("spans_removed", 0) for v in ref.values())
    # every boilerplate block survives exactly once in the corpus
    corpus = "\n".join(out1.values())
    for block in BOILERPLATE:
        assert corpus.count(block) == 1

"""bench/peers.py's ``core+beam`` row runs our own core steps without a pipeline: it must keep
exactly what the jobs keep, or its split of a gap (correctness work vs the Beam job) is wrong."""

import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tokenizers import Tokenizer

from bench import peers_floor
from corpora.tokenize import TokenizeConfig, run_tokenize
from corpora.web import WebConfig, run_web
from pipeline.langid import DEFAULT_THRESHOLD
from pipeline.schema import CORPUS_SCHEMA
from pipeline.stats import stage
from tests.test_tokenize_job import ONE_WORKER, ROOT, write_corpus
from tests.warc_factory import DE, EN, Page, html_page, language_pages, warc_bytes


@pytest.fixture(scope="module")
def warcs(tmp_path_factory):
    d = tmp_path_factory.mktemp("warcs")
    for f in range(3):
        site = f"http://s{f}.test"
        odd = [Page(f"{site}/big", html_page("big", EN * 300)),  # a batch of its own
               Page(f"{site}/empty", b"<html><body></body></html>"), Page(f"{site}/gone", b"gone", status="404 Not Found")]
        (d / f"part-{f}.warc.gz").write_bytes(warc_bytes(language_pages(site, 5) + odd))
    return sorted(str(p) for p in d.glob("*.warc.gz"))


@pytest.mark.parametrize("workers", [1, 2])
def test_the_web_core_keeps_what_the_web_job_keeps(warcs, tmp_path, workers):
    report = run_web(WebConfig(inputs=warcs, output=str(tmp_path / "out"), langs="en"), ONE_WORKER, quiet=True)
    written = stage(report, "write")["out"]
    assert 0 < written < stage(report, "extract")["in"]  # some pages dropped: not a trivial agreement
    spec = {"case": "web", "files": warcs, "extractor": "resiliparse", "lid_model": None, "langs": ["en"],
            "threshold": DEFAULT_THRESHOLD, "workers": workers}
    assert peers_floor.web_core(spec) == written


def test_the_tokenize_core_counts_the_jobs_tokens(tmp_path):
    texts = [" ".join((EN + DE)[(i + j) % 8] for j in range(1 + i % 4)) for i in range(60)] + ["", "  "]
    corpus = write_corpus(tmp_path / "corpus", "web", texts)
    # a row whose marker spans do not fit its text: the job drops it, so the core must read meta too
    pq.write_table(pa.table({"id": ["bad-spans"], "text": [" ".join(EN)], "source": ["web"], "url": [None],
                             "lang": ["en"], "lang_score": [1.0], "meta": ['{"special_spans": [[5, 2]]}']},
                            schema=CORPUS_SCHEMA), corpus / "data" / "part-extra.parquet")
    tok = tmp_path / "tok"
    subprocess.run([sys.executable, "-m", "tokenizer", "train", "--input", str(corpus), "--output", str(tok),
                    "--model", "bpe", "--vocab-size", "500"], cwd=ROOT, check=True, capture_output=True)
    out = tmp_path / "shards"
    run_tokenize(TokenizeConfig([str(corpus)], str(tok), str(out)), ONE_WORKER, quiet=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert stage(json.loads((out / "stats.json").read_text()), "tokenize")["dropped"]["bad_special_spans"] == 1
    tokens = sum(s["tokens"] for s in manifest["shards"])
    eos = Tokenizer.from_file(str(tok / "tokenizer.json")).id_to_token(manifest["eod_id"])
    spec = {"case": "tokenize", "files": sorted(str(p) for p in (corpus / "data").glob("*.parquet")),
            "tokenizer": str(tok / "tokenizer.json"), "eos": eos}
    assert tokens > 0 and peers_floor.tokenize_core(spec) == tokens

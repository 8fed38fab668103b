"""The demo's crawl stage: the sample website served on 127.0.0.1, crawled, read by the web job."""

import json
from pathlib import Path

import httpx
import pytest

from corpora.crawl import check_crawl_output, crawl_demo_site
from corpora.sample_site import SampleSite
from corpora.web import WebConfig, run_web
from pipeline.jobs import UsageError
from pipeline.stats import stage

ONE_WORKER = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]


def test_sample_site_is_deterministic_and_has_robots():
    a, b = SampleSite(seed=3, articles=12), SampleSite(seed=3, articles=12)
    assert {h: x.pages for h, x in a.hosts.items()} == {h: x.pages for h, x in b.hosts.items()}
    with a:
        host = next(iter(a.hosts))
        assert "Disallow: /print/" in httpx.get(a.url(host, "/robots.txt")).text
        portal = httpx.get(a.seed_url).text
        assert all(a.url(h, "/") in portal for h in a.hosts)
        assert httpx.get(a.url(host, "/no/such/page")).status_code == 404


def test_crawl_demo_site_feeds_the_web_job(tmp_path):
    out = tmp_path / "crawl"
    result = crawl_demo_site(str(out), ONE_WORKER, overwrite=False, quiet=True, articles=20)
    report = result["stats"]
    assert report["accounting_ok"] and result["warc_files"]
    log = {}
    for f in (out / "log").glob("*.jsonl"):
        for line in f.read_text().splitlines():
            e = json.loads(line)
            if e["kind"] == "page":
                log[e["url"]] = e
    site = SampleSite(articles=20)  # same seed: same sites and paths (the ports differ)
    paths = {(h.name, p) for h in site.hosts.values() for p in h.articles}
    stored_paths = {"/" + u.split("/", 3)[3] for u, e in log.items() if e["reason"] is None}
    disallowed = {"/" + u.split("/", 3)[3] for u, e in log.items() if e["reason"] == "robots_disallowed"}
    for _, p in paths:
        if p.startswith("/print/"):  # robots.txt keeps crawlers out of the print versions
            assert p not in stored_paths
        else:
            assert p in stored_paths, p
    assert all(p.startswith(("/print/", "/search", "/newsletter")) for p in disallowed)
    urls = stage(report, "urls")
    assert urls["out"] == len([e for e in log.values() if e["reason"] is None])
    assert "http_404" not in urls["dropped"]

    web = run_web(WebConfig(inputs=[result["warc_glob"]], output=str(tmp_path / "web")), ONE_WORKER, quiet=True)
    assert web["accounting_ok"]
    assert stage(web, "read")["out"] == urls["out"]
    import pyarrow.parquet as pq
    rows = [r for f in sorted(Path(tmp_path / "web" / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    assert len({r["lang"] for r in rows}) >= 4


def test_demo_crawl_refuses_an_existing_crawl(tmp_path):
    out = tmp_path / "crawl"
    check_crawl_output(str(out), overwrite=False)  # nothing there yet
    (out / "state").mkdir(parents=True)
    (out / "state" / "crawl.json").write_text("{}")
    with pytest.raises(UsageError, match="unfinished crawl"):
        crawl_demo_site(str(out), ONE_WORKER, overwrite=False, quiet=True)
    assert not (out / "seeds.txt").exists()
    (out / "manifest.json").write_text("{}")
    with pytest.raises(UsageError, match="finished crawl"):
        check_crawl_output(str(out), overwrite=False)
    check_crawl_output(str(out), overwrite=True)

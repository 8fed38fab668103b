"""Resume after a kill -9, re-runs into an existing output, and the command line's checks."""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

import beam_runner
from tests.crawl_server import HTML, Site, Sites, article

ROOT = Path(__file__).resolve().parents[1]
PAGES = 30


def wide_site() -> tuple[Sites, Site]:
    links = [f"/p/{i}" for i in range(PAGES)]
    pages = {"/": (200, HTML, article("Index", links).encode()),
             "/p/*": lambda h: (200, HTML, article(f"Page {h.path}", ["/"]).encode())}
    sites = Sites()
    site = sites.reserve(Site(robots="User-agent: *\nDisallow:\n", pages=pages))
    sites.start()
    return sites, site


@pytest.fixture
def wide_crawl(tmp_path):
    """The wide site on 127.0.0.1, a seeds file naming its home page, and an output path."""
    sites, site = wide_site()
    try:
        seeds = tmp_path / "seeds.txt"
        seeds.write_text(site.base + "/\n")
        yield sites, seeds, tmp_path / "out"
    finally:
        sites.stop()


def crawl_args(seeds: Path, out: Path, *extra: str) -> list[str]:
    return ["crawl", "--seeds", str(seeds), "--output", str(out), "--allow-hosts", "127.0.0.1", "--rate", "15",
            "--commit-seconds", "0", "--retries", "0", "--direct_num_workers=1",
            "--direct_running_mode=in_memory", *extra]


def warc_responses(out: Path) -> list[str]:
    urls = []
    for f in sorted((out / "warc").glob("*.warc.gz")):
        with open(f, "rb") as fh:
            urls += [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(fh) if r.rec_type == "response"]
    return urls


def test_resume_after_kill(wide_crawl, capsys):
    sites, seeds, out = wide_crawl
    proc = subprocess.Popen([sys.executable, "beam_runner.py", *crawl_args(seeds, out)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len([r for r in sites.requests() if r.path.startswith("/p/")]) < 10:
            assert proc.poll() is None, "the crawl ended before it could be killed"
            assert time.monotonic() < deadline, "the crawl did not start"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (out / "manifest.json").exists()
    before = Counter(r.path for r in sites.requests() if r.path != "/robots.txt")
    assert 10 <= sum(before.values()) < PAGES + 1

    assert beam_runner.main(crawl_args(seeds, out)) == 0
    assert "resuming the crawl" in capsys.readouterr().out

    asked = Counter(r.path for r in sites.requests() if r.path != "/robots.txt")
    assert set(asked) == {"/"} | {f"/p/{i}" for i in range(PAGES)}
    # At most the page that was in flight (or fetched but not committed) is fetched twice.
    assert sum(asked.values()) - len(asked) <= 1
    urls = warc_responses(out)
    assert len(urls) == len(set(urls)) == PAGES + 1
    stats = json.loads((out / "stats.json").read_text())
    assert stats["accounting_ok"]
    assert {s["stage"]: s for s in stats["stages"]}["urls"]["out"] == PAGES + 1
    assert not (out / "tmp").exists() or not list((out / "tmp").rglob("*.open"))


def test_reruns_refuse_or_resume_as_documented(wide_crawl, capsys):
    _, seeds, out = wide_crawl
    args = crawl_args(seeds, out, "--max-pages", "3")
    assert beam_runner.main(args) == 0
    stats = json.loads((out / "stats.json").read_text())
    urls = {s["stage"]: s for s in stats["stages"]}["urls"]
    assert urls["out"] == 3 and urls["dropped"]["max_pages"] == PAGES - 2
    with pytest.raises(SystemExit):
        beam_runner.main(args)
    assert "already holds a finished crawl" in capsys.readouterr().err
    (out / "manifest.json").unlink()  # now it looks unfinished
    with pytest.raises(SystemExit):
        beam_runner.main(crawl_args(seeds, out, "--scope", "any"))
    assert "unfinished crawl with other settings" in capsys.readouterr().err
    assert beam_runner.main(args + ["--overwrite"]) == 0


@pytest.mark.parametrize("extra, message", [
    (["--user-agent", "mybot/1.0"], "names no contact"),
    (["--rate", "0"], "--rate must be > 0"),
    (["--include", "("], "not a valid regular expression"),
    (["--content-types", "html"], "give MIME types"),
    (["--direct_num_worker=2"], "unknown option"),
])
def test_bad_arguments_fail_before_any_work(tmp_path, capsys, extra, message):
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("http://127.0.0.1:9/\n")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as err:
        beam_runner.main(["crawl", "--seeds", str(seeds), "--output", str(out), *extra])
    assert err.value.code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_seed_file_problems(tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(SystemExit):
        beam_runner.main(["crawl", "--seeds", str(tmp_path / "missing.txt"), "--output", str(out)])
    assert "cannot read it" in capsys.readouterr().err
    bad = tmp_path / "bad.txt"
    bad.write_text("# only junk\nnot a url\nfile:///etc/passwd\n")
    with pytest.raises(SystemExit):
        beam_runner.main(["crawl", "--seeds", str(bad), "--output", str(out)])
    err = capsys.readouterr().err
    assert "no valid seed URL" in err and "line 2" in err and "unsupported_scheme" in err
    assert not out.exists()

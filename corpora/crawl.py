"""The ``crawl`` job: seed URLs in, WARC files out, politely and resumably.

The driver (this process) runs the crawl in rounds. Round 0 holds the seeds; each round's
URLs are partitioned by host into batches, and each batch is crawled by one worker of a
Beam pipeline (one round = one pipeline), so a host is only ever fetched by one worker at
a time and its politeness holds. Links to the same host are followed inside the round;
links to other hosts become the next round's frontier. The frontier, the seen set and
the crawl log are persisted, so a killed crawl started again with the same ``--output``
continues where it was. See docs/crawl.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import threading
from dataclasses import asdict, dataclass, field

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import PipelineOptions

from pipeline import beam_io
from pipeline.crawl.crawl_log import dumps, now_iso, skip_entry, stats_from_log
from pipeline.crawl.crawler import DEFAULT_USER_AGENT, BatchCrawler, CrawlConfig
from pipeline.crawl.fetch import HTML_TYPES, FetchConfig
from pipeline.crawl.frontier import CrawlState, config_fingerprint, segment_prefix
from pipeline.crawl.rounds import known_by_host, next_frontier, one_process_enough, plan_round
from pipeline.crawl.segments import LOG_DIR, WARC_DIR, SegmentStore
from pipeline.crawl.storage import FileStorage
from pipeline.crawl.urls import SCOPES, BadURL, ScopeRules, origin
from pipeline.flags import add_verbose
from pipeline.jobs import (
    Job,
    Timer,
    UsageError,
    configure_logging,
    is_local_direct,
    make_pipeline,
    prepare_beam_args,
)
from pipeline.stats import render_table

log = logging.getLogger("corpusforge")

DESCRIPTION = """\
Crawl the web from a list of seed URLs and write what was fetched as WARC files
(request + response records), readable by warcio and by the web job. Polite by default:
robots.txt (with Crawl-delay), 1 request per second per host, one request at a time per
host, noindex/nofollow honoured, and a User-Agent that names a contact URL. Internal
addresses (private, loopback, link-local, multicast) are refused unless named in
--allow-hosts (addresses and CIDR ranges; link-local and cloud metadata addresses only when
named exactly).

A killed crawl resumes: run the same command again with the same --output.
Options this job does not know are Apache Beam pipeline options (--runner, ...)."""

EXAMPLES = """\
examples:
  python beam_runner.py crawl --seeds seeds.txt --output out/crawl
  python beam_runner.py crawl --seeds seeds.txt --output out/crawl --scope host --max-depth 2 \\
      --max-pages 5000 --max-pages-per-host 200 --exclude '/(login|cart)/' \\
      --user-agent 'acme-research-bot/1.0 (+https://acme.example/bot)'
  python beam_runner.py crawl --seeds intranet.txt --output out/intranet --allow-hosts 10.0.0.0/8
  python beam_runner.py web --input 'out/crawl/warc/*.warc.gz' --output out/web    (then build a corpus)
  python beam_runner.py crawl --seeds gs://bucket/seeds.txt --output gs://bucket/crawl \\
      --runner DataflowRunner --project P --region us-central1 --temp_location gs://bucket/tmp \\
      --extra_package dist/corpusforge-0.1.0.tar.gz    (see docs/running-jobs.md)"""

MAX_SEED_LINE = 8192


@dataclass
class CrawlJobConfig:
    """Everything the crawl job was asked to do (saved in manifest.json)."""

    seeds: str
    output: str
    crawl: CrawlConfig = field(default_factory=CrawlConfig)
    hosts_per_batch: int = 100
    crawl_name: str = ""

    def as_dict(self) -> dict:
        d = asdict(self)
        d["crawl"]["scope"] = {k: v for k, v in d["crawl"]["scope"].items() if not k.startswith("_")}
        return d

    def decisive(self) -> dict:
        """The settings a resumed crawl must share with the one it continues."""
        c = self.crawl
        try:
            seeds_sha = beam_io.describe_file(self.seeds)["sha256"]
        except Exception:  # noqa: BLE001 - an unreadable seeds file is reported by read_seeds
            seeds_sha = None
        return {"seeds": self.seeds, "seeds_sha256": seeds_sha, "scope": self.as_dict()["crawl"]["scope"],
                "max_depth": c.max_depth, "user_agent": c.fetch.user_agent,
                "content_types": list(c.fetch.content_types)}


# -- arguments ---------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    io = parser.add_argument_group("input and output")
    io.add_argument("--seeds", required=True, metavar="FILE",
                    help="seed URLs, one per line ('#' starts a comment); local, gs:// or s3://")
    io.add_argument("--output", required=True, metavar="DIR",
                    help="crawl directory: warc/, log/, state/, stats.json, manifest.json")
    io.add_argument("--overwrite", action="store_true", help="delete an earlier crawl in DIR and start again")
    io.add_argument("--warc-max-bytes", type=int, default=1 << 30,
                    help="start a new WARC file after this many bytes (default: 1 GiB)")
    io.add_argument("--commit-seconds", type=float, default=300.0,
                    help="commit a worker's open WARC file and log at least this often (default: 300); "
                         "a killed crawl refetches at most this much work per worker")
    io.add_argument("--crawl-name", default="", help="name recorded in each WARC file's warcinfo (isPartOf)")
    pol = parser.add_argument_group("politeness")
    pol.add_argument("--user-agent", default=DEFAULT_USER_AGENT,
                     help="User-Agent header; must name a contact URL or e-mail (default: %(default)s)")
    pol.add_argument("--rate", type=float, default=1.0, help="requests per second per host (default: 1)")
    pol.add_argument("--host-concurrency", type=int, default=1,
                     help="requests in flight per host (default: 1)")
    pol.add_argument("--max-crawl-delay", type=float, default=60.0,
                     help="skip hosts whose robots.txt asks for a longer Crawl-delay (seconds, default: 60)")
    sc = parser.add_argument_group("scope")
    sc.add_argument("--scope", choices=SCOPES, default="domain",
                    help="follow links to the same host, the same registered domain (default), or anywhere")
    sc.add_argument("--max-depth", type=int, default=3, help="link hops from a seed (default: 3)")
    sc.add_argument("--max-pages", type=int, default=10_000,
                    help="page requests in the whole crawl (default: 10000; robots.txt not counted)")
    sc.add_argument("--max-pages-per-host", type=int, default=1_000,
                    help="page requests per host (default: 1000); also the trap guard of last resort")
    sc.add_argument("--include", action="append", default=[], metavar="REGEX",
                    help="follow only links matching one of these regexes (repeatable)")
    sc.add_argument("--exclude", action="append", default=[], metavar="REGEX",
                    help="never follow links matching one of these regexes (repeatable)")
    sc.add_argument("--sort-query", action="store_true",
                    help="sort query parameters when normalizing URLs (treats ?a=1&b=2 and ?b=2&a=1 as one)")
    sc.add_argument("--max-url-length", type=int, default=2048, help="longer URLs are traps (default: 2048)")
    sc.add_argument("--max-repeated-segments", type=int, default=2,
                    help="a path segment repeated more often than this is a trap (default: 2)")
    fe = parser.add_argument_group("fetching")
    d = FetchConfig(DEFAULT_USER_AGENT)
    fe.add_argument("--connect-timeout", type=float, default=d.connect_timeout,
                    help="seconds (default: %(default)s)")
    fe.add_argument("--read-timeout", type=float, default=d.read_timeout,
                    help="seconds without a byte from the server (default: %(default)s)")
    fe.add_argument("--total-timeout", type=float, default=d.total_timeout,
                    help="seconds for a whole request (default: %(default)s)")
    fe.add_argument("--retries", type=int, default=d.retries,
                    help="retries on timeouts, 429 and 5xx, with exponential backoff (default: %(default)s)")
    fe.add_argument("--backoff", type=float, default=d.backoff,
                    help="seconds before the first retry, doubled each time (default: %(default)s)")
    fe.add_argument("--max-retry-after", type=float, default=d.max_retry_after,
                    help="give up on a URL whose Retry-After is longer (seconds, default: %(default)s)")
    fe.add_argument("--max-bytes", type=int, default=d.max_bytes,
                    help="bytes of a response body downloaded; the rest is not (default: %(default)s)")
    fe.add_argument("--max-redirects", type=int, default=5, help="redirect hops followed (default: 5)")
    fe.add_argument("--content-types", default=",".join(HTML_TYPES),
                    help="content types to download and archive (default: %(default)s)")
    sa = parser.add_argument_group("safety and scale")
    sa.add_argument("--allow-hosts", default="", metavar="ADDR,CIDR,...",
                    help="internal addresses the crawl may reach, e.g. 10.0.0.0/8,127.0.0.1 (intranets, tests); "
                         "link-local and metadata addresses only when named exactly; logged")
    sa.add_argument("--hosts-per-batch", type=int, default=100,
                    help="hosts crawled together by one worker (default: 100)")
    add_verbose(parser)


def config_from_args(args: argparse.Namespace) -> CrawlJobConfig:
    """Validate the arguments into a CrawlJobConfig; raises UsageError before any work."""
    ua = args.user_agent.strip()
    if not ua or not any(m in ua for m in ("http://", "https://", "@")):
        raise UsageError(f"--user-agent {ua!r} names no contact; add a URL or e-mail, "
                         "e.g. 'mybot/1.0 (+https://example.org/bot.html)'")
    types = tuple(t.strip().lower() for t in args.content_types.split(",") if t.strip())
    if not types or any("/" not in t for t in types):
        raise UsageError(f"--content-types {args.content_types!r}: give MIME types like "
                         "text/html,application/xhtml+xml")
    if args.hosts_per_batch < 1:
        raise UsageError("--hosts-per-batch must be at least 1")
    if args.commit_seconds < 0:
        raise UsageError("--commit-seconds must be >= 0")
    try:
        fetch = FetchConfig(ua, args.connect_timeout, args.read_timeout, args.total_timeout, args.max_bytes,
                            retries=args.retries, backoff=args.backoff, max_retry_after=args.max_retry_after,
                            content_types=types)
        scope = ScopeRules(args.scope, list(args.include), list(args.exclude), args.max_url_length,
                           args.max_repeated_segments, sort_query=args.sort_query)
        crawl = CrawlConfig(fetch=fetch, scope=scope, rate=args.rate, host_concurrency=args.host_concurrency,
                            max_depth=args.max_depth, max_pages=args.max_pages,
                            max_pages_per_host=args.max_pages_per_host, max_redirects=args.max_redirects,
                            max_crawl_delay=args.max_crawl_delay, allow_hosts=tuple(args.allow_hosts.split(",")),
                            warc_max_bytes=args.warc_max_bytes, commit_seconds=args.commit_seconds)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    return CrawlJobConfig(seeds=args.seeds, output=args.output.rstrip("/"), crawl=crawl,
                          hosts_per_batch=args.hosts_per_batch, crawl_name=args.crawl_name)


# -- seeds --------------------------------------------------------------------------------

def read_seeds(cfg: CrawlJobConfig) -> tuple[list[dict], list[dict]]:
    """(frontier entries, seed log lines): every non-blank, non-comment line is accounted for."""
    try:
        with FileSystems.open(cfg.seeds, compression_type=CompressionTypes.AUTO) as f:
            data = f.read()
    except Exception as exc:  # noqa: BLE001 - Beam wraps every I/O error in its own types
        raise UsageError(f"--seeds {cfg.seeds}: cannot read it ({exc})") from exc
    text = data.decode("utf-8", errors="replace")
    entries: list[dict] = []
    logs: list[dict] = []
    seen: set[str] = set()
    for n, line in enumerate(text.splitlines(), 1):
        raw = line.strip()
        if not raw or raw.startswith("#"):
            continue
        where = f"{cfg.seeds} line {n}"
        if len(raw) > MAX_SEED_LINE:
            logs.append(skip_entry(raw[:200] + "...", "invalid_url", 0, None, f"{where}: line too long",
                                   kind="seed"))
            continue
        try:
            url = cfg.crawl.scope.normalize(raw)
        except BadURL as b:
            logs.append(skip_entry(raw, b.reason, 0, None, f"{where}: {b.detail}", kind="seed"))
            continue
        if url in seen:
            logs.append(skip_entry(url, "duplicate_seed", 0, None, where, kind="seed"))
            continue
        seen.add(url)
        entries.append({"url": url, "depth": 0, "via": None, "redirects": 0})
        logs.append({"url": url, "kind": "seed", "status": None, "bytes": 0, "time": now_iso(),
                     "reason": None, "depth": 0, "via": None, "detail": where})
    if not entries:
        bad = "; ".join(f"{e['detail']}: {e['reason']}" for e in logs[:3])
        raise UsageError(f"--seeds {cfg.seeds}: no valid seed URL ({bad or 'the file is empty'}); "
                         "give absolute http(s) URLs, one per line")
    return entries, logs


# -- rounds -------------------------------------------------------------------------------

def workers_hint(beam_args: list[str]) -> int:
    """How many workers the runner will have (to cut at least that many batches)."""
    opts = PipelineOptions(beam_args).get_all_options()
    for key in ("direct_num_workers", "max_num_workers", "num_workers", "parallelism"):
        v = opts.get(key)
        if isinstance(v, int) and v > 0:
            return v
    return 4


class CrawlBatchDoFn(beam.DoFn):
    """Crawls one batch of hosts (the thin Beam shell around BatchCrawler)."""

    def __init__(self, cfg: CrawlJobConfig, round_no: int) -> None:
        self.cfg = cfg
        self.round_no = round_no

    def process(self, element):
        batch_id, works = element
        result = crawl_batch(self.cfg, self.round_no, batch_id, works)
        Metrics.counter("corpusforge.crawl", "requests").inc(result["requests"])
        Metrics.counter("corpusforge.crawl", "pages").inc(result["pages"])
        yield result


def crawl_batch(cfg: CrawlJobConfig, round_no: int, batch_id: int, works: list) -> dict:
    """Crawl one batch of hosts into its own segments (what one worker does with one work item)."""
    info = {"isPartOf": cfg.crawl_name or "corpusforge-crawl", "robots": "obey",
            "http-header-user-agent": cfg.crawl.fetch.user_agent, "description": f"round {round_no}"}
    prefix = segment_prefix(round_no, batch_id, secrets.token_hex(3))
    store = SegmentStore(FileStorage(), cfg.output, prefix, info, cfg.crawl.warc_max_bytes, cfg.crawl.commit_seconds)
    crawler = BatchCrawler(cfg.crawl, store)
    crawler.run(works)
    return {"batch": batch_id, "hosts": len(works), "requests": crawler.requests, "pages": crawler.pages,
            "warc_files": len(store.committed)}


def run_round(cfg: CrawlJobConfig, round_no: int, batches: list, beam_args: list[str],
              progress_every: float = 0.0) -> None:
    """One round = one pipeline; with ``progress_every``, committed work is reported meanwhile.
    A round of one batch on the local runner is crawled in this process: Beam would hand that
    one work item to one worker anyway, and the pipeline's start-up is saved."""
    progress = _Progress(CrawlState(FileStorage(), cfg.output), round_no, progress_every)
    try:
        if len(batches) == 1 and is_local_direct(beam_args):
            crawl_batch(cfg, round_no, *batches[0])
            return
        with make_pipeline(beam_args) as p:
            _ = (p | "Batches" >> beam.Create(batches)
                   | "OneBatchPerWorker" >> beam.Reshuffle()
                   | "CrawlBatch" >> beam.ParDo(CrawlBatchDoFn(cfg, round_no)))
    finally:
        progress.stop()


class _Progress:
    """Prints what a running round has committed so far (from its log segments), now and then."""

    def __init__(self, state: CrawlState, round_no: int, every: float) -> None:
        self.state, self.round_no, self.every = state, round_no, every
        self._counted: dict[str, tuple[int, int]] = {}
        self._stop = threading.Event()
        self._last = (0, 0)
        self._thread = threading.Thread(target=self._run, daemon=True) if every > 0 else None
        if self._thread:
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                for path in self.state.log_files(self.round_no):
                    if path not in self._counted:
                        lines = [json.loads(x) for x in self.state.fs.read_bytes(path).decode().splitlines() if x]
                        pages = [e for e in lines if e.get("kind") == "page"]
                        self._counted[path] = (len(pages), sum(1 for e in pages if e.get("reason") is None))
            except (OSError, ValueError):
                continue
            urls = sum(a for a, _ in self._counted.values())
            stored = sum(b for _, b in self._counted.values())
            if (urls, stored) != self._last:
                self._last = (urls, stored)
                print(f"crawl: round {self.round_no}: {urls} URL(s) done, {stored} page(s) stored so far", flush=True)

    def stop(self) -> None:
        self._stop.set()


# -- the whole crawl ----------------------------------------------------------------------

def prepare_crawl_output(cfg: CrawlJobConfig, overwrite: bool) -> str:
    """``fresh`` or ``resume``; refuses a finished crawl (or a different unfinished one)
    unless ``overwrite``, which deletes it."""
    fs = FileStorage()
    state = CrawlState(fs, cfg.output)
    finished = fs.exists(fs.join(cfg.output, "manifest.json"))
    saved = state.saved_config()
    if overwrite:
        for name in ("warc", "log", "state", "tmp", "stats.json", "manifest.json"):
            fs.delete(fs.join(cfg.output, name))
        return "fresh"
    if finished:
        raise UsageError(f"--output {cfg.output} already holds a finished crawl; choose another directory "
                         "or pass --overwrite")
    if saved is not None:
        if saved.get("fingerprint") != config_fingerprint(cfg.decisive()):
            raise UsageError(f"--output {cfg.output} holds an unfinished crawl with other settings "
                             f"({json.dumps(saved.get('decisive'))}); run it with the same --seeds and scope "
                             "options to resume it, or pass --overwrite to start again")
        return "resume"
    leftovers = [n for n in ("warc", "log") if fs.glob(fs.join(cfg.output, n, "*"))]
    if leftovers:
        raise UsageError(f"--output {cfg.output} holds files of something else ({', '.join(leftovers)}/); "
                         "choose another directory or pass --overwrite")
    return "fresh"


def run_crawl(cfg: CrawlJobConfig, beam_args: list[str], overwrite: bool = False, quiet: bool = False,
              verbose: bool = False) -> dict:
    """Validate, crawl round after round (resuming an unfinished crawl), write stats.json and
    manifest.json, print the summary; returns the stats report."""
    beam_args = prepare_beam_args(beam_args, verbose)
    seeds, seed_logs = read_seeds(cfg)
    mode = prepare_crawl_output(cfg, overwrite)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    fs = FileStorage()
    state = CrawlState(fs, cfg.output)
    if cfg.crawl.allow_hosts:
        allowed = ",".join(cfg.crawl.allow_hosts)
        log.warning("crawl: --allow-hosts %s: these internal addresses may be fetched", allowed)
        say(f"crawl: --allow-hosts {allowed}: these internal addresses may be fetched (all others stay refused)")
    if mode == "fresh":
        state.save_config({"fingerprint": config_fingerprint(cfg.decisive()), "decisive": cfg.decisive()})
        n_hosts = len({origin(e["url"]) for e in seeds})
        say(f"crawl: {len(seeds)} seed URL(s) on {n_hosts} host(s) -> {cfg.output}")
    else:
        removed = state.clean_uncommitted()
        say(f"crawl: resuming the crawl in {cfg.output}"
            + (f" ({len(removed)} uncommitted file(s) of the killed run removed)" if removed else ""))
    if not state.rounds():  # fresh, or killed before round 0 was written
        fs.write_bytes(fs.join(cfg.output, LOG_DIR, "seeds.jsonl"),
                       "".join(dumps(e) + "\n" for e in seed_logs).encode("utf-8"))
        state.write_frontier(0, seeds)
    n_workers = workers_hint(beam_args)
    rounds_info = []
    with Timer() as t:
        r = next((r for r in state.rounds() if not state.is_done(r)), None)
        while r is not None:
            entries = state.read_frontier(r)
            if not entries:
                state.mark_done(r, {"round": r, "urls": 0})
                break
            seen, per_host = state.seen_and_requests()
            resumed = state.resumed(r)
            workers = n_workers
            if getattr(beam_args, "chosen_parallelism", False) and one_process_enough(entries, cfg):
                workers = 1  # our default worker count, and one process keeps the pace: no worker start-up
            batches = plan_round(entries, cfg, per_host, sum(per_host.values()), resumed,
                                 known_by_host(seen, resumed), workers)
            hosts = sum(len(b[1]) for b in batches)
            say(f"crawl: round {r}: {len(entries)} URL(s) on {hosts} host(s) in {len(batches)} batch(es)"
                + (f", {len(resumed)} already done before the resume" if resumed else ""))
            with Timer() as rt:
                run_round(cfg, r, batches, beam_args, progress_every=0.0 if quiet else 30.0)
            r_next = next_frontier(state, cfg.crawl, r)
            rounds_info.append({"round": r, "urls": len(entries), "hosts": hosts, "batches": len(batches),
                                "seconds": round(rt.seconds, 2), "next_urls": len(r_next)})
            say(f"crawl: round {r} done in {rt.seconds:.1f}s; "
                f"{len(r_next)} URL(s) on new hosts for round {r + 1}")
            state.write_frontier(r + 1, r_next)
            state.mark_done(r, rounds_info[-1])
            r = r + 1
    return finish_crawl(cfg, state, t.seconds, quiet)


def finish_crawl(cfg: CrawlJobConfig, state: CrawlState, seconds: float, quiet: bool = False) -> dict:
    """stats.json from the crawl log, then manifest.json (last) with every WARC file."""
    fs = state.fs
    fs.delete(fs.join(cfg.output, "tmp"))  # workers' scratch space (empty once every segment committed)
    report = stats_from_log(state.log_entries())
    warcs = [beam_io.describe_file(p) for p in fs.glob(fs.join(cfg.output, WARC_DIR, "*.warc.gz"))]
    for w in warcs:
        w["path"] = w["path"][len(cfg.output):].lstrip("/")
    report["rounds"] = [state.done_info(r) for r in state.rounds() if state.is_done(r)]
    report["warc_files"] = len(warcs)
    beam_io.write_json_atomic(fs.join(cfg.output, "stats.json"), report)
    from pipeline.manifest import build_manifest

    inputs = [beam_io.describe_file(cfg.seeds)]
    manifest = build_manifest("crawl", cfg.as_dict(), inputs, [])
    manifest["outputs"] = {"warc": warcs, "log": [p[len(cfg.output):].lstrip("/") for p in state.log_files()]}
    beam_io.write_json_atomic(fs.join(cfg.output, "manifest.json"), manifest)
    if not quiet:
        print()
        print(render_table(report))
        urls = next(s for s in report["stages"] if s["stage"] == "urls")
        counts = urls.get("counts", {})
        print(f"\nstored {urls['out']} pages ({counts.get('requests', 0)} requests, "
              f"{counts.get('bytes', 0) / 1e6:.1f} MB) in {len(warcs)} WARC file(s) under {cfg.output}/warc "
              f"(accounting {'ok' if report['accounting_ok'] else 'MISMATCH'}) in {seconds:.1f}s")
        print(f"crawl log: {cfg.output}/log/*.jsonl   stats: {cfg.output}/stats.json   "
              f"manifest: {cfg.output}/manifest.json")
    return report


def check_crawl_output(out_dir: str, overwrite: bool) -> None:
    """Refuse (UsageError) a directory that holds a crawl, finished or not, unless ``overwrite``;
    changes nothing (for callers such as the demo that check every output before any work)."""
    fs = FileStorage()
    if overwrite:
        return
    if fs.exists(fs.join(out_dir, "manifest.json")):
        raise UsageError(f"{out_dir} already holds a finished crawl; choose another directory or pass --overwrite")
    if fs.exists(fs.join(out_dir, "state", "crawl.json")) or fs.glob(fs.join(out_dir, "warc", "*")):
        raise UsageError(f"{out_dir} holds an unfinished crawl; choose another directory or pass --overwrite")


def crawl_demo_site(out_dir: str, beam_args: list[str], overwrite: bool = False, quiet: bool = False,
                    verbose: bool = False, seed: int = 0, articles: int = 48, seed_all_sites: bool = True) -> dict:
    """The demo's crawl stage: serve the sample website (corpora/sample_site.py) on 127.0.0.1,
    crawl it into ``out_dir`` from its portal page and, with ``seed_all_sites``, every site's
    home page (then the crawl is one round; without, the sites are found on the portal and
    crawled in a second round), fast (20 requests/s per host: it is our own server; internal
    addresses allowed, as the site is on loopback), and stop the server.

    Returns ``{"output", "warc_files", "warc_glob", "stats", "seed_url", "articles"}``; the web
    job reads ``warc_glob``. Raises UsageError when ``out_dir`` holds a crawl and not
    ``overwrite`` (``check_crawl_output`` tells before any work).
    """
    from corpora.sample_site import SampleSite

    check_crawl_output(out_dir, overwrite)  # before the seeds file is written into it
    os.makedirs(out_dir, exist_ok=True)
    seeds = os.path.join(out_dir, "seeds.txt")
    with SampleSite(seed=seed, articles=articles) as site:
        with open(seeds, "w", encoding="utf-8") as f:
            f.write(f"# the sample website's portal, served by the demo on 127.0.0.1\n{site.seed_url}\n")
            if seed_all_sites:  # every site known up front: one round (one pipeline) instead of two
                f.write("# and the home page of each of its sites\n")
                f.write("".join(site.url(h, "/") + "\n" for h in site.hosts))
        fetch = FetchConfig(DEFAULT_USER_AGENT, connect_timeout=5.0, read_timeout=10.0, total_timeout=30.0,
                            retries=1, backoff=0.2)
        crawl = CrawlConfig(fetch=fetch, scope=ScopeRules("domain"), rate=20.0, max_depth=3, max_pages=2_000,
                            max_pages_per_host=200, allow_hosts=("127.0.0.1",), commit_seconds=60.0)
        cfg = CrawlJobConfig(seeds=seeds, output=out_dir.rstrip("/"), crawl=crawl,
                             crawl_name="corpusforge-demo")
        if not quiet:
            print(f"demo: serving the sample website ({len(site.hosts)} sites, {site.articles} articles) "
                  f"on 127.0.0.1; crawling from {site.seed_url}", flush=True)
        report = run_crawl(cfg, beam_args, overwrite=overwrite, quiet=quiet, verbose=verbose)
    fs = FileStorage()
    return {"output": cfg.output, "warc_files": fs.glob(fs.join(cfg.output, WARC_DIR, "*.warc.gz")),
            "warc_glob": fs.join(cfg.output, WARC_DIR, "*.warc.gz"), "stats": report,
            "seed_url": site.seed_url, "articles": site.articles}


def main(args: argparse.Namespace, beam_args: list[str]) -> dict:
    configure_logging(args.verbose)
    cfg = config_from_args(args)
    return run_crawl(cfg, beam_args, overwrite=args.overwrite, verbose=args.verbose)


JOB = Job("crawl", "seed URLs -> polite, resumable crawl -> WARC files", DESCRIPTION + "\n\n" + EXAMPLES,
          add_arguments, main)

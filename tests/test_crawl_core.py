"""The crawler's pure core: URL rules, robots.txt, the SSRF guard, pacing, decoding, links."""

import asyncio
import gzip
import time
import zlib
from itertools import pairwise

import brotli
import pytest

from pipeline.content_coding import DecodeError, decode_content
from pipeline.crawl.crawl_log import stats_from_log
from pipeline.crawl.fetch import FetchConfig, retry_after_seconds
from pipeline.crawl.links import extract_links, robots_header_directives
from pipeline.crawl.ratelimit import HostPacer
from pipeline.crawl.robots import RobotsPolicy, agent_token
from pipeline.crawl.safety import AddressGuard, AllowList, Blocked
from pipeline.crawl.urls import BadURL, ScopeRules, normalize_url, origin, registered_domain


@pytest.mark.parametrize("raw, expected", [
    ("HTTP://Example.COM:80/a/./b/../c?b=2&a=1#frag", "http://example.com/a/c?b=2&a=1"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com:443/x", "https://example.com/x"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
    ("http://example.com/%7euser/%2f/a b", "http://example.com/~user/%2F/a%20b"),
    ("http://[::1]:80/", "http://[::1]/"),
    ("http://b\u00fccher.de/\u00fc", "http://xn--bcher-kva.de/%C3%BC"),
    ("http://example.com./", "http://example.com/"),
])
def test_normalize_url(raw, expected):
    assert normalize_url(raw) == expected


def test_normalize_sorts_query_on_request():
    assert normalize_url("http://x.org/p?b=2&a=1", sort_query=True) == "http://x.org/p?a=1&b=2"


@pytest.mark.parametrize("raw, reason", [
    ("file:///etc/passwd", "unsupported_scheme"),
    ("javascript:void(0)", "unsupported_scheme"),
    ("mailto:a@b.org", "unsupported_scheme"),
    ("//x.org/a", "invalid_url"),
    ("not a url", "invalid_url"),
    ("http://user:pw@x.org/", "invalid_url"),
    ("http://x.org:99999/", "invalid_url"),
    ("http://bad host/", "invalid_url"),
    ("", "invalid_url"),
])
def test_normalize_rejects(raw, reason):
    with pytest.raises(BadURL) as err:
        normalize_url(raw)
    assert err.value.reason == reason


def test_registered_domain_and_scope():
    assert registered_domain("news.example.co.uk") == "example.co.uk"
    assert registered_domain("a.b.example.com") == "example.com"
    assert registered_domain("127.0.0.1") == "127.0.0.1"
    # the full Public Suffix List, private section included: two github.io sites are two domains
    assert registered_domain("blog.alice.github.io") == "alice.github.io"
    assert registered_domain("www.example.com.au") == "example.com.au"
    assert registered_domain("shop.example.co.jp") == "example.co.jp"
    assert registered_domain("localhost") == "localhost"
    src = "http://www.example.com/page"
    host = ScopeRules("host")
    assert host.scope_reason("http://www.example.com/x", src) is None
    assert host.scope_reason("http://blog.example.com/x", src) == "out_of_scope"
    domain = ScopeRules("domain")
    assert domain.scope_reason("http://blog.example.com/x", src) is None
    assert domain.scope_reason("http://other.org/x", src) == "out_of_scope"
    assert ScopeRules("any").scope_reason("http://other.org/x", src) is None


def test_traps_and_patterns():
    rules = ScopeRules("any", include=[r"/docs/"], exclude=[r"\?session="], max_url_length=60)
    assert rules.check_link("http://x.org/docs/a", "http://x.org/") is None
    assert rules.check_link("http://x.org/blog/a", "http://x.org/") == "not_included_pattern"
    assert rules.check_link("http://x.org/docs/a?session=1", "http://x.org/") == "excluded_pattern"
    assert rules.check_link("http://x.org/docs/" + "a" * 60, "http://x.org/") == "url_too_long"
    assert rules.check_link("http://x.org/docs/a/docs/a/docs/a", "http://x.org/") == "repeated_path_segments"
    with pytest.raises(ValueError, match="--include"):
        ScopeRules(include=["("])
    with pytest.raises(ValueError, match="scope"):
        ScopeRules("planet")


ROBOTS = b"""User-agent: *
Disallow: /private/
Crawl-delay: 2

User-agent: corpusforge-crawler
Disallow: /not-for-us/
Crawl-delay: 0.5
"""


def test_robots_own_group_and_crawl_delay():
    agent = agent_token("corpusforge-crawler/0.1 (+https://example.org/bot)")
    assert agent == "corpusforge-crawler"
    p = RobotsPolicy.from_response(200, ROBOTS, agent)
    assert not p.allowed("http://x.org/not-for-us/a")
    assert p.allowed("http://x.org/private/a")  # only our group applies to us
    assert p.crawl_delay() == 0.5
    other = RobotsPolicy.from_response(200, ROBOTS, "otherbot")
    assert not other.allowed("http://x.org/private/a") and other.crawl_delay() == 2


@pytest.mark.parametrize("status, body, allowed, state", [
    (404, b"", True, "unavailable"),
    (403, b"", True, "unavailable"),
    (500, b"", False, "unreachable"),
    (503, b"", False, "unreachable"),
    (429, b"", False, "unreachable"),
    (None, b"", False, "unreachable"),
    (200, b"<html><body><p>Welcome!</p></body></html>", True, "parsed"),
    (200, bytes(range(256)) * 40, True, "parsed"),
])
def test_robots_status_rules(status, body, allowed, state):
    p = RobotsPolicy.from_response(status, body, "bot")
    assert p.allowed("http://x.org/page") is allowed
    assert p.state == state


def test_guard_blocks_internal_addresses():
    guard = AddressGuard()

    async def check(url):
        try:
            return await guard.check(url)
        except Blocked as b:
            return b.reason

    for url in ("http://127.0.0.1/", "http://10.1.2.3/", "http://169.254.169.254/latest/meta-data/",
                "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://224.0.0.1/", "http://0.0.0.0/",
                "http://192.168.1.1:8080/", "http://100.64.0.1/"):
        assert asyncio.run(check(url)) == "blocked_address", url
    assert asyncio.run(check("file:///etc/passwd")) == "unsupported_scheme"
    target = asyncio.run(check("http://93.184.215.14:8080/"))
    assert target.ip == "93.184.215.14" and target.port == 8080
    assert asyncio.run(AddressGuard(AllowList(["127.0.0.1"])).check("http://127.0.0.1/")).ip == "127.0.0.1"


def test_allow_list_opens_only_what_it_names():
    """An intranet's range opens; other internal ranges, link-local and metadata addresses stay shut."""
    guard = AddressGuard(AllowList(["10.0.0.0/8", "127.0.0.1", "0.0.0.0/0", "::/0"]))

    async def check(url):
        try:
            return (await guard.check(url)).ip
        except Blocked as b:
            return b.reason

    assert asyncio.run(check("http://10.20.30.40/")) == "10.20.30.40"
    assert asyncio.run(check("http://127.0.0.1:8080/")) == "127.0.0.1"
    for url in ("http://169.254.169.254/latest/meta-data/", "http://169.254.1.2/", "http://[fe80::1]/",
                "http://[fd00:ec2::254]/", "http://100.100.100.200/", "http://[::ffff:169.254.169.254]/"):
        assert asyncio.run(check(url)) == "blocked_address", url  # a range never opens them
    narrow = AddressGuard(AllowList(["127.0.0.1"]))
    for url in ("http://127.0.0.2/", "http://10.0.0.1/", "http://192.168.0.1/"):
        with pytest.raises(Blocked, match="--allow-hosts"):
            asyncio.run(narrow.check(url))
    exact = AddressGuard(AllowList(["169.254.169.254"]))
    assert asyncio.run(exact.check("http://169.254.169.254/")).ip == "169.254.169.254"
    with pytest.raises(ValueError, match="--allow-hosts 'intranet'"):
        AllowList(["intranet"])


def test_guard_checks_what_names_resolve_to():
    answers = {"public.test": ["93.184.215.14"], "sneaky.test": ["93.184.215.14", "10.0.0.7"],
               "internal.test": ["192.168.0.10"]}

    async def resolver(host, port):
        if host not in answers:
            raise OSError("Name or service not known")
        return answers[host]

    guard = AddressGuard(False, resolver)

    async def reason(url):
        try:
            await guard.check(url)
            return None
        except Blocked as b:
            return b.reason

    assert asyncio.run(reason("http://public.test/")) is None
    assert asyncio.run(reason("http://sneaky.test/")) == "blocked_address"
    assert asyncio.run(reason("https://internal.test/")) == "blocked_address"
    assert asyncio.run(reason("http://nowhere.test/")) == "dns_error"


def test_pacer_spaces_request_starts_and_honours_pauses():
    starts = []

    async def run():
        pacer = HostPacer(0.05, concurrency=1)

        async def one(i):
            async with pacer.slot():
                starts.append(time.monotonic())
                if i == 1:
                    pacer.pause(0.2)
        await asyncio.gather(*(one(i) for i in range(4)))

    asyncio.run(run())
    gaps = [b - a for a, b in pairwise(starts)]
    assert gaps[0] >= 0.045 and gaps[1] >= 0.19 and gaps[2] >= 0.045


def test_pacer_with_lead_opens_early_and_sends_on_time():
    """A slot opens up to ``lead`` before its request is due; send() waits the rest, so
    requests go out ``interval`` apart even with two in flight, and a pause that arrives
    while a slot waits pushes its request back."""
    opened, sent = [], []

    async def run():
        pacer = HostPacer(0.05, concurrency=2, lead=0.03)

        async def one(i):
            async with pacer.slot() as slot:
                opened.append(time.monotonic())
                if i == 3:
                    pacer.pause(0.2)
                await asyncio.sleep(0.001)  # building the request, taking a connection
                await slot.send()
                sent.append(slot.sent_at)
        await asyncio.gather(*(one(i) for i in range(6)))

    asyncio.run(run())
    sent.sort()
    gaps = [b - a for a, b in pairwise(sent)]
    assert min(gaps) >= 0.05
    assert max(gaps) >= 0.2  # the pause
    assert min(opened[1:]) < max(sent)  # slots opened before the previous request's interval ran out


def test_pacer_slot_left_without_send_counts_as_a_request():
    """A request whose connection failed (no send) still spaces the next one from when it ended."""
    ends, sent = [], []

    async def run():
        pacer = HostPacer(0.05, lead=0.03)
        async with pacer.slot():
            ends.append(time.monotonic())  # the attempt ends here (its exit is later still)
        async with pacer.slot() as slot:
            await slot.send()
            sent.append(slot.sent_at)

    asyncio.run(run())
    assert sent[0] - ends[0] >= 0.05


def test_pacer_slow_down_never_speeds_up():
    p = HostPacer(0.5)
    p.slow_down(0.1)
    assert p.interval == 0.5
    p.slow_down(2.0)
    assert p.interval == 2.0


def test_decode_content_and_bombs():
    page = b"<html>" + b"x" * 5000 + b"</html>"
    assert decode_content(gzip.compress(page), "gzip", 10_000) == page
    assert decode_content(zlib.compress(page), "deflate", 10_000) == page
    raw = zlib.compressobj(wbits=-15)
    assert decode_content(raw.compress(page) + raw.flush(), "deflate", 10_000) == page
    assert decode_content(brotli.compress(page), "br", 10_000) == page
    assert decode_content(brotli.compress(gzip.compress(page)), "gzip, br", 10_000) == page
    varied = b"<html>" + b" ".join(b"%d" % (i * 7919 % 10007) for i in range(3000)) + b"</html>"
    truncated = gzip.compress(varied)[: len(gzip.compress(varied)) // 2]
    partial = decode_content(truncated, "gzip", 100_000)
    assert 1000 < len(partial) < len(varied) and varied.startswith(partial)
    bomb = gzip.compress(b"\0" * 10_000_000)
    with pytest.raises(DecodeError, match="more than"):
        decode_content(bomb, "gzip", 1_000_000)
    with pytest.raises(DecodeError, match="unsupported"):
        decode_content(page, "compress", 10_000)


def test_retry_after_and_fetch_config():
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 30) == 30
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
    with pytest.raises(ValueError, match="read-timeout"):
        FetchConfig("bot", read_timeout=0)


def test_links_meta_robots_nofollow_and_base():
    html = b"""<html><head><meta name="ROBOTS" content="NOINDEX"><base href="/sub/"></head><body>
    <a href="a.html">a</a> <a href="a.html#x">again</a> <a rel="nofollow sponsored" href="/ad">ad</a>
    <a href="#top">top</a> <area href="http://other.org/map"> <a href="http://[bad/">broken</a></body></html>"""
    page = extract_links(html, "http://x.org/dir/page", "utf-8")
    assert page.noindex and not page.nofollow
    assert page.links == ["http://x.org/sub/a.html", "http://other.org/map"]
    assert page.nofollow_links == 1
    mine = extract_links(b'<meta name="corpusforge-crawler" content="none"><a href="/x">x</a>',
                         "http://x.org/", agent="corpusforge-crawler")
    assert mine.noindex and mine.nofollow
    assert robots_header_directives(["noindex", "otherbot: nofollow", "corpusforge-crawler: nofollow"],
                                    "corpusforge-crawler") == {"noindex", "nofollow"}


def test_links_of_a_page_in_a_wrong_charset():
    body = '<html><body><p>Caf\u00e9 cr\u00e8me</p><a href="/caf\u00e9">x</a></body></html>'.encode("latin-1")
    page = extract_links(body, "http://x.org/", header_charset="utf-8")
    assert page.links == ["http://x.org/caf\u00e9"] and not page.error


def test_stats_count_each_url_once():
    lines = [
        {"kind": "seed", "url": "http://a.org/", "reason": None},
        {"kind": "seed", "url": "nope", "reason": "invalid_url"},
        {"kind": "robots", "url": "http://a.org/robots.txt", "reason": None, "status": 200, "attempts": 1},
        {"kind": "page", "url": "http://a.org/", "reason": None, "status": 200, "bytes": 10, "attempts": 1,
         "warc": "w"},
        {"kind": "page", "url": "http://b.org/", "reason": "out_of_scope", "status": None},
        {"kind": "page", "url": "http://b.org/", "reason": "out_of_scope", "status": None},
    ]
    report = stats_from_log(lines)
    assert report["accounting_ok"]
    urls = {s["stage"]: s for s in report["stages"]}["urls"]
    assert urls["in"] == 2 and urls["out"] == 1 and urls["dropped"] == {"out_of_scope": 1}
    assert urls["counts"]["requests"] == 2


def test_origin():
    assert origin("https://x.org:8443/a?b") == "https://x.org:8443"


def test_links_of_xhtml_with_declaration_and_control_characters():
    body = (b'<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body>'
            b'<p>nul \x00 here</p><a href="/next">next</a></body></html>')
    page = extract_links(body, "http://x.org/", "utf-8")
    assert page.links == ["http://x.org/next"] and not page.error

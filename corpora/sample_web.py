"""Deterministic demo sample of crawled web pages, written as real WARC files.

The sample is the demo input for the web-text extraction pipeline (HTML to text,
language identification, quality filters, near-duplicate removal).  Everything is
generated from a seed with :mod:`random` and written with :mod:`warcio`, so the same
seed always gives byte-identical files.  No network access is needed.

What ends up in ``out_dir``:

* ``sample-00000.warc.gz`` ... ``sample-NNNNN.warc.gz``: one ``warcinfo`` record per
  file, then HTTP ``response`` records (some preceded by a ``request`` record, as
  Common Crawl does).  The responses are multilingual article pages with navigation,
  sidebar and footer boilerplate; near-duplicates and exact duplicates of some of them
  at other URLs; spam-like / low-quality pages; a few non-HTML responses (PNG, PDF,
  plain text) and non-200 responses (404, 301).
* ``sample-broken.warc.gz``: a single gzip member holding a WARC in which one record's
  ``Content-Length`` is larger than its real block, with good records before and after.
* ``sample-truncated.warc.gz``: a valid per-record gzipped WARC cut off at 70% of its
  bytes.
"""

import argparse
import gzip
import io
import json
import os
import random
from datetime import datetime, timedelta

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

# The pages come from corpora.sample_pages; _BANK, _FORUM_*, _HOSTS, _UI and _section_href are
# re-exported for the sample site, the socialchem sample maker and bench/socialchem.py.
from corpora.sample_pages import (  # noqa: F401
    _ACCEPT_LANG,
    _BANK,
    _FORUM_COMMENTS,
    _FORUM_POSTS,
    _HOSTS,
    _LANG_WEIGHTS,
    _UI,
    _USER_AGENT,
    _WARC_BASE,
    _WARC_SPAN_HOURS,
    _Article,
    _Fetch,
    _forum_fetches,
    _Generator,
    _http_date,
    _quotas,
    _record_id,
    _section_href,
    _warc_date,
)

__all__ = ["write_sample"]

# ---------------------------------------------------------------------------
# WARC writing
# ---------------------------------------------------------------------------

class _WarcFile:
    """One WARC file being written to memory with warcio."""

    def __init__(self, rng: random.Random, gen: _Generator, filename: str, start: datetime,
                 seed: int, gzip_records: bool = True) -> None:
        self.rng = rng
        self.gen = gen
        self.buf = io.BytesIO()
        self.writer = WARCWriter(self.buf, gzip=gzip_records)
        self.filename = filename
        self.records = 0
        self.offsets: list[int] = []
        self.warcinfo_id = _record_id(rng)
        info = {
            "software": "corpora.sample_web (warcio)",
            "format": "WARC File Format 1.0",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.0/",
            "isPartOf": "DEMO-SAMPLE-2024-10",
            "description": f"Synthetic demo crawl generated from seed {seed}",
            "robots": "checked via crawler-commons",
            "operator": "Demo Corpus Builder",
            "hostname": "sample-generator",
            "http-header-user-agent": _USER_AGENT,
        }
        payload = "".join(f"{k}: {v}\r\n" for k, v in info.items()).encode("utf-8")
        record = self.writer.create_warc_record(
            "", "warcinfo", payload=io.BytesIO(payload), length=len(payload),
            warc_content_type="application/warc-fields",
            warc_headers_dict={"WARC-Type": "warcinfo", "WARC-Date": _warc_date(start),
                               "WARC-Filename": filename, "WARC-Record-ID": self.warcinfo_id})
        self._write(record)

    def _write(self, record) -> None:
        self.offsets.append(self.buf.tell())
        self.writer.write_record(record)
        self.records += 1

    def fetch(self, f: _Fetch, dt: datetime) -> int:
        """Write the optional request record and the response; returns the number of records."""
        host = f.url.split("/", 3)[2]
        path = "/" + f.url.split("/", 3)[3] if f.url.count("/") >= 3 else "/"
        ip = self.gen.ip(host)
        resp_id = _record_id(self.rng)
        written = 0
        if f.request:
            req_http = StatusAndHeaders(f"GET {path} HTTP/1.1", [
                ("Host", host), ("User-Agent", _USER_AGENT),
                ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                ("Accept-Language", _ACCEPT_LANG.get(f.lang, "en-US,en;q=0.5")),
                ("Accept-Encoding", "br,gzip"), ("Connection", "close")], is_http_request=True)
            req = self.writer.create_warc_record(
                f.url, "request", payload=io.BytesIO(b""), length=0, http_headers=req_http,
                warc_headers_dict={"WARC-Type": "request", "WARC-Date": _warc_date(dt),
                                   "WARC-Record-ID": _record_id(self.rng), "WARC-Warcinfo-ID": self.warcinfo_id,
                                   "WARC-IP-Address": ip, "WARC-Concurrent-To": resp_id, "WARC-Target-URI": f.url})
            self._write(req)
            written += 1
        http = StatusAndHeaders(f.status, [("Date", _http_date(dt))] + f.headers, protocol="HTTP/1.1")
        resp = self.writer.create_warc_record(
            f.url, "response", payload=io.BytesIO(f.body), length=len(f.body), http_headers=http,
            warc_headers_dict={"WARC-Type": "response", "WARC-Date": _warc_date(dt), "WARC-Record-ID": resp_id,
                               "WARC-Warcinfo-ID": self.warcinfo_id, "WARC-IP-Address": ip,
                               "WARC-Target-URI": f.url, "WARC-Identified-Payload-Type": f.payload_type})
        self._write(resp)
        return written + 1

    def getvalue(self) -> bytes:
        return self.buf.getvalue()


def _write_file(path: str, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------

def write_sample(out_dir: str, seed: int = 0, pages: int = 300, files: int = 4, page_kb: int = 0,
                 forum_pages: int = 0) -> dict[str, int]:
    """Write the demo WARC sample into out_dir and return counts of what was written, by kind.

    ``pages`` is the number of HTML ``200`` responses in the ``sample-NNNNN.warc.gz``
    files (articles, their near/exact duplicates and spam); ``files`` is how many such
    files to spread them over.  ``sample-broken.warc.gz`` and ``sample-truncated.warc.gz``
    are written in addition.  The same arguments always give byte-identical files.

    ``forum_pages`` > 0 adds ``sample-forum.warc.gz``: English advice-forum and confession pages
    (AITA / WIBTA / "Am I wrong to" titles over first-person posts) for the SOCIAL-CHEM demo.
    They use their own random generator, so the other files do not change.
    """
    if files < 1:
        raise ValueError("files must be >= 1")
    if pages < 0:
        raise ValueError("pages must be >= 0")
    if forum_pages < 0:
        raise ValueError("forum_pages must be >= 0")
    rng = random.Random(seed)
    gen = _Generator(rng, page_kb)
    os.makedirs(out_dir, exist_ok=True)

    n_spam = round(pages * 0.08)
    n_near = round(pages * 0.10)
    n_exact = round(pages * 0.02)
    while pages and pages - n_spam - n_near - n_exact < 1:
        if n_near:
            n_near -= 1
        elif n_exact:
            n_exact -= 1
        else:
            n_spam -= 1
    n_base = pages - n_spam - n_near - n_exact

    # Articles (each language gets its quota; hosts and topics drawn at random).
    langs: list[str] = []
    for lang, count in _quotas(n_base, _LANG_WEIGHTS):
        langs += [lang] * count
    rng.shuffle(langs)
    articles = [gen.article(lang) for lang in langs]

    # Near duplicates: small edits, other URL.  Sources are distinct where possible.
    near: list[_Article] = []
    if articles:
        sources = rng.sample(articles, min(n_near, len(articles)))
        sources += [rng.choice(articles) for _ in range(n_near - len(sources))]
        for src in sources:
            dup, _ = gen.near_duplicate(src)
            near.append(dup)

    fetches: list[_Fetch] = [gen.article_fetch(a, "article") for a in articles]
    fetches += [gen.article_fetch(a, "near_dup") for a in near]

    # Exact duplicates: identical HTTP body (and headers) at a different URL.
    originals = [f for f in fetches if f.kind == "article"]
    for src in rng.sample(originals, min(n_exact, len(originals))) if originals else []:
        variant = rng.choice(["utm", "ref", "http", "index"])
        if variant == "utm":
            url = src.url + ("&" if "?" in src.url else "?") + "utm_source=newsletter&utm_medium=email"
        elif variant == "ref":
            url = src.url + ("&" if "?" in src.url else "?") + "ref=homepage"
        elif variant == "http":
            url = "http://" + src.url[len("https://"):]
        else:
            url = src.url + ("index.html" if src.url.endswith("/") else "?output=amp")
        fetches.append(_Fetch(url=gen.claim(url), kind="exact_dup", status=src.status, headers=list(src.headers),
                              body=src.body, payload_type=src.payload_type, lang=src.lang, charset=src.charset,
                              request=rng.random() < 0.6))

    kinds = _Generator._SPAM_KINDS
    fetches += [gen.spam(kinds[i % len(kinds)]) for i in range(n_spam)]
    misc = gen.misc()
    fetches += misc
    rng.shuffle(fetches)

    counts: dict[str, int] = {
        "files": 0, "sample_files": files, "records": 0, "warcinfo": 0, "requests": 0, "responses": 0,
        "html_pages": 0, "articles": 0, "near_duplicates": 0, "exact_duplicates": 0, "spam": 0,
        "non_html": 0, "non_200": 0,
        "charset_header": 0, "charset_meta_only": 0, "charset_none": 0, "charset_legacy": 0,
    }
    for lang, _ in _LANG_WEIGHTS:
        counts["lang_" + lang] = 0

    # Main files: contiguous chunks, each covering its own slice of the four days.
    n = len(fetches)
    span = _WARC_SPAN_HOURS * 3600 // files
    for i in range(files):
        chunk = fetches[i * n // files:(i + 1) * n // files]
        name = f"sample-{i:05d}.warc.gz"
        start = _WARC_BASE + timedelta(seconds=i * span)
        wf = _WarcFile(rng, gen, name, start, seed)
        step = max(2, (span * 9 // 10) // max(1, len(chunk)))
        dt = start
        for f in chunk:
            dt += timedelta(seconds=rng.randint(1, 2 * step - 1))
            wrote = wf.fetch(f, dt)
            counts["requests"] += wrote - 1
            counts["responses"] += 1
            if f.kind in ("article", "near_dup", "exact_dup", "spam"):
                counts["html_pages"] += 1
                key = {"article": "articles", "near_dup": "near_duplicates",
                       "exact_dup": "exact_duplicates", "spam": "spam"}[f.kind]
                counts[key] += 1
                cs = {"header": "charset_header", "header_only": "charset_header", "meta": "charset_meta_only",
                      "meta_equiv": "charset_meta_only", "none": "charset_none", "legacy": "charset_legacy"}
                counts[cs[f.charset]] += 1
                if f.kind != "spam":
                    counts["lang_" + f.lang] += 1
            elif f.kind == "non_html":
                counts["non_html"] += 1
            else:
                counts["non_200"] += 1
        counts["records"] += wf.records
        counts["warcinfo"] += 1
        _write_file(os.path.join(out_dir, name), wf.getvalue())
        counts["files"] += 1

    # Broken file: one gzip member; one record's WARC Content-Length is too large.
    bday = _WARC_BASE + timedelta(hours=_WARC_SPAN_HOURS + 2)
    broken = _WarcFile(rng, gen, "sample-broken.warc.gz", bday, seed, gzip_records=False)
    extra = [gen.article(rng.choice(["en", "de", "fr"])) for _ in range(7)]
    bad_index = 3
    bad_offset = -1
    dt = bday
    for j, art in enumerate(extra):
        dt += timedelta(seconds=rng.randint(5, 90))
        f = gen.article_fetch(art, "article")
        f.request = j in (0, 5)
        if j == bad_index:
            f.request = False
            bad_offset = broken.buf.tell()
        broken.fetch(f, dt)
    raw = bytearray(broken.getvalue())
    key = b"Content-Length: "
    pos = raw.index(key, bad_offset) + len(key)
    end = raw.index(b"\r\n", pos)
    real = int(raw[pos:end])
    raw[pos:end] = str(real + rng.randint(24, 60)).encode("ascii")
    _write_file(os.path.join(out_dir, "sample-broken.warc.gz"), gzip.compress(bytes(raw), compresslevel=9, mtime=0))
    counts["files"] += 1
    counts["broken_files"] = 2
    counts["broken_records"] = 1
    counts["broken_file_records"] = broken.records

    # Truncated file: valid per-record gzip WARC of ten pages, cut at 70%.
    tday = bday + timedelta(hours=3)
    trunc = _WarcFile(rng, gen, "sample-truncated.warc.gz", tday, seed)
    dt = tday
    for _ in range(10):
        dt += timedelta(seconds=rng.randint(5, 90))
        trunc.fetch(gen.article_fetch(gen.article(rng.choice(["en", "de", "es"])), "article"), dt)
    data = trunc.getvalue()
    _write_file(os.path.join(out_dir, "sample-truncated.warc.gz"), data[:int(len(data) * 0.7)])
    counts["files"] += 1
    counts["truncated_file_records"] = trunc.records
    counts["truncated_file_pages"] = 10
    if forum_pages > 0:
        frng = random.Random(f"forum-{seed}")
        fgen = _Generator(frng)
        fday = tday + timedelta(hours=3)
        fwarc = _WarcFile(frng, fgen, "sample-forum.warc.gz", fday, seed)
        dt = fday
        for f in _forum_fetches(frng, fgen, forum_pages):
            dt += timedelta(seconds=frng.randint(5, 90))
            fwarc.fetch(f, dt)
        _write_file(os.path.join(out_dir, "sample-forum.warc.gz"), fwarc.getvalue())
        counts["files"] += 1
        counts["forum_pages"] = forum_pages
    return counts


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the demo WARC sample.")
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--forum-pages", type=int, default=0)
    args = parser.parse_args(argv)
    counts = write_sample(args.out_dir, seed=args.seed, pages=args.pages, files=args.files,
                          forum_pages=args.forum_pages)
    print(json.dumps(counts, indent=2))


if __name__ == "__main__":
    _main()

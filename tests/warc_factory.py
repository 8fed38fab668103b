"""Writes real WARC / WET files with warcio for the tests (no fixtures checked in)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


@dataclass
class Page:
    url: str
    body: bytes
    status: str = "200 OK"
    content_type: str | None = "text/html; charset=utf-8"
    extra_headers: list[tuple[str, str]] = field(default_factory=list)
    warc_headers: dict[str, str] = field(default_factory=dict)  # extra WARC header fields


def html_page(title: str, paragraphs: Iterable[str], nav: bool = True) -> bytes:
    navigation = (
        "<nav><ul><li><a href='/'>Home</a></li><li><a href='/about'>About us</a></li>"
        "<li><a href='/contact'>Contact</a></li></ul></nav>" if nav else ""
    )
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    footer = "<footer>Copyright 2024 Example Corp. All rights reserved. Cookie settings.</footer>" if nav else ""
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body>{navigation}"
        f"<main><article><h1>{title}</h1>{body}</article></main>{footer}</body></html>"
    ).encode()


def record_id(url: str, i: int) -> str:
    """A WARC-Record-ID unique across files (as the WARC spec requires) and the same on every run."""
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{url}#{i}')}>"


def warc_bytes(pages: Iterable[Page], gzip: bool = True, with_request: bool = False) -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gzip)
    writer.write_record(writer.create_warcinfo_record("test.warc", {"software": "tests"}))
    for i, page in enumerate(pages):
        headers = list(page.extra_headers)
        if page.content_type:
            headers.insert(0, ("Content-Type", page.content_type))
        http = StatusAndHeaders(page.status, headers, protocol="HTTP/1.1")
        rid = record_id(page.url, i)
        if with_request:
            req = writer.create_warc_record(page.url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"))
            writer.write_record(req)
        rec = writer.create_warc_record(
            page.url, "response", payload=io.BytesIO(page.body), http_headers=http,
            warc_headers_dict={"WARC-Record-ID": rid, "WARC-Date": "2024-05-01T12:00:00Z", **page.warc_headers},
        )
        writer.write_record(rec)
    return buf.getvalue()


def wet_bytes(texts: Iterable[tuple[str, bytes]], gzip: bool = True) -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gzip)
    writer.write_record(writer.create_warcinfo_record("test.warc.wet", {"software": "tests"}))
    for i, (url, text) in enumerate(texts):
        rec = writer.create_warc_record(
            url, "conversion", payload=io.BytesIO(text),
            warc_headers_dict={
                "WARC-Record-ID": record_id(url, i),
                "WARC-Date": "2024-05-01T12:00:00Z",
                "Content-Type": "text/plain",
                "WARC-Identified-Content-Language": "eng",
            },
        )
        writer.write_record(rec)
    return buf.getvalue()


EN = [
    "The old lighthouse on the northern cliff was restored last summer by a group of volunteers.",
    "They replaced the rusted railings, repainted the tower, and fixed the lamp that had been dark for years.",
    "Visitors can now climb the spiral staircase and look out over the harbour on clear afternoons.",
    "The local museum has collected photographs that show the keepers who lived there a century ago.",
]
DE = [
    "Der Bäcker an der Ecke öffnet jeden Morgen um sechs Uhr und verkauft frische Brötchen.",
    "Viele Nachbarn kommen vor der Arbeit vorbei und trinken dort einen Kaffee im Stehen.",
    "Im Winter gibt es zusätzlich Lebkuchen und Stollen nach einem alten Familienrezept.",
    "Die Bäckerei wurde vor über hundert Jahren von seinem Urgroßvater gegründet.",
]
FR = [
    "Le marché du samedi attire les habitants de tout le quartier dès les premières heures.",
    "On y trouve des fromages de la région, des légumes frais et du pain cuit au feu de bois.",
    "Les commerçants connaissent leurs clients par leur prénom et échangent volontiers des recettes.",
    "En été, des musiciens jouent sur la place pendant que les enfants courent entre les étals.",
]


def language_pages(site: str, per_language: int) -> list[Page]:
    """``per_language`` English, German and French pages under ``site`` (``site/en/0``, ...), each
    with its language's sentences rotated by its number."""
    return [Page(f"{site}/{lang}/{i}", html_page(f"{lang} {i}", sents[i % 4:] + sents[:i % 4]))
            for lang, sents in (("en", EN), ("de", DE), ("fr", FR)) for i in range(per_language)]


def lf_wet_bytes(texts: Iterable[tuple[str, str]]) -> bytes:
    """A WET file as TensorFlow Datasets' C4 test files are written: LF-only header lines and a
    Content-Length that is not kept in step with the text."""
    out = ["WARC/1.0\nWARC-Type: warcinfo\nContent-Length: 5\n\nsoftware: tests\n\n\n"]
    for i, (url, text) in enumerate(texts):
        out.append(
            f"WARC/1.0\nWARC-Type: conversion\nWARC-Target-URI: {url}\nWARC-Date: 2019-04-18T10:38:25Z\n"
            f"WARC-Record-ID: <urn:uuid:22222222-0000-4000-8000-{i:012d}>\n"
            f"Content-Type: text/plain\nContent-Length: 619\n\n{text}\n\n"
        )
    return "".join(out).encode()


def record_starts(raw: bytes) -> list[int]:
    """Offsets of the ``WARC/1.x`` lines of an uncompressed WARC (record 0 is warcinfo)."""
    return [i for i in range(len(raw)) if raw.startswith(b"WARC/1.", i) and (i == 0 or raw[i - 1:i] == b"\n")]


def per_record_members(raw: bytes) -> list[bytes]:
    """An uncompressed WARC cut into its records (each with its trailing CRLF CRLF)."""
    starts = record_starts(raw) + [len(raw)]
    return [raw[a:b] for a, b in zip(starts, starts[1:], strict=False)]

"""WARC output with warcio: a ``warcinfo`` record, then a ``request`` and a ``response``
record per fetch (WARC-Target-URI, WARC-Date, WARC-Record-ID, WARC-Payload-Digest,
WARC-IP-Address, the HTTP headers as received, WARC-Truncated when the body was cut).

The payload is stored as received (content-encoded). ``Transfer-Encoding`` is already
undone by the HTTP client, so that header is kept under ``X-Crawler-Transfer-Encoding``
(readers would otherwise try to de-chunk a body that is not chunked any more).
"""

from __future__ import annotations

import io
import socket
import uuid
from typing import BinaryIO

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

import pipeline
from pipeline.crawl.fetch import Exchange

SOFTWARE = f"corpusforge-crawler/{pipeline.__version__} (warcio)"


def _record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def _warc_date(ex: Exchange) -> str:
    return ex.started.strftime("%Y-%m-%dT%H:%M:%SZ")


def stored_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The response headers as received, except Transfer-Encoding (see the module docstring)."""
    return [("X-Crawler-Transfer-Encoding", v) if k.lower() == "transfer-encoding" else (k, v) for k, v in headers]


class WarcFileWriter:
    """Writes records into one (gzip-per-record) WARC file; ``size`` is the bytes written so far."""

    def __init__(self, fh: BinaryIO, filename: str, info: dict[str, str]) -> None:
        self.fh = fh
        self.filename = filename
        self.writer = WARCWriter(fh, gzip=True, warc_version="WARC/1.0")
        self.records = 0
        self.responses = 0
        fields = {"software": SOFTWARE, "format": "WARC File Format 1.0",
                  "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.0/",
                  "hostname": socket.gethostname(), **info}
        payload = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode("utf-8")
        self.warcinfo_id = _record_id()
        rec = self.writer.create_warc_record(
            "", "warcinfo", payload=io.BytesIO(payload), length=len(payload),
            warc_content_type="application/warc-fields",
            warc_headers_dict={"WARC-Record-ID": self.warcinfo_id, "WARC-Filename": filename})
        self._write(rec)

    @property
    def size(self) -> int:
        return self.fh.tell()

    def _write(self, record) -> None:
        self.writer.write_record(record)
        self.records += 1

    def write_exchange(self, ex: Exchange) -> str:
        """Write the request and response records of one fetch; returns the response record id."""
        if ex.status is None:
            raise ValueError("an exchange without a response is not archived")
        response_id = _record_id()
        date = _warc_date(ex)
        common = {"WARC-Date": date, "WARC-IP-Address": ex.ip, "WARC-Warcinfo-ID": self.warcinfo_id}
        req_http = StatusAndHeaders(f"{ex.method} {ex.target} {ex.http_version}", list(ex.request_headers),
                                    is_http_request=True)
        req = self.writer.create_warc_record(
            ex.url, "request", payload=io.BytesIO(b""), length=0, http_headers=req_http,
            warc_headers_dict={**common, "WARC-Record-ID": _record_id(), "WARC-Concurrent-To": response_id})
        self._write(req)
        status_line = f"{ex.status} {ex.reason}".rstrip() if ex.reason else str(ex.status)
        http = StatusAndHeaders(status_line, stored_headers(ex.headers), protocol=ex.http_version)
        headers = {**common, "WARC-Record-ID": response_id}
        if ex.truncated:
            headers["WARC-Truncated"] = "length"
        resp = self.writer.create_warc_record(
            ex.url, "response", payload=io.BytesIO(ex.body), length=len(ex.body), http_headers=http,
            warc_headers_dict=headers)
        self._write(resp)
        self.responses += 1
        return response_id

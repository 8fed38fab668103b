"""JSON Lines reading (plain, gzip or zstd), one document per line, with a line-length limit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from pipeline.compression import open_decompressed, stream_failure
from pipeline.records import Drop, FileDone, RawRecord

if TYPE_CHECKING:
    from pipeline.readers import ReaderConfig

STAGE = "read"
BOM = b"\xef\xbb\xbf"  # a UTF-8 byte order mark, as some editors and exporters write


def _skip_rest_of_line(stream: BinaryIO, limit: int) -> None:
    while True:
        chunk = stream.readline(limit)
        if not chunk or chunk.endswith(b"\n"):
            return


def read_jsonl(raw: BinaryIO, path: str, config: ReaderConfig) -> Iterator[RawRecord | Drop | FileDone]:
    """Yield one RawRecord per valid line; bad lines become Drops named by line number."""
    base = path.rstrip("/").rsplit("/", 1)[-1]
    limit = config.limits.max_line_bytes
    stream = open_decompressed(raw)
    lineno = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            break
        lineno += 1
        if lineno == 1 and line.startswith(BOM):
            line = line[len(BOM):]
        key = f"{base}:{lineno}"  # the file's name, not the path form it was given by

        def drop(reason: str, detail: str = "", key: str = key, lineno: int = lineno) -> Drop:
            return Drop(STAGE, reason, id=key, source_file=path, detail=f"line {lineno}: {detail}")

        if len(line) > limit and not line.endswith(b"\n"):
            _skip_rest_of_line(stream, 1 << 20)
            yield drop("line_too_long", f"longer than {limit} bytes")
            continue
        if not line.strip():
            continue
        try:
            text_line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield drop("invalid_utf8", str(exc))
            continue
        try:
            obj = json.loads(text_line)
        except ValueError as exc:
            yield drop("invalid_json", str(exc))
            continue
        if not isinstance(obj, dict):
            yield drop("invalid_json", "line is not a JSON object")
            continue
        text = obj.get(config.text_field)
        if not isinstance(text, str):
            yield drop("missing_text_field", f"no string field {config.text_field!r}")
            continue
        if config.id_field and obj.get(config.id_field) is not None:
            key = f"{base}:{obj[config.id_field]}"
        url = obj.get(config.url_field) if config.url_field else None
        meta = {"source_file": base, "line": lineno}
        yield RawRecord(key, path, "text", text, url=url if isinstance(url, str) else None, meta=meta)
    failure = stream_failure(stream)
    if failure is not None:
        yield FileDone(path, failure[0], failure[1], lineno)
    elif lineno == 0:
        yield FileDone(path, "empty_file", "", 0)
    else:
        yield FileDone(path, "ok", "", lineno)
